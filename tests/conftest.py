"""Fixtures: one migrated database per run, a rolled-back transaction per test.

The suite runs on SQLite by default and on PostgreSQL when ``TEST_DATABASE_URL`` is set.
Whatever else the caller's shell has set for grants or Flask is removed first (see
``scrub_environment``): the tests run the same everywhere.
"""

from __future__ import annotations

import itertools
import os
import re
import tempfile
from collections.abc import Iterator, MutableMapping
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from flask_sqlalchemy.session import _app_ctx_id
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import scoped_session, sessionmaker

from grants.app import create_app
from grants.config import BARE_NAMES, PROJECT_ROOT
from grants.extensions import db, limiter
from grants.types import utcnow

# The suite's own switches, kept: where the test database is, where the 360Giving schemas are.
SUITE_VARIABLES = frozenset({"TEST_DATABASE_URL", "GRANTS_360GIVING_SCHEMAS"})


def _changes_the_app(name: str) -> bool:
    if name in SUITE_VARIABLES:
        return False
    return name.startswith(("GRANTS_", "FLASK_")) or name in BARE_NAMES


def scrub_environment(environ: MutableMapping[str, str] = os.environ) -> list[str]:
    """Remove every variable that would change the app under test; return their names.

    ``GRANTS_*`` settings, the bare ``DATABASE_URL`` and ``SECRET_KEY`` that the
    configuration also reads, and ``FLASK_*`` (``FLASK_DEBUG`` changes the app): a
    developer's or a server's shell must not turn a test into a test of its settings.
    """
    removed = sorted(name for name in environ if _changes_the_app(name))
    for name in removed:
        del environ[name]
    return removed


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a subprocess a test starts: this (scrubbed) one plus ``extra``."""
    environ = dict(os.environ)
    scrub_environment(environ)
    return {**environ, **extra}


# Before any app exists: at import, pytest loads this file before every test module.
scrub_environment()

PASSWORD = "correct horse battery"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def database_url(tmp_root: str, name: str = "grants") -> str:
    """The test database: TEST_DATABASE_URL (PostgreSQL) or a fresh SQLite file."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        return f"sqlite:///{tmp_root}/{name}.sqlite"
    url = make_url(base)
    if name == "grants":
        return base
    return url.set(database=f"{url.database}_{name}").render_as_string(hide_password=False)


def reset_database(url: str) -> None:
    """Start from an empty schema (PostgreSQL); SQLite tests always use a new file."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": parsed.database}
        ).first()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()
    engine = create_engine(parsed, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def compile_translations() -> None:
    """Build missing or stale .mo catalogs from the .po files, as ``make`` does."""
    from babel.messages import mofile, pofile

    for po_path in sorted((PROJECT_ROOT / "translations").glob("*/LC_MESSAGES/messages.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = pofile.read_po(po_file)
        partial = mo_path.with_name(f"messages.{os.getpid()}.mo.part")
        with partial.open("wb") as mo_file:
            mofile.write_mo(mo_file, catalog)
        partial.replace(mo_path)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Catalogs first: Flask-Babel caches them for every app once loaded."""
    compile_translations()


def make_app(url: str, **overrides: Any) -> Flask:
    """A testing app on ``url`` with the schema migrated."""
    from flask_migrate import upgrade

    reset_database(url)
    overrides.setdefault("UPLOAD_FOLDER", tempfile.mkdtemp(prefix="grants-uploads-"))
    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url, **overrides})
    with app.app_context():
        upgrade()
    return app


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The application, on a database migrated once for the whole run."""
    root = tmp_path_factory.mktemp("db")
    application = make_app(database_url(str(root)))
    application.test_client_class = IsolatedClient
    yield application
    with application.app_context():
        db.engine.dispose()


ORIGINAL_SESSION: dict[str, Any] = {}


@pytest.fixture
def real_sessions() -> Iterator[None]:
    """Flask-SQLAlchemy's own sessions, for tests that run their own app and database."""
    swapped = db.session
    db.session = ORIGINAL_SESSION["session"]
    try:
        yield
    finally:
        db.session = swapped


@pytest.fixture(autouse=True)
def _session(app: Flask) -> Iterator[None]:
    """Every test runs inside a transaction that is rolled back at the end."""
    with app.app_context():
        connection = db.engine.connect()
        transaction = connection.begin()
        original = ORIGINAL_SESSION.setdefault("session", db.session)
        # A plain SQLAlchemy session: Flask-SQLAlchemy's own would pick the engine, not
        # this connection. Scoped per app context like Flask-SQLAlchemy's.
        factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
        db.session = scoped_session(factory, scopefunc=_app_ctx_id)
        limiter.reset()
        try:
            yield
        finally:
            db.session.remove()
            db.session = original
            transaction.rollback()
            connection.close()


class IsolatedClient(FlaskClient):
    """A test client whose requests do not share ``g`` with the test or each other.

    Tests hold an app context (for the database session); Flask reuses it for requests,
    so without this, ``g`` (Flask-Login's current user, the CSRF token) would leak.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        g.__dict__.clear()
        try:
            return super().open(*args, **kwargs)
        finally:
            g.__dict__.clear()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client (cookies kept between requests)."""
    return app.test_client()


class QueryCounter:
    """Counts SQL statements sent while active."""

    def __init__(self) -> None:
        self.count = 0
        self.statements: list[str] = []

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
            return
        self.count += 1
        self.statements.append(statement)


@pytest.fixture
def count_queries(app: Flask) -> Any:
    """``with count_queries() as counter: ...`` then ``counter.count``."""
    from contextlib import contextmanager

    @contextmanager
    def counting() -> Iterator[QueryCounter]:
        counter = QueryCounter()
        # Start cold: what the identity map already holds must not hide a query.
        db.session.expire_all()
        engine = db.engine
        event.listen(engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", counter)

    return counting


# --- helpers used by many tests -------------------------------------------------------


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token of the client's session, read from a rendered form."""
    page = client.get(path)
    match = CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post(client: FlaskClient, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """POST a form with the session's CSRF token."""
    payload = {"csrf_token": csrf_token(client), **(data or {})}
    return client.post(path, data=payload, **kwargs)


def make_user(
    email: str = "user@example.org",
    *,
    admin: bool = False,
    locale: str = "en",
    timezone: str = "Europe/Paris",
    name: str = "Test User",
) -> Any:
    """An account with the shared test password."""
    from grants.auth.operations import register_user

    user = register_user(
        name=name, email=email, password=PASSWORD, locale=locale, timezone=timezone, is_admin=admin
    )
    db.session.commit()
    return user


def login(client: FlaskClient, user: Any, password: str = PASSWORD) -> Any:
    """Sign ``user`` in through the login form."""
    response = post(client, "/login", {"email": user.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def make_funder(name: str = "Test Funder", officers: tuple[Any, ...] = ()) -> Any:
    """A funder with the given officers."""
    from grants.calls import operations as ops

    admin = make_user(f"admin-{name.lower().replace(' ', '-')}@example.org", admin=True)
    funder = ops.create_funder(admin, name=name, country="DE", website=None)
    for officer in officers:
        ops.add_officer(admin, funder, officer.email)
    db.session.commit()
    return funder


_PREFIXES = itertools.count(1)


def call_settings(**overrides: Any) -> dict[str, Any]:
    """Valid settings for a call that is open now; each call its own reference prefix."""
    now = utcnow().replace(microsecond=0)
    settings: dict[str, Any] = {
        "reference_prefix": f"TEST{next(_PREFIXES)}",
        "default_language": "en",
        "timezone": "Asia/Tokyo",
        "opens_at": now - timedelta(days=1),
        "closes_at": now + timedelta(days=30),
        "currency": "EUR",
        "budget_envelope": Decimal("100000"),
        "grant_min": Decimal("1000"),
        "grant_max": Decimal("20000"),
        "min_partners": 2,
        "min_countries": 2,
        "required_regions": ["142", "150"],
        "artforms": ["theatre", "dance"],
        "languages": ["en", "ja"],
        "score_min": Decimal(0),
        "score_max": Decimal(5),
        "score_step": Decimal("0.5"),
        "reviews_per_application": 3,
    }
    settings.update(overrides)
    return settings


def make_call(
    funder: Any, officer: Any, *, publish: bool = True, title: str = "Test call", **overrides: Any
) -> Any:
    """A call with one criterion, published unless asked otherwise."""
    from grants.calls import operations as ops

    call = ops.create_call(
        officer, funder, title=title, summary="A summary.", **call_settings(**overrides)
    )
    ops.add_criterion(
        officer,
        call,
        language="en",
        weight=Decimal(1),
        threshold=None,
        name="Quality",
        description="",
        descriptors={"0": "None", "5": "Top"},
    )
    if publish:
        ops.publish_call(officer, call)
    db.session.commit()
    return call


@pytest.fixture
def world() -> dict[str, Any]:
    """The five roles of the access tests, with a funder, its calls and another funder."""
    admin = make_user("root@example.org", admin=True, name="Root")
    officer = make_user("officer@example.org", name="Olivia Officer")
    stranger = make_user("other-officer@example.org", name="Other Officer")
    applicant = make_user(
        "applicant@example.org", name="Ann Applicant", locale="ja", timezone="Asia/Tokyo"
    )
    funder = make_funder("Main Funder", officers=(officer,))
    other = make_funder("Other Funder", officers=(stranger,))
    call = make_call(funder, officer)
    draft = make_call(funder, officer, publish=False, title="Draft call")
    return {
        "admin": admin,
        "officer": officer,
        "stranger": stranger,
        "applicant": applicant,
        "funder": funder,
        "other_funder": other,
        "call": call,
        "draft": draft,
        "criterion": call.criteria[0],
        "draft_criterion": draft.criteria[0],
    }
