"""Browser tests: Debian's Chromium, driven by Playwright, against a live server on 127.0.0.1.

The live server runs the real app on its own SQLite file, loaded with the demo data. It does
not share anything with the ``app`` fixture of ``tests/conftest.py``; that file's
transaction-per-test fixture is switched off here (see ``_session`` below).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import axe_playwright_python
import pytest
from babel.messages import pofile
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright
from sqlalchemy import select, update
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from grants import demo
from grants.auth.models import User
from grants.calls.models import Call
from grants.decisions.models import Appeal, Decision
from grants.extensions import db
from tests.conftest import make_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PROJECT_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
TRANSLATIONS = PROJECT_ROOT / "translations"
AXE_JS = Path(axe_playwright_python.__file__).parent / "axe.min.js"
AXE_RUN = """async () => await axe.run(document, {runOnly: {type: 'tag',
    values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"""
# The reader's own time zone in the browser (the demo call's is Asia/Singapore).
READER_TIMEZONE = "Europe/Paris"
TIMEOUT_MS = 10_000

OFFICER = demo.DEMO_LOGINS["accounts"]["programme officer"]
ADMIN = demo.DEMO_LOGINS["accounts"]["administrator"]


# --- Chromium and Playwright ------------------------------------------------------------


def _install_chromium() -> str:
    """Try ``apt-get install chromium``; the reason it could not be done, or ""."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "not running as root, so it cannot be installed with apt-get"
    if shutil.which("apt-get") is None:
        return "apt-get is not available"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        try:
            subprocess.run(command, check=True, capture_output=True, env=env, timeout=1800)
        except subprocess.CalledProcessError as exc:
            output = (exc.stderr or b"").decode(errors="replace").strip().splitlines()
            return f"`{' '.join(command)}` failed: {exc}; " + " ".join(output[-3:])
        except (OSError, subprocess.SubprocessError) as exc:
            return f"`{' '.join(command)}` failed: {exc}"
    return ""


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """/usr/bin/chromium, installed when missing; skip (fail under CI=true) without it."""
    if not CHROMIUM.exists():
        reason = _install_chromium()
        if not CHROMIUM.exists():
            message = f"Chromium is missing at {CHROMIUM} and could not be installed: " + (
                reason or "apt-get did not provide it"
            )
            if os.environ.get("CI") == "true":
                pytest.fail(message, pytrace=False)
            pytest.skip(message)
    return str(CHROMIUM)


@dataclass
class _Playwright:
    """One Playwright driver and one browser, started on first use.

    It is stopped after the last browser test rather than at the end of the session: while
    Playwright's sync API runs, its event loop counts as running in this thread and later
    tests could not call ``asyncio.run``.
    """

    driver: Playwright | None = None
    instance: Browser | None = None

    def browser(self, executable: str) -> Browser:
        if self.instance is None:
            self.driver = sync_playwright().start()
            self.instance = self.driver.chromium.launch(
                executable_path=executable, args=CHROMIUM_ARGS, headless=True
            )
        return self.instance

    def stop(self) -> None:
        if self.instance is not None:
            self.instance.close()
            self.instance = None
        if self.driver is not None:
            self.driver.stop()
            self.driver = None


_PLAYWRIGHT = _Playwright()


@pytest.fixture(scope="session")
def _playwright_session() -> Iterator[_Playwright]:
    """The shared browser; stopped at the end of the session at the latest."""
    yield _PLAYWRIGHT
    _PLAYWRIGHT.stop()


@pytest.fixture
def browser(_playwright_session: _Playwright, chromium_executable: str) -> Browser:
    """The session's Chromium (headless)."""
    return _playwright_session.browser(chromium_executable)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    """Stop the browser once no browser test follows."""
    result = yield
    if nextitem is None or nextitem.get_closest_marker("browser") is None:
        _PLAYWRIGHT.stop()
    return result


# --- the live server ----------------------------------------------------------------------


@dataclass(frozen=True)
class LiveServer:
    """The app served on 127.0.0.1 with the demo data."""

    url: str
    app: Flask
    call_id: int  # the demo's open call (AECF, time zone Asia/Singapore)
    draft_call_id: int  # the demo's draft call (AEHD)
    locales: dict[str, str] = field(default_factory=dict)  # demo account -> its language
    results_call_id: int = 0  # the demo's decided and published call (AETG)
    results_run_id: int = 0  # its ranking run
    appeal_id: int = 0  # the appeal lodged on it
    decided_application_id: int = 0  # an application of it with a decision and feedback
    decided_lead: str = ""  # that application's lead contact

    def reset_locales(self) -> None:
        """Give every demo account its own interface language back."""
        with self.app.app_context():
            for email, locale in self.locales.items():
                db.session.execute(update(User).where(User.email == email).values(locale=locale))
            db.session.commit()


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        """No access log in the test output."""


@pytest.fixture(autouse=True)
def _session() -> Iterator[None]:
    """Replaces tests/conftest.py's fixture of that name for the browser tests.

    That fixture swaps the global ``db.session`` for one bound to the test app's database;
    requests to the live server would then read and write that database, not their own.
    """
    yield


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The real app with the demo data, on its own SQLite file and a free port."""
    root = tmp_path_factory.mktemp("browser-db")
    app = make_app(f"sqlite:///{root}/browser.sqlite")
    with app.app_context():
        demo.load_demo()
        call = demo.demo_call()
        draft = db.session.scalar(select(Call).where(Call.reference_prefix == "AEHD"))
        assert call is not None and draft is not None
        locales = {user.email: user.locale for user in db.session.scalars(select(User))}
        call_id, draft_id = call.id, draft.id
        results = demo.demo_results_call()
        assert results is not None
        decided = db.session.scalars(
            select(Decision).where(Decision.call_id == results.id).order_by(Decision.id)
        ).first()
        appeal = db.session.scalars(select(Appeal).where(Appeal.call_id == results.id)).first()
        assert decided is not None and appeal is not None
        extra = {
            "results_call_id": results.id,
            "results_run_id": decided.run_id or 0,
            "appeal_id": appeal.id,
            "decided_application_id": appeal.application_id,
            "decided_lead": appeal.application.lead.contact.email,
        }
        db.session.remove()
    server: BaseWSGIServer = make_server(
        "127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(
            url=f"http://127.0.0.1:{server.server_port}",
            app=app,
            call_id=call_id,
            draft_call_id=draft_id,
            locales=locales,
            **extra,
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()


# --- pages, with a screenshot when a test fails -------------------------------------------


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the item, for the screenshot on failure."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def _failed(node: pytest.Item) -> bool:
    return any(
        getattr(getattr(node, f"report_{when}", None), "failed", False)
        for when in ("setup", "call")
    )


def _artifact_stem(node: pytest.Item) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", node.nodeid).strip("_")


def _screenshot(node: pytest.Item, contexts: list[BrowserContext]) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    stem = _artifact_stem(node)
    pages = [page for context in contexts for page in context.pages]
    for number, page in enumerate(pages, start=1):
        suffix = f"-{number}" if len(pages) > 1 else ""
        try:
            page.screenshot(path=str(ARTIFACTS / f"{stem}{suffix}.png"), full_page=True)
        except Exception as exc:  # the page may be gone; the test's own error matters more
            print(f"no screenshot of {page.url}: {exc}")


@pytest.fixture
def new_page(
    browser: Browser, live_server: LiveServer, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Page]]:
    """``new_page(bypass_csp=False)``: a page in a fresh context (English, Europe/Paris)."""
    contexts: list[BrowserContext] = []
    stem = _artifact_stem(request.node)
    for stale in [*ARTIFACTS.glob(f"{stem}.png"), *ARTIFACTS.glob(f"{stem}-*.png")]:
        stale.unlink()  # a screenshot from an earlier run would mislead

    def make(*, bypass_csp: bool = False) -> Page:
        context = browser.new_context(
            base_url=live_server.url,
            bypass_csp=bypass_csp,
            locale="en-GB",
            timezone_id=READER_TIMEZONE,
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    try:
        yield make
    finally:
        if _failed(request.node):
            _screenshot(request.node, contexts)
        for context in contexts:
            context.close()
        live_server.reset_locales()


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    """A page with the app's Content-Security-Policy in force."""
    return new_page()


@pytest.fixture
def axe_page(new_page: Callable[..., Page]) -> Page:
    """A page that ignores the CSP, so axe-core can be injected (accessibility runs only)."""
    return new_page(bypass_csp=True)


# --- helpers for the tests ----------------------------------------------------------------


@cache
def _catalog(lang: str) -> dict[str, str]:
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        catalog = pofile.read_po(po_file)
    return {str(m.id): str(m.string) for m in catalog if m.id and isinstance(m.string, str)}


def translated(lang: str, msgid: str) -> str:
    """The catalog's translation of an interface string, which must exist."""
    text = _catalog(lang).get(msgid, "")
    assert text and text != msgid, f"the {lang} catalog does not translate {msgid!r}"
    return text


def flash(page: Page) -> Any:
    """The flash messages (a live region)."""
    return page.get_by_role("status")


def sign_in(page: Page, email: str, password: str = demo.DEMO_PASSWORD) -> None:
    """Sign in through the login form and wait for the confirmation."""
    page.goto("/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(flash(page)).to_contain_text("You are signed in.")


def choose_language(page: Page, lang: str) -> None:
    """Switch the interface language with the picker in the header."""
    picker = page.locator("form.language-picker")
    picker.locator("select").select_option(lang)
    with page.expect_event("load"):  # the page comes back at the same address
        picker.get_by_role("button").click()
    expect(page.locator("html")).to_have_attribute("lang", lang)


def _describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation.get('impact')}): {violation['help']}"
            f" <{violation['helpUrl']}>"
        )
        for node in violation["nodes"][:5]:
            summary = " ".join((node.get("failureSummary") or "").split())
            lines.append(f"    at {node['target']}: {summary[:300]}")
            lines.append(f"       {node['html'][:200]}")
        if len(violation["nodes"]) > 5:
            lines.append(f"    ... and {len(violation['nodes']) - 5} more")
    return "\n".join(lines)


def assert_accessible(page: Page, what: str) -> None:
    """Run axe-core's WCAG 2.1 A/AA rules on the page; no violation allowed."""
    page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate(AXE_RUN)
    violations = result["violations"]
    if not violations:
        return
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / ("axe-" + re.sub(r"[^A-Za-z0-9_.-]+", "_", what).strip("_") + ".png")
    page.screenshot(path=str(shot), full_page=True)
    raise AssertionError(
        f"axe-core found {len(violations)} violation(s) on {what} ({page.url}, "
        f"screenshot {shot.relative_to(PROJECT_ROOT)}):\n" + _describe(violations)
    )
