"""Benchmark of reviewer assignment on generated calls of three sizes.

Run: ``.venv/bin/python bench/assignment.py [--sizes small,medium,large] [--seed N]``.
``bench/README.md`` explains every figure. The checks of the hard rules here are independent of
``grants/domain/assignment.py``: they read only the generated inputs and the returned pairs.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from ortools.graph.python import min_cost_flow

from grants.domain.assignment import (
    EXPERT_LEVEL,
    ApplicationNeeds,
    AssignmentResult,
    Reviewer,
    assign,
)
from grants.domain.vocabulary import ARTFORMS

SIZES = {"small": (500, 100), "medium": (2_000, 400), "large": (10_000, 2_000)}
REVIEWS = 3
ASIA, EUROPE = "142", "150"  # UN M49 regions
ASIAN_LANGUAGES = ("ja", "th", "vi", "hi", "id", "ko", "zh")
EUROPEAN_LANGUAGES = ("fr", "de", "cs", "pl", "it", "es", "nl")
# Popular artforms come first: weights fall off along the vocabulary, as in real calls.
ARTFORM_WEIGHTS = (14, 10, 14, 12, 5, 7, 9, 5, 3, 6, 4, 6, 5)
CAPACITY_RATIO = (1.2, 1.5)  # total max_load over demand
CONFLICT_RATE = 0.01


@dataclass(frozen=True)
class Instance:
    """A generated call: its applications, panel and conflicts."""

    applications: list[ApplicationNeeds]
    reviewers: list[Reviewer]
    conflicts: list[tuple[str, str]]


def _artforms(rng: random.Random, count: int) -> frozenset[str]:
    chosen: set[str] = set()
    while len(chosen) < count:
        chosen.add(rng.choices(ARTFORMS, weights=ARTFORM_WEIGHTS)[0])
    return frozenset(chosen)


def generate(n_apps: int, n_revs: int, seed: int) -> Instance:
    """A call with realistic artform, language, region, load and conflict mixes."""
    rng = random.Random(seed)
    applications = []
    for i in range(n_apps):
        artforms = _artforms(rng, rng.choices((1, 2, 3), weights=(65, 30, 5))[0])
        regions = rng.choices(
            (frozenset({ASIA, EUROPE}), frozenset({ASIA}), frozenset({EUROPE})),
            weights=(90, 5, 5),
        )[0]
        # Mostly English; some add a partner's language, a few are written only in it.
        local = rng.choice(
            ASIAN_LANGUAGES if ASIA in regions and rng.random() < 0.6 else EUROPEAN_LANGUAGES
        )
        languages = rng.choices(
            (frozenset({"en"}), frozenset({"en", local}), frozenset({local})),
            weights=(75, 17, 8),
        )[0]
        applications.append(ApplicationNeeds(f"app{i:05d}", artforms, languages, regions))

    demand = n_apps * REVIEWS
    ratio = rng.uniform(*CAPACITY_RATIO)
    mean_load = demand * ratio / n_revs
    reviewers = []
    for j in range(n_revs):
        region = ASIA if rng.random() < 0.5 else EUROPE
        own = ASIAN_LANGUAGES if region == ASIA else EUROPEAN_LANGUAGES
        languages = {"en"} if rng.random() < 0.92 else set()
        languages.add(rng.choice(own))
        if rng.random() < 0.3:
            languages.add(rng.choice(ASIAN_LANGUAGES + EUROPEAN_LANGUAGES))
        artforms = _artforms(rng, rng.choice((1, 2, 3)))
        expertise = {f: rng.choices((1, 2, 3), weights=(3, 4, 3))[0] for f in sorted(artforms)}
        max_load = max(1, round(rng.uniform(0.7, 1.3) * mean_load))
        reviewers.append(Reviewer(f"rev{j:04d}", expertise, frozenset(languages), region, max_load))

    n_conflicts = round(CONFLICT_RATE * n_apps * n_revs)
    conflicts = {
        (f"rev{rng.randrange(n_revs):04d}", f"app{rng.randrange(n_apps):05d}")
        for _ in range(n_conflicts)
    }
    return Instance(applications, reviewers, sorted(conflicts))


@dataclass(frozen=True)
class Figures:
    """What the benchmark prints for one instance."""

    name: str
    n_apps: int
    n_revs: int
    seconds: float
    hard_checks: int
    hard_failures: int
    coverage_met: int
    coverage_total: int
    coverage_possible: int
    artform_met: int
    artform_total: int
    region_met: int
    region_total: int
    reviews_short: int
    total_match: int
    upper_bound: int
    best_match: int
    best_match_seconds: float
    max_load: int
    min_load: int
    mean_load: float
    capacity_ratio: float


def check(
    instance: Instance,
    result: AssignmentResult,
    name: str,
    seconds: float,
    best: tuple[int, float] = (0, 0.0),
) -> Figures:
    """Verify the hard rules and measure coverage from the inputs and the pairs alone."""
    apps = {a.key: a for a in instance.applications}
    revs = {r.key: r for r in instance.reviewers}
    conflicts = set(instance.conflicts)
    team: dict[str, list[str]] = {key: [] for key in apps}
    load: Counter[str] = Counter()
    checks = failures = 0
    for application_key, reviewer_key in result.pairs:
        app, rev = apps[application_key], revs[reviewer_key]
        checks += 2
        failures += (reviewer_key, application_key) in conflicts
        failures += not app.languages <= rev.languages
        team[application_key].append(reviewer_key)
        load[reviewer_key] += 1
    for key, rev in revs.items():
        checks += 1
        failures += load[key] > rev.max_load
    # Reviewers reading all of a language set, once per set; then per application only its
    # conflicts are taken out.
    readers: dict[frozenset[str], list[Reviewer]] = {}
    conflicted: dict[str, set[str]] = {}
    for reviewer_key, application_key in conflicts:
        conflicted.setdefault(application_key, set()).add(reviewer_key)
    short = 0
    art_met = art_total = reg_met = reg_total = possible = 0
    for key, app in apps.items():
        members = team[key]
        checks += 2
        failures += len(set(members)) != len(members) or len(members) > REVIEWS
        if app.languages not in readers:
            readers[app.languages] = [r for r in instance.reviewers if app.languages <= r.languages]
        against = conflicted.get(key, set())

        if len(members) < REVIEWS:
            short += 1
            # Fewer reviews only when the panel allows no more.
            pool = [r for r in readers[app.languages] if r.key not in against]
            spare = [r for r in pool if r.key not in members and load[r.key] < r.max_load]
            failures += len(pool) >= REVIEWS and bool(spare)
        team_revs = [revs[r] for r in members]
        for artform in app.artforms:
            art_met += any(r.expertise.get(artform) == EXPERT_LEVEL for r in team_revs)
            art_total += 1
            possible += any(
                r.expertise.get(artform) == EXPERT_LEVEL and r.key not in against
                for r in readers[app.languages]
            )
        for region in app.regions:
            reg_met += any(r.region == region for r in team_revs)
            reg_total += 1
            possible += any(
                r.region == region and r.key not in against for r in readers[app.languages]
            )
    met, total = art_met + reg_met, art_total + reg_total
    loads = [load[key] for key in revs]
    capacity = sum(r.max_load for r in instance.reviewers)
    return Figures(
        name=name,
        n_apps=len(apps),
        n_revs=len(revs),
        seconds=seconds,
        hard_checks=checks,
        hard_failures=failures,
        coverage_met=met,
        coverage_total=total,
        coverage_possible=possible,
        artform_met=art_met,
        artform_total=art_total,
        region_met=reg_met,
        region_total=reg_total,
        reviews_short=short,
        total_match=result.total_match,
        upper_bound=result.upper_bound,
        best_match=best[0],
        best_match_seconds=best[1],
        max_load=max(loads),
        min_load=min(loads),
        mean_load=sum(loads) / len(loads),
        capacity_ratio=capacity / (len(apps) * REVIEWS),
    )


def best_match(instance: Instance) -> tuple[int, float]:
    """The largest total match any assignment with the most pairs can have, coverage ignored.

    A plain bipartite flow, written here independently of the module: source -> application
    (capacity 3) -> reviewer (capacity 1, cost minus the match) -> sink (capacity max_load).
    Returns the match and the seconds it took.
    """
    start = time.perf_counter()
    apps, revs = instance.applications, instance.reviewers
    artforms = sorted(
        {f for a in apps for f in a.artforms} | {f for r in revs for f in r.expertise}
    )
    languages = sorted({lang for a in apps for lang in a.languages})
    level = np.array([[r.expertise.get(f, 0) for f in artforms] for r in revs], dtype=np.int64)
    asks = np.array([[f in a.artforms for f in artforms] for a in apps], dtype=np.int64)
    reads = np.array([[lang in r.languages for lang in languages] for r in revs], dtype=bool)
    needs = np.array([[lang in a.languages for lang in languages] for a in apps], dtype=bool)
    # A reviewer reads an application when they read every one of its languages.
    eligible = (needs.astype(np.int64) @ (~reads).astype(np.int64).T) == 0
    app_index = {a.key: i for i, a in enumerate(apps)}
    rev_index = {r.key: j for j, r in enumerate(revs)}
    for reviewer_key, application_key in instance.conflicts:
        eligible[app_index[application_key], rev_index[reviewer_key]] = False
    match = asks @ level.T
    a_idx, r_idx = np.nonzero(eligible)
    n_apps, n_revs = len(apps), len(revs)
    source, sink = n_apps + n_revs, n_apps + n_revs + 1
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        np.concatenate([np.full(n_apps, source), a_idx, n_apps + np.arange(n_revs)]).astype(
            np.int32
        ),
        np.concatenate([np.arange(n_apps), n_apps + r_idx, np.full(n_revs, sink)]).astype(np.int32),
        np.concatenate(
            [np.full(n_apps, REVIEWS), np.ones(a_idx.size), [r.max_load for r in revs]]
        ).astype(np.int64),
        np.concatenate([np.zeros(n_apps), -match[a_idx, r_idx], np.zeros(n_revs)]).astype(np.int64),
    )
    flow.set_node_supply(source, n_apps * REVIEWS)
    flow.set_node_supply(sink, -n_apps * REVIEWS)
    if flow.solve_max_flow_with_min_cost() != flow.OPTIMAL:
        raise RuntimeError("the reference flow failed")
    return -flow.optimal_cost(), time.perf_counter() - start


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.2f}%" if whole else "n/a"


def show(f: Figures) -> None:
    """Print the figures of one run."""
    print(f"== {f.name}: {f.n_apps:,} applications x {f.n_revs:,} reviewers")
    print(f"   time                  {f.seconds:.1f} s")
    print(
        f"   hard rules met        {_share(f.hard_checks - f.hard_failures, f.hard_checks)}"
        f" ({f.hard_failures} failures in {f.hard_checks:,} checks);"
        f" applications short of {REVIEWS} reviews: {f.reviews_short}"
    )
    print(
        f"   coverage met          {_share(f.coverage_met, f.coverage_total)}"
        f" ({f.coverage_met:,} of {f.coverage_total:,};"
        f" {f.coverage_possible:,} have an eligible reviewer:"
        f" {_share(f.coverage_met, f.coverage_possible)} of those)"
    )
    print(
        f"     artform experts     {_share(f.artform_met, f.artform_total)}"
        f" ({f.artform_met:,} of {f.artform_total:,})"
    )
    print(
        f"     regions             {_share(f.region_met, f.region_total)}"
        f" ({f.region_met:,} of {f.region_total:,})"
    )
    print(
        f"   total match           {f.total_match:,} of upper bound {f.upper_bound:,}"
        f" ({_share(f.total_match, f.upper_bound)})"
    )
    print(
        f"     best without coverage {f.best_match:,}: {_share(f.total_match, f.best_match)}"
        f" of it kept (reference flow {f.best_match_seconds:.1f} s)"
    )
    print(
        f"   load                  max {f.max_load}, min {f.min_load}, mean {f.mean_load:.2f}"
        f" (capacity {f.capacity_ratio:.2f} x demand)"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark for the sizes asked; exit status 1 if a hard rule is broken."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="small,medium,large")
    parser.add_argument("--seed", type=int, default=1, help="instance seed (solver seed is 0)")
    args = parser.parse_args(argv)
    names = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [n for n in names if n not in SIZES]
    if unknown:
        parser.error(f"unknown sizes {unknown}; choose from {', '.join(SIZES)}")
    print(f"python {platform.python_version()}, {platform.machine()}, {_cores()} cores")
    broken = False
    for name in names:
        n_apps, n_revs = SIZES[name]
        instance = generate(n_apps, n_revs, args.seed)
        start = time.perf_counter()
        result = assign(instance.applications, instance.reviewers, instance.conflicts, REVIEWS)
        seconds = time.perf_counter() - start
        figures = check(instance, result, name, seconds, best_match(instance))
        show(figures)
        broken |= figures.hard_failures > 0
    return 1 if broken else 0


def _cores() -> int | str:
    return os.cpu_count() or "?"


if __name__ == "__main__":
    sys.exit(main())
