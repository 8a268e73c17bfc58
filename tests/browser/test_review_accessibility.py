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
@pytest.mark.parametrize(("lang", "which"), [("en", -1), ("fr", -2)])
def test_reviewer_saves_a_draft_then_submits_the_review(
    page: Page, live_server: LiveServer, lang: str, which: int
) -> None:
    """A draft with one comment is kept; a complete review is submitted and locked: in
    English, and in French for a reviewer who works in French."""
    pair = _pairs(live_server)[which]
    with live_server.app.app_context():
        call = db.session.get_one(Call, live_server.call_id)
        names = [c.text("name", lang, call.default_language).text for c in call.criteria]
        db.session.remove()
    first = names[0]
    sign_in(page, pair.email)
    choose_language(page, lang)
    page.goto("/reviewer/")
    page.get_by_role("link", name="Rivers of Memory").click()
    expect(page.get_by_role("heading", level=2, name=_text(lang, "Your review"))).to_be_visible()

    comment = "Un projet émouvant ; l'archive du fleuve demande un plan plus clair."
    comment_label = _text(lang, "Comment: %(criterion)s") % {"criterion": first}
    page.get_by_label(comment_label).fill(comment)
    page.get_by_role("button", name=_text(lang, "Save draft")).click()
    expect(flash(page)).to_have_text(_text(lang, "Your draft is saved."))
    expect(page.get_by_label(comment_label)).to_have_value(comment)

    for name in names:
        score = _text(lang, "Score: %(criterion)s") % {"criterion": name}
        page.get_by_label(score).select_option("4")
    page.get_by_label(_text(lang, "Overall recommendation")).select_option(
        label=_text(lang, "Fund")
    )
    page.get_by_label(_text(lang, "Your confidence")).select_option(
        label=_text(lang, "High: my field")
    )
    page.get_by_role("button", name=_text(lang, "Submit the review")).click()

    expect(flash(page)).to_have_text(_text(lang, "Your review is submitted."))
    notice = _text(
        lang,
        "Version %(num)d was submitted on %(when)s and is locked. To change it, give a "
        "reason: your amendment becomes a new version and both stay visible to the chair.",
    )
    before, after = notice.split("%(when)s")
    expect(page.locator("p.notice")).to_contain_text(before % {"num": 1})
    expect(page.locator("p.notice")).to_contain_text(after.split(".")[0])
    expect(page.get_by_label(comment_label)).to_have_value(comment)
    expect(page.get_by_label(_text(lang, "Why you amend your submitted review"))).to_be_visible()
