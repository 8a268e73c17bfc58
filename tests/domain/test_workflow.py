"""Call phases and publication checks."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from grants.domain.workflow import CallFacts, CallPhase, Problem, call_phase, publication_problems

OPENS = datetime(2026, 3, 1, tzinfo=UTC)
CLOSES = datetime(2026, 4, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "now", "phase"),
    [
        ("draft", OPENS + timedelta(days=1), CallPhase.DRAFT),
        ("published", OPENS - timedelta(seconds=1), CallPhase.UPCOMING),
        ("published", OPENS, CallPhase.OPEN),
        ("published", CLOSES - timedelta(microseconds=1), CallPhase.OPEN),
        ("published", CLOSES, CallPhase.CLOSED),
    ],
)
def test_call_phase_boundaries(status, now, phase):
    """Opening time is open; closing time itself is closed."""
    assert call_phase(status, OPENS, CLOSES, now) is phase


def facts(**overrides):
    """Facts of a call that is ready to publish."""
    base = {
        "opens_at": OPENS,
        "closes_at": CLOSES,
        "now": OPENS - timedelta(days=1),
        "has_title_in_default_language": True,
        "has_summary_in_default_language": True,
        "criteria_weights": (Decimal(1),),
        "grant_min": Decimal(1),
        "grant_max": Decimal(10),
        "budget_envelope": Decimal(100),
        "artform_count": 1,
        "language_count": 1,
    }
    return CallFacts(**{**base, **overrides})


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"has_title_in_default_language": False}, Problem.NO_TITLE),
        ({"has_summary_in_default_language": False}, Problem.NO_SUMMARY),
        ({"closes_at": OPENS}, Problem.CLOSES_BEFORE_OPENING),
        ({"now": CLOSES}, Problem.ALREADY_CLOSED),
        ({"criteria_weights": ()}, Problem.NO_CRITERIA),
        ({"criteria_weights": (Decimal(1), Decimal(0))}, Problem.ZERO_WEIGHT),
        ({"grant_min": Decimal(20)}, Problem.GRANT_RANGE),
        ({"budget_envelope": Decimal(5)}, Problem.ENVELOPE_TOO_SMALL),
        ({"artform_count": 0}, Problem.NO_ARTFORMS),
        ({"language_count": 0}, Problem.NO_LANGUAGES),
    ],
)
def test_publication_problems_name_each_gap(overrides, problem):
    """Each missing piece is reported on its own."""
    assert publication_problems(facts(**overrides)) == [problem]


def test_a_complete_call_has_no_problems():
    """Nothing stops a complete call."""
    assert publication_problems(facts()) == []
