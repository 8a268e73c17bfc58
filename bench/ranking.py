"""Benchmark of the three ranking methods on a generated call.

Run: ``.venv/bin/python bench/ranking.py [--applications N] [--draws N] [--methods ...]
[--seed N]``. ``bench/README.md`` explains every figure. Each method is timed on its own: one
call of ``rank`` with ``compare`` set to that method alone, so the shared work (validation,
exact raw scores, the inputs hash, the ties) is inside every time.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from grants.domain.ranking import (
    DEFAULT_BURN_IN,
    DEFAULT_DRAWS,
    EXPECTED_RANK,
    METHODS,
    ApplicationScores,
    CriterionSpec,
    RankingResult,
    Scale,
    rank,
)

REVIEWS = 3
REVIEWERS_PER_APPLICATION = 0.2  # 2,000 reviewers for 10,000 applications
SCALE = Scale(Decimal(0), Decimal(5), Decimal("0.5"))
CRITERIA = (
    CriterionSpec("artistic_quality", Decimal("0.5"), threshold=Decimal("2.5")),
    CriterionSpec("partnership", Decimal("0.3")),
    CriterionSpec("feasibility", Decimal("0.2")),
)
SEVERITY_SD = 0.5  # reviewer bias on the raw 0-5 scale
NOISE_SD = 0.6  # per review and criterion
FUNDED_SHARE = 0.15  # the budget is this share of the total requested
REQUESTED = (10_000, 200_000, 1_000)  # lowest, highest, step
RANKING_SEED = 0


@dataclass(frozen=True)
class Call:
    """A generated call: its applications, the reviewers' true severities and the budget."""

    applications: list[ApplicationScores]
    severity: dict[str, float]
    budget: Decimal


def _score(value: float) -> Decimal:
    """A value rounded to the scale's step and clipped to its bounds."""
    step = float(SCALE.step)
    clipped = min(float(SCALE.maximum), max(float(SCALE.minimum), value))
    return SCALE.minimum + SCALE.step * round((clipped - float(SCALE.minimum)) / step)


def generate(n_apps: int, seed: int) -> Call:
    """A call with 3 reviews per application by reviewers of varying severity."""
    rng = random.Random(seed)
    n_revs = max(REVIEWS, round(n_apps * REVIEWERS_PER_APPLICATION))
    reviewers = [f"rev{j:04d}" for j in range(n_revs)]
    severity = {r: rng.gauss(0.0, SEVERITY_SD) for r in reviewers}
    applications = []
    low, high, step = REQUESTED
    for i in range(n_apps):
        merit = rng.gauss(3.0, 0.8)
        truth = {c.key: merit + rng.gauss(0.0, 0.4) for c in CRITERIA}
        reviews = {
            r: {c: _score(t + severity[r] + rng.gauss(0.0, NOISE_SD)) for c, t in truth.items()}
            for r in rng.sample(reviewers, REVIEWS)
        }
        applications.append(
            ApplicationScores(
                key=f"app{i:05d}",
                reviews=reviews,
                multiplier=Decimal(rng.randint(100, 110)) / 100,
                equity_index=Decimal(rng.randint(0, 100)) / 100,
                countries=rng.randint(2, 6),
                requested=Decimal(rng.randrange(low, high + 1, step)),
            )
        )
    total = sum((a.requested for a in applications), Decimal(0))
    budget = (total * Decimal(str(FUNDED_SHARE))).quantize(Decimal(1))
    return Call(applications, severity, budget)


def _peak_mb() -> float:
    """The process's peak resident memory so far, in MB (ru_maxrss is in kB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def show(method: str, result: RankingResult, seconds: float, call: Call, draws: int) -> None:
    """Print the figures of one method's run."""
    label = method
    if method == EXPECTED_RANK:
        label += f" ({draws:,} draws + {DEFAULT_BURN_IN:,} burn-in"
        label += ", the default)" if draws == DEFAULT_DRAWS else f"; default {DEFAULT_DRAWS:,})"
    passing = sum(a.passes_thresholds for a in result.applications)
    print(f"== {label}")
    print(f"   time                  {seconds:.1f} s")
    print(f"   peak memory so far    {_peak_mb():,.0f} MB")
    print(
        f"   funded                {len(result.funded):,} of {len(result.applications):,}"
        f" ({passing:,} pass the thresholds); line after rank {result.line:,};"
        f" budget left {result.remaining:,}"
    )
    if method == EXPECTED_RANK:
        print(
            f"   lottery group         {len(result.lottery_group):,} applications,"
            f" {result.lottery_places:,} places"
        )
    if result.reviewer_bias:
        keys = sorted(result.reviewer_bias)
        fitted = np.array([float(result.reviewer_bias[k]) for k in keys])
        true = np.array([call.severity[k] for k in keys])
        print(
            f"   reviewer biases       {len(keys):,}; correlation with the true severities"
            f" {np.corrcoef(fitted, true)[0, 1]:.3f}"
        )


def main(argv: list[str] | None = None) -> int:
    """Generate one call and time each method asked on it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=10_000)
    parser.add_argument("--draws", type=int, default=DEFAULT_DRAWS, help="expected_rank draws")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--seed", type=int, default=1, help="call seed (ranking seed is 0)")
    args = parser.parse_args(argv)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        parser.error(f"unknown methods {unknown}; choose from {', '.join(METHODS)}")
    if args.applications < 1 or args.draws < 1:
        parser.error("--applications and --draws must be >= 1")
    print(f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores")
    start = time.perf_counter()
    call = generate(args.applications, args.seed)
    reviewers = len({r for a in call.applications for r in a.reviews})
    print(
        f"call: {len(call.applications):,} applications, {REVIEWS * len(call.applications):,}"
        f" reviews by {reviewers:,} reviewers, budget {call.budget:,}"
        f" (generated in {time.perf_counter() - start:.1f} s; peak memory {_peak_mb():,.0f} MB)"
    )
    for method in methods:
        start = time.perf_counter()
        result = rank(
            call.applications,
            CRITERIA,
            SCALE,
            call.budget,
            method=method,
            seed=RANKING_SEED,
            compare=(method,),
            draws=args.draws,
        )
        show(method, result, time.perf_counter() - start, call, args.draws)
    return 0


if __name__ == "__main__":
    sys.exit(main())
