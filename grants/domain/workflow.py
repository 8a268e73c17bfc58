"""Workflow states of a call, computed from its status and its opening and closing times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum


class CallStatus(StrEnum):
    """What the officer has done with a call."""

    DRAFT = "draft"
    PUBLISHED = "published"


class CallPhase(StrEnum):
    """Where a call stands for applicants at a given moment."""

    DRAFT = "draft"
    UPCOMING = "upcoming"
    OPEN = "open"
    CLOSED = "closed"


def call_phase(status: str, opens_at: datetime, closes_at: datetime, now: datetime) -> CallPhase:
    """The phase at ``now`` (all times timezone-aware). Closing time itself is closed."""
    if status != CallStatus.PUBLISHED:
        return CallPhase.DRAFT
    if now < opens_at:
        return CallPhase.UPCOMING
    if now < closes_at:
        return CallPhase.OPEN
    return CallPhase.CLOSED


@dataclass(frozen=True)
class CallFacts:
    """What must be known about a call to decide whether it can be published."""

    opens_at: datetime
    closes_at: datetime
    now: datetime
    has_title_in_default_language: bool
    has_summary_in_default_language: bool
    criteria_weights: tuple[Decimal, ...]
    grant_min: Decimal
    grant_max: Decimal
    budget_envelope: Decimal
    artform_count: int
    language_count: int


class Problem(StrEnum):
    """Reasons a call cannot be published (translated by the page that shows them)."""

    NO_TITLE = "no_title"
    NO_SUMMARY = "no_summary"
    CLOSES_BEFORE_OPENING = "closes_before_opening"
    ALREADY_CLOSED = "already_closed"
    NO_CRITERIA = "no_criteria"
    ZERO_WEIGHT = "zero_weight"
    GRANT_RANGE = "grant_range"
    ENVELOPE_TOO_SMALL = "envelope_too_small"
    NO_ARTFORMS = "no_artforms"
    NO_LANGUAGES = "no_languages"


def publication_problems(facts: CallFacts) -> list[Problem]:
    """Everything that stops a call from being published; empty when it is ready."""
    problems: list[Problem] = []
    if not facts.has_title_in_default_language:
        problems.append(Problem.NO_TITLE)
    if not facts.has_summary_in_default_language:
        problems.append(Problem.NO_SUMMARY)
    if facts.closes_at <= facts.opens_at:
        problems.append(Problem.CLOSES_BEFORE_OPENING)
    elif facts.closes_at <= facts.now:
        problems.append(Problem.ALREADY_CLOSED)
    if not facts.criteria_weights:
        problems.append(Problem.NO_CRITERIA)
    elif any(weight <= 0 for weight in facts.criteria_weights):
        problems.append(Problem.ZERO_WEIGHT)
    if facts.grant_min > facts.grant_max:
        problems.append(Problem.GRANT_RANGE)
    if facts.budget_envelope < facts.grant_max:
        problems.append(Problem.ENVELOPE_TOO_SMALL)
    if facts.artform_count == 0:
        problems.append(Problem.NO_ARTFORMS)
    if facts.language_count == 0:
        problems.append(Problem.NO_LANGUAGES)
    return problems
