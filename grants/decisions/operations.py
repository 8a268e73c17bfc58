"""Ranking runs: inputs gathered from the reviews, the seed committed before the draw,
every run stored with the hash of its inputs and audited (docs/scoring.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from grants.applications.models import Application, Partner
from grants.applications.operations import equity_assessment
from grants.audit.operations import record
from grants.auth.models import User
from grants.calls.models import Call
from grants.decisions.models import RankingRun
from grants.domain import ranking as rk
from grants.errors import OperationError
from grants.extensions import db
from grants.reviews.models import Assignment, Conflict, Consensus


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def ranking_inputs(
    call: Call,
) -> tuple[list[rk.ApplicationScores], list[rk.CriterionSpec], rk.Scale, dict[str, str]]:
    """The submitted applications' submitted reviews (no conflicted reviewer), consensus
    scores, equity multipliers, countries and requested amounts; plus references by key."""
    applications = db.session.scalars(
        select(Application)
        .options(selectinload(Application.partners).joinedload(Partner.organisation))
        .where(Application.call_id == call.id, Application.status == "submitted")
    ).all()
    conflicted = set(
        db.session.execute(
            select(Conflict.application_id, Conflict.reviewer_id).where(Conflict.call_id == call.id)
        ).tuples()
    )
    reviews: dict[int, dict[str, dict[str, Decimal]]] = {}
    for assignment in db.session.scalars(
        select(Assignment)
        .options(selectinload(Assignment.reviews))
        .where(Assignment.call_id == call.id)
    ):
        current = assignment.current_review
        if (
            current is None
            or current.status != "submitted"
            or (assignment.application_id, assignment.reviewer_id) in conflicted
        ):
            continue
        reviews.setdefault(assignment.application_id, {})[str(assignment.reviewer_id)] = {
            k: Decimal(v) for k, v in current.scores.items()
        }
    consensus = {
        c.application_id: {k: Decimal(v) for k, v in c.scores.items()}
        for c in db.session.scalars(select(Consensus).where(Consensus.call_id == call.id))
    }
    criteria = [
        rk.CriterionSpec(key=str(c.id), weight=c.weight, threshold=c.threshold)
        for c in call.criteria
    ]
    scale = rk.Scale(minimum=call.score_min, maximum=call.score_max, step=call.score_step)
    items, labels = [], {}
    for application in applications:
        if application.id not in reviews and application.id not in consensus:
            continue  # nothing to rank it by yet
        equity = equity_assessment(application)
        requested = sum((p.grant_requested * p.rate for p in application.partners), Decimal(0))
        items.append(
            rk.ApplicationScores(
                key=str(application.id),
                reviews=reviews.get(application.id, {}),
                consensus=consensus.get(application.id),
                multiplier=equity.ranking_multiplier,
                equity_index=equity.equity_index,
                countries=len({p.organisation.country for p in application.partners}),
                requested=requested.quantize(Decimal("0.01")),
            )
        )
        labels[str(application.id)] = f"{application.reference} · {application.title}"
    return items, criteria, scale, labels


def _funded(result: rk.RankingResult) -> set[str]:
    return set(result.funded)


def sensitivity(
    items: list[rk.ApplicationScores],
    criteria: list[rk.CriterionSpec],
    scale: rk.Scale,
    budget: Decimal,
    method: str,
    seed: int,
    base: rk.RankingResult,
) -> dict[str, Any]:
    """Which funding outcomes change with equity weight 0, equal criterion weights, and
    under each other method."""
    variants: dict[str, tuple[list[rk.ApplicationScores], list[rk.CriterionSpec], str]] = {
        "no_equity_weight": ([replace(i, multiplier=Decimal(1)) for i in items], criteria, method),
        "equal_weights": (items, [replace(c, weight=Decimal(1)) for c in criteria], method),
    }
    for other in rk.METHODS:
        if other != method:
            variants[f"method_{other}"] = (items, criteria, other)
    funded = _funded(base)
    report = {}
    for name, (v_items, v_criteria, v_method) in variants.items():
        result = rk.rank(
            v_items, v_criteria, scale, budget, method=v_method, seed=seed, compare=[v_method]
        )
        changed = _funded(result)
        report[name] = {"gain": sorted(changed - funded), "lose": sorted(funded - changed)}
    return report


def run_ranking(actor: User, call: Call, method: str) -> RankingRun:
    """Rank the call: commit the seed's hash to the audit log, rank, store and audit."""
    if method not in rk.METHODS:
        raise OperationError(_l("Choose a ranking method from the list."), "method")
    items, criteria, scale, labels = ranking_inputs(call)
    if not items:
        raise OperationError(
            _l("No submitted application has a submitted review or a consensus yet.")
        )
    seed = rk.new_seed()
    commitment = rk.seed_commitment(seed)
    record(
        actor,
        "ranking.seed_committed",
        call,
        {"method": method, "commitment": commitment},
        call_id=call.id,
    )
    result = rk.rank(items, criteria, scale, call.budget_envelope, method=method, seed=seed)
    run = RankingRun(
        call_id=call.id,
        method=method,
        seed=str(seed),
        seed_commitment=commitment,
        inputs_hash=result.inputs_hash,
        parameters={"budget": str(call.budget_envelope), "compare": list(rk.METHODS)},
        inputs={
            "applications": [_plain(vars(i)) for i in items],
            "criteria": [_plain(vars(c)) for c in criteria],
            "scale": _plain(vars(scale)),
            "labels": labels,
        },
        result=_result_json(result),
        sensitivity=sensitivity(items, criteria, scale, call.budget_envelope, method, seed, result),
        created_by_id=actor.id,
    )
    db.session.add(run)
    db.session.flush()
    record(
        actor,
        "ranking.run",
        call,
        {
            "run_id": run.id,
            "method": method,
            "inputs_hash": result.inputs_hash,
            "seed": str(seed),
            "funded": sorted(result.funded),
            "line": result.line,
        },
        call_id=call.id,
    )
    return run


def _result_json(result: rk.RankingResult) -> dict[str, Any]:
    return {
        "funded": list(result.funded),
        "line": result.line,
        "remaining": str(result.remaining),
        "lottery_group": list(result.lottery_group),
        "lottery_places": result.lottery_places,
        "applications": [
            {
                "key": a.key,
                "rank": a.rank,
                "quality": str(a.quality),
                "score": str(a.score),
                "passes": a.passes_thresholds,
                "funded": a.funded,
                "methods": {
                    m: {
                        "quality": str(r.quality),
                        "score": str(r.score),
                        "rank": r.rank,
                        "expected_rank": None if r.expected_rank is None else str(r.expected_rank),
                        "interval": list(r.rank_interval) if r.rank_interval else None,
                    }
                    for m, r in a.methods.items()
                },
            }
            for a in result.applications
        ],
    }


def replay(run: RankingRun) -> rk.RankingResult:
    """Recompute a stored run from its stored inputs and revealed seed."""
    items = [
        rk.ApplicationScores(
            key=a["key"],
            reviews={
                r: {c: Decimal(s) for c, s in scores.items()} for r, scores in a["reviews"].items()
            },
            consensus=None
            if a["consensus"] is None
            else {c: Decimal(s) for c, s in a["consensus"].items()},
            multiplier=Decimal(a["multiplier"]),
            equity_index=Decimal(a["equity_index"]),
            countries=a["countries"],
            requested=Decimal(a["requested"]),
        )
        for a in run.inputs["applications"]
    ]
    criteria = [
        rk.CriterionSpec(
            key=c["key"],
            weight=Decimal(c["weight"]),
            threshold=None if c["threshold"] is None else Decimal(c["threshold"]),
        )
        for c in run.inputs["criteria"]
    ]
    scale = rk.Scale(**{k: Decimal(v) for k, v in run.inputs["scale"].items()})
    return rk.rank(
        items,
        criteria,
        scale,
        Decimal(run.parameters["budget"]),
        method=run.method,
        seed=int(run.seed),
    )


def runs_of(call: Call) -> list[RankingRun]:
    """The call's ranking runs, newest first."""
    return list(
        db.session.scalars(
            select(RankingRun).where(RankingRun.call_id == call.id).order_by(RankingRun.id.desc())
        )
    )
