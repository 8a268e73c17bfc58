"""Reduced amounts, the lottery in two audited steps, four-eyes decisions, feedback to the
applicants, released comments and appeals."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from grants.applications import operations as app_ops
from grants.audit.models import AuditEntry
from grants.calls.models import FunderOfficer
from grants.decisions import operations as ops
from grants.decisions.models import Appeal, Decision, LotteryDraw, RankingRun
from grants.domain import ranking as rk
from grants.errors import OperationError
from grants.extensions import db
from grants.mail.models import OutboxMessage
from grants.organisations.models import Organisation, OrganisationMember
from grants.reviews import operations as review_ops
from grants.reviews.models import Assignment
from grants.types import utcnow
from tests.conftest import login, make_user, post
from tests.test_applications import setup  # noqa: F401 - the fixture
from tests.test_equity_policy import submit_complete
from tests.test_reviews import reviewer


def actions(*names):
    """The audit entries with these actions, in log order."""
    return db.session.scalars(
        select(AuditEntry).where(AuditEntry.action.in_(names)).order_by(AuditEntry.seq)
    ).all()


@pytest.fixture
def decided(setup):  # noqa: F811
    """The fixture's application submitted and reviewed (scores 3, 4, 4.5 with comments), a
    second officer of the funder, and a ranking run."""
    s = setup
    app = submit_complete(s)
    s["reviewers"] = []
    for n, score in enumerate(("3", "4", "4.5")):
        user = reviewer(s, f"rank{n}@example.org")
        assignment = review_ops.add_assignment(s["officer"], app, user.id, "Test")
        review_ops.save_review(
            user,
            assignment,
            scores={str(c.id): score for c in s["call"].criteria},
            comments={str(c.id): f"Comment {n}: a strong partnership" for c in s["call"].criteria},
            recommendation="fund",
            confidence=2,
            submit=True,
        )
        s["reviewers"].append((user, assignment))
    second = make_user("second-officer@example.org", name="Sam Second")
    db.session.add(FunderOfficer(funder_id=s["funder"].id, user_id=second.id))
    db.session.commit()
    s["second"] = second
    s["run"] = ops.run_ranking(s["officer"], s["call"], rk.RAW)
    db.session.commit()
    s["app"] = app
    return s


def base(s):
    return f"/manage/calls/{s['call'].id}"


# --- reduced amounts ---------------------------------------------------------------------


def test_an_officer_reduces_the_amount_with_a_reason_and_the_next_run_counts_it(client, decided):
    s, app = decided, decided["app"]
    login(client, s["officer"])
    url = f"{base(s)}/amounts/{app.id}"
    page = post(client, url, {f"a{app.id}-amount": "9000", f"a{app.id}-reason": ""})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "must be above zero and below the amount requested" in text
    assert 'value="9000"' in text  # what was typed is kept
    page = post(client, url, {f"a{app.id}-amount": "6000", f"a{app.id}-reason": ""})
    assert "Say why the amount is reduced." in page.get_data(as_text=True)
    response = post(client, url, {f"a{app.id}-amount": "6000", f"a{app.id}-reason": "Scope"})
    assert response.status_code == 302
    db.session.refresh(app)
    assert app.reduced_amount == Decimal("6000.00") and app.reduction_reason == "Scope"
    entry = actions("application.amount_reduced")[-1]
    assert entry.data == {"requested": "8500.00", "old": None, "new": "6000.00", "reason": "Scope"}
    listing = client.get(f"{base(s)}/amounts").get_data(as_text=True)
    assert "€6,000.00" in listing and "€8,500.00" in listing
    run = ops.run_ranking(s["officer"], s["call"], rk.RAW)
    assert run.inputs["applications"][0]["amount"] == "6000.00"
    assert run.result["remaining"] == str(s["call"].budget_envelope - Decimal(6000))
    assert ops.replay(run).inputs_hash == run.inputs_hash
    # Clearing the field counts the full request again.
    post(client, url, {f"a{app.id}-amount": "", f"a{app.id}-reason": ""})
    db.session.refresh(app)
    assert app.reduced_amount is None
    assert actions("application.amount_restored")


# --- the lottery --------------------------------------------------------------------------


def lottery_run(s):
    """A stored run whose lottery group holds three applications for one place."""
    result = {
        "applications": [
            {
                "key": k,
                "rank": r,
                "passes": True,
                "quality": "0.5",
                "score": "0.5",
                "methods": {},
            }
            for r, k in enumerate(("10", "11", "12", "13"), start=1)
        ],
        "funded": ["10", "11"],
        "line": 2,
        "remaining": "0",
        "lottery_group": ["11", "12", "13"],
        "lottery_places": 1,
    }
    run = RankingRun(
        call_id=s["call"].id,
        method=rk.EXPECTED_RANK,
        seed="1",
        seed_commitment=rk.seed_commitment(1),
        inputs_hash="0" * 64,
        parameters={"budget": "200"},
        inputs={
            "applications": [
                {
                    "key": k,
                    "reviews": {},
                    "consensus": None,
                    "multiplier": "1",
                    "equity_index": "0",
                    "countries": 2,
                    "requested": "100",
                    "amount": None,
                }
                for k in ("10", "11", "12", "13")
            ],
            "criteria": [],
            "scale": {"minimum": "0", "maximum": "5", "step": "0.5"},
            "labels": {k: f"Project {k}" for k in ("10", "11", "12", "13")},
        },
        result=result,
        sensitivity={},
        created_by_id=s["officer"].id,
    )
    db.session.add(run)
    db.session.commit()
    return run


def test_the_lottery_commits_a_seed_then_reveals_it_with_the_draw(client, decided):
    s = decided
    run = lottery_run(s)
    login(client, s["officer"])
    page = client.get(f"{base(s)}/ranking/{run.id}").get_data(as_text=True)
    assert "Commit a seed for the draw" in page
    assert "Decisions can be proposed from this run once the lots are drawn." in page
    with pytest.raises(OperationError):
        ops.propose_decisions(s["officer"], s["call"], run, [])
    post(client, f"{base(s)}/ranking/{run.id}/lottery/commit")
    draw = db.session.scalars(select(LotteryDraw)).one()
    page = client.get(f"{base(s)}/ranking/{run.id}").get_data(as_text=True)
    assert draw.seed_commitment in page and draw.seed not in page  # not revealed yet
    post(client, f"{base(s)}/ranking/{run.id}/lottery/draw")
    db.session.refresh(draw)
    committed, drawn = actions("lottery.seed_committed", "lottery.drawn")
    assert committed.seq < drawn.seq
    assert "seed" not in committed.data and committed.data["commitment"] == draw.seed_commitment
    assert hashlib.sha256(drawn.data["seed"].encode()).hexdigest() == committed.data["commitment"]
    # Anyone can replay the draw from the revealed seed.
    replayed = rk.draw_lottery(["11", "12", "13"], 1, int(drawn.data["seed"]))
    assert drawn.data["order"] == list(replayed.order)
    assert drawn.data["funded"] == ["10", replayed.order[0]]
    assert ops.funded_by(run) == draw.funded
    page = client.get(f"{base(s)}/ranking/{run.id}").get_data(as_text=True)
    assert draw.seed in page and "Propose decisions from this run" in page
    # Neither step can be repeated.
    with pytest.raises(OperationError):
        ops.commit_lottery_seed(s["officer"], run)
    with pytest.raises(OperationError):
        ops.draw_lots(s["officer"], run)


# --- four eyes -----------------------------------------------------------------------------


def propose_from_page(client, s, outcome="funded", amount="8500", reason=""):
    return post(
        client,
        f"{base(s)}/ranking/{s['run'].id}/propose",
        {
            "rows-0-application_id": str(s["app"].id),
            "rows-0-outcome": outcome,
            "rows-0-amount": amount,
            "rows-0-reason": reason,
        },
    )


def test_one_officer_proposes_and_another_approves(client, decided):
    s, app = decided, decided["app"]
    login(client, s["officer"])
    page = client.get(f"{base(s)}/ranking/{s['run'].id}/propose").get_data(as_text=True)
    assert app.reference in page and 'value="8500.00"' in page  # funded at the request
    response = propose_from_page(client, s, amount="7000")
    assert response.status_code == 200
    assert "say why the amount is below the request" in response.get_data(as_text=True)
    response = propose_from_page(client, s, amount="9000")
    assert "more than the" in response.get_data(as_text=True)
    response = propose_from_page(client, s, amount="7000", reason="Travel costs too high")
    assert response.status_code == 302
    decision = db.session.scalars(select(Decision)).one()
    assert (decision.status, decision.outcome, decision.amount) == (
        "proposed",
        "funded",
        Decimal("7000.00"),
    )
    # The proposer cannot approve their own proposal.
    assert post(client, f"{base(s)}/decisions/{decision.id}/approve").status_code == 403
    page = client.get(f"{base(s)}/decisions").get_data(as_text=True)
    assert "Another officer must approve it." in page
    post(client, "/logout")
    login(client, s["second"])
    page = client.get(f"{base(s)}/decisions").get_data(as_text=True)
    assert f"Approve {app.reference}" in page
    response = post(client, f"{base(s)}/decisions/{decision.id}/return", {"note": ""})
    assert response.status_code == 302
    db.session.refresh(decision)
    assert decision.status == "proposed"  # a return needs a reason
    post(client, f"{base(s)}/decisions/{decision.id}/return", {"note": "Check the travel"})
    db.session.refresh(decision)
    assert decision.status == "returned" and decision.review_note == "Check the travel"
    post(client, "/logout")
    login(client, s["officer"])
    page = client.get(f"{base(s)}/ranking/{s['run'].id}/propose").get_data(as_text=True)
    assert "Sent back: Check the travel" in page
    propose_from_page(client, s, amount="7500", reason="Travel costs revised")
    post(client, "/logout")
    login(client, s["second"])
    post(client, f"{base(s)}/decisions/{decision.id}/approve")
    db.session.refresh(decision)
    assert decision.status == "approved" and decision.reviewed_by_id == s["second"].id
    assert [
        e.action for e in actions("decision.proposed", "decision.returned", "decision.approved")
    ] == [
        "decision.proposed",
        "decision.returned",
        "decision.proposed",
        "decision.approved",
    ]
    # Final decisions are not proposed again, and their amounts no longer change.
    assert ops.propose_decisions(s["officer"], s["call"], s["run"], []) == 0
    with pytest.raises(OperationError):
        ops.reduce_amount(s["officer"], app, Decimal(100), "Late change")


def test_the_funded_total_cannot_exceed_the_budget(decided):
    s = decided
    s["call"].budget_envelope = Decimal(5000)
    proposal = ops.Proposal(s["app"], "funded", Decimal(6000), "Cut")
    with pytest.raises(OperationError) as error:
        ops.propose_decisions(s["officer"], s["call"], s["run"], [proposal])
    assert "more than the budget" in str(error.value)


def test_panel_members_and_conflicted_officers_take_no_part(client, decided):
    """An officer on the call's panel is refused every decision page; an officer with a
    conflict sees the application left to another officer and cannot approve it."""
    s, app = decided, decided["app"]
    review_ops.invite_reviewer(
        s["officer"], s["call"], email=s["second"].email, locale="en", is_chair=False, max_load=1
    )
    db.session.commit()
    login(client, s["second"])
    for path in ("decisions", "amounts", f"ranking/{s['run'].id}/propose", "appeals"):
        assert client.get(f"{base(s)}/{path}").status_code == 404, path
    post(client, "/logout")
    # A third officer who is a member of the lead organisation: conflicted.
    third = make_user("third-officer@example.org", name="Tess Third")
    db.session.add(FunderOfficer(funder_id=s["funder"].id, user_id=third.id))
    db.session.add(OrganisationMember(organisation_id=s["lead_org"].id, user_id=third.id))
    db.session.commit()
    ops.propose_decisions(
        s["officer"], s["call"], s["run"], [ops.Proposal(app, "reserve", Decimal(0), "")]
    )
    db.session.commit()
    decision = db.session.scalars(select(Decision)).one()
    login(client, third)
    page = client.get(f"{base(s)}/ranking/{s['run'].id}/propose").get_data(as_text=True)
    assert "Left to another officer" in page and app.reference in page
    assert post(client, f"{base(s)}/decisions/{decision.id}/approve").status_code == 403
    assert client.get(f"{base(s)}/amounts/{app.id}").status_code == 403
    with pytest.raises(OperationError):
        ops.propose_decisions(
            third, s["call"], s["run"], [ops.Proposal(app, "reserve", Decimal(0), "")]
        )


def test_the_decisions_page_counts_its_queries(client, decided, count_queries):
    """The list of decisions costs the same number of queries for 1 or 3 decisions."""
    s = decided
    login(client, s["officer"])
    ops.propose_decisions(
        s["officer"], s["call"], s["run"], [ops.Proposal(s["app"], "reserve", Decimal(0), "")]
    )
    db.session.commit()
    url = f"{base(s)}/decisions"
    with count_queries() as one:
        client.get(url)
    organisation = db.session.scalars(
        select(Organisation).where(Organisation.name == "Other Org")
    ).one()
    for n in range(2):
        started = app_ops.start_application(s["outsider"], s["call"], organisation)
        started.status, started.reference = "submitted", f"AECF-2026-09{n}"
        db.session.flush()
        db.session.add(
            Decision(
                call_id=s["call"].id,
                application_id=started.id,
                outcome="not_funded",
                proposed_by_id=s["second"].id,
            )
        )
    db.session.commit()
    with count_queries() as three:
        client.get(url)
    assert three.count == one.count


# --- release, feedback, comments, appeals ----------------------------------------------------


def approve_all(s, outcome="funded", amount=Decimal(8500), reason=""):
    ops.propose_decisions(
        s["officer"], s["call"], s["run"], [ops.Proposal(s["app"], outcome, amount, reason)]
    )
    db.session.commit()
    for decision in db.session.scalars(select(Decision)):
        ops.approve_decision(s["second"], decision)
    db.session.commit()


def test_decisions_are_sent_to_every_partner_with_feedback(client, decided):
    s, app = decided, decided["app"]
    login(client, s["officer"])
    response = post(client, f"{base(s)}/decisions/release", follow_redirects=True)
    assert "1 submitted application has no final decision yet." in response.get_data(as_text=True)
    assert s["call"].decisions_released_at is None
    # The chair releases one reviewer's comments; the others stay with the panel.
    _user, assignment = s["reviewers"][0]
    ops.set_comments_released(s["officer"], assignment, True)
    approve_all(s, amount=Decimal(8000), reason="Smaller tour")
    post(client, f"{base(s)}/decisions/release")
    db.session.refresh(s["call"])
    assert s["call"].decisions_released_at is not None
    mails = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "decision_notice")
    ).all()
    assert sorted(m.recipient for m in mails) == ["lead@example.org", "partner@example.org"]
    assert all(f"/applications/{app.id}#decision" in m.body for m in mails)
    assert "€8,000.00" in mails[0].body
    assert actions("decisions.released")[0].data["decisions"] == 1
    post(client, "/logout")
    login(client, s["partner"])
    page = client.get(f"/applications/{app.id}").get_data(as_text=True)
    assert "Funded" in page and "€8,000.00" in page and "Smaller tour" in page
    assert "among the best tenth of the applications that passed every threshold" in page
    assert "3.83" in page  # the mean of 3, 4 and 4.5
    assert "Comment 0" in page and "Reviewer A" in page
    assert "Comment 1" not in page  # not released
    assert "Rank0" not in page  # the reviewer is never named
    assert "Lodge the appeal" not in page  # only the lead appeals


def test_the_lead_appeals_within_the_window_and_an_officer_decides(client, decided):
    s, app = decided, decided["app"]
    approve_all(s, outcome="reserve", amount=Decimal(0))
    ops.release_decisions(s["officer"], s["call"])
    db.session.commit()
    login(client, s["lead"])
    page = client.get(f"/applications/{app.id}").get_data(as_text=True)
    assert "Lodge the appeal" in page and "Reserve list" in page
    response = post(client, f"/applications/{app.id}/appeal", {"grounds": "Unfair"})
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "Unfair</textarea>" in text
    grounds = "Reviewer two works for the funder of our partner; the conflict was not handled."
    response = post(client, f"/applications/{app.id}/appeal", {"grounds": grounds})
    assert response.status_code == 302
    appeal = db.session.scalars(select(Appeal)).one()
    assert appeal.grounds == grounds and actions("appeal.lodged")[0].data["grounds"] == grounds
    page = client.get(f"/applications/{app.id}").get_data(as_text=True)
    assert "lodged, waiting for an outcome" in page
    post(client, "/logout")
    # A partner that is not the lead cannot appeal.
    login(client, s["partner"])
    assert post(client, f"/applications/{app.id}/appeal", {"grounds": grounds}).status_code == 404
    post(client, "/logout")
    # The officers who proposed and approved the decision do not judge its appeal.
    third = make_user("third-officer@example.org", name="Tess Third")
    db.session.add(FunderOfficer(funder_id=s["funder"].id, user_id=third.id))
    db.session.commit()
    login(client, s["second"])
    url = f"{base(s)}/appeals/{appeal.id}"
    page = client.get(url).get_data(as_text=True)
    assert grounds in page and "another officer records the outcome" in page
    assert post(client, url, {"outcome": "upheld", "note": "Mine"}).status_code == 403
    with pytest.raises(OperationError):
        ops.decide_appeal(s["second"], appeal, "upheld", "Mine")
    post(client, "/logout")
    login(client, third)
    response = post(client, url, {"outcome": "dismissed", "note": ""})
    assert response.status_code == 200
    response = post(client, url, {"outcome": "dismissed", "note": "The reviewer declared no tie."})
    assert response.status_code == 302
    db.session.refresh(appeal)
    assert appeal.status == "dismissed" and appeal.decided_by_id == third.id
    mail = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "appeal_outcome")
    ).one()
    assert mail.recipient == "lead@example.org" and "The reviewer declared no tie." in mail.body
    assert actions("appeal.decided")[0].data["outcome"] == "dismissed"


def test_no_appeal_after_the_window(client, decided):
    s, app = decided, decided["app"]
    approve_all(s, outcome="not_funded", amount=Decimal(0))
    ops.release_decisions(s["officer"], s["call"])
    s["call"].decisions_released_at = utcnow() - timedelta(days=15)
    db.session.commit()
    login(client, s["lead"])
    page = client.get(f"/applications/{app.id}").get_data(as_text=True)
    assert "The appeal window closed on" in page
    grounds = "The call's rule on partner countries was not applied to us."
    response = post(
        client, f"/applications/{app.id}/appeal", {"grounds": grounds}, follow_redirects=True
    )
    assert "The appeal window of this call is closed." in response.get_data(as_text=True)
    assert db.session.scalars(select(Appeal)).all() == []
    with pytest.raises(OperationError):
        ops.lodge_appeal(s["lead"], app, grounds)


def test_only_the_chair_releases_comments(client, decided):
    s, app = decided, decided["app"]
    chair = make_user("chair@example.org", name="Chair Person")
    member = review_ops.invite_reviewer(
        s["officer"], s["call"], email=chair.email, locale="en", is_chair=True, max_load=1
    )
    review_ops.join_panel(chair, member)
    db.session.commit()
    _user, assignment = s["reviewers"][1]
    url = f"{base(s)}/panel/consensus/{app.id}/comments/{assignment.id}"
    login(client, s["officer"])
    assert post(client, url, {"release": "1"}).status_code == 403
    post(client, "/logout")
    login(client, chair)
    page = client.get(f"{base(s)}/panel/consensus/{app.id}").get_data(as_text=True)
    assert "Release the comments of reviewer 2" in page
    post(client, url, {"release": "1"})
    assert db.session.get(Assignment, assignment.id).comments_released is True
    post(client, url, {"release": "0"})
    assert db.session.get(Assignment, assignment.id).comments_released is False
    assert [e.action for e in actions("review.comments_released", "review.comments_withheld")] == [
        "review.comments_released",
        "review.comments_withheld",
    ]


def test_an_amendment_after_the_release_is_not_released_and_reviews_lock_on_sending(
    client,
    decided,
):
    """The chair released version 1; version 2 stays with the panel. Once the decisions are
    sent, reviews no longer change."""
    s, app = decided, decided["app"]
    user, assignment = s["reviewers"][0]
    ops.set_comments_released(s["officer"], assignment, True)

    def amend(text):
        review_ops.save_review(
            user,
            assignment,
            scores={str(c.id): "3" for c in s["call"].criteria},
            comments={str(c.id): text for c in s["call"].criteria},
            recommendation="fund",
            confidence=2,
            submit=True,
            amendment_reason="Second thoughts",
        )

    amend("Amended: weaker than I thought")
    db.session.commit()
    approve_all(s)
    ops.release_decisions(s["officer"], s["call"])
    db.session.commit()
    with pytest.raises(OperationError):
        amend("Too late")
    login(client, s["lead"])
    page = client.get(f"/applications/{app.id}").get_data(as_text=True)
    assert "Comment 0: a strong partnership" in page
    assert "Amended: weaker" not in page


def test_the_budget_is_checked_again_when_approving(decided):
    s = decided
    ops.propose_decisions(
        s["officer"], s["call"], s["run"], [ops.Proposal(s["app"], "funded", Decimal(8500), "")]
    )
    db.session.commit()
    s["call"].budget_envelope = Decimal(1000)
    decision = db.session.scalars(select(Decision)).one()
    with pytest.raises(OperationError, match="more than the budget"):
        ops.approve_decision(s["second"], decision)


def test_after_sending_no_new_run_no_appeal_on_a_draft_and_the_window_is_fixed(
    client,
    decided,
):
    from grants.calls import operations as call_ops
    from tests.conftest import call_settings

    s = decided
    approve_all(s)
    ops.release_decisions(s["officer"], s["call"])
    db.session.commit()
    with pytest.raises(OperationError, match="ranked again"):
        ops.run_ranking(s["officer"], s["call"], rk.RAW)
    draft = s["other_app"]
    login(client, s["outsider"])
    grounds = "The rules of the call were not applied to our application."
    assert post(client, f"/applications/{draft.id}/appeal", {"grounds": grounds}).status_code == 404
    settings = {
        k: getattr(s["call"], k) for k in call_settings() if k not in ("opens_at", "closes_at")
    }
    with pytest.raises(OperationError) as error:
        call_ops.update_call_settings(
            s["officer"],
            s["call"],
            **{**settings, "opens_at": s["call"].opens_at, "closes_at": s["call"].closes_at},
            appeal_days=0,
        )
    assert error.value.field == "appeal_days"


def test_amounts_are_rounded_to_cents_before_they_are_checked(decided):
    s = decided
    with pytest.raises(OperationError):
        ops.propose_decisions(
            s["officer"],
            s["call"],
            s["run"],
            [ops.Proposal(s["app"], "funded", Decimal("0.001"), "Token")],
        )
    with pytest.raises(OperationError):
        ops.reduce_amount(s["officer"], s["app"], Decimal("0.004"), "Token")


def test_proposing_the_same_outcome_again_logs_nothing_new(decided):
    s = decided
    proposal = [ops.Proposal(s["app"], "reserve", Decimal(0), "")]
    assert ops.propose_decisions(s["officer"], s["call"], s["run"], proposal) == 1
    assert ops.propose_decisions(s["officer"], s["call"], s["run"], proposal) == 0
    assert len(actions("decision.proposed")) == 1
