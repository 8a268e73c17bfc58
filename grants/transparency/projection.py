"""What of each audit entry goes into a call's public log: no personal data, reviewers as
per-call pseudonyms, applications by reference (docs/audit.md lists every action)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from grants.applications.models import Application
from grants.audit.models import AuditEntry
from grants.auth.models import User
from grants.extensions import db
from grants.transparency.keys import pseudonym

Projection = Callable[[AuditEntry], dict[str, Any] | None]


def application_key(application_id: int) -> str:
    """An application's public key: its reference (drafts have none and are never public)."""
    application = db.session.get(Application, application_id)
    if application is None or not application.reference:
        return f"application-{application_id}"
    return application.reference


def _call_id(entry: AuditEntry) -> int:
    assert entry.call_id is not None
    return entry.call_id


def _as_is(*keys: str) -> Projection:
    def project(entry: AuditEntry) -> dict[str, Any]:
        if not keys:
            return dict(entry.data)
        return {k: entry.data[k] for k in keys if k in entry.data}

    return project


def _application_only(entry: AuditEntry) -> dict[str, Any]:
    return {"application": application_key(int(entry.subject_id))}


def _money(value: Decimal) -> str:
    """A decimal string, exact and normalised (docs/audit.md): no exponent, no trailing zero."""
    return format(value.normalize(), "f")


def _submitted(entry: AuditEntry) -> dict[str, Any]:
    application = db.session.get(Application, int(entry.subject_id))
    assert application is not None
    policy = application.call.equity_policy()
    return {
        "application": application_key(application.id),
        "partners": len(application.partners),
        "countries": sorted({p.organisation.country for p in application.partners}),
        "artforms": sorted(application.artforms or []),
        # The equity inputs, so anyone can recompute the equity index (docs/equity.md):
        # each partner's money converted at its fixed rate, exactly, in the call's currency.
        "partner_budgets": [
            {
                "number": number,
                "country": p.organisation.country,
                "tier": policy.tier_of(p.organisation.country),
                "grant": _money(p.grant_requested * p.rate),
                "cash": _money(p.contribution_cash * p.rate),
                "in_kind": _money(p.contribution_in_kind * p.rate),
            }
            for number, p in enumerate(application.partners, start=1)
        ],
        "flows": [
            {"from": f.from_country, "to": f.to_country, "people": f.people, "days": f.days}
            for f in application.flows
        ],
    }


def _amount(entry: AuditEntry) -> dict[str, Any]:
    return {
        "application": application_key(int(entry.subject_id)),
        "requested": entry.data.get("requested"),
        "counted": entry.data.get("new"),
    }


def _pair(entry: AuditEntry) -> dict[str, Any]:
    return {
        "application": application_key(entry.data["application_id"]),
        "reviewer": pseudonym(_call_id(entry), entry.data["reviewer_id"]),
    }


def _pairs(entry: AuditEntry, key: str) -> list[dict[str, str]]:
    pairs = [
        {"application": application_key(a), "reviewer": pseudonym(_call_id(entry), r)}
        for a, r in entry.data.get(key) or []
    ]
    return sorted(pairs, key=lambda p: (p["application"], p["reviewer"]))


def _confirmed(entry: AuditEntry) -> dict[str, Any]:
    keys = ("pairs", "created", "unmet", "solver", "seed")
    return {
        **{k: entry.data[k] for k in keys if k in entry.data},
        "added": _pairs(entry, "added_pairs"),
        "removed": _pairs(entry, "removed_pairs"),
    }


def _set_aside(entry: AuditEntry) -> dict[str, Any]:
    return {
        **_pair(entry),
        "reason": entry.data["reason"],
        "versions": list(entry.data["versions"]),
        "submitted": list(entry.data["submitted"]),
    }


def _criterion(entry: AuditEntry) -> dict[str, Any]:
    """A criterion entry with the criterion's id (the key its scores are logged under) and
    its place; an added or removed criterion with its weight and threshold."""
    from grants.calls.models import Criterion
    from grants.calls.operations import criterion_data

    data = dict(entry.data)
    criterion = db.session.get(Criterion, int(entry.subject_id))
    if criterion is None:
        return {**data, "criterion": str(entry.subject_id)}
    current = criterion_data(criterion)
    if entry.action == "call.criterion_updated":
        # weight and threshold stay {"old", "new"} here, present when they changed.
        return {**data, "criterion": current["criterion"], "position": current["position"]}
    return {**data, **current}


def _policy_change(*keys: str) -> Projection:
    """An equity-policy entry with the whole policy in force after it (``policy``)."""

    def project(entry: AuditEntry) -> dict[str, Any]:
        from grants.calls.models import Call
        from grants.calls.operations import equity_policy_data

        call = db.session.get(Call, _call_id(entry))
        assert call is not None
        overrides = {o.country: o.tier for o in call.tier_overrides}
        if entry.action == "call.tier_override_removed":
            # Logged just before the row goes.
            overrides.pop(entry.data["country"], None)
        picked = {k: entry.data[k] for k in keys if k in entry.data} if keys else dict(entry.data)
        return {**picked, "policy": equity_policy_data(call, overrides)}

    return project


def _conflict(entry: AuditEntry) -> dict[str, Any]:
    return {**_pair(entry), "source": entry.data["source"], "reason": entry.data["reason"]}


def _joined(entry: AuditEntry) -> dict[str, Any] | None:
    from grants.reviews.models import PanelMember

    member = db.session.get(PanelMember, entry.data["member_id"])
    if member is None or member.user_id is None:
        return None
    return {"reviewer": pseudonym(member.call_id, member.user_id)}


def _review(entry: AuditEntry) -> dict[str, Any] | None:
    from grants.reviews.models import Assignment

    assignment = db.session.get(Assignment, entry.data["assignment_id"])
    if assignment is None:
        return None
    return {
        "application": application_key(assignment.application_id),
        "reviewer": pseudonym(assignment.call_id, assignment.reviewer_id),
        "version": entry.data["version"],
        "scores": dict(entry.data.get("scores") or {}),
    }


def _consensus(entry: AuditEntry) -> dict[str, Any]:
    return {
        "application": application_key(entry.data["application_id"]),
        "scores": dict(entry.data.get("new") or {}),
    }


def _run(entry: AuditEntry) -> dict[str, Any] | None:
    from grants.decisions.models import RankingRun

    run = db.session.get(RankingRun, entry.data["run_id"])
    if run is None:
        return None
    inputs = {k: v for k, v in run.inputs.items() if k != "labels"}
    parameters = {"budget": run.parameters["budget"]}
    if "sampler" in run.parameters:
        parameters["sampler"] = run.parameters["sampler"]
    return {
        "run": run.id,
        "method": run.method,
        "seed": run.seed,
        "commitment": run.seed_commitment,
        "inputs_hash": run.inputs_hash,
        "parameters": parameters,
        "inputs": inputs,
        "ranking": [_ranking_item(run.method, a) for a in run.result["applications"]],
        "funded": list(run.result["funded"]),
        "line": run.result["line"],
        "lottery_group": list(run.result["lottery_group"]),
        "lottery_places": run.result["lottery_places"],
    }


def _ranking_item(method: str, application: dict[str, Any]) -> dict[str, Any]:
    """One row of a run's ranking; an expected-rank run adds the expected rank and the 50%
    interval, from which anyone can check the order, the line and the lottery group."""
    item = {
        "key": application["key"],
        "rank": application["rank"],
        "passes": application["passes"],
        "funded": application["funded"],
    }
    if method == "expected_rank":
        numbers = application["methods"]["expected_rank"]
        item["expected_rank"] = numbers["expected_rank"]
        item["interval"] = list(numbers["interval"])
    return item


def _lottery_committed(entry: AuditEntry) -> dict[str, Any]:
    return {
        "run": entry.data["run_id"],
        "commitment": entry.data["commitment"],
        "group": entry.data["group"],
        "places": entry.data["places"],
    }


def _lottery_drawn(entry: AuditEntry) -> dict[str, Any]:
    return {
        "run": entry.data["run_id"],
        "seed": entry.data["seed"],
        "order": entry.data["order"],
        "funded": entry.data["funded"],
    }


def _decision(entry: AuditEntry) -> dict[str, Any]:
    return {
        "application": application_key(int(entry.subject_id)),
        "outcome": entry.data["outcome"],
        "amount": entry.data["amount"],
    }


def _appeal_decided(entry: AuditEntry) -> dict[str, Any]:
    return {"application": application_key(int(entry.subject_id)), "outcome": entry.data["outcome"]}


PROJECTIONS: dict[str, Projection] = {
    "call.published": _as_is(),
    "call.updated": _as_is(),
    "call.texts_updated": _as_is(),
    "call.criterion_added": _criterion,
    "call.criterion_updated": _criterion,
    "call.criterion_removed": _criterion,
    "call.question_added": _as_is(),
    "call.question_updated": _as_is(),
    "call.question_removed": _as_is(),
    "call.rate_set": _as_is("currency", "old", "new"),
    "call.rate_removed": _as_is(),
    "call.equity_policy_changed": _policy_change(),
    "call.tier_override_set": _policy_change("country", "old", "new", "default"),
    "call.tier_override_removed": _policy_change(),
    "application.submitted": _submitted,
    "application.withdrawn": _application_only,
    "application.amount_reduced": _amount,
    "application.amount_restored": _amount,
    "panel.reviewer_joined": _joined,
    "panel.conflict_recorded": _conflict,
    "panel.assignments_confirmed": _confirmed,
    "panel.assignment_added": _pair,
    "panel.assignment_removed": _pair,
    "review.submitted": _review,
    "review.set_aside": _set_aside,
    "panel.consensus_recorded": _consensus,
    "ranking.seed_committed": _as_is("method", "commitment"),
    "ranking.run": _run,
    "lottery.seed_committed": _lottery_committed,
    "lottery.drawn": _lottery_drawn,
    "decision.approved": _decision,
    "decisions.released": _as_is("decisions"),
    "appeal.lodged": _application_only,
    "appeal.decided": _appeal_decided,
    "call.results_published": _as_is(),
}


def public_actor(entry: AuditEntry) -> str:
    """Who acted, as the public may know it: a role, or a reviewer's pseudonym."""
    if entry.actor_id is None:
        return "system"
    from grants.calls.models import Call, FunderOfficer
    from grants.reviews.models import PanelMember

    call_id = _call_id(entry)
    on_panel = db.session.scalar(
        select(PanelMember.id).where(
            PanelMember.call_id == call_id, PanelMember.user_id == entry.actor_id
        )
    )
    if on_panel is not None:
        return pseudonym(call_id, entry.actor_id)
    call = db.session.get(Call, call_id)
    officer = call is not None and db.session.scalar(
        select(FunderOfficer.id).where(
            FunderOfficer.funder_id == call.funder_id, FunderOfficer.user_id == entry.actor_id
        )
    )
    if officer:
        return "officer"
    user = db.session.get(User, entry.actor_id)
    if user is not None and user.is_admin:
        return "administrator"
    return "applicant"


def subject(entry: AuditEntry) -> str:
    """The subject as the public may know it."""
    if entry.subject_type == "applications":
        return f"application:{application_key(int(entry.subject_id))}"
    if entry.subject_type == "calls":
        return f"call:{entry.subject_id}"
    return entry.subject_type.removesuffix("s")
