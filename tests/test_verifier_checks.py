"""The verifier's documented invariants on logs the app itself exports: decisions within the
request, the budget and the thresholds; runs' criteria and budget against the logged ones;
review versions that increase; every score from an assigned pair without a conflict. Each
tamper test alters an exported log, re-chains it and re-signs every head with the platform's
own key (what an insider holding the key can do), and the verifier still finds it."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from grants.decisions import operations as decision_ops
from grants.decisions.models import Decision
from grants.domain import publiclog as pl
from grants.domain import ranking as rk
from grants.errors import OperationError
from grants.extensions import db
from grants.reviews import operations as review_ops
from grants.transparency import keys
from grants.verify import main as verify_main
from tests.test_applications import setup  # noqa: F401 - the fixture
from tests.test_decisions import decided  # noqa: F401 - the fixture
from tests.test_transparency import publish

Bodies = list[dict[str, Any]]


def exported(client, s) -> pl.PublicLog:
    """The published call's log as anyone downloads it."""
    response = client.get(f"/calls/{s['call'].id}/log.jsonl")
    assert response.status_code == 200
    return pl.loads(response.get_data(as_text=True))


def resign(log: pl.PublicLog, edit: Callable[[Bodies], None]) -> pl.PublicLog:
    """Edit the entries' bodies (change, insert, delete), then re-number, re-chain and
    re-sign every tree head with the platform's key, as a key holder could."""
    bodies = [copy.deepcopy(pl.entry_body(e)) for e in log.entries]
    tags = [id(b) for b in bodies]
    edit(bodies)
    positions = {id(b): n for n, b in enumerate(bodies)}
    for n, body in enumerate(bodies):
        body["index"] = n
    entries = pl.chain(bodies)
    heads = []
    for head in log.heads:
        # The new size ends after the last surviving entry the old head covered.
        kept = [positions[t] for t in tags[: head["tree_size"]] if t in positions]
        size = max(kept) + 1 if kept else 0
        heads.append(
            pl.sign_head(
                entries,
                size,
                timestamp=head["timestamp"],
                milestone=head["milestone"],
                call_id=head["call_id"],
                private_key=keys.signing_key(),
            )
        )
    return pl.loads(pl.dumps(log.header, entries, heads))


def find(bodies: Bodies, action: str) -> dict[str, Any]:
    return next(b for b in bodies if b["action"] == action)


def rerun(bodies: Bodies) -> None:
    """Recompute every ranking run from its (edited) inputs: hash, ranking, line, as a key
    holder who rewrites a run consistently would."""
    for body in bodies:
        if body["action"] != "ranking.run":
            continue
        data = body["data"]
        run = pl._parse_run(body["index"], data)
        result = rk.rank(
            run.items, run.criteria, run.scale, run.budget, method=run.method, seed=run.seed
        )
        data["inputs_hash"] = result.inputs_hash
        data["ranking"] = [
            {"key": a.key, "rank": a.rank, "passes": a.passes_thresholds, "funded": a.funded}
            for a in result.applications
        ]
        data["funded"] = list(result.funded)
        data["line"] = result.line
        data["lottery_group"] = list(result.lottery_group)
        data["lottery_places"] = result.lottery_places


def findings(log: pl.PublicLog, code: str) -> list[pl.Finding]:
    report = pl.verify(log, trusted_key=keys.public_key())
    found = [f for f in report.findings if f.code == code]
    assert found, f"no {code} finding"
    return found


def failures(log: pl.PublicLog) -> dict[str, str]:
    """The code and message of each failed check."""
    report = pl.verify(log, trusted_key=keys.public_key())
    return {f.code: f.message for f in report.findings if not f.ok}


def with_ids(bodies: Bodies) -> None:
    """What the log carries once criterion entries name their criterion and the envelope is
    logged at publication (docs/audit.md): the fields these checks read."""
    run = find(bodies, "ranking.run")["data"]
    criterion = find(bodies, "call.criterion_added")
    criterion["data"]["criterion"] = run["inputs"]["criteria"][0]["key"]
    envelope(bodies, run["parameters"]["budget"])


def envelope(bodies: Bodies, value: str) -> None:
    """The budget envelope as call.published states it (``settings.budget_envelope``)."""
    find(bodies, "call.published")["data"].setdefault("settings", {})["budget_envelope"] = value


def logged_threshold(bodies: Bodies, value: str | None) -> None:
    """The threshold of the only criterion, wherever the log states it."""
    find(bodies, "call.criterion_added")["data"]["threshold"] = value
    for criterion in find(bodies, "call.published")["data"].get("criteria", []):
        criterion["threshold"] = value


@pytest.fixture
def published(client, decided):  # noqa: F811
    publish(decided)
    return exported(client, decided)


def test_an_exported_log_passes_every_documented_check_and_lists_them(published, capsys, tmp_path):
    report = pl.verify(published, trusted_key=keys.public_key())
    assert report.ok, [f.message for f in report.findings if not f.ok]
    codes = {f.code for f in report.findings}
    for code in (
        "review.version",
        "run.criteria",
        "run.budget",
        "run.assigned",
        "decision.amount",
        "decision.threshold",
        "decision.budget",
        "header",
    ):
        assert code in codes, code
    by_code = {f.code: f for f in report.findings}
    # Entries without criterion ids or the envelope: said, not passed in silence.
    logged = find([pl.entry_body(e) for e in published.entries], "call.criterion_added")
    if "criterion" in logged["data"]:
        assert by_code["run.criteria"].checkable
    else:
        assert not by_code["run.criteria"].checkable
        assert "field absent" in by_code["run.criteria"].message
    published_data = find([pl.entry_body(e) for e in published.entries], "call.published")
    if "budget_envelope" in published_data["data"].get("settings", {}):
        assert by_code["run.budget"].checkable
    else:
        assert not by_code["run.budget"].checkable
    assert by_code["run.assigned"].checkable and by_code["decision.amount"].checkable
    assert "not evidence" in by_code["header"].message
    # The command line prints every check and a line per kind with its counts.
    path = tmp_path / "log.jsonl"
    path.write_text(pl.dumps(published.header, published.entries, published.heads))
    assert verify_main([str(path), "--public-key", keys.public_key().hex()]) == 0
    out = capsys.readouterr().out
    assert "review.version: 3 checked, 3 passed, 0 failed, 0 not checkable" in out
    assert "run.criteria: 1 checked, " in out
    assert "decision.amount: 1 checked, 1 passed, 0 failed, 0 not checkable" in out
    assert "are covered by no signature: they are labels, not evidence" in out
    if not all(f.checkable for f in report.findings):
        assert "\n? " in out  # a check the file lacks the fields for
        assert "marked ? because the file lacks what they need" in out


def test_the_checks_read_criterion_ids_and_the_envelope_when_the_log_carries_them(published):
    log = resign(published, with_ids)
    assert failures(log) == {}
    assert all(f.checkable for f in findings(log, "run.criteria"))
    assert all(f.checkable for f in findings(log, "run.budget"))
    assert all(f.checkable for f in findings(log, "decision.budget"))


def test_an_award_above_the_request_is_found(published):
    def edit(bodies: Bodies) -> None:
        decision = find(bodies, "decision.approved")["data"]
        decision["amount"] = "9000.00"
        find(bodies, "call.results_published")["data"]["awards"][decision["application"]] = (
            "9000.00"
        )

    found = failures(resign(published, edit))
    assert set(found) == {"decision.amount"}
    assert re.search(
        r"more than the request in ranking run \d+ \(8500\.00\)", found["decision.amount"]
    )


def test_an_award_of_nothing_and_an_amount_on_a_reserve_are_found(published):
    def nothing(bodies: Bodies) -> None:
        decision = find(bodies, "decision.approved")["data"]
        decision["amount"] = "0.00"
        find(bodies, "call.results_published")["data"]["awards"][decision["application"]] = "0.00"

    assert "not above zero" in failures(resign(published, nothing))["decision.amount"]

    def reserve(bodies: Bodies) -> None:
        find(bodies, "decision.approved")["data"]["outcome"] = "reserve"
        results = find(bodies, "call.results_published")["data"]
        results["funded"], results["awards"] = [], {}

    assert (
        "only a funded decision grants" in failures(resign(published, reserve))["decision.amount"]
    )


def test_a_total_above_the_budget_is_found(published):
    def edit(bodies: Bodies) -> None:
        with_ids(bodies)
        envelope(bodies, "8000.00")
        find(bodies, "ranking.run")["data"]["parameters"]["budget"] = "8000.00"
        rerun(bodies)

    found = failures(resign(published, edit))
    assert set(found) == {"decision.budget"}
    messages = [f.message for f in findings(resign(published, edit), "decision.budget")]
    assert any(
        re.search(r"more than the budget of 8000\.00 of ranking run \d+,", m) for m in messages
    )
    assert any("more than the budget envelope of 8000.00" in m for m in messages)


def test_a_run_whose_budget_differs_from_the_logged_envelope_is_found(published):
    def edit(bodies: Bodies) -> None:
        with_ids(bodies)
        find(bodies, "ranking.run")["data"]["parameters"]["budget"] = "90000.00"
        rerun(bodies)

    found = failures(resign(published, edit))
    assert set(found) == {"run.budget"}
    assert "budget envelope logged in entry 1 is 100000" in found["run.budget"]


def test_a_budget_envelope_changed_by_call_updated_is_followed(published):
    def edit(bodies: Bodies) -> None:
        with_ids(bodies)
        at = bodies.index(find(bodies, "ranking.seed_committed"))
        change = copy.deepcopy(find(bodies, "call.published"))
        change["action"] = "call.updated"
        change["data"] = {"budget_envelope": {"old": "100000.00", "new": "50000.00"}}
        bodies.insert(at, change)

    found = failures(resign(published, edit))
    assert set(found) == {"run.budget"}
    assert "is 50000.00" in found["run.budget"]


def test_a_funded_application_that_fails_a_threshold_is_found(published):
    def edit(bodies: Bodies) -> None:
        find(bodies, "ranking.run")["data"]["inputs"]["criteria"][0]["threshold"] = "4.5"
        logged_threshold(bodies, "4.5")
        rerun(bodies)

    found = failures(resign(published, edit))
    assert set(found) == {"decision.threshold"}
    assert re.search(r"fails a threshold in ranking run \d+", found["decision.threshold"])


def test_criterion_weights_that_differ_from_the_logged_ones_are_found(published):
    def weight(bodies: Bodies) -> None:
        with_ids(bodies)
        find(bodies, "ranking.run")["data"]["inputs"]["criteria"][0]["weight"] = "2"
        rerun(bodies)

    found = failures(resign(published, weight))
    assert set(found) == {"run.criteria"}
    assert "but the log says 1" in found["run.criteria"]

    def threshold(bodies: Bodies) -> None:
        with_ids(bodies)
        find(bodies, "ranking.run")["data"]["inputs"]["criteria"][0]["threshold"] = "1"
        rerun(bodies)

    assert (
        "the threshold 1, but the log says None"
        in failures(resign(published, threshold))["run.criteria"]
    )

    def other_id(bodies: Bodies) -> None:
        with_ids(bodies)
        find(bodies, "call.criterion_added")["data"]["criterion"] = "999"
        for criterion in find(bodies, "call.published")["data"].get("criteria", []):
            criterion["criterion"] = "999"

    assert "no logged criterion defines" in failures(resign(published, other_id))["run.criteria"]


def test_a_criterion_update_is_followed(published):
    def edit(bodies: Bodies) -> None:
        with_ids(bodies)
        added = find(bodies, "call.criterion_added")
        update = copy.deepcopy(added)
        update["action"] = "call.criterion_updated"
        update["data"] = {
            "criterion": added["data"]["criterion"],
            "weight": {"old": "1", "new": "3"},
        }
        bodies.insert(bodies.index(find(bodies, "ranking.seed_committed")), update)

    found = failures(resign(published, edit))
    assert set(found) == {"run.criteria"}
    assert "but the log says 3" in found["run.criteria"]


def test_review_versions_that_do_not_increase_are_found(published):
    def edit(bodies: Bodies) -> None:
        review = find(bodies, "review.submitted")
        bodies.insert(bodies.index(review) + 1, copy.deepcopy(review))

    found = failures(resign(published, edit))
    assert set(found) == {"review.version"}
    assert "versions must increase" in found["review.version"]

    def amended(bodies: Bodies) -> None:
        review = find(bodies, "review.submitted")
        again = copy.deepcopy(review)
        again["data"]["version"] = 2
        bodies.insert(bodies.index(review) + 1, again)

    assert failures(resign(published, amended)) == {}


def test_a_score_from_a_pair_never_assigned_is_found(published):
    def edit(bodies: Bodies) -> None:
        bodies.remove(find(bodies, "panel.assignment_added"))

    found = failures(resign(published, edit))
    assert set(found) == {"run.assigned"}
    assert "assigns" in found["run.assigned"] and "nowhere before it" in found["run.assigned"]


def test_assignment_pairs_are_read_from_the_confirmation(published):
    """A confirmation that lists its pairs assigns them; one that does not leaves the scores
    of pairs assigned nowhere else not checkable, and says so."""

    def confirmation(bodies: Bodies, pairs: list[dict[str, str]] | None) -> None:
        added = [b for b in bodies if b["action"] == "panel.assignment_added"]
        confirmed = copy.deepcopy(added[0])
        confirmed["action"] = "panel.assignments_confirmed"
        confirmed["subject"] = bodies[1]["subject"]
        confirmed["data"] = {"pairs": 3, "created": 3, "unmet": 0, "solver": "cp", "seed": 0}
        if pairs is not None:
            confirmed["data"]["added"] = pairs
            confirmed["data"]["removed"] = []
        bodies.insert(bodies.index(added[0]), confirmed)
        for body in added:
            bodies.remove(body)

    pairs = [
        {"application": b["data"]["application"], "reviewer": b["data"]["reviewer"]}
        for b in published.entries
        if b["action"] == "panel.assignment_added"
    ]
    assert failures(resign(published, lambda b: confirmation(b, pairs))) == {}
    found = failures(resign(published, lambda b: confirmation(b, pairs[1:])))
    assert set(found) == {"run.assigned"}
    unlisted = resign(published, lambda b: confirmation(b, None))
    assert failures(unlisted) == {}
    finding = findings(unlisted, "run.assigned")[0]
    assert not finding.checkable and "('added')" in finding.message


def test_a_deleted_conflict_is_found(client, decided):  # noqa: F811
    """A reviewer declares a conflict after reviewing: the app sets the review aside and the
    next run leaves it out. Deleting the conflict entry (and re-signing) leaves a review that
    counts but that the run did not use."""
    s = decided
    user, _assignment = s["reviewers"][0]
    review_ops.declare_conflict(user, s["app"], reason="employer", note="")
    db.session.commit()
    s["run"] = decision_ops.run_ranking(s["officer"], s["call"], rk.RAW)
    db.session.commit()
    publish(s)
    log = exported(client, s)
    assert failures(log) == {}

    def edit(bodies: Bodies) -> None:
        bodies.remove(find(bodies, "panel.conflict_recorded"))

    found = failures(resign(log, edit))
    assert "run.inputs" in found and "left it out" in found["run.inputs"]

    def used(bodies: Bodies) -> None:
        """The run rewritten to use the conflicted review after all."""
        run = [b for b in bodies if b["action"] == "ranking.run"][-1]["data"]
        first = next(b for b in bodies if b["action"] == "ranking.run")["data"]
        run["inputs"]["applications"] = copy.deepcopy(first["inputs"]["applications"])
        rerun(bodies)

    found = failures(resign(log, used))
    assert "run.assigned" in found and "conflict of interest" in found["run.assigned"]


def test_the_checks_count_items_per_kind():
    report = pl.Report(
        [
            pl.Finding(True, "a", "one"),
            pl.Finding(False, "a", "two"),
            pl.Finding(True, "b", "three", checkable=False),
        ]
    )
    assert report.checks() == [
        "a: 2 checked, 1 passed, 1 failed, 0 not checkable",
        "b: 1 checked, 0 passed, 0 failed, 1 not checkable",
    ]


def test_the_app_funds_no_application_that_fails_a_threshold(decided):  # noqa: F811
    """What the verifier refuses, the app refuses first: proposing to fund an application that
    fails a threshold in the run, and approving it when the latest run says it fails."""
    s = decided
    first_run = s["run"]
    criterion = s["call"].criteria[0]
    criterion.threshold = Decimal("4.5")  # the mean of 3, 4 and 4.5 is below it
    db.session.commit()
    failing = decision_ops.run_ranking(s["officer"], s["call"], rk.RAW)
    db.session.commit()
    proposal = decision_ops.Proposal(s["app"], "funded", Decimal(8500), "")
    with pytest.raises(OperationError, match="fails a threshold in this ranking run"):
        decision_ops.propose_decisions(s["officer"], s["call"], failing, [proposal])
    db.session.rollback()
    # Proposed from the earlier run, where it passed, it is refused at approval.
    decision_ops.propose_decisions(s["officer"], s["call"], first_run, [proposal])
    db.session.commit()
    decision = db.session.scalars(select(Decision)).one()
    with pytest.raises(OperationError, match="fails a threshold in the latest ranking run"):
        decision_ops.approve_decision(s["second"], decision)


def test_the_app_keeps_the_decisions_within_the_budget_of_their_run(decided):  # noqa: F811
    """A budget raised after the run does not let the decisions fund more than the run's
    budget: the verifier holds them to it, so the app does first."""
    s = decided
    s["call"].budget_envelope = Decimal(8000)
    db.session.commit()
    small = decision_ops.run_ranking(s["officer"], s["call"], rk.RAW)
    s["call"].budget_envelope = Decimal(100000)
    db.session.commit()
    proposal = decision_ops.Proposal(s["app"], "funded", Decimal(8500), "")
    with pytest.raises(OperationError, match="this ranking run was made with"):
        decision_ops.propose_decisions(s["officer"], s["call"], small, [proposal])
    db.session.rollback()
    assert decision_ops.propose_decisions(s["officer"], s["call"], s["run"], [proposal]) == 1


def test_the_criteria_stated_at_publication_are_read(published):
    """call.published restates every criterion (docs/audit.md): a run must use those."""

    def stated(weight: str) -> Callable[[Bodies], None]:
        def edit(bodies: Bodies) -> None:
            with_ids(bodies)
            key = find(bodies, "ranking.run")["data"]["inputs"]["criteria"][0]["key"]
            find(bodies, "call.published")["data"]["criteria"] = [
                {"criterion": key, "position": 0, "weight": weight, "threshold": None}
            ]

        return edit

    assert failures(resign(published, stated("1"))) == {}
    found = failures(resign(published, stated("2")))
    assert set(found) == {"run.criteria"}
    assert "but the log says 2" in found["run.criteria"]
