"""What readers, applicants and officers see in a real browser."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from playwright.sync_api import Page, expect

from grants import demo
from grants.app import CONTENT_SECURITY_POLICY
from tests.browser.conftest import (
    OFFICER,
    READER_TIMEZONE,
    LiveServer,
    flash,
    sign_in,
    translated,
)
from tests.browser.test_applicant_journey import _confirmation_link


def _local(moment: datetime) -> str:
    """A value for an <input type="datetime-local">."""
    return moment.strftime("%Y-%m-%dT%H:%M")


@pytest.mark.browser
def test_pages_are_sent_with_a_strict_content_security_policy(
    page: Page, live_server: LiveServer
) -> None:
    """The CSP header is sent and enforced, and the site's own files work under it."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )
    # Chromium asks for /favicon.ico on its own; the site has none (not a CSP matter).
    page.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    for path in [f"/calls/{live_server.call_id}", "/login", "/register", "/"]:
        response = page.goto(path)
        assert response is not None and response.ok, path
        assert response.headers.get("content-security-policy") == CONTENT_SECURITY_POLICY
    assert errors == [], "the browser reported errors (CSP refusals?) on the site's own pages"

    blocked = page.evaluate(
        """() => {
            const script = document.createElement('script');
            script.textContent = 'window.inlineScriptRan = true';
            document.head.appendChild(script);
            return window.inlineScriptRan === undefined;
        }"""
    )
    assert blocked, "an inline script ran despite the Content-Security-Policy"
    page.wait_for_function("() => document.cookie.includes('grants_tz=')")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert cookies["grants_tz"] == READER_TIMEZONE.replace("/", "%2F")


@pytest.mark.browser
def test_anonymous_reader_reads_the_call_in_japanese(page: Page) -> None:
    """A signed-out reader switches to Japanese and sees the deadline in two time zones."""
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Open calls")
    expect(page.get_by_role("link", name=demo.FUND_TITLE["en"])).to_be_visible()

    page.get_by_label("Language", exact=True).select_option("ja")
    page.get_by_role("button", name="Change").click()

    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_role("heading", level=1)).to_have_text(translated("ja", "Open calls"))
    expect(page.get_by_role("navigation")).to_contain_text(translated("ja", "Create account"))
    expect(page.locator("form.language-picker button")).to_have_text(translated("ja", "Change"))
    page.get_by_role("link", name=demo.FUND_TITLE["ja"]).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(demo.FUND_TITLE["ja"])
    expect(page.get_by_role("heading", name=translated("ja", "Key dates"))).to_be_visible()
    dates = page.locator("dl.facts").first
    expect(dates.locator("dt").nth(1)).to_have_text(translated("ja", "Deadline (call's time zone)"))
    expect(dates.locator("dd").nth(1)).to_contain_text("(Asia/Singapore, UTC+08:00)")
    expect(dates.locator("dt").nth(2)).to_have_text(translated("ja", "Deadline (your time zone)"))
    expect(dates.locator("dd").nth(2)).to_contain_text(
        re.compile(r"\([\w/+-]+, UTC[+-]\d\d:\d\d\)")
    )


@pytest.mark.browser
def test_signed_out_reader_sees_the_deadline_in_the_browsers_time_zone(page: Page) -> None:
    """The call page gives the deadline in the time zone the browser reports."""
    page.goto("/")
    page.wait_for_function("() => document.cookie.includes('grants_tz=')")
    page.get_by_role("link", name=demo.FUND_TITLE["en"]).click()
    dates = page.locator("dl.facts").first
    expect(dates.locator("dt").nth(2)).to_have_text("Deadline (your time zone)")
    expect(dates.locator("dd").nth(2)).to_contain_text(
        re.compile(r"\(Europe/Paris, UTC\+0[12]:00\)"), timeout=1000
    )


@pytest.mark.browser
def test_register_sign_out_and_sign_in_with_the_keyboard(
    page: Page, live_server: LiveServer
) -> None:
    """A new account is created from the e-mailed link and signed in; signing in again works
    with the keyboard only."""
    name = "Bea Browser"
    email = f"bea-{uuid4().hex[:10]}@example.org"
    password = "a long browser passphrase"

    page.goto("/")
    page.get_by_role("link", name="Create account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Create account")
    page.get_by_label("Full name").fill(name)
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Repeat the password").fill(password)
    page.get_by_label("Preferred language").select_option(label="English")
    page.get_by_label("Time zone").select_option("Asia/Tokyo")
    page.get_by_role("button", name="Create account").click()

    # The same answer for every address: the account waits for the e-mailed link.
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your e-mail")
    expect(flash(page)).to_have_text(
        f"We have sent a message to {email}. Open the link in it to finish creating your account."
    )
    page.goto(_confirmation_link(live_server, email))
    expect(page.get_by_role("heading", level=1)).to_have_text("Finish creating your account")
    page.get_by_label("The password you chose").fill(password)
    page.get_by_role("button", name="Create my account").click()

    expect(flash(page)).to_have_text(f"Welcome, {name}. Your account is ready.")
    expect(page.get_by_role("link", name="My account")).to_be_visible()
    sign_out = page.get_by_role("button", name="Sign out")
    header_form = page.get_by_role("banner").locator("form", has=sign_out)
    expect(header_form).to_have_attribute("method", "post")
    header_form.get_by_role("button").click()

    expect(flash(page)).to_have_text("You are signed out.")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    page.get_by_role("link", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")

    page.get_by_label("E-mail address").focus()
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    page.keyboard.type(password)
    page.keyboard.press("Enter")

    expect(flash(page)).to_have_text("You are signed in.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Open calls")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    # Signed in, "your time zone" is the one chosen at registration.
    page.get_by_role("link", name=demo.FUND_TITLE["en"]).click()
    dates = page.locator("dl.facts").first
    expect(dates.locator("dd").nth(1)).to_contain_text("(Asia/Singapore, UTC+08:00)")
    expect(dates.locator("dd").nth(2)).to_contain_text("(Asia/Tokyo, UTC+09:00)")


@pytest.mark.browser
def test_demo_officer_signs_in_with_the_printed_login(page: Page) -> None:
    """The demo officer's printed e-mail and password open a session."""
    page.goto("/login")
    page.get_by_label("E-mail address").fill(OFFICER)
    page.get_by_label("Password", exact=True).fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(flash(page)).to_have_text("You are signed in.", timeout=1000)


@pytest.mark.browser
def test_officer_creates_and_publishes_a_call(page: Page) -> None:
    """An officer drafts a call, sees what is missing, adds a criterion and publishes it."""
    token = uuid4().hex[:8].upper()
    title = f"Browser-made call {token}"
    funder = "Asia-Europe Culture Foundation"
    now = datetime.now(UTC).replace(second=0, microsecond=0)

    sign_in(page, OFFICER)
    page.get_by_role("link", name="My funders' calls").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My funders' calls")
    page.get_by_role("link", name=f"New call for {funder}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"New call for {funder}")

    page.get_by_label("Title").fill(title)
    page.get_by_label("Summary").fill("Made by the browser tests, to check the whole journey.")
    page.get_by_label("Reference prefix").fill(f"B{token}")
    page.get_by_label("Time zone of the call").select_option("Asia/Singapore")
    page.get_by_label("Opens at").fill(_local(now - timedelta(days=1)))
    page.get_by_label("Closes at").fill(_local(now + timedelta(days=30)))
    page.get_by_label("Currency").select_option("EUR")
    page.get_by_label("Budget envelope").fill("250000")
    page.get_by_label("Smallest grant").fill("5000")
    page.get_by_label("Largest grant").fill("25000")
    regions = page.get_by_role("group", name="Required regions")
    regions.get_by_label("Asia", exact=True).check()
    regions.get_by_label("Europe", exact=True).check()
    artforms = page.get_by_role("group", name="Artforms")
    artforms.get_by_label("Theatre").check()
    artforms.get_by_label("Dance").check()
    languages = page.get_by_role("group", name="Languages applications may be written in")
    languages.get_by_label("English").check()
    languages.get_by_label("Japanese").check()
    page.get_by_role("button", name="Create call").click()

    expect(flash(page)).to_have_text(
        "The call is created as a draft. Add its criteria, then publish it."
    )
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.locator(".meta .badge")).to_have_text("Draft")
    expect(page.locator("dl.facts dd").first).to_contain_text("(Asia/Singapore, UTC+08:00)")
    readiness = page.get_by_role("region", name="Ready to publish?")
    expect(readiness.get_by_role("listitem")).to_have_text(
        ["Add at least one assessment criterion."]
    )
    expect(readiness.get_by_role("button", name="Publish the call")).to_have_count(0)

    page.get_by_role("link", name="Add a criterion").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New criterion")
    page.get_by_label("Weight").fill("2")
    page.get_by_label("Name", exact=True).fill("Artistic quality")
    page.get_by_label("What reviewers assess").fill("The strength of the shared work.")
    page.get_by_label("Descriptor for score 5").fill("Excellent in every respect.")
    page.get_by_role("button", name="Save criterion").click()

    expect(flash(page)).to_have_text("The criterion is added.")
    expect(page.get_by_role("link", name="Artistic quality")).to_be_visible()
    expect(readiness).to_contain_text("Nothing stops this call from being published.")
    readiness.get_by_role("button", name="Publish the call").click()

    expect(flash(page)).to_have_text("The call is published.")
    expect(page.locator(".meta .badge")).to_have_text("Open")
    page.get_by_role("link", name="Open calls").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Open calls")
    page.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    criteria = page.get_by_role("table", name="Assessment criteria")
    expect(criteria.get_by_role("rowheader")).to_contain_text("Artistic quality")


@pytest.mark.browser
def test_registration_errors_are_announced_and_tied_to_their_fields(page: Page) -> None:
    """Mismatched passwords and a bad e-mail: a summary, marked fields, the name kept."""
    page.goto("/register")
    page.get_by_label("Full name").fill("Dora Mistyped")
    page.get_by_label("E-mail address").fill("dora-at-example")
    page.get_by_label("Password", exact=True).fill("the first long passphrase")
    page.get_by_label("Repeat the password").fill("another long passphrase")
    page.get_by_role("button", name="Create account").click()

    summary = page.get_by_role("alert")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("heading")).to_have_text("Please correct the following:")
    expect(summary).to_contain_text("E-mail address:")
    expect(summary).to_contain_text("Repeat the password: The two passwords differ.")
    expect(summary).to_be_focused()

    for label, message in [("E-mail address", None), ("Repeat the password", "differ")]:
        field = page.get_by_label(label, exact=True)
        expect(field).to_have_attribute("aria-invalid", "true")
        described_by = (field.get_attribute("aria-describedby") or "").split()
        errors = [page.locator(f"[id='{ref}']") for ref in described_by if ref.endswith("-error")]
        assert len(errors) == 1, f"{label}: aria-describedby={described_by}"
        expect(errors[0]).to_be_visible()
        expect(errors[0]).to_have_class(re.compile(r"\berror\b"))
        expect(errors[0]).to_have_text(re.compile(message or r"\S"))
    expect(page.get_by_label("Full name")).to_have_value("Dora Mistyped")
    expect(page.get_by_label("Full name")).not_to_have_attribute("aria-invalid", "true")
