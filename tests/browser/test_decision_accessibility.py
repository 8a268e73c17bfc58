"""axe-core on the pages of decisions and publication, in English and Japanese: the public
results, the officers' decision steps, and an applicant's decision with its feedback."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import OFFICER, LiveServer, choose_language, sign_in
from tests.browser.test_accessibility import LANGUAGES, _check_all


@pytest.mark.browser
@pytest.mark.parametrize("lang", LANGUAGES)
def test_published_results_are_accessible(
    axe_page: Page, live_server: LiveServer, lang: str
) -> None:
    """The list of published results, a call's results and the page on verification."""
    axe_page.goto("/")
    choose_language(axe_page, lang)
    results = f"/calls/{live_server.results_call_id}/results"
    _check_all(axe_page, ["/results", results, "/transparency"], lang)
    axe_page.goto(results)
    # What a reader sees: funded projects, every ranked application, the lottery, the heads.
    expect(axe_page.locator("#funded-h")).to_be_visible()
    expect(axe_page.locator("table").first).to_contain_text("AETG-2026-")
    expect(axe_page.locator("svg[role=img]").first).to_be_visible()


@pytest.mark.browser
@pytest.mark.parametrize("lang", LANGUAGES)
def test_decision_pages_are_accessible(axe_page: Page, live_server: LiveServer, lang: str) -> None:
    """Ranking runs and one run, amounts, decisions, appeals and one appeal."""
    sign_in(axe_page, OFFICER)
    choose_language(axe_page, lang)
    call = f"/manage/calls/{live_server.results_call_id}"
    paths = [
        f"{call}/ranking",
        f"{call}/ranking/{live_server.results_run_id}",
        f"{call}/amounts",
        f"{call}/decisions",
        f"{call}/appeals",
        f"{call}/appeals/{live_server.appeal_id}",
    ]
    _check_all(axe_page, paths, lang)


@pytest.mark.browser
@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_applicants_decision_is_accessible(
    axe_page: Page, live_server: LiveServer, lang: str
) -> None:
    """The lead partner's application page with the decision, scores, comments and proofs."""
    sign_in(axe_page, live_server.decided_lead)
    choose_language(axe_page, lang)
    path = f"/applications/{live_server.decided_application_id}"
    _check_all(axe_page, [path], lang)
    axe_page.goto(path)
    expect(axe_page.locator("#decision-h")).to_be_visible()
    expect(axe_page.locator("#log-h")).to_be_visible()
