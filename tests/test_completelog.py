"""A complete public log: the equity policy, the partnerships' money and mobility, the budget,
the criteria with their ids, every assignment pair and set-aside review, every closing time
(docs/audit.md, "The inputs of every published number")."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from grants import demo
from grants.applications import operations as app_ops
from grants.auth.models import User
from grants.calls import operations as call_ops
from grants.domain import publiclog
from grants.domain.equity import EquityPolicy
from grants.extensions import db
from grants.organisations.models import Organisation
from grants.reviews import operations as review_ops
from grants.transparency import keys
from grants.transparency import operations as ops
from grants.transparency.models import PublicEntry, TreeHead
from grants.types import utcnow
from tests.conftest import call_settings
from tests.test_applications import complete, setup  # noqa: F401 - the fixture
from tests.test_decisions import decided  # noqa: F401 - the fixture
from tests.test_equity_policy import submit_complete
from tests.test_reviews import reviewer
from tests.test_transparency import publish


def logged(call, action):
    """The data of the call's public entries of one action, in order."""
    return [
        e.data
        for e in db.session.scalars(
            select(PublicEntry)
            .where(PublicEntry.call_id == call.id, PublicEntry.action == action)
            .order_by(PublicEntry.index)
        )
    ]


def test_call_published_logs_settings_criteria_and_the_whole_equity_policy(world):
    officer = world["officer"]
    call = call_ops.create_call(
        officer,
        world["funder"],
        title="Logged call",
        summary="A summary.",
        **call_settings(reference_prefix="LOGC", budget_envelope=Decimal("150000.00")),
    )
    for weight, threshold in ((Decimal(2), Decimal("2.5")), (Decimal("1.5"), None)):
        call_ops.add_criterion(
            officer,
            call,
            language="en",
            weight=weight,
            threshold=threshold,
            name="A criterion",
            description="",
            descriptors={},
        )
    call_ops.update_equity_policy(
        officer,
        call,
        equity_weight=Decimal("0.15"),
        capacity=[Decimal("1"), Decimal("0.6"), Decimal("0.35"), Decimal("0.2")],
        max_funding_rates=[Decimal("0.7"), Decimal("0.8"), Decimal("0.9"), Decimal("1")],
    )
    call_ops.set_tier_override(officer, call, country="ET", tier=3, reason="Low income")
    call_ops.publish_call(officer, call)
    db.session.commit()

    first, second = call.criteria
    added = logged(call, "call.criterion_added")
    assert added == [
        {"criterion": str(first.id), "position": 0, "weight": "2", "threshold": "2.5"},
        {"criterion": str(second.id), "position": 1, "weight": "1.5", "threshold": None},
    ]
    [published] = logged(call, "call.published")
    assert published["criteria"] == added
    settings = published["settings"]
    assert settings["budget_envelope"] == "150000"
    assert settings["currency"] == call.currency and settings["timezone"] == call.timezone
    assert settings["closes_at"] == call.closes_at.astimezone(UTC).isoformat()
    assert set(settings) == set(call_ops.CALL_SETTINGS)
    policy = published["equity_policy"]
    assert policy["equity_weight"] == "0.15"
    assert policy["capacity_weights"] == ["1", "0.6", "0.35", "0.2"]
    assert policy["max_funding_rates"] == ["0.7", "0.8", "0.9", "1"]
    assert policy["overrides"] == {"ET": 3}
    assert policy["default_tiers"] == dict(EquityPolicy.default().tiers)
    assert "ET" not in policy["default_tiers"]  # unclassified by the World Bank (FY2026)
    # Each change carries its values and the whole policy after it.
    [changed] = logged(call, "call.equity_policy_changed")
    assert changed["equity_weight"] == {"old": "0.1", "new": "0.15"}
    assert changed["policy"]["equity_weight"] == "0.15" and changed["policy"]["overrides"] == {}
    [override] = logged(call, "call.tier_override_set")
    assert override["country"] == "ET" and override["new"] == 3 and override["old"] is None
    assert override["policy"]["overrides"] == {"ET": 3}
    assert "reason" not in override  # reasons stay internal

    # After publication: the budget, the closing time, a criterion and the tiers change.
    new_close = (call.closes_at + timedelta(days=3)).replace(microsecond=0)
    current = {name: getattr(call, name) for name in call_ops.CALL_SETTINGS}
    call_ops.update_call_settings(
        officer,
        call,
        **{**current, "budget_envelope": Decimal("120000.50"), "closes_at": new_close},
    )
    call_ops.update_criterion(
        officer,
        second,
        language="en",
        weight=Decimal("1.5"),
        threshold=Decimal(3),
        name="A criterion",
        description="",
        descriptors={},
    )
    call_ops.set_tier_override(officer, call, country="CZ", tier=1, reason="Regional gap")
    call_ops.remove_tier_override(
        officer, next(o for o in call.tier_overrides if o.country == "ET")
    )
    db.session.commit()
    [updated] = logged(call, "call.updated")
    assert updated["budget_envelope"] == {"old": "150000", "new": "120000.5"}
    assert updated["closes_at"]["new"] == new_close.isoformat()
    assert updated["closes_at"]["old"] == settings["closes_at"]
    [criterion_updated] = logged(call, "call.criterion_updated")
    assert criterion_updated["criterion"] == str(second.id)
    assert criterion_updated["position"] == 1
    assert criterion_updated["threshold"] == {"old": None, "new": "3"}
    czech, removed = (
        logged(call, "call.tier_override_set")[1],
        logged(call, "call.tier_override_removed")[0],
    )
    assert czech["old"] == 0 and czech["new"] == 1 and czech["default"] == 0
    assert czech["policy"]["overrides"] == {"CZ": 1, "ET": 3}
    assert removed["country"] == "ET" and removed["old"] == 3 and removed["new"] is None
    assert removed["policy"]["overrides"] == {"CZ": 1}  # the policy after the removal


def test_a_removed_criterion_is_logged_with_its_id(world):
    officer = world["officer"]
    draft = world["draft"]
    criterion = draft.criteria[0]
    call_ops.remove_criterion(officer, criterion)
    db.session.commit()
    [removed] = logged(draft, "call.criterion_removed")
    assert removed == {
        "criterion": str(criterion.id),
        "position": 0,
        "weight": "1",
        "threshold": None,
    }


def test_a_submission_logs_each_partners_money_in_the_calls_currency_and_the_flows(setup):  # noqa: F811
    s = setup
    partner = complete(s)
    lead = s["application"].lead
    # The lead's budget in yen, converted at the call's fixed rate (0.0062).
    app_ops.update_partner(
        s["lead"],
        lead,
        version=lead.version,
        role="Lead",
        currency="JPY",
        grant_requested=Decimal(800000),
        contribution_cash=Decimal(300000),
        contribution_in_kind=Decimal(100001),
    )
    app_ops.set_budget_lines(
        s["lead"], lead, version=lead.version, lines=[("fees", "Artists", Decimal(1200001))]
    )
    db.session.commit()
    app = s["application"]
    app_ops.add_flow(
        s["lead"], app, from_country="JP", to_country="CZ", people=4, days=10, purpose="Secret"
    )
    app_ops.sign_off(s["lead"], app.lead)
    app_ops.sign_off(s["partner"], partner)
    app_ops.submit_application(s["lead"], app)
    db.session.commit()

    [data] = logged(s["call"], "application.submitted")
    assert data["application"] == app.reference
    assert data["partners"] == 2 and data["countries"] == ["CZ", "JP"]
    assert data["partner_budgets"] == [
        {
            "number": 1,
            "country": "JP",
            "tier": 0,
            "grant": "4960",
            "cash": "1860",
            "in_kind": "620.0062",
        },
        {
            "number": 2,
            "country": "CZ",
            "tier": 0,
            "grant": "3500",
            "cash": "1000",
            "in_kind": "500",
        },
    ]
    assert data["flows"] == [{"from": "JP", "to": "CZ", "people": 4, "days": 10}]
    assert "Secret" not in json.dumps(data)
    # The logged money gives the equity figures the platform computes.
    assessment = app_ops.equity_assessment(app)
    logged_grants = [Decimal(p["grant"]) for p in data["partner_budgets"]]
    assert logged_grants == [p.grant for p in assessment.partners]
    assert [Decimal(p["cash"]) + Decimal(p["in_kind"]) for p in data["partner_budgets"]] == [
        p.contribution for p in assessment.partners
    ]


def test_confirmed_assignments_log_every_pair_added_and_removed(setup):  # noqa: F811
    s = setup
    app = submit_complete(s)
    users = [
        reviewer(s, f"p{n}@example.org", languages=("en",), country="JP" if n else "CZ")
        for n in range(3)
    ]
    review_ops.confirm_assignment(s["officer"], s["call"], seed=7)
    db.session.commit()
    [first] = logged(s["call"], "panel.assignments_confirmed")
    expected = sorted(
        (
            {"application": app.reference, "reviewer": keys.pseudonym(s["call"].id, u.id)}
            for u in users
        ),
        key=lambda p: p["reviewer"],
    )
    assert first["added"] == expected and first["removed"] == []
    assert first["pairs"] == 3 and first["created"] == 3
    # A reviewer leaves the panel's reach (a conflict): the next confirmation drops the pair.
    review_ops.add_conflict(s["officer"], app, users[0].id, reason="personal", note="")
    review_ops.confirm_assignment(s["officer"], s["call"], seed=7)
    db.session.commit()
    second = logged(s["call"], "panel.assignments_confirmed")[1]
    assert second["added"] == [] and second["removed"] == []  # the conflict removed it
    removed = logged(s["call"], "panel.assignment_removed")
    assert removed == [
        {"application": app.reference, "reviewer": keys.pseudonym(s["call"].id, users[0].id)}
    ]


def test_a_review_set_aside_by_a_late_conflict_is_logged(decided):  # noqa: F811
    s = decided
    user, _assignment = s["reviewers"][1]
    review_ops.add_conflict(s["officer"], s["app"], user.id, reason="personal", note="Secret")
    db.session.commit()
    [entry] = db.session.scalars(
        select(PublicEntry).where(
            PublicEntry.call_id == s["call"].id, PublicEntry.action == "review.set_aside"
        )
    ).all()
    assert entry.subject == f"application:{s['app'].reference}"
    assert entry.data == {
        "application": s["app"].reference,
        "reviewer": keys.pseudonym(s["call"].id, user.id),
        "reason": "conflict",
        "versions": [1],
        "submitted": [1],
    }
    conflict = logged(s["call"], "panel.conflict_recorded")[-1]
    assert conflict["reviewer"] == entry.data["reviewer"]


def test_the_exported_log_has_every_input_and_no_personal_data(decided):  # noqa: F811
    s = decided
    publish(s)
    lines = list(ops.export_lines(s["call"]))
    text = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)
    report = publiclog.verify(publiclog.loads(text), trusted_key=keys.public_key())
    assert report.ok, report.summary()
    by_action = {}
    for line in lines:
        if line["kind"] == "entry":
            by_action.setdefault(line["action"], []).append(line["data"])
    published = by_action["call.published"][0]
    assert published["settings"]["budget_envelope"] == "100000"
    assert published["equity_policy"]["equity_weight"] == "0.1"
    assert published["equity_policy"]["default_tiers"]["JP"] == 0
    assert [c["criterion"] for c in published["criteria"]] == [
        str(c.id) for c in s["call"].criteria
    ]
    [criterion] = by_action["call.criterion_added"]
    assert criterion["criterion"] == str(s["call"].criteria[0].id)
    # Review scores are keyed by the logged criterion ids.
    for review in by_action["review.submitted"]:
        assert set(review["scores"]) == {criterion["criterion"]}
    submitted = by_action["application.submitted"][0]
    assert [p["number"] for p in submitted["partner_budgets"]] == [1, 2]
    assert {"number", "country", "tier", "grant", "cash", "in_kind"} == set(
        submitted["partner_budgets"][0]
    )
    assert submitted["flows"] == [
        {"from": "JP", "to": "CZ", "people": 4, "days": 10},
        {"from": "CZ", "to": "JP", "people": 2, "days": 10},
    ]
    assert len(by_action["panel.assignment_added"]) == 3
    # No personal data: no account's e-mail address or name, no organisation's name.
    for user in db.session.scalars(select(User)):
        assert user.email not in text
        assert user.name not in text
    for organisation in db.session.scalars(select(Organisation)):
        assert organisation.name not in text
    assert "@" not in text


def test_the_demo_logs_the_closing_time_its_closed_head_depends_on(app, client):
    assert demo.load_demo() is True
    call = demo.demo_results_call()
    closed = db.session.scalars(
        select(TreeHead).where(TreeHead.call_id == call.id, TreeHead.milestone == "closed")
    ).one()
    before = db.session.scalars(
        select(PublicEntry)
        .where(PublicEntry.call_id == call.id, PublicEntry.index < closed.tree_size)
        .order_by(PublicEntry.index)
    ).all()
    closing_times = [e.data["closes_at"] for e in before if e.action == "call.published"] + [
        e.data["closes_at"]["new"]
        for e in before
        if e.action == "call.updated" and "closes_at" in e.data
    ]
    # The last closing time logged before the "closed" head is the call's, and it had
    # passed when the head was signed.
    last = datetime.fromisoformat(closing_times[-1])
    assert last == call.closes_at
    signed = datetime.fromisoformat(closed.timestamp.replace("Z", "+00:00"))
    assert last <= signed + timedelta(seconds=1)
    assert len(closing_times) == 2  # published, then closed by the demo
    assert last <= utcnow()
    log = client.get(f"/calls/{call.id}/log.jsonl")
    report = publiclog.verify(
        publiclog.loads(log.get_data(as_text=True)), trusted_key=keys.public_key()
    )
    assert report.ok, report.summary()


# --- what the numbers on the results page are -----------------------------------------------


def test_expected_rank_results_show_q_r_and_the_expected_rank_with_what_each_is(app, client):
    from grants.decisions.models import RankingRun
    from grants.domain import ranking as rk
    from grants.transparency import results as results_mod

    assert demo.load_demo() is True
    call = demo.demo_results_call()
    results = results_mod.results_for(call)
    run = db.session.get(RankingRun, results.run.id)
    assert run.method == rk.EXPECTED_RANK
    rows = {row["key"]: row for row in run.result["applications"]}
    page = client.get(f"/calls/{call.id}/results").get_data(as_text=True)
    for label in ("Quality Q", "Ranking score R", "Expected rank", "50% interval of the rank"):
        assert label in page
    assert "What the numbers are" in page and "docs/scoring.md" in page
    assert "Posterior mean" not in page
    api = client.get(f"/api/calls/{call.id}/results").get_json()
    assert api["method"] == rk.EXPECTED_RANK
    for item in api["ranking"]:
        raw = rows[item["key"]]["methods"][rk.RAW]
        chosen = rows[item["key"]]["methods"][rk.EXPECTED_RANK]
        # "quality" is the documented Q (raw), never the model's posterior mean.
        assert Decimal(item["quality"]) == Decimal(raw["quality"]).quantize(Decimal("0.001"))
        assert Decimal(item["score"]) == Decimal(raw["score"]).quantize(Decimal("0.001"))
        assert Decimal(item["expected_rank"]) == Decimal(chosen["expected_rank"])
        assert item["interval"] == chosen["interval"]


def test_an_old_expected_rank_record_says_its_quality_is_not_q(app):
    from grants.transparency import results as results_mod

    assert demo.load_demo() is True
    data = results_mod.to_data(results_mod.results_for(demo.demo_results_call()))
    assert data["quality_is_q"] is True
    del data["quality_is_q"]  # a record stored before this change
    for row in data["ranked"]:
        del row["expected_rank"], row["interval"]
    old = results_mod.from_data(data)
    assert old.quality_is_q is False and old.ranked[0].expected_rank is None


def test_raw_results_say_what_q_and_r_are(client, decided):  # noqa: F811
    s = decided
    publish(s)
    page = client.get(f"/calls/{s['call'].id}/results").get_data(as_text=True)
    assert "Quality Q" in page and "Ranking score R" in page and "docs/scoring.md" in page
    assert "Expected rank" not in page
    api = client.get(f"/api/calls/{s['call'].id}/results").get_json()
    assert api["ranking"][0]["expected_rank"] is None and api["ranking"][0]["interval"] is None
