"""The public results page in Thai (and the other wide scripts): what a reader sees, in their
language and number format, with no horizontal scrolling on a phone and no axe violation."""

from __future__ import annotations

import pytest
from babel import Locale
from babel.numbers import format_currency
from playwright.sync_api import Page, expect
from sqlalchemy import select

from grants.decisions.models import APPROVED, Decision
from grants.extensions import db
from tests.browser.conftest import LiveServer, assert_accessible, choose_language, translated

# The innermost elements sticking out on the right, to say what breaks the layout.
WIDEST = """() => {
  const width = document.documentElement.clientWidth;
  return [...document.querySelectorAll('main *')]
    .filter(e => e.getBoundingClientRect().right > width + 1)
    .filter(e => ![...e.children].some(c => c.getBoundingClientRect().right > width + 1))
    .slice(0, 5)
    .map(e => `${e.tagName.toLowerCase()}.${e.className}: ${e.textContent.trim().slice(0, 40)}`);
}"""


def _funded(live_server: LiveServer) -> list[tuple[str, str]]:
    """(title, amount) of the demo's funded projects."""
    with live_server.app.app_context():
        rows = [
            (d.application.title, str(d.amount))
            for d in db.session.scalars(
                select(Decision).where(
                    Decision.call_id == live_server.results_call_id,
                    Decision.status == APPROVED,
                    Decision.outcome == "funded",
                )
            )
        ]
        db.session.remove()
    assert rows
    return rows


@pytest.mark.browser
def test_a_thai_reader_reads_the_published_results(axe_page: Page, live_server: LiveServer) -> None:
    """Headings, the funded projects with amounts in Thai number format, the lottery and the
    signed tree heads; the call's title falls back to English and says so."""
    page = axe_page
    page.goto("/")
    choose_language(page, "th")
    page.get_by_role("link", name=translated("th", "Published results")).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(translated("th", "Published results"))
    page.locator("main .card h2 a").first.click()
    heading = page.get_by_role("heading", level=1)
    marker = translated("th", "in %(language)s") % {"language": Locale.parse("th").languages["en"]}
    expect(heading).to_contain_text(marker)  # no silent fallback to English
    expect(page.get_by_role("heading", name=translated("th", "Funded projects"))).to_be_visible()
    funded = page.locator("table").first
    for title, amount in _funded(live_server):
        expect(funded).to_contain_text(title)
        expect(funded).to_contain_text(format_currency(amount, "EUR", locale="th"))
    expect(
        page.get_by_role("heading", name=translated("th", "How the applications were ranked"))
    ).to_be_visible()
    expect(page.get_by_role("heading", name=translated("th", "Lottery"))).to_be_visible()
    expect(page.get_by_role("heading", name=translated("th", "Signed tree heads"))).to_be_visible()
    assert_accessible(page, "results [th]")


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["th", "hi", "ja"])
def test_wide_scripts_fit_a_phone(axe_page: Page, live_server: LiveServer, lang: str) -> None:
    """On a 360-pixel-wide screen the pages do not scroll sideways in Thai, Hindi or Japanese
    (tables scroll inside their own box)."""
    page = axe_page
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto("/")
    choose_language(page, lang)
    for path in (
        "/",
        f"/calls/{live_server.call_id}",
        f"/calls/{live_server.results_call_id}/results",
        "/transparency",
    ):
        page.goto(path)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if overflow > 1:
            culprits = page.evaluate(WIDEST)
            raise AssertionError(f"{path} [{lang}] scrolls sideways by {overflow}px: {culprits}")


@pytest.mark.browser
def test_the_public_log_downloads_from_the_live_server_and_verifies(
    page: Page, live_server: LiveServer
) -> None:
    """Served by the real app (streamed outside the test's own context), the JSON Lines
    download is whole and passes the offline verifier."""
    from grants.domain import publiclog

    response = page.request.get(f"/calls/{live_server.results_call_id}/log.jsonl")
    assert response.status == 200
    log = publiclog.loads(response.text())
    assert log.entries and log.heads
    report = publiclog.verify(log)
    assert report.ok, report.first_failure
