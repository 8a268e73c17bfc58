"""axe-core's WCAG 2.1 A and AA rules on every kind of page, in English and Japanese."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    ADMIN,
    OFFICER,
    LiveServer,
    assert_accessible,
    choose_language,
    sign_in,
)

LANGUAGES = ["en", "ja"]


def _check_all(page: Page, paths: list[str], lang: str) -> None:
    """Open each path and run axe on it; report every page's violations together."""
    failures = []
    for path in paths:
        response = page.goto(path)
        assert response is not None and response.status == 200, f"{path}: {response}"
        expect(page.locator("html")).to_have_attribute("lang", lang)
        try:
            assert_accessible(page, f"{path} [{lang}]")
        except AssertionError as exc:
            failures.append(str(exc))
    assert not failures, "\n\n".join(failures)


@pytest.mark.browser
@pytest.mark.parametrize("lang", LANGUAGES)
def test_public_pages_are_accessible(axe_page: Page, live_server: LiveServer, lang: str) -> None:
    """The open calls, a call, and the sign-in, registration and reset pages."""
    axe_page.goto("/")
    choose_language(axe_page, lang)
    paths = [
        "/",
        f"/calls/{live_server.call_id}",
        "/login",
        "/register",
        "/register/sent",
        "/reset-password",
    ]
    _check_all(axe_page, paths, lang)


@pytest.mark.browser
@pytest.mark.parametrize("lang", LANGUAGES)
def test_officer_pages_are_accessible(axe_page: Page, live_server: LiveServer, lang: str) -> None:
    """The officer's dashboard and a call's overview, settings, criterion and texts pages."""
    sign_in(axe_page, OFFICER)
    choose_language(axe_page, lang)
    call = f"/manage/calls/{live_server.call_id}"
    paths = [
        "/manage/",
        call,
        f"{call}/settings",
        f"{call}/criteria/new",
        f"{call}/texts/{lang}",
        f"/manage/calls/{live_server.draft_call_id}",
    ]
    _check_all(axe_page, paths, lang)


@pytest.mark.browser
@pytest.mark.parametrize("lang", LANGUAGES)
def test_admin_pages_are_accessible(axe_page: Page, lang: str) -> None:
    """The administrator's funders, e-mail outbox and audit log (with the chain checked)."""
    sign_in(axe_page, ADMIN)
    choose_language(axe_page, lang)
    _check_all(
        axe_page, ["/admin/", "/admin/outbox", "/admin/audit", "/admin/audit?verify=1"], lang
    )


@pytest.mark.browser
@pytest.mark.parametrize("lang", LANGUAGES)
def test_registration_form_with_errors_is_accessible(axe_page: Page, lang: str) -> None:
    """The registration form sent back with its error summary and marked fields."""
    axe_page.goto("/register")
    choose_language(axe_page, lang)
    axe_page.locator("#name").fill("Erin Error")
    axe_page.locator("#email").fill("not-an-address")
    axe_page.locator("#password").fill("short")
    axe_page.locator("#confirm").fill("different")
    axe_page.locator("form.form [type=submit]").click()
    expect(axe_page.get_by_role("alert")).to_be_visible()
    expect(axe_page.locator("[aria-invalid=true]")).to_have_count(3)
    assert_accessible(axe_page, f"the registration form with errors [{lang}]")
