"""Twenty identical requests at once have the effect of one (docs/security.md).

A real server (gunicorn, several workers and threads) on its own database: SQLite by
default, PostgreSQL with ``TEST_DATABASE_URL``, where requests truly run side by side. The
data is set up through the operations; twenty browsers, each signed in with its own session
and CSRF token, send the same form at the same moment; the database then shows one effect,
and no request failed with a 5xx.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from grants.applications import operations as app_ops
from grants.applications.models import Application, ReferenceCounter
from grants.audit.models import AuditEntry
from grants.audit.verify import verify_stored_chain
from grants.calls.models import CallQuestion, FunderOfficer
from grants.decisions import operations as dec_ops
from grants.decisions.models import Appeal, Decision, LotteryDraw, RankingRun
from grants.domain import ranking as rk
from grants.extensions import db
from grants.mail.models import OutboxMessage
from grants.reviews import operations as review_ops
from grants.reviews.models import Assignment, Consensus
from tests.conftest import make_call, make_funder, make_user
from tests.live import LiveServer, live_server
from tests.test_applications import complete, make_org
from tests.test_decisions import lottery_run
from tests.test_equity_policy import submit_complete
from tests.test_reviews import reviewer

CLIENTS = 20
_TAGS = itertools.count(1)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server for the module: 4 workers x 5 threads, twenty requests in flight."""
    with live_server(str(tmp_path_factory.mktemp("live")), "live") as server:
        yield server


@pytest.fixture(autouse=True)
def _live_session(live: LiveServer, real_sessions: None) -> Iterator[None]:
    """The test reads and writes the live server's database, in its own session."""
    with live.app.app_context():
        try:
            yield
        finally:
            db.session.remove()


def done() -> None:
    """End the test's transaction before the server works: SQLite's writer lock is free,
    and everything read afterwards is what the server committed."""
    db.session.commit()


def entries(action: str, subject_id: int | None = None) -> list[AuditEntry]:
    """The audit entries of one action (of one subject)."""
    query = select(AuditEntry).where(AuditEntry.action == action)
    if subject_id is not None:
        query = query.where(AuditEntry.subject_id == str(subject_id))
    return list(db.session.scalars(query.order_by(AuditEntry.seq)))


def scenario() -> dict[str, Any]:
    """A call with one required question, its officer, a lead (Japan) and a partner
    (Czechia) with their organisations, and a draft application of the lead."""
    tag = next(_TAGS)
    officer = make_user(f"officer{tag}@example.org", name="Olivia Officer")
    funder = make_funder(f"Live Funder {tag}", officers=(officer,))
    call = make_call(funder, officer, title=f"Live call {tag}")
    question = CallQuestion(
        call=call, position=0, text={"en": "What will you make?"}, guidance={}, required=True
    )
    db.session.add(question)
    db.session.commit()
    lead = make_user(f"lead{tag}@example.org", name="Aiko Lead", timezone="Asia/Tokyo")
    partner = make_user(f"partner{tag}@example.org", name="Jana Partner")
    lead_org = make_org(lead, f"Tokyo Theatre Lab {tag}", "JP")
    partner_org = make_org(partner, f"Prague Dance House {tag}", "CZ")
    application = app_ops.start_application(lead, call, lead_org)
    db.session.commit()
    return {
        "tag": tag,
        "officer": officer,
        "funder": funder,
        "call": call,
        "question": question,
        "lead": lead,
        "partner": partner,
        "lead_org": lead_org,
        "partner_org": partner_org,
        "application": application,
    }


def signed(s: dict[str, Any]) -> Application:
    """The scenario's application complete and signed by both partners."""
    partner = complete(s)
    app = s["application"]
    app_ops.sign_off(s["lead"], app.lead)
    app_ops.sign_off(s["partner"], partner)
    db.session.commit()
    return app


def decided(s: dict[str, Any]) -> dict[str, Any]:
    """The application submitted and reviewed by three reviewers, a second officer, and a
    ranking run (as tests/test_decisions.py's ``decided``)."""
    app = submit_complete(s)
    for n, score in enumerate(("3", "4", "4.5")):
        user = reviewer(s, f"rank{s['tag']}-{n}@example.org")
        assignment = review_ops.add_assignment(s["officer"], app, user.id, "Test")
        review_ops.save_review(
            user,
            assignment,
            scores={str(c.id): score for c in s["call"].criteria},
            comments={str(c.id): f"Comment {n}" for c in s["call"].criteria},
            recommendation="fund",
            confidence=2,
            submit=True,
        )
    second = make_user(f"second{s['tag']}@example.org", name="Sam Second")
    db.session.add(FunderOfficer(funder_id=s["funder"].id, user_id=second.id))
    db.session.commit()
    s["second"] = second
    s["run"] = dec_ops.run_ranking(s["officer"], s["call"], rk.RAW)
    db.session.commit()
    s["app"] = app
    return s


def approved(s: dict[str, Any]) -> Decision:
    """The decided application funded at its request, proposed and approved."""
    decided(s)
    dec_ops.propose_decisions(
        s["officer"], s["call"], s["run"], [dec_ops.Proposal(s["app"], "funded", Decimal(8500), "")]
    )
    db.session.commit()
    decision = db.session.scalars(select(Decision).where(Decision.call_id == s["call"].id)).one()
    dec_ops.approve_decision(s["second"], decision)
    db.session.commit()
    return decision


def manage(s: dict[str, Any]) -> str:
    return f"/manage/calls/{s['call'].id}"


# --- applications ------------------------------------------------------------------------


def test_twenty_submissions_make_one_reference_and_one_receipt_each(live):
    s = scenario()
    app = signed(s)
    app_id, lead, prefix = app.id, s["lead"].email, s["call"].reference_prefix
    contacts = sorted([s["lead"].email, s["partner"].email])
    done()
    browsers = live.browsers(lead, f"/applications/{app_id}", CLIENTS)
    live.at_once(browsers, lambda n, b: b.post(f"/applications/{app_id}/submit"))
    app = db.session.get_one(Application, app_id)
    assert app.status == "submitted"
    assert re.fullmatch(rf"{prefix}-\d{{4}}-0001", app.reference or "")
    assert len(entries("application.submitted", app_id)) == 1
    receipts = db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.kind == "submission_receipt", OutboxMessage.recipient.in_(contacts)
        )
    ).all()
    assert sorted(m.recipient for m in receipts) == contacts  # one each
    assert all(app.reference in m.subject for m in receipts)
    counter = db.session.scalars(
        select(ReferenceCounter).where(ReferenceCounter.prefix == prefix)
    ).one()
    assert counter.last == 1  # no number handed out and lost


def test_parallel_submissions_to_one_call_get_distinct_consecutive_numbers(live):
    s = scenario()
    call = s["call"]
    apps, leads = [], []
    for n in range(6):
        lead = make_user(f"multi{s['tag']}-{n}@example.org")
        org = make_org(lead, f"Lead Org {s['tag']}-{n}", "JP")
        application = app_ops.start_application(lead, call, org)
        db.session.commit()
        t = {**s, "lead": lead, "lead_org": org, "application": application}
        signed(t)
        apps.append(application.id)
        leads.append(lead.email)
    prefix = call.reference_prefix
    done()
    browsers = [
        live.browser(email, f"/applications/{a}") for email, a in zip(leads, apps, strict=True)
    ]
    live.at_once(browsers, lambda n, b: b.post(f"/applications/{apps[n]}/submit"))
    references = db.session.scalars(
        select(Application.reference).where(Application.id.in_(apps))
    ).all()
    numbers = sorted(int(r.rsplit("-", 1)[1]) for r in references if r and r.startswith(prefix))
    assert numbers == [1, 2, 3, 4, 5, 6]


def test_twenty_saves_of_one_section_keep_one_version_and_show_the_others_a_conflict(live):
    s = scenario()
    app = s["application"]
    app_id, version, lead = app.id, app.version, s["lead"].email
    done()
    page = f"/applications/{app_id}/general"
    browsers = live.browsers(lead, page, CLIENTS)
    outcomes = live.at_once(
        browsers,
        lambda n, b: b.post(
            page,
            {
                "version": str(version),
                "title": f"Title {n}",
                "summary": "A tour.",
                "summary_language": "en",
                "artforms": ["theatre"],
                "languages": ["en"],
            },
        ),
    )
    saved = [o for o in outcomes if o.status == 302]
    conflicts = [o for o in outcomes if "Someone else saved this section" in o.text]
    assert (len(saved), len(conflicts)) == (1, CLIENTS - 1)
    app = db.session.get_one(Application, app_id)
    assert app.version == version + 1
    assert len(entries("application.general_updated", app_id)) == 1
    # Each conflict page keeps what its writer typed and shows the saved title.
    for outcome in conflicts:
        assert app.title in outcome.text


def test_twenty_first_answers_to_one_question_make_one_answer(live):
    """No answer yet: every form says version 0; one is stored, the others see a conflict."""
    s = scenario()
    app_id, question_id, lead = s["application"].id, s["question"].id, s["lead"].email
    done()
    page = f"/applications/{app_id}/answers/{question_id}"
    browsers = live.browsers(lead, page, CLIENTS)
    outcomes = live.at_once(
        browsers,
        lambda n, b: b.post(
            page,
            {
                "version": "0",
                "text": f"Play {n}",
                "language": "en",
                "translation": "",
                "translation_language": "",
            },
        ),
    )
    saved = [o for o in outcomes if o.status == 302]
    conflicts = [o for o in outcomes if "Someone else saved this section" in o.text]
    assert (len(saved), len(conflicts)) == (1, CLIENTS - 1)
    app = db.session.get_one(Application, app_id)
    assert len(app.answers) == 1 and app.answers[0].version == 1
    assert len(entries("application.answer_saved", app_id)) == 1


def test_twenty_sign_offs_sign_once(live):
    s = scenario()
    partner = complete(s)
    app_id, partner_id, email = s["application"].id, partner.id, s["partner"].email
    done()
    browsers = live.browsers(email, f"/applications/{app_id}", CLIENTS)
    seen = re.search(
        r'name="seen" value="([^"]+)"', browsers[0].get(f"/applications/{app_id}").text
    )
    assert seen is not None
    live.at_once(
        browsers,
        lambda n, b: b.post(
            f"/applications/{app_id}/partners/{partner_id}/sign", {"seen": seen.group(1)}
        ),
    )
    signs = [e for e in entries("application.signed_off") if e.data["partner_id"] == partner_id]
    assert len(signs) == 1


def test_twenty_withdrawals_withdraw_once(live):
    s = scenario()
    app = signed(s)
    app_ops.submit_application(s["lead"], app)
    db.session.commit()
    app_id, lead = app.id, s["lead"].email
    done()
    browsers = live.browsers(lead, f"/applications/{app_id}", CLIENTS)
    live.at_once(browsers, lambda n, b: b.post(f"/applications/{app_id}/withdraw"))
    assert db.session.get_one(Application, app_id).status == "withdrawn"
    assert len(entries("application.withdrawn", app_id)) == 1


# --- decisions ------------------------------------------------------------------------------


def test_twenty_approvals_approve_once(live):
    s = decided(scenario())
    dec_ops.propose_decisions(
        s["officer"], s["call"], s["run"], [dec_ops.Proposal(s["app"], "funded", Decimal(8500), "")]
    )
    db.session.commit()
    decision = db.session.scalars(select(Decision).where(Decision.call_id == s["call"].id)).one()
    decision_id, second, base = decision.id, s["second"].email, manage(s)
    done()
    browsers = live.browsers(second, f"{base}/decisions", CLIENTS)
    live.at_once(browsers, lambda n, b: b.post(f"{base}/decisions/{decision_id}/approve"))
    assert db.session.get_one(Decision, decision_id).status == "approved"
    approvals = [e for e in entries("decision.approved") if e.data["decision_id"] == decision_id]
    assert len(approvals) == 1


def test_twenty_returns_return_once(live):
    s = decided(scenario())
    dec_ops.propose_decisions(
        s["officer"], s["call"], s["run"], [dec_ops.Proposal(s["app"], "funded", Decimal(8500), "")]
    )
    db.session.commit()
    decision = db.session.scalars(select(Decision).where(Decision.call_id == s["call"].id)).one()
    decision_id, second, base = decision.id, s["second"].email, manage(s)
    done()
    browsers = live.browsers(second, f"{base}/decisions", CLIENTS)
    live.at_once(
        browsers,
        lambda n, b: b.post(f"{base}/decisions/{decision_id}/return", {"note": "Check travel"}),
    )
    returns = [e for e in entries("decision.returned") if e.data["decision_id"] == decision_id]
    assert len(returns) == 1


def test_twenty_sends_send_once_and_twenty_publications_publish_once(live):
    s = scenario()
    approved(s)
    call_id, officer, base = s["call"].id, s["officer"].email, manage(s)
    contacts = sorted([s["lead"].email, s["partner"].email])
    done()
    browsers = live.browsers(officer, f"{base}/decisions", CLIENTS)
    live.at_once(browsers, lambda n, b: b.post(f"{base}/decisions/release"))
    sent = [e for e in entries("decisions.released") if e.call_id == call_id]
    assert len(sent) == 1
    notices = db.session.scalars(
        select(OutboxMessage.recipient).where(
            OutboxMessage.kind == "decision_notice", OutboxMessage.recipient.in_(contacts)
        )
    ).all()
    assert sorted(notices) == contacts
    done()
    live.at_once(browsers, lambda n, b: b.post(f"{base}/decisions/publish"))
    published = [e for e in entries("call.results_published") if e.call_id == call_id]
    assert len(published) == 1


def test_twenty_appeals_lodge_one_and_twenty_outcomes_record_one(live):
    s = scenario()
    approved(s)
    dec_ops.release_decisions(s["officer"], s["call"])
    db.session.commit()
    third = make_user(f"third{s['tag']}@example.org", name="Tess Third")
    db.session.add(FunderOfficer(funder_id=s["funder"].id, user_id=third.id))
    db.session.commit()
    app_id, lead, base, third_email = s["app"].id, s["lead"].email, manage(s), third.email
    done()
    browsers = live.browsers(lead, f"/applications/{app_id}", CLIENTS)
    grounds = "The panel did not read our budget annex at all."
    live.at_once(
        browsers, lambda n, b: b.post(f"/applications/{app_id}/appeal", {"grounds": grounds})
    )
    appeal = db.session.scalars(select(Appeal).where(Appeal.application_id == app_id)).one()
    assert len(entries("appeal.lodged", app_id)) == 1
    appeal_id = appeal.id
    done()
    officers = live.browsers(third_email, f"{base}/appeals/{appeal_id}", CLIENTS)
    live.at_once(
        officers,
        lambda n, b: b.post(
            f"{base}/appeals/{appeal_id}", {"outcome": "dismissed", "note": "Read again."}
        ),
    )
    decided_entries = [e for e in entries("appeal.decided") if e.data["appeal_id"] == appeal_id]
    assert len(decided_entries) == 1
    mails = db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.kind == "appeal_outcome", OutboxMessage.recipient == lead)
    )
    assert mails == 1


def test_twenty_ranking_runs_each_complete_and_the_chain_holds(live):
    s = decided(scenario())
    call_id, officer, base = s["call"].id, s["officer"].email, manage(s)
    before = len(dec_ops.runs_of(s["call"]))
    done()
    browsers = live.browsers(officer, f"{base}/ranking", CLIENTS)
    outcomes = live.at_once(browsers, lambda n, b: b.post(f"{base}/ranking", {"method": rk.RAW}))
    runs = db.session.scalars(select(RankingRun).where(RankingRun.call_id == call_id)).all()
    made = [o for o in outcomes if o.status == 302]
    # A run is not idempotent: each request that was answered with a run made one, whole.
    assert len(runs) - before == len(made) == CLIENTS
    run_entries = [e for e in entries("ranking.run") if e.call_id == call_id]
    seeds = [e for e in entries("ranking.seed_committed") if e.call_id == call_id]
    assert len(run_entries) == len(seeds) == len(runs)
    report = verify_stored_chain()
    assert report.ok is True, report


def test_twenty_seed_commitments_commit_one_and_twenty_draws_draw_once(live):
    s = scenario()
    run = lottery_run(s)
    run_id, call_id, officer, base = run.id, s["call"].id, s["officer"].email, manage(s)
    done()
    browsers = live.browsers(officer, f"{base}/ranking/{run_id}", CLIENTS)
    live.at_once(browsers, lambda n, b: b.post(f"{base}/ranking/{run_id}/lottery/commit"))
    draws = db.session.scalars(select(LotteryDraw).where(LotteryDraw.run_id == run_id)).all()
    assert len(draws) == 1
    assert len([e for e in entries("lottery.seed_committed") if e.call_id == call_id]) == 1
    done()
    live.at_once(browsers, lambda n, b: b.post(f"{base}/ranking/{run_id}/lottery/draw"))
    assert len([e for e in entries("lottery.drawn") if e.call_id == call_id]) == 1


# --- reviews ----------------------------------------------------------------------------------


def test_twenty_consensus_saves_keep_one_consensus(live):
    s = decided(scenario())
    app_id, officer, base = s["app"].id, s["officer"].email, manage(s)
    criteria = [c.id for c in s["call"].criteria]
    call_id = s["call"].id
    done()
    page = f"{base}/panel/consensus/{app_id}"
    browsers = live.browsers(officer, page, CLIENTS)
    form = {f"score_{c}": "4" for c in criteria}
    form.update(justification="The panel agreed.", majority="Strong.", minority="")
    live.at_once(browsers, lambda n, b: b.post(page, form))
    consensus = db.session.scalars(select(Consensus).where(Consensus.application_id == app_id))
    assert len(consensus.all()) == 1
    recorded = [
        e
        for e in entries("panel.consensus_recorded")
        if e.call_id == call_id and e.data["application_id"] == app_id
    ]
    assert len(recorded) == 1


def test_twenty_assignment_confirmations_leave_one_set_of_pairs(live):
    s = scenario()
    submit_complete(s)
    for n in range(4):
        reviewer(s, f"pair{s['tag']}-{n}@example.org")
    call = s["call"]
    expected = {(int(a), int(r)) for a, r in review_ops.preview_assignment(call, 7).pairs}
    call_id, officer, base = call.id, s["officer"].email, manage(s)
    done()
    assert expected
    browsers = live.browsers(officer, f"{base}/panel", CLIENTS)
    live.at_once(browsers, lambda n, b: b.post(f"{base}/panel/assign", {"seed": "7"}))
    pairs = db.session.execute(
        select(Assignment.application_id, Assignment.reviewer_id).where(
            Assignment.call_id == call_id
        )
    ).all()
    assert sorted(pairs) == sorted(expected)  # one set: no pair twice, none missing


def test_the_servers_kept_one_audit_chain(live):
    """Whatever ran in parallel above, the audit chain verifies."""
    report = verify_stored_chain()
    assert report.ok is True, report
