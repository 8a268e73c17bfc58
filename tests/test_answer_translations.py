"""Answers in any accepted language, with a partner's translation shown to reviewers who do
not read the original: side by side, each marked."""

from __future__ import annotations

import pytest

from grants.applications import operations as ops
from grants.errors import OperationError
from grants.extensions import db
from grants.reviews import operations as review_ops
from tests.conftest import login, post
from tests.test_applications import setup  # noqa: F401 - the fixture
from tests.test_equity_policy import submit_complete
from tests.test_reviews import reviewer

ORIGINAL = "私たちは東京とプラハで新しい舞台を作ります。"
TRANSLATION = "We will make a new play in Tokyo and Prague."


def test_the_answer_form_keeps_a_translation_and_refuses_a_bad_one(client, setup):  # noqa: F811
    s = setup
    login(client, s["lead"])
    url = f"/applications/{s['application'].id}/answers/{s['question'].id}"
    form = {"version": "0", "language": "ja", "text": ORIGINAL, "translation": TRANSLATION}
    page = post(client, url, {**form, "translation_language": ""}).get_data(as_text=True)
    assert "Say which language the translation is in." in page
    assert TRANSLATION in page and ORIGINAL in page  # nothing typed is lost
    page = post(client, url, {**form, "translation_language": "ja"}).get_data(as_text=True)
    assert "The translation must be in another language than the answer." in page
    response = post(client, url, {**form, "translation_language": "en"})
    assert response.status_code == 302
    answer = s["application"].answer_to(s["question"].id)
    assert (answer.language, answer.translation_language) == ("ja", "en")
    assert answer.translation == TRANSLATION
    page = client.get(f"/applications/{s['application'].id}").get_data(as_text=True)
    assert "Original, in Japanese" in page and "Translation into English" in page
    assert f'<div class="pre" lang="ja">{ORIGINAL}</div>' in page


def test_a_translation_without_text_is_no_translation(setup):  # noqa: F811
    s = setup
    ops.save_answer(
        s["lead"], s["application"], s["question"], version=0, text=ORIGINAL, language="ja",
        translation="", translation_language="en",
    )  # fmt: skip
    answer = s["application"].answer_to(s["question"].id)
    assert answer.translation_language is None
    with pytest.raises(OperationError):
        ops.save_answer(
            s["lead"], s["application"], s["question"], version=answer.version, text=ORIGINAL,
            language="ja", translation=TRANSLATION, translation_language="de",
        )  # fmt: skip


@pytest.mark.parametrize(("reads", "side_by_side"), [(["en"], True), (["ja", "en"], False)])
def test_reviewers_see_the_translation_beside_an_original_they_do_not_read(
    client,
    setup,  # noqa: F811
    reads,
    side_by_side,
):
    s = setup
    app = submit_complete(s)
    answer = app.answer_to(s["question"].id)
    answer.text, answer.language = ORIGINAL, "ja"
    answer.translation, answer.translation_language = TRANSLATION, "en"
    user = reviewer(s, "reader@example.org", languages=reads)
    assignment = review_ops.add_assignment(s["officer"], app, user.id, "Test")
    db.session.commit()
    login(client, user)
    page = client.get(f"/reviewer/assignments/{assignment.id}").get_data(as_text=True)
    assert ORIGINAL in page and TRANSLATION in page
    assert ('class="side-by-side"' in page) is side_by_side
    if side_by_side:
        assert "Original, in Japanese" in page
        assert "Translation into English, supplied by the applicants" in page
    else:
        assert "Written in Japanese" in page and "<details>" in page


def test_a_reviewer_named_only_in_a_translation_is_found_conflicted(setup):  # noqa: F811
    s = setup
    app = submit_complete(s)
    user = reviewer(s, "named@example.org", languages=["en"])
    answer = app.answer_to(s["question"].id)
    answer.translation = f"Directed with {user.name} of the Tokyo ensemble."
    answer.translation_language = "ja"
    db.session.commit()
    review_ops.detect_conflicts(s["officer"], s["call"])
    db.session.commit()
    assert review_ops.has_conflict(user.id, app.id)
