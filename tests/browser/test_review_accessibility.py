"""axe-core on the review panel's pages, in English and Japanese, and a reviewer's journey."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from grants.calls.models import Call
from grants.extensions import db
from grants.reviews.models import Assignment, Conflict
from tests.browser.conftest import (
    OFFICER,
    LiveServer,
    assert_accessible,
    choose_language,
    flash,
    sign_in,
    translated,
)
from tests.browser.test_accessibility import LANGUAGES, _check_all


@dataclass(frozen=True)
class _Pair:
    """One confirmed assignment of the demo call, as the browser tests need it."""

    id: int
    application_id: int
    email: str
    criteria: tuple[str, ...]  # the call's criterion names in English, in order


def _pairs(live_server: LiveServer) -> list[_Pair]:
    """The demo call's confirmed assignments without a conflict, in the order they were made."""
    with live_server.app.app_context():
        call = db.session.get_one(Call, live_server.call_id)
        conflicted = set(
            db.session.execute(
                select(Conflict.application_id, Conflict.reviewer_id).where(
                    Conflict.call_id == live_server.call_id
                )
            ).tuples()
        )
        pairs = [
            _Pair(
                id=a.id,
                application_id=a.application_id,
                email=a.reviewer.email,
                criteria=tuple(
                    c.text("name", "en", call.default_language).text for c in call.criteria
                ),
            )
            for a in db.session.scalars(
                select(Assignment)
                .where(Assignment.call_id == live_server.call_id)
                .order_by(Assignment.id)
            )
            if (a.application_id, a.reviewer_id) not in conflicted
        ]
        db.session.remove()
    assert len(pairs) >= 2, "the demo should assign its submitted application to several reviewers"
    return pairs


def _text(lang: str, msgid: str) -> str:
    """An interface string as the reader sees it in ``lang``."""
    return msgid if lang == "en" else translated(lang, msgid)


@pytest.mark.browser
@pytest.mark.parametrize("lang", LANGUAGES)
def test_officer_review_pages_are_accessible(
    axe_page: Page, live_server: LiveServer, lang: str
) -> None:
    """The panel (also with a preview), progress board, consensus, equity and statistics."""
    application_id = _pairs(live_server)[0].application_id
    sign_in(axe_page, OFFICER)
    choose_language(axe_page, lang)
    call = f"/manage/calls/{live_server.call_id}"
    paths = [
        f"{call}/panel",
        f"{call}/panel?preview=1",
        f"{call}/panel/progress",
        f"{call}/panel/consensus/{application_id}",
        f"{call}/equity",
        f"{call}/statistics",
    ]
    _check_all(axe_page, paths, lang)

    # axe takes a label for its id's first holder as everyone's: check the browser's own view.
    axe_page.goto(f"{call}/panel")
    unlabelled = axe_page.evaluate(
        """() => [...document.querySelectorAll('main select, main textarea, main input')]
            .filter(e => !['hidden', 'submit'].includes(e.type) && e.labels.length === 0)
            .map(e => e.outerHTML.slice(0, 80))"""
    )
    assert unlabelled == [], f"form controls without a label on the panel page: {unlabelled}"


@pytest.mark.browser
@pytest.mark.parametrize("lang", LANGUAGES)
def test_reviewer_pages_are_accessible(axe_page: Page, live_server: LiveServer, lang: str) -> None:
    """The workspace, profile, conflicts and review pages, and a refused empty submission."""
    pair = _pairs(live_server)[0]
    sign_in(axe_page, pair.email)
    choose_language(axe_page, lang)
    review = f"/reviewer/assignments/{pair.id}"
    paths = [
        "/reviewer/",
        "/reviewer/profile",
        f"/reviewer/calls/{live_server.call_id}/conflicts",
        review,
    ]
    _check_all(axe_page, paths, lang)

    axe_page.get_by_role("button", name=_text(lang, "Submit the review"), exact=True).click()
    expect(axe_page.get_by_role("alert")).to_contain_text(
        _text(
            lang,
            "Give a score for every criterion, a recommendation and your confidence before "
            "submitting; your draft is kept.",
        )
    )
    assert_accessible(axe_page, f"{review} after an empty submission [{lang}]")


@pytest.mark.browser
def test_reviewer_saves_a_draft_then_submits_the_review(
    page: Page, live_server: LiveServer
) -> None:
    """A draft with one comment is kept; a complete review is submitted and locked."""
    pair = _pairs(live_server)[-1]
    first = pair.criteria[0]
    sign_in(page, pair.email)
    choose_language(page, "en")
    page.goto("/reviewer/")
    page.get_by_role("link", name="Rivers of Memory").click()
    expect(page.get_by_role("heading", level=2, name="Your review")).to_be_visible()

    comment = "A moving project; the river archive needs a clearer plan."
    page.get_by_label(f"Comment: {first}").fill(comment)
    page.get_by_role("button", name="Save draft").click()
    expect(flash(page)).to_have_text("Your draft is saved.")
    expect(page.get_by_label(f"Comment: {first}")).to_have_value(comment)

    for name in pair.criteria:
        page.get_by_label(f"Score: {name}").select_option("4")
    page.get_by_label("Overall recommendation").select_option(label="Fund")
    page.get_by_label("Your confidence").select_option(label="High: my field")
    page.get_by_role("button", name="Submit the review").click()

    expect(flash(page)).to_have_text("Your review is submitted.")
    expect(page.locator("p.notice")).to_contain_text("Version 1 was submitted on")
    expect(page.locator("p.notice")).to_contain_text("and is locked.")
    expect(page.get_by_label(f"Comment: {first}")).to_have_value(comment)
    expect(page.get_by_label("Why you amend your submitted review")).to_be_visible()
