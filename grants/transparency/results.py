"""What the public results page, the API and the open data show about a published call.

:func:`results_for` computes the results from the live rows once, when they are published;
:func:`to_data` and :func:`from_data` turn them into the stored record and back, so that what
the public sees never depends on rows that change later (``grants.transparency.records``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from grants.applications.models import Application, Partner
from grants.calls.models import Call
from grants.decisions.models import APPROVED, Decision, RankingRun
from grants.decisions.operations import requested_amount, stored_inputs
from grants.domain import ranking as rk
from grants.domain.countries import region_of
from grants.domain.equity import MobilityFlow, mobility_balance
from grants.domain.texts import LocalText, pick_text
from grants.extensions import db
from grants.reviews.models import Conflict, PanelMember, ReviewerProfile

CENT = Decimal("0.01")
ASIA, EUROPE = "142", "150"


@dataclass(frozen=True)
class CriterionFacts:
    """A criterion as it stood at publication: its names in every language and threshold."""

    id: int
    name: dict[str, str]
    threshold: Decimal | None

    def text(self, field: str, locale: str, default_language: str) -> LocalText:
        """The name in ``locale`` with fallback, as ``Criterion.text``."""
        assert field == "name"
        return pick_text(self.name, [locale], default_language)


@dataclass(frozen=True)
class CallFacts:
    """What the results show of the call, as it stood at publication."""

    id: int
    title: dict[str, str]
    default_language: str
    funder_name: str
    currency: str
    budget_envelope: Decimal
    equity_weight: Decimal
    results_pseudonymous: bool
    results_published_at: datetime
    criteria: list[CriterionFacts]

    def text(self, field: str, locale: str) -> LocalText:
        """The title in ``locale`` with fallback, as ``Call.text``."""
        assert field == "title"
        return pick_text(self.title, [locale, locale.split("_")[0]], self.default_language)


@dataclass(frozen=True)
class RunFacts:
    """The ranking run the decisions came from."""

    id: int
    method: str
    seed: str
    inputs_hash: str
    line: int
    lottery_group: list[str]


@dataclass(frozen=True)
class DrawFacts:
    """The lottery of that run, when lots were drawn."""

    seed_commitment: str
    seed: str
    order: list[str]


@dataclass(frozen=True)
class FundedProject:
    reference: str
    title: str
    partners: list[tuple[str, str]]  # (organisation name, country code), lead first
    amount: Decimal
    requested: Decimal
    artforms: list[str]


@dataclass(frozen=True)
class RankedApplication:
    key: str
    name: str | None  # the title, or None when the call publishes unfunded ones by reference
    rank: int
    passes: bool
    quality: Decimal  # Q (Q_adj under the reviewer-adjusted method), docs/scoring.md
    score: Decimal  # R = quality x equity multiplier
    outcome: str | None
    criteria: dict[str, Decimal]
    # Under the expected-rank method: the mean rank over the samples and its 50% interval.
    expected_rank: Decimal | None = None
    interval: tuple[int, int] | None = None


@dataclass(frozen=True)
class GroupFigures:
    """Partners of one tier or region: how many applied, how many were funded, the money."""

    key: Any
    partners: int
    funded: int
    awarded: Decimal

    @property
    def success_rate(self) -> Decimal:
        return Decimal(self.funded) / Decimal(self.partners) if self.partners else Decimal(0)


@dataclass
class Results:
    call: CallFacts
    run: RunFacts
    draw: DrawFacts | None
    funded: list[FundedProject]
    ranked: list[RankedApplication]
    total_awarded: Decimal
    by_tier: list[GroupFigures]
    by_region: list[GroupFigures]
    mobility_index: Decimal | None
    panel_size: int
    panel_artforms: list[tuple[str, int]]
    panel_languages: list[tuple[str, int]]
    panel_regions: list[tuple[str, int]]
    named_reviewers: list[str]
    conflicts: dict[str, int] = field(default_factory=dict)
    # False only in records stored before the expected-rank method showed the documented Q:
    # their "quality" is the model's posterior mean, and the page says so.
    quality_is_q: bool = True


def _share(partner: Partner) -> Decimal:
    return partner.grant_requested * partner.rate


def results_for(call: Call) -> Results | None:
    """The published results, or None while the call's results are not published."""
    if call.results_published_at is None:
        return None
    decisions = {
        d.application_id: d
        for d in db.session.scalars(
            select(Decision).where(Decision.call_id == call.id, Decision.status == APPROVED)
        )
    }
    run_id = max((d.run_id for d in decisions.values() if d.run_id is not None), default=None)
    run = db.session.scalar(
        select(RankingRun).options(joinedload(RankingRun.draw)).where(RankingRun.id == run_id)
    )
    if run is None:
        return None
    applications = db.session.scalars(
        select(Application)
        .options(
            selectinload(Application.partners).joinedload(Partner.organisation),
            selectinload(Application.flows),
        )
        .where(Application.call_id == call.id, Application.status == "submitted")
        .order_by(Application.reference)
    ).all()
    by_reference = {a.reference: a for a in applications}
    outcome = {a.reference: decisions[a.id].outcome for a in applications if a.id in decisions}

    funded = []
    for application in applications:
        decision = decisions.get(application.id)
        if decision is None or decision.outcome != "funded":
            continue
        partners = sorted(application.partners, key=lambda p: (not p.is_lead, p.position))
        funded.append(
            FundedProject(
                reference=application.reference or "",
                title=application.title,
                partners=[(p.organisation.name, p.organisation.country) for p in partners],
                amount=decision.amount,
                requested=requested_amount(application),
                artforms=list(application.artforms or []),
            )
        )

    items, criteria, _scale = stored_inputs(run)
    scores = {item.key: rk.criterion_scores(item, criteria) for item in items}
    ranked = []
    for row in run.result["applications"]:
        key = row["key"]
        quality, score = row["quality"], row["score"]
        expected_rank, interval = None, None
        methods = row.get("methods") or {}
        if run.method == rk.EXPECTED_RANK and rk.RAW in methods:
            # The documented Q and R (the model's posterior means are not Q), beside the
            # expected rank and its 50% interval that ordered the applications.
            quality, score = methods[rk.RAW]["quality"], methods[rk.RAW]["score"]
            chosen = methods.get(rk.EXPECTED_RANK) or {}
            if chosen.get("expected_rank") is not None:
                expected_rank = Decimal(chosen["expected_rank"])
            if chosen.get("interval"):
                interval = (int(chosen["interval"][0]), int(chosen["interval"][1]))
        application = by_reference.get(key)
        shown = application is not None and (
            not call.results_pseudonymous or outcome.get(key) == "funded"
        )
        ranked.append(
            RankedApplication(
                key=key,
                name=application.title if shown and application else None,
                rank=row["rank"],
                passes=row["passes"],
                quality=Decimal(quality).quantize(Decimal("0.001")),
                score=Decimal(score).quantize(Decimal("0.001")),
                outcome=outcome.get(key),
                criteria={
                    c: (Decimal(v.numerator) / Decimal(v.denominator)).quantize(CENT)
                    for c, v in scores.get(key, {}).items()
                },
                expected_rank=expected_rank,
                interval=interval,
            )
        )

    policy = call.equity_policy()
    tiers: dict[Any, list[Any]] = {}
    regions: dict[Any, list[Any]] = {}
    flows = []
    for application in applications:
        decision = decisions.get(application.id)
        is_funded = decision is not None and decision.outcome == "funded"
        total = sum((_share(p) for p in application.partners), Decimal(0))
        for partner in application.partners:
            share = (
                decision.amount * _share(partner) / total
                if is_funded and decision is not None and total
                else Decimal(0)
            )
            country = partner.organisation.country
            for table, key in (
                (tiers, policy.tier_of(country)),
                (regions, region_of(country)),
            ):
                row = table.setdefault(key, [0, 0, Decimal(0)])
                row[0] += 1
                row[1] += is_funded
                row[2] += share
        if is_funded:
            flows += [
                MobilityFlow(f.from_country, f.to_country, f.people, f.days)
                for f in application.flows
            ]
    balance = mobility_balance(flows, region_of).get((ASIA, EUROPE))

    members = db.session.execute(
        select(PanelMember, ReviewerProfile)
        .join(ReviewerProfile, ReviewerProfile.user_id == PanelMember.user_id, isouter=True)
        .options(joinedload(PanelMember.user))
        .where(PanelMember.call_id == call.id, PanelMember.status == "active")
    ).all()
    artforms: Counter[str] = Counter()
    languages: Counter[str] = Counter()
    member_regions: Counter[str] = Counter()
    named = []
    for member, profile in members:
        if profile is not None:
            artforms.update(set(profile.expertise or {}))  # reviewers, not levels
            languages.update(profile.languages or [])
            member_regions[(region_of(profile.country) if profile.country else None) or ""] += 1
        if member.consent_to_be_named and member.user is not None:
            named.append(member.user.name)
    conflicts = dict(
        db.session.execute(
            select(Conflict.source, func.count())
            .where(Conflict.call_id == call.id)
            .group_by(Conflict.source)
        )
        .tuples()
        .all()
    )

    def figures(table: dict[Any, list[Any]]) -> list[GroupFigures]:
        return [
            GroupFigures(key, row[0], row[1], row[2].quantize(CENT))
            for key, row in sorted(table.items(), key=lambda kv: (kv[0] is None, str(kv[0])))
        ]

    draw = run.draw if run.draw is not None and run.draw.drawn_at is not None else None
    return Results(
        call=CallFacts(
            id=call.id,
            title=dict(call.title or {}),
            default_language=call.default_language,
            funder_name=call.funder.name,
            currency=call.currency,
            budget_envelope=call.budget_envelope,
            equity_weight=Decimal(call.equity_weight),
            results_pseudonymous=call.results_pseudonymous,
            results_published_at=call.results_published_at,
            criteria=[CriterionFacts(c.id, dict(c.name or {}), c.threshold) for c in call.criteria],
        ),
        run=RunFacts(
            id=run.id,
            method=run.method,
            seed=run.seed,
            inputs_hash=run.inputs_hash,
            line=run.result["line"],
            lottery_group=list(run.result["lottery_group"]),
        ),
        draw=None
        if draw is None
        else DrawFacts(
            seed_commitment=draw.seed_commitment, seed=draw.seed, order=list(draw.order)
        ),
        funded=funded,
        ranked=ranked,
        total_awarded=sum((f.amount for f in funded), Decimal(0)),
        by_tier=figures(tiers),
        by_region=figures(regions),
        mobility_index=None if balance is None else balance.index,
        panel_size=len(members),
        panel_artforms=sorted(artforms.items(), key=lambda kv: (-kv[1], kv[0])),
        panel_languages=sorted(languages.items(), key=lambda kv: (-kv[1], kv[0])),
        panel_regions=sorted(member_regions.items(), key=lambda kv: (-kv[1], kv[0])),
        named_reviewers=sorted(named),
        conflicts=conflicts,
    )


# --- the stored record -----------------------------------------------------------------------


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _undec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def to_data(results: Results) -> dict[str, Any]:
    """The results as JSON data (decimals as strings, times in ISO 8601), for the record."""
    call, run, draw = results.call, results.run, results.draw
    return {
        "call": {
            "id": call.id,
            "title": call.title,
            "default_language": call.default_language,
            "funder_name": call.funder_name,
            "currency": call.currency,
            "budget_envelope": _dec(call.budget_envelope),
            "equity_weight": _dec(call.equity_weight),
            "results_pseudonymous": call.results_pseudonymous,
            "results_published_at": call.results_published_at.isoformat(),
            "criteria": [
                {"id": c.id, "name": c.name, "threshold": _dec(c.threshold)} for c in call.criteria
            ],
        },
        "run": {
            "id": run.id,
            "method": run.method,
            "seed": run.seed,
            "inputs_hash": run.inputs_hash,
            "line": run.line,
            "lottery_group": run.lottery_group,
        },
        "draw": None
        if draw is None
        else {"seed_commitment": draw.seed_commitment, "seed": draw.seed, "order": draw.order},
        "funded": [
            {
                "reference": f.reference,
                "title": f.title,
                "partners": [list(p) for p in f.partners],
                "amount": _dec(f.amount),
                "requested": _dec(f.requested),
                "artforms": f.artforms,
            }
            for f in results.funded
        ],
        "ranked": [
            {
                "key": r.key,
                "name": r.name,
                "rank": r.rank,
                "passes": r.passes,
                "quality": _dec(r.quality),
                "score": _dec(r.score),
                "outcome": r.outcome,
                "criteria": {k: _dec(v) for k, v in r.criteria.items()},
                "expected_rank": _dec(r.expected_rank),
                "interval": None if r.interval is None else list(r.interval),
            }
            for r in results.ranked
        ],
        "quality_is_q": results.quality_is_q,
        "total_awarded": _dec(results.total_awarded),
        "by_tier": [_figures_data(f) for f in results.by_tier],
        "by_region": [_figures_data(f) for f in results.by_region],
        "mobility_index": _dec(results.mobility_index),
        "panel_size": results.panel_size,
        "panel_artforms": [list(p) for p in results.panel_artforms],
        "panel_languages": [list(p) for p in results.panel_languages],
        "panel_regions": [list(p) for p in results.panel_regions],
        "named_reviewers": results.named_reviewers,
        "conflicts": results.conflicts,
    }


def _figures_data(figures: GroupFigures) -> dict[str, Any]:
    return {
        "key": figures.key,
        "partners": figures.partners,
        "funded": figures.funded,
        "awarded": _dec(figures.awarded),
    }


def _figures(data: dict[str, Any]) -> GroupFigures:
    return GroupFigures(data["key"], data["partners"], data["funded"], Decimal(data["awarded"]))


def from_data(data: dict[str, Any]) -> Results:
    """The results from their stored JSON data (the inverse of :func:`to_data`)."""
    call, run, draw = data["call"], data["run"], data["draw"]
    return Results(
        call=CallFacts(
            id=call["id"],
            title=call["title"],
            default_language=call["default_language"],
            funder_name=call["funder_name"],
            currency=call["currency"],
            budget_envelope=Decimal(call["budget_envelope"]),
            equity_weight=Decimal(call["equity_weight"]),
            results_pseudonymous=call["results_pseudonymous"],
            results_published_at=datetime.fromisoformat(call["results_published_at"]),
            criteria=[
                CriterionFacts(c["id"], c["name"], _undec(c["threshold"])) for c in call["criteria"]
            ],
        ),
        run=RunFacts(**run),
        draw=None if draw is None else DrawFacts(**draw),
        funded=[
            FundedProject(
                reference=f["reference"],
                title=f["title"],
                partners=[(name, country) for name, country in f["partners"]],
                amount=Decimal(f["amount"]),
                requested=Decimal(f["requested"]),
                artforms=f["artforms"],
            )
            for f in data["funded"]
        ],
        ranked=[
            RankedApplication(
                key=r["key"],
                name=r["name"],
                rank=r["rank"],
                passes=r["passes"],
                quality=Decimal(r["quality"]),
                score=Decimal(r["score"]),
                outcome=r["outcome"],
                criteria={k: Decimal(v) for k, v in r["criteria"].items()},
                expected_rank=_undec(r.get("expected_rank")),
                interval=None if not r.get("interval") else (r["interval"][0], r["interval"][1]),
            )
            for r in data["ranked"]
        ],
        quality_is_q=data.get("quality_is_q", data["run"]["method"] != rk.EXPECTED_RANK),
        total_awarded=Decimal(data["total_awarded"]),
        by_tier=[_figures(f) for f in data["by_tier"]],
        by_region=[_figures(f) for f in data["by_region"]],
        mobility_index=_undec(data["mobility_index"]),
        panel_size=data["panel_size"],
        panel_artforms=[(k, n) for k, n in data["panel_artforms"]],
        panel_languages=[(k, n) for k, n in data["panel_languages"]],
        panel_regions=[(k, n) for k, n in data["panel_regions"]],
        named_reviewers=data["named_reviewers"],
        conflicts=data["conflicts"],
    )
