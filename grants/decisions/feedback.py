"""What applicants are told once the decisions are sent: outcome, amount, scores against
the thresholds, released comments (anonymised), the equity assessment and the rank band."""

from __future__ import annotations

import string
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from grants.applications.models import Application
from grants.applications.operations import equity_assessment
from grants.calls.models import Criterion
from grants.decisions.models import APPROVED, Appeal, Decision
from grants.decisions.operations import stored_inputs
from grants.domain import ranking as rk
from grants.domain.equity import EquityAssessment
from grants.extensions import db
from grants.reviews.models import Assignment, Conflict

CENT = Decimal("0.01")


@dataclass(frozen=True)
class CriterionFeedback:
    """One criterion: the panel's consensus (or the mean of the reviews) and its threshold."""

    criterion: Criterion
    score: Decimal | None
    threshold: Decimal | None
    from_consensus: bool

    @property
    def meets_threshold(self) -> bool | None:
        if self.threshold is None or self.score is None:
            return None
        return self.score >= self.threshold


@dataclass(frozen=True)
class ReleasedComments:
    """A reviewer's comments, released by the chair, under a letter instead of a name."""

    label: str
    comments: dict[int, str]


@dataclass(frozen=True)
class Feedback:
    decision: Decision
    criteria: list[CriterionFeedback]
    comments: list[ReleasedComments]
    equity: EquityAssessment
    band: str | None
    appeal: Appeal | None


def _scores(
    decision: Decision, application: Application
) -> tuple[dict[str, Decimal], set[str], str | None]:
    """Per-criterion raw scores, criteria decided by consensus, and the rank band, from the
    ranking run the decision was proposed from."""
    run = decision.run
    if run is None:
        return {}, set(), None
    key = application.reference or str(application.id)
    items, criteria, _scale = stored_inputs(run)
    item = next((i for i in items if i.key == key), None)
    if item is None:
        return {}, set(), None
    scores = {
        k: (Decimal(v.numerator) / Decimal(v.denominator)).quantize(CENT)
        for k, v in rk.criterion_scores(item, criteria).items()
    }
    consensus = set(item.consensus or {})
    ranked = run.result.get("applications", [])
    passing = sum(1 for a in ranked if a["passes"])
    mine = next((a for a in ranked if a["key"] == key), None)
    band = None if mine is None else rk.rank_band(mine["rank"], passing, mine["passes"])
    return scores, consensus, band


def feedback_for(application: Application) -> Feedback | None:
    """The feedback shown to the partnership, or None before the decisions are sent."""
    call = application.call
    if call.decisions_released_at is None:
        return None
    decision = db.session.scalar(
        select(Decision)
        .options(selectinload(Decision.run))
        .where(Decision.application_id == application.id, Decision.status == APPROVED)
    )
    if decision is None:
        return None
    scores, consensus, band = _scores(decision, application)
    criteria = [
        CriterionFeedback(
            criterion=c,
            score=scores.get(str(c.id)),
            threshold=c.threshold,
            from_consensus=str(c.id) in consensus,
        )
        for c in call.criteria
    ]
    conflicted = select(Conflict.reviewer_id).where(Conflict.application_id == application.id)
    released = db.session.scalars(
        select(Assignment)
        .options(selectinload(Assignment.reviews))
        .where(
            Assignment.application_id == application.id,
            Assignment.comments_released.is_(True),
            Assignment.reviewer_id.not_in(conflicted),
        )
        .order_by(Assignment.id)
    ).all()
    comments = []
    for assignment in released:
        # The version the chair released, not a later amendment.
        review = next(
            (r for r in assignment.reviews if r.version == assignment.released_version), None
        )
        if review is None or review.status != "submitted" or not review.comments:
            continue
        label = string.ascii_uppercase[len(comments) % 26]
        comments.append(
            ReleasedComments(
                label=label, comments={int(k): v for k, v in review.comments.items() if v}
            )
        )
    appeal = db.session.scalar(select(Appeal).where(Appeal.application_id == application.id))
    return Feedback(
        decision=decision,
        criteria=criteria,
        comments=comments,
        equity=equity_assessment(application),
        band=band,
        appeal=appeal,
    )
