"""Conflicts of interest bind every role (chair, reviewer, officer) on every page and in every
operation; a review written before a conflict was found is set aside, never deleted; what the
decisions rest on freezes once they are sent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from grants.audit.models import AuditEntry
from grants.calls import operations as calls_ops
from grants.decisions import operations as decision_ops
from grants.decisions.models import Appeal, Decision
from grants.errors import OperationError
from grants.extensions import db
from grants.reviews import operations as review_ops
from grants.reviews.models import Assignment, Conflict, Review
from tests.conftest import login, make_user, post
from tests.test_applications import setup  # noqa: F401 - the fixture
from tests.test_decisions import approve_all, base, decided  # noqa: F401 - fixtures


def chair_of(s, email="chair@example.org"):
    """An active chair of the call's panel."""
    chair = make_user(email, name="Chair Person")
    member = review_ops.invite_reviewer(
        s["officer"], s["call"], email=chair.email, locale="en", is_chair=True, max_load=1
    )
    review_ops.join_panel(chair, member)
    db.session.commit()
    return chair


def conflict(s, user, reason="personal"):
    """Someone else (the officer) records a conflict for ``user`` with the application."""
    recorded = review_ops.add_conflict(s["officer"], s["app"], user.id, reason=reason, note="")
    db.session.commit()
    return recorded


# --- nothing submitted is deleted ----------------------------------------------------------


def test_a_conflict_found_after_a_submitted_review_sets_it_aside(client, decided):  # noqa: F811
    s, app = decided, decided["app"]
    user, assignment = s["reviewers"][0]
    review_ids = [r.id for r in assignment.reviews]
    conflict(s, user)
    # The review and its assignment are still there, unchanged.
    assert db.session.get(Assignment, assignment.id) is not None
    assert [r.id for r in db.session.scalars(select(Review).where(Review.id.in_(review_ids)))] == (
        review_ids
    )
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "review.set_aside")
    ).one()
    assert entry.actor_id == s["officer"].id
    assert entry.data["reviewer_id"] == user.id and entry.data["reason"] == "conflict"
    assert entry.data["submitted"] == [1]
    # It counts nowhere: not in the ranking inputs, not on the chair's consensus table.
    items, *_ = decision_ops.ranking_inputs(s["call"])
    assert len(items[0].reviews) == 2
    login(client, s["officer"])
    page = client.get(f"{base(s)}/panel/consensus/{app.id}").get_data(as_text=True)
    assert "Reviews set aside" in page and user.name in page
    assert "Reviewer 3" not in page  # two reviews left in the table
    progress = client.get(f"{base(s)}/panel/progress").get_data(as_text=True)
    assert "1 review is set aside" in progress
    panel = client.get(f"{base(s)}/panel").get_data(as_text=True)
    assert "set aside: conflict of interest" in panel
    # And the reviewer no longer reaches it.
    post(client, "/logout")
    login(client, user)
    assert client.get(f"/reviewer/assignments/{assignment.id}").status_code == 404


def test_a_conflict_before_any_review_still_frees_the_pair(decided):  # noqa: F811
    s, app = decided, decided["app"]
    late = make_user("late@example.org", name="Late Reviewer")
    from tests.test_reviews import reviewer

    late = reviewer(s, "late2@example.org")
    assignment = review_ops.add_assignment(s["officer"], app, late.id, "Test")
    db.session.commit()
    conflict(s, late)
    assert db.session.get(Assignment, assignment.id) is None


# --- a conflicted chair ----------------------------------------------------------------------


def test_a_conflicted_chair_sees_no_assessment_and_changes_none(client, decided):  # noqa: F811
    s, app = decided, decided["app"]
    chair = chair_of(s)
    conflict(s, chair)
    login(client, chair)
    assert client.get(f"{base(s)}/panel/consensus/{app.id}").status_code == 404
    criterion = s["call"].criteria[0]
    response = post(
        client,
        f"{base(s)}/panel/consensus/{app.id}",
        {f"score_{criterion.id}": "3", "justification": "We agreed"},
    )
    assert response.status_code == 404
    progress = client.get(f"{base(s)}/panel/progress").get_data(as_text=True)
    assert app.reference not in progress
    assert "1 application is not shown: you have a conflict of interest with it." in progress
    run = client.get(f"{base(s)}/ranking/{s['run'].id}").get_data(as_text=True)
    assert "Hidden: you have a conflict of interest with this application." in run
    panel = client.get(f"{base(s)}/panel").get_data(as_text=True)
    for user, _assignment in s["reviewers"]:  # who reviews it stays hidden
        assert f"<tr><td>{app.reference}</td><td>{user.name}" not in panel
    preview = client.get(f"{base(s)}/panel?preview=1").get_data(as_text=True)
    assert "Hidden: you have a conflict of interest with this application." in preview
    _user, assignment = s["reviewers"][1]
    release = f"{base(s)}/panel/consensus/{app.id}/comments/{assignment.id}"
    assert post(client, release, {"release": "1"}).status_code == 403
    # Whatever the route: the operations refuse too.
    with pytest.raises(OperationError):
        review_ops.save_consensus(
            chair,
            app,
            scores={str(criterion.id): "3"},
            justification="We agreed",
            majority="",
            minority="",
        )
    with pytest.raises(OperationError):
        decision_ops.set_comments_released(chair, assignment, True)
    other = make_user("other-rev@example.org", name="Other Reviewer")
    with pytest.raises(OperationError):
        review_ops.add_assignment(chair, app, other.id, "I want this one")
    with pytest.raises(OperationError):
        review_ops.add_conflict(chair, app, s["reviewers"][1][0].id, reason="personal", note="")
    db.session.rollback()
    assert db.session.get(Assignment, assignment.id).comments_released is False


# --- a conflicted officer ----------------------------------------------------------------------


def test_an_officer_declares_a_conflict_and_then_sees_and_decides_nothing(client, decided):  # noqa: F811
    s, app = decided, decided["app"]
    login(client, s["second"])
    page = client.get(f"/reviewer/calls/{s['call'].id}/conflicts")
    assert page.status_code == 200 and app.reference in page.get_data(as_text=True)
    response = post(
        client,
        f"/reviewer/calls/{s['call'].id}/conflicts",
        {"application": str(app.id), "reason": "collaborator", "note": "Former colleague"},
    )
    assert response.status_code == 302
    assert (
        db.session.scalars(select(Conflict).where(Conflict.reviewer_id == s["second"].id))
        .one()
        .source
        == "declared"
    )
    assert client.get(f"{base(s)}/panel/consensus/{app.id}").status_code == 404
    assert app.reference not in client.get(f"{base(s)}/panel/progress").get_data(as_text=True)
    run = client.get(f"{base(s)}/ranking/{s['run'].id}").get_data(as_text=True)
    assert "Hidden: you have a conflict of interest with this application." in run
    assert client.get(f"{base(s)}/amounts/{app.id}").status_code == 403
    with pytest.raises(OperationError):
        decision_ops.reduce_amount(s["second"], app, Decimal(100), "Whatever the route")
    db.session.rollback()
    # The first officer proposes; the conflicted second cannot approve, by page or operation.
    decision_ops.propose_decisions(
        s["officer"],
        s["call"],
        s["run"],
        [decision_ops.Proposal(app, "funded", Decimal(8500), "")],
    )
    db.session.commit()
    decision = db.session.scalars(select(Decision)).one()
    assert post(client, f"{base(s)}/decisions/{decision.id}/approve").status_code == 403
    with pytest.raises(OperationError):
        decision_ops.approve_decision(s["second"], decision)
    db.session.rollback()
    assert db.session.get(Decision, decision.id).status == "proposed"


def test_a_conflicted_officer_cannot_open_the_appeal(client, decided):  # noqa: F811
    s, app = decided, decided["app"]
    approve_all(s)
    decision_ops.release_decisions(s["officer"], s["call"])
    appeal = decision_ops.lodge_appeal(s["lead"], app, "The panel had a conflict of interest.")
    db.session.commit()
    third = make_user("third-officer@example.org", name="Third Officer")
    from grants.calls.models import FunderOfficer

    db.session.add(FunderOfficer(funder_id=s["funder"].id, user_id=third.id))
    db.session.commit()
    review_ops.add_conflict(s["officer"], app, third.id, reason="financial", note="")
    db.session.commit()
    login(client, third)
    assert client.get(f"{base(s)}/appeals/{appeal.id}").status_code == 404
    assert (
        post(
            client, f"{base(s)}/appeals/{appeal.id}", {"outcome": "upheld", "note": "x"}
        ).status_code
        == 404
    )
    assert db.session.get(Appeal, appeal.id).status == "lodged"


def test_automatic_detection_binds_the_call_officers(decided):  # noqa: F811
    s, app = decided, decided["app"]
    review_ops.save_profile(
        s["second"],
        country="DE",
        expertise={},
        languages=["en"],
        affiliations=[app.partners[0].organisation.name],
    )
    db.session.commit()
    found = review_ops.detect_conflicts(s["officer"], s["call"])
    assert [(c.application_id, c.reviewer_id) for c in found] == [(app.id, s["second"].id)]


# --- frozen once the decisions are sent --------------------------------------------------------


def test_consensus_and_criteria_freeze_once_the_decisions_are_sent(decided):  # noqa: F811
    s, app = decided, decided["app"]
    approve_all(s)
    decision_ops.release_decisions(s["officer"], s["call"])
    db.session.commit()
    criterion = s["call"].criteria[0]
    with pytest.raises(OperationError, match="consensus"):
        review_ops.save_consensus(
            s["officer"],
            app,
            scores={str(criterion.id): "5"},
            justification="Later",
            majority="",
            minority="",
        )
    with pytest.raises(OperationError, match="weights"):
        calls_ops.update_criterion(
            s["officer"],
            criterion,
            language="en",
            weight=Decimal(3),
            threshold=criterion.threshold,
            name="Quality",
            description="",
            descriptors={},
        )
    with pytest.raises(OperationError, match="weights"):
        calls_ops.add_criterion(
            s["officer"],
            s["call"],
            language="en",
            weight=Decimal(1),
            threshold=None,
            name="New",
            description="",
            descriptors={},
        )
    db.session.rollback()
    # Texts may still be corrected (a translation), weights and thresholds stay.
    calls_ops.update_criterion(
        s["officer"],
        criterion,
        language="fr",
        weight=criterion.weight,
        threshold=criterion.threshold,
        name="Qualité",
        description="",
        descriptors={},
    )
    db.session.commit()


def test_no_lottery_step_after_the_decisions_are_sent(decided):  # noqa: F811
    from tests.test_decisions import lottery_run

    s = decided
    run = lottery_run(s)
    approve_all(s)
    decision_ops.release_decisions(s["officer"], s["call"])
    db.session.commit()
    with pytest.raises(OperationError, match="lottery"):
        decision_ops.commit_lottery_seed(s["officer"], run)
