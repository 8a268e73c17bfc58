"""Ranking runs: inputs gathered from the reviews, the seed committed before the draw,
every run stored with the hash of its inputs and audited (docs/scoring.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from grants.applications.models import Application, Partner
from grants.applications.operations import equity_assessment
from grants.audit.operations import lock_chain, record
from grants.auth.models import User
from grants.calls.models import Call
from grants.decisions.models import (
    APPEAL_OUTCOMES,
    APPROVED,
    OUTCOMES,
    PROPOSED,
    RETURNED,
    Appeal,
    Decision,
    LotteryDraw,
    RankingRun,
)
from grants.domain import ranking as rk
from grants.errors import OperationError
from grants.extensions import db
from grants.locking import lock, lock_id
from grants.mail.operations import queue_mail
from grants.permissions import can_decide_on, is_conflicted_with
from grants.reviews.models import Assignment, Conflict, Consensus
from grants.transparency.keys import pseudonym
from grants.transparency.operations import seal, seal_once
from grants.types import utcnow
from grants.urls import external_url

CENT = Decimal("0.01")


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def requested_amount(application: Application) -> Decimal:
    """The grant requested by all partners, in the call's currency at the call's rates."""
    total = sum((p.grant_requested * p.rate for p in application.partners), Decimal(0))
    return total.quantize(CENT)


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
        # The latest submitted version counts: an amendment in draft does not hide it.
        current = next((r for r in reversed(assignment.reviews) if r.status == "submitted"), None)
        if current is None or (assignment.application_id, assignment.reviewer_id) in conflicted:
            continue
        reviews.setdefault(assignment.application_id, {})[
            pseudonym(call.id, assignment.reviewer_id)
        ] = {k: Decimal(v) for k, v in current.scores.items()}
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
        requested = requested_amount(application)
        reduced = application.reduced_amount
        items.append(
            rk.ApplicationScores(
                key=application.reference or str(application.id),
                reviews=reviews.get(application.id, {}),
                consensus=consensus.get(application.id),
                multiplier=equity.ranking_multiplier,
                equity_index=equity.equity_index,
                countries=len({p.organisation.country for p in application.partners}),
                requested=requested,
                amount=reduced if reduced is not None and 0 < reduced < requested else None,
            )
        )
        labels[application.reference or str(application.id)] = application.title
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
    lock(call)  # sending the decisions waits for this run, or this run sees them sent
    if call.decisions_released_at is not None:
        raise OperationError(
            _l("The decisions of this call have been sent: it can no longer be ranked again.")
        )
    lock_chain()  # the inputs read below are the ones the log shows before this run
    items, criteria, scale, labels = ranking_inputs(call)
    if not items:
        raise OperationError(
            _l("No submitted application has a submitted review or a consensus yet.")
        )
    # The reviews the run uses are fixed in a signed tree head before the first run.
    seal_once(call, "reviews_closed")
    seed = rk.new_seed()
    commitment = rk.seed_commitment(seed)
    record(
        actor,
        "ranking.seed_committed",
        call,
        {"method": method, "commitment": commitment},
        call_id=call.id,
    )
    try:
        result = rk.rank(items, criteria, scale, call.budget_envelope, method=method, seed=seed)
    except ValueError as exc:  # e.g. a criterion added after some reviews were submitted
        raise OperationError(
            _l(
                "The applications cannot be ranked: a submitted review does not score every "
                "criterion of the call (was a criterion added after reviews were submitted?)."
            )
        ) from exc
    run = RankingRun(
        call_id=call.id,
        method=method,
        seed=str(seed),
        seed_commitment=commitment,
        inputs_hash=result.inputs_hash,
        parameters={
            "budget": str(call.budget_envelope),
            "compare": list(rk.METHODS),
            # The version of the expected-rank sampler (docs/scoring.md §4a) that computed it.
            **({"sampler": result.sampler} if result.sampler else {}),
        },
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
    seal(call, "ranking_run")
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


def stored_inputs(
    run: RankingRun,
) -> tuple[list[rk.ApplicationScores], list[rk.CriterionSpec], rk.Scale]:
    """A stored run's inputs as the ranking module takes them."""
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
            amount=None if a.get("amount") is None else Decimal(a["amount"]),
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
    return items, criteria, scale


def replay(run: RankingRun) -> rk.RankingResult:
    """Recompute a stored run from its stored inputs and revealed seed."""
    items, criteria, scale = stored_inputs(run)
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


# --- amounts, lottery -----------------------------------------------------------------------


def _final_decision(application: Application) -> Decision | None:
    return db.session.scalar(
        select(Decision).where(
            Decision.application_id == application.id, Decision.status == APPROVED
        )
    )


def reduce_amount(
    actor: User, application: Application, amount: Decimal | None, reason: str
) -> None:
    """Set (or clear, with ``None``) the amount the funding line counts for an application."""
    lock(application)
    if not can_decide_on(actor, application):
        raise OperationError(_l("You may not decide on this application."))
    if application.status != "submitted":
        raise OperationError(_l("Only a submitted application can have its amount reduced."))
    if _final_decision(application) is not None:
        raise OperationError(_l("The decision on this application is final."))
    requested = requested_amount(application)
    reason = reason.strip()
    if amount is not None:
        amount = amount.quantize(CENT)
        if not 0 < amount < requested:
            raise OperationError(
                _l("The reduced amount must be above zero and below the amount requested."),
                "amount",
            )
        if not reason:
            raise OperationError(_l("Say why the amount is reduced."), "reason")
    old = application.reduced_amount
    application.reduced_amount = None if amount is None else amount.quantize(CENT)
    application.reduction_reason = reason if amount is not None else ""
    record(
        actor,
        "application.amount_reduced" if amount is not None else "application.amount_restored",
        application,
        {
            "requested": str(requested),
            "old": None if old is None else str(old),
            "new": None if amount is None else str(application.reduced_amount),
            "reason": application.reduction_reason,
        },
        call_id=application.call_id,
    )


def _refuse_after_sending(call: Call) -> None:
    """Once the decisions are sent, nothing they rest on is drawn or computed again."""
    if call.decisions_released_at is not None:
        raise OperationError(
            _l("The decisions of this call have been sent: its lottery can no longer change.")
        )


def commit_lottery_seed(actor: User, run: RankingRun) -> LotteryDraw:
    """Step 1 of the lottery: a fresh seed whose sha256 goes into the audit log now."""
    lock_id(Call, run.call_id)
    lock(run)
    _refuse_after_sending(db.session.get_one(Call, run.call_id))
    if not run.result.get("lottery_group"):
        raise OperationError(_l("This ranking run has no lottery group."))
    if run.draw is not None:
        raise OperationError(_l("A seed is already committed for this draw."))
    seed = rk.new_seed()
    draw = LotteryDraw(
        run=run,
        call_id=run.call_id,
        seed=str(seed),
        seed_commitment=rk.seed_commitment(seed),
        committed_by_id=actor.id,
    )
    db.session.add(draw)
    db.session.flush()
    record(
        actor,
        "lottery.seed_committed",
        run,
        {
            "run_id": run.id,
            "commitment": draw.seed_commitment,
            "group": list(run.result["lottery_group"]),
            "places": run.result["lottery_places"],
        },
        call_id=run.call_id,
    )
    return draw


def draw_lots(actor: User, run: RankingRun) -> LotteryDraw:
    """Step 2: reveal the committed seed, order the group by its tickets and fund the
    drawn order with what the others leave of the budget."""
    lock_id(Call, run.call_id)
    lock(run)
    _refuse_after_sending(db.session.get_one(Call, run.call_id))
    draw = run.draw
    if draw is None:
        raise OperationError(_l("Commit a seed before drawing the lots."))
    if draw.drawn_at is not None:
        raise OperationError(_l("The lots for this ranking run have been drawn."))
    seed = int(draw.seed)
    group = list(run.result["lottery_group"])
    lottery = rk.draw_lottery(group, run.result["lottery_places"], seed)
    items, _criteria, _scale = stored_inputs(run)
    amounts = {item.key: item.funding_amount for item in items}
    settled = rk.settle_lottery(
        run.result["funded"], group, amounts, Decimal(run.parameters["budget"]), lottery.order
    )
    draw.order = list(lottery.order)
    draw.funded = list(settled.funded)
    draw.remaining = settled.remaining
    draw.drawn_by_id = actor.id
    draw.drawn_at = utcnow()
    record(
        actor,
        "lottery.drawn",
        run,
        {
            "run_id": run.id,
            "seed": draw.seed,
            "commitment": draw.seed_commitment,
            "order": draw.order,
            "funded": draw.funded,
        },
        call_id=run.call_id,
    )
    return draw


def funded_by(run: RankingRun) -> list[str]:
    """Who a run funds: after the lottery where there is one."""
    if run.draw is not None and run.draw.drawn_at is not None:
        return list(run.draw.funded)
    return list(run.result.get("funded", []))


# --- decisions with four eyes -------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    """An officer's proposed outcome for one application."""

    application: Application
    outcome: str
    amount: Decimal
    reason: str


def default_proposals(run: RankingRun, applications: list[Application]) -> dict[int, Proposal]:
    """What the run suggests: funded above the line (after the lottery) at the counted
    amount, reserve for the others passing every threshold, not funded for the rest."""
    funded = set(funded_by(run))
    passes = {a["key"]: a["passes"] for a in run.result.get("applications", [])}
    proposals = {}
    for application in applications:
        key = application.reference or str(application.id)
        if key in funded:
            amount = application.reduced_amount or requested_amount(application)
            proposals[application.id] = Proposal(
                application, "funded", amount, application.reduction_reason
            )
        elif passes.get(key):
            proposals[application.id] = Proposal(application, "reserve", Decimal(0), "")
        else:
            proposals[application.id] = Proposal(application, "not_funded", Decimal(0), "")
    return proposals


def _check_proposal(proposal: Proposal) -> Decimal:
    if proposal.outcome not in OUTCOMES:
        raise OperationError(_l("Choose an outcome from the list."))
    if proposal.outcome != "funded":
        return Decimal(0)
    requested = requested_amount(proposal.application)
    amount = None if proposal.amount is None else proposal.amount.quantize(CENT)
    reference = proposal.application.reference or ""
    if amount is None or amount <= 0:
        raise OperationError(
            _l("%(reference)s: a funded application needs an amount.", reference=reference)
        )
    if amount > requested:
        raise OperationError(
            _l(
                "%(reference)s: the amount is more than the %(requested)s requested.",
                reference=reference,
                requested=requested,
            )
        )
    if amount < requested and not proposal.reason.strip():
        raise OperationError(
            _l(
                "%(reference)s: say why the amount is below the request.",
                reference=reference,
            )
        )
    return amount.quantize(CENT)


def propose_decisions(actor: User, call: Call, run: RankingRun, proposals: list[Proposal]) -> int:
    """Propose outcomes from a ranking run; they wait for another officer's approval."""
    lock(call)  # the call's decisions change one request at a time, call row first
    if run.call_id != call.id:
        raise OperationError(_l("This ranking run belongs to another call."))
    if call.decisions_released_at is not None:
        raise OperationError(_l("The decisions of this call have been sent."))
    if run.needs_draw:
        raise OperationError(_l("Draw the lots of this ranking run before proposing."))
    lock_chain()  # two officers proposing at once cannot both pass the budget check
    existing = {
        d.application_id: d
        for d in db.session.scalars(select(Decision).where(Decision.call_id == call.id))
    }
    amounts: dict[int, Decimal] = {
        app_id: d.amount
        for app_id, d in existing.items()
        if d.outcome == "funded" and d.status != RETURNED
    }
    changes = []
    for proposal in proposals:
        application = proposal.application
        if application.call_id != call.id or application.status != "submitted":
            raise OperationError(_l("Only submitted applications to this call can be decided."))
        if not can_decide_on(actor, application):
            raise OperationError(
                _l(
                    "%(reference)s: you may not decide on this application.",
                    reference=application.reference,
                )
            )
        current = existing.get(application.id)
        if current is not None and current.status == APPROVED:
            continue  # final: not proposed again
        amount = _check_proposal(proposal)
        if proposal.outcome == "funded" and not _passes_in(run, application):
            raise OperationError(
                _l(
                    "%(reference)s fails a threshold in this ranking run (or is not ranked in "
                    "it): it cannot be funded.",
                    reference=application.reference or "",
                )
            )
        amounts[application.id] = amount
        if (
            current is not None
            and current.status == PROPOSED
            and (current.run_id, current.outcome, current.amount, current.reason)
            == (run.id, proposal.outcome, amount, proposal.reason.strip())
        ):
            continue  # already proposed as it stands: nothing to log again
        changes.append((application, proposal, amount, current))
    total = sum(amounts.values(), Decimal(0))
    if total > call.budget_envelope:
        raise OperationError(
            _l(
                "The funded amounts add up to %(total)s, more than the budget of %(budget)s.",
                total=total,
                budget=call.budget_envelope,
            )
        )
    run_budget = Decimal(run.parameters["budget"])
    if total > run_budget:
        # The public log's verifier holds the decisions to the budget of the run they follow.
        raise OperationError(
            _l(
                "The funded amounts add up to %(total)s, more than the budget of %(budget)s "
                "this ranking run was made with: run the ranking again with the new budget.",
                total=total,
                budget=run_budget,
            )
        )
    now = utcnow()
    for application, proposal, amount, current in changes:
        decision = current or Decision(call_id=call.id, application_id=application.id)
        decision.run_id = run.id
        decision.outcome = proposal.outcome
        decision.amount = amount
        decision.reason = proposal.reason.strip()
        decision.status = PROPOSED
        decision.proposed_by_id = actor.id
        decision.proposed_at = now
        decision.reviewed_by_id = None
        decision.reviewed_at = None
        decision.review_note = ""
        db.session.add(decision)
        record(
            actor,
            "decision.proposed",
            application,
            {
                "run_id": run.id,
                "outcome": decision.outcome,
                "amount": str(amount),
                "reason": decision.reason,
            },
            call_id=call.id,
        )
    db.session.flush()
    return len(changes)


def _ranks(run: RankingRun, application: Application) -> bool:
    key = application.reference or str(application.id)
    return any(a["key"] == key for a in run.result.get("applications", []))


def _passes_in(run: RankingRun, application: Application) -> bool:
    """Whether the run ranks the application and it passes every threshold there: an
    application that fails a threshold is never funded (docs/scoring.md §2)."""
    key = application.reference or str(application.id)
    return any(a["key"] == key and a["passes"] for a in run.result.get("applications", []))


def approve_decision(actor: User, decision: Decision) -> None:
    """The second officer approves: the decision is final."""
    lock_id(Call, decision.call_id)  # the call's row first, as proposing takes it
    if decision.status != PROPOSED:
        raise OperationError(_l("Only a proposed decision can be approved."))
    if decision.proposed_by_id == actor.id:
        raise OperationError(_l("Another officer must approve the decisions you proposed."))
    if not can_decide_on(actor, decision.application):
        raise OperationError(_l("You may not decide on this application."))
    _check_budget(decision.call_id)
    # The public log's verifier checks a funded decision against the last run that ranks it.
    ranked = (r for r in runs_of(decision.application.call) if _ranks(r, decision.application))
    latest = next(ranked, None)
    if decision.outcome == "funded" and (
        latest is None or not _passes_in(latest, decision.application)
    ):
        raise OperationError(
            _l(
                "%(reference)s fails a threshold in the latest ranking run (or is not ranked "
                "in it): propose again from that run.",
                reference=decision.application.reference or "",
            )
        )
    decision.status = APPROVED
    decision.reviewed_by_id = actor.id
    decision.reviewed_at = utcnow()
    record(
        actor,
        "decision.approved",
        decision.application,
        {
            "decision_id": decision.id,
            "outcome": decision.outcome,
            "amount": str(decision.amount),
            "proposed_by": decision.proposed_by_id,
        },
        call_id=decision.call_id,
    )


def return_decision(actor: User, decision: Decision, note: str) -> None:
    """The second officer sends a proposal back, saying why."""
    lock_id(Call, decision.call_id)
    if decision.status != PROPOSED:
        raise OperationError(_l("Only a proposed decision can be sent back."))
    if decision.proposed_by_id == actor.id:
        raise OperationError(_l("Another officer must review the decisions you proposed."))
    if not can_decide_on(actor, decision.application):
        raise OperationError(_l("You may not decide on this application."))
    note = note.strip()
    if not note:
        raise OperationError(_l("Say why the proposal goes back."), "note")
    decision.status = RETURNED
    decision.reviewed_by_id = actor.id
    decision.reviewed_at = utcnow()
    decision.review_note = note
    record(
        actor,
        "decision.returned",
        decision.application,
        {"decision_id": decision.id, "note": note},
        call_id=decision.call_id,
    )


def _check_budget(call_id: int) -> None:
    """The funded amounts of the proposed and final decisions fit the call's budget now."""
    call = db.session.get_one(Call, call_id)
    total = db.session.scalar(
        select(func.coalesce(func.sum(Decision.amount), 0)).where(
            Decision.call_id == call_id,
            Decision.outcome == "funded",
            Decision.status.in_([PROPOSED, APPROVED]),
        )
    )
    if Decimal(total or 0) > call.budget_envelope:
        raise OperationError(
            _l(
                "The funded amounts add up to %(total)s, more than the budget of %(budget)s.",
                total=Decimal(total or 0),
                budget=call.budget_envelope,
            )
        )


def undecided(call: Call) -> list[Application]:
    """Submitted applications of the call without a final decision."""
    return list(
        db.session.scalars(
            select(Application)
            .where(
                Application.call_id == call.id,
                Application.status == "submitted",
                ~Application.id.in_(
                    select(Decision.application_id).where(
                        Decision.call_id == call.id, Decision.status == APPROVED
                    )
                ),
            )
            .order_by(Application.reference)
        )
    )


def release_decisions(actor: User, call: Call) -> int:
    """Send the final decisions: every partner is told in its language; the appeal window
    opens. Every submitted application must have a final decision."""
    lock(call)
    if call.decisions_released_at is not None:
        raise OperationError(_l("The decisions of this call have been sent."))
    _check_budget(call.id)
    missing = undecided(call)
    if missing:
        raise OperationError(
            lazy_ngettext(
                "%(num)d submitted application has no final decision yet.",
                "%(num)d submitted applications have no final decision yet.",
                len(missing),
            )
        )
    decisions = db.session.scalars(
        select(Decision)
        .options(
            selectinload(Decision.application)
            .selectinload(Application.partners)
            .joinedload(Partner.contact)
        )
        .where(Decision.call_id == call.id)
    ).all()
    call.decisions_released_at = utcnow()
    sent = 0
    for decision in decisions:
        application = decision.application
        for partner in application.partners:
            contact = partner.contact
            queue_mail(
                contact.email,
                "decision_notice",
                contact.locale,
                _l("Decision on your application %(reference)s", reference=application.reference),
                user=contact,
                application=application,
                decision=decision,
                call=call,
                call_title=call.text("title", contact.locale).text,
                appeals_close_at=call.appeals_close_at,
                link=external_url("applications.view", application_id=application.id) + "#decision",
            )
            sent += 1
    record(
        actor,
        "decisions.released",
        call,
        {
            "decisions": len(decisions),
            "messages": sent,
            "appeals_close_at": call.appeals_close_at,
        },
        call_id=call.id,
    )
    seal(call, "decisions_final")
    return len(decisions)


# --- released comments, appeals -----------------------------------------------------------


def set_comments_released(actor: User, assignment: Assignment, released: bool) -> None:
    """The chair releases (or withholds) a review's comments to the applicants, anonymised."""
    lock(assignment)
    if is_conflicted_with(actor, assignment.application):
        raise OperationError(
            _l("You have a conflict of interest with this application: you cannot act on it.")
        )
    submitted = [r for r in assignment.reviews if r.status == "submitted"]
    if released and not submitted:
        raise OperationError(_l("Only a submitted review's comments can be released."))
    version = submitted[-1].version if released else None
    if assignment.comments_released == released and assignment.released_version == version:
        return
    assignment.comments_released = released
    assignment.released_version = version
    record(
        actor,
        "review.comments_released" if released else "review.comments_withheld",
        assignment,
        {
            "application_id": assignment.application_id,
            "reviewer_id": assignment.reviewer_id,
            "version": version,
        },
        call_id=assignment.call_id,
    )


def lodge_appeal(actor: User, application: Application, grounds: str) -> Appeal:
    """The lead appeals on procedural grounds within the window."""
    lock(application)
    call = application.call
    if not call.appeals_open():
        raise OperationError(_l("The appeal window of this call is closed."))
    if application.status != "submitted" or _final_decision(application) is None:
        raise OperationError(_l("Only a final decision can be appealed."))
    if db.session.scalar(select(Appeal.id).where(Appeal.application_id == application.id)):
        raise OperationError(_l("An appeal has already been lodged for this application."))
    grounds = grounds.strip()
    if len(grounds) < 20:
        raise OperationError(
            _l("Describe the procedural grounds of the appeal (at least 20 characters)."),
            "grounds",
        )
    appeal = Appeal(
        call_id=call.id, application_id=application.id, grounds=grounds, lodged_by_id=actor.id
    )
    db.session.add(appeal)
    db.session.flush()
    record(
        actor,
        "appeal.lodged",
        application,
        {"appeal_id": appeal.id, "grounds": grounds},
        call_id=call.id,
    )
    return appeal


def decide_appeal(actor: User, appeal: Appeal, outcome: str, note: str) -> None:
    """An officer records the appeal's outcome; the lead is told in its language."""
    lock(appeal)
    if appeal.status != "lodged":
        raise OperationError(_l("The outcome of this appeal has been recorded."))
    if outcome not in APPEAL_OUTCOMES:
        raise OperationError(_l("Choose an outcome from the list."), "outcome")
    if not can_decide_on(actor, appeal.application):
        raise OperationError(_l("You may not decide on this application."))
    decision = _final_decision(appeal.application)
    if decision is not None and actor.id in (decision.proposed_by_id, decision.reviewed_by_id):
        raise OperationError(
            _l("An officer who did not take the decision records the outcome of its appeal.")
        )
    note = note.strip()
    if not note:
        raise OperationError(_l("Explain the outcome to the applicants."), "note")
    appeal.status = outcome
    appeal.outcome_note = note
    appeal.decided_by_id = actor.id
    appeal.decided_at = utcnow()
    application = appeal.application
    record(
        actor,
        "appeal.decided",
        application,
        {"appeal_id": appeal.id, "outcome": outcome, "note": note},
        call_id=appeal.call_id,
    )
    contact = application.lead.contact
    queue_mail(
        contact.email,
        "appeal_outcome",
        contact.locale,
        _l("Outcome of your appeal on %(reference)s", reference=application.reference),
        user=contact,
        application=application,
        appeal=appeal,
        link=external_url("applications.view", application_id=application.id) + "#decision",
    )


# --- publication ---------------------------------------------------------------------------


def publish_results(actor: User, call: Call) -> None:
    """Publish the final decisions of a call: the public results page, the open data and
    the public log become available, stored as they stand now; a tree head is signed."""
    lock(call)
    if call.decisions_released_at is None:
        raise OperationError(_l("Send the decisions to the applicants before publishing them."))
    if call.results_published_at is not None:
        raise OperationError(_l("The results of this call are already published."))
    decisions = db.session.scalars(
        select(Decision)
        .options(selectinload(Decision.application))
        .where(Decision.call_id == call.id, Decision.status == APPROVED)
    ).all()
    runs = sorted({d.run_id for d in decisions if d.run_id is not None})
    if not runs:
        raise OperationError(_l("No final decision comes from a ranking run."))
    call.results_published_at = utcnow()
    awards = {
        d.application.reference or str(d.application_id): str(d.amount)
        for d in decisions
        if d.outcome == "funded"
    }
    record(
        actor,
        "call.results_published",
        call,
        {"run": runs[-1], "funded": sorted(awards), "awards": awards},
        call_id=call.id,
    )
    # What the public sees is stored now and never read from live rows again. Imported here:
    # the records read this module's helpers (requested_amount, stored_inputs).
    from grants.transparency.records import store_published_records

    store_published_records(call)
    seal(call, "published")
