"""Reviewer assignment: the right experts, free of conflicts, reading the application's languages.

``assign`` pairs applications with reviewers of a call's panel. The rules, the match score, the
weights and the solver are explained for funders in ``docs/assignment.md``; this module is their
one implementation.

Hard rules, never broken (a broken one raises ``RuntimeError`` instead of being returned):

* no pair of a reviewer with an application they are in conflict with;
* the reviewer reads every language the application is written in;
* no reviewer above their ``max_load``; at most one pair per application and reviewer;
* each application gets ``reviews_per_application`` reviewers wherever the panel allows it, and
  otherwise as many as possible (the assignment is a maximum flow), with the shortfall reported.

Coverage, met wherever the panel makes it possible and reported with its reason where not: at
least one assigned reviewer at level 3 (expert) in each of the application's artforms, and at
least one from each region of its partnership.

Goal: maximise the total match, then balance loads. The match of a pair is the sum over the
application's artforms of the reviewer's level in it (0 where they have none).

Method (see ``docs/assignment.md`` for why): a minimum-cost maximum flow (OR-tools
``SimpleMinCostFlow``) whose application side rewards the first expert in each artform and
whose reviewer side charges rising costs for each further review (balance); a repair that
swaps reviewers to meet the coverage the flow left unmet, without breaking a hard rule or
uncovering anything elsewhere; then a second flow that keeps the reviewers each application
needs for its coverage and chooses the others again for match, and the repair once more.

The seed only breaks ties: it fixes the order in which applications and reviewers enter the
solver and the repair. The same inputs and seed give the same result, whatever the order of
the inputs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import numpy.typing as npt
import ortools  # type: ignore[import-untyped]
from ortools.graph.python import min_cost_flow  # type: ignore[import-untyped]

EXPERT_LEVEL = 3
"""Expertise levels: 1 familiar, 2 practitioner, 3 expert."""
LEVELS = (1, 2, EXPERT_LEVEL)

# Requirements an application may have unmet.
REVIEWS = "reviews"  # detail: how many reviews are missing
ARTFORM_EXPERT = "artform_expert"  # detail: the artform
REGION = "region"  # detail: the region (M49 code)
LANGUAGE = "language"  # detail: the language that no reviewer free of conflict reads

# Why a requirement is unmet.
NOT_ENOUGH_ELIGIBLE_REVIEWERS = "not_enough_eligible_reviewers"
"""Fewer eligible reviewers (free of conflict, reading every language) than reviews asked."""
NO_EXPERT_AVAILABLE = "no_expert_available"
"""No eligible reviewer is an expert in the artform."""
NO_REVIEWER_FROM_REGION = "no_reviewer_from_region"
"""No eligible reviewer comes from the region."""
NO_READER = "no_reader"
"""No reviewer free of conflict with the application reads the language."""
CAPACITY = "capacity"
"""Eligible reviewers exist, but every one of them not assigned is at their maximum load."""
REVIEW_SLOTS = "review_slots"
"""Eligible reviewers with free capacity exist, but the application's reviews are all needed
for its other requirements: no swap of one reviewer for such a reviewer meets more of them."""
NOT_ASSIGNED = "not_assigned"
"""Could be met by adding or swapping in a reviewer with free capacity. ``assign`` never leaves
this; ``report`` says it of hand-made assignments."""

Pair = tuple[str, str]
"""(application key, reviewer key)."""

_BoolArray = npt.NDArray[np.bool_]
_IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class ApplicationNeeds:
    """What an application asks of its reviewers: artforms, languages, partnership regions."""

    key: str
    artforms: frozenset[str]
    languages: frozenset[str]
    regions: frozenset[str]

    def __post_init__(self) -> None:
        for name in ("artforms", "languages", "regions"):
            value = getattr(self, name)
            if isinstance(value, str):
                raise ValueError(f"{name} of application {self.key} must be a set of strings")
            object.__setattr__(self, name, frozenset(value))


@dataclass(frozen=True)
class Reviewer:
    """A panel member: expertise (artform -> level 1..3), languages read, region, maximum load."""

    key: str
    expertise: Mapping[str, int] = field(hash=False)  # a read-only mapping is not hashable
    languages: frozenset[str]
    region: str | None
    max_load: int

    def __post_init__(self) -> None:
        for artform, level in self.expertise.items():
            if isinstance(level, bool) or level not in LEVELS:
                raise ValueError(
                    f"level of reviewer {self.key} in {artform} must be 1, 2 or 3, got {level!r}"
                )
        if isinstance(self.max_load, bool) or not isinstance(self.max_load, int):
            raise ValueError(f"max_load of reviewer {self.key} must be an integer")
        if self.max_load < 0:
            raise ValueError(f"max_load of reviewer {self.key} must be 0 or more")
        if isinstance(self.languages, str):
            raise ValueError(f"languages of reviewer {self.key} must be a set of strings")
        # Read-only copies: the reviewer is frozen, so its values must not change behind its back.
        object.__setattr__(self, "expertise", MappingProxyType(dict(self.expertise)))
        object.__setattr__(self, "languages", frozenset(self.languages))


@dataclass(frozen=True)
class Unmet:
    """A requirement of an application that the assignment does not meet, and why.

    ``requirement`` is one of ``reviews``, ``artform_expert``, ``region``, ``language``;
    ``reason`` a plain code (see the module constants); ``detail`` the artform, region or
    language concerned, or for ``reviews`` the number of reviews missing. Pages translate them.
    """

    requirement: str
    reason: str
    detail: str = ""


@dataclass(frozen=True)
class AssignmentResult:
    """The pairs, what each application misses, the loads and the quality of the assignment.

    ``unmet`` and ``loads`` have an entry for every application and every reviewer.
    ``upper_bound`` bounds ``total_match`` from above: the sum over applications of their
    best eligible match scores, as many as reviews are asked, ignoring loads.
    """

    pairs: tuple[Pair, ...]
    unmet: Mapping[str, tuple[Unmet, ...]]
    loads: Mapping[str, int]
    total_match: int
    upper_bound: int
    solver: str
    seed: int = 0
    _by_application: Mapping[str, tuple[str, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        grouped: dict[str, list[str]] = {}
        for application, reviewer in self.pairs:
            grouped.setdefault(application, []).append(reviewer)
        object.__setattr__(
            self, "_by_application", {key: tuple(value) for key, value in grouped.items()}
        )

    def reviewers_of(self, application: str) -> tuple[str, ...]:
        """The reviewers assigned to an application, sorted by key."""
        return self._by_application.get(application, ())

    @property
    def complete(self) -> bool:
        """True when every application has everything it asks for."""
        return not any(self.unmet.values())


# --- the panel as arrays ---------------------------------------------------------------------


def _rank(seed: int, kind: str, key: str) -> bytes:
    """A stable pseudo-random sort key for ties (the same on every machine and version)."""
    return hashlib.blake2b(f"{seed}\x1f{kind}\x1f{key}".encode(), digest_size=8).digest()


# A requirement of an application: (0, artform index) or (1, region index).
_Req = tuple[int, int]
_ART, _REG = 0, 1


class _Panel:
    """Applications, reviewers and conflicts as index arrays, ordered by their seeded rank.

    Row ``a`` of the (applications x reviewers) matrices is application ``a`` of ``apps``,
    column ``r`` reviewer ``r`` of ``revs``.
    """

    def __init__(
        self,
        applications: Iterable[ApplicationNeeds],
        reviewers: Iterable[Reviewer],
        conflicts: Iterable[tuple[str, str]],
        reviews_per_application: int,
        seed: int,
    ) -> None:
        if isinstance(reviews_per_application, bool) or not isinstance(
            reviews_per_application, int
        ):
            raise ValueError("reviews_per_application must be an integer")
        if reviews_per_application < 0:
            raise ValueError("reviews_per_application must be 0 or more")
        apps = list(applications)
        revs = list(reviewers)
        if len({a.key for a in apps}) != len(apps):
            raise ValueError("application keys must be unique")
        if len({r.key for r in revs}) != len(revs):
            raise ValueError("reviewer keys must be unique")
        apps.sort(key=lambda a: (_rank(seed, "a", a.key), a.key))
        revs.sort(key=lambda r: (_rank(seed, "r", r.key), r.key))
        self.k = reviews_per_application
        self.apps = apps
        self.revs = revs
        self.app_index = {a.key: i for i, a in enumerate(apps)}
        self.rev_index = {r.key: i for i, r in enumerate(revs)}
        n_apps, n_revs = len(apps), len(revs)

        self.artforms = sorted(
            {f for a in apps for f in a.artforms} | {f for r in revs for f in r.expertise}
        )
        art_index = {f: i for i, f in enumerate(self.artforms)}
        self.regions = sorted({g for a in apps for g in a.regions})
        region_index = {g: i for i, g in enumerate(self.regions)}
        languages = sorted({lang for a in apps for lang in a.languages})
        lang_index = {lang: i for i, lang in enumerate(languages)}

        level = np.zeros((n_revs, len(self.artforms)), dtype=np.int64)
        reads = np.zeros((n_revs, len(languages)), dtype=np.bool_)
        self.rev_region = np.full(n_revs, -1, dtype=np.int64)
        for r, rev in enumerate(revs):
            for f, lv in rev.expertise.items():
                level[r, art_index[f]] = lv
            for lang in rev.languages:
                if lang in lang_index:
                    reads[r, lang_index[lang]] = True
            if rev.region is not None and rev.region in region_index:
                self.rev_region[r] = region_index[rev.region]
        self.expert: _BoolArray = level == EXPERT_LEVEL
        self.cap = np.array([rev.max_load for rev in revs], dtype=np.int64)
        self.rev_experts: list[frozenset[int]] = [
            frozenset(int(f) for f in np.flatnonzero(self.expert[r])) for r in range(n_revs)
        ]

        asks = np.zeros((n_apps, len(self.artforms)), dtype=np.int64)
        self.reqs: list[tuple[_Req, ...]] = []
        for a, app in enumerate(apps):
            arts = sorted(art_index[f] for f in app.artforms)
            asks[a, arts] = 1
            self.reqs.append(
                tuple((_ART, f) for f in arts)
                + tuple((_REG, region_index[g]) for g in sorted(app.regions))
            )
        # Match of every pair: the sum over the application's artforms of the reviewer's level.
        self.match: _IntArray = asks @ level.T

        # Readers of all of an application's languages, computed once per language set.
        self.free: _BoolArray = np.ones((n_apps, n_revs), dtype=np.bool_)
        language_sets: dict[frozenset[str], int] = {}
        set_of_app = np.array(
            [language_sets.setdefault(app.languages, len(language_sets)) for app in apps],
            dtype=np.int64,
        )
        readers = np.ones((len(language_sets), n_revs), dtype=np.bool_)
        for language_set, i in language_sets.items():
            for lang in language_set:
                readers[i] &= reads[:, lang_index[lang]]
        self.reads_all: _BoolArray = readers[set_of_app]
        self.reads = reads
        self.lang_index = lang_index
        for reviewer_key, application_key in conflicts:
            a_i = self.app_index.get(application_key)
            r_i = self.rev_index.get(reviewer_key)
            if a_i is not None and r_i is not None:
                self.free[a_i, r_i] = False
        self.eligible: _BoolArray = self.free & self.reads_all

        self._masks: dict[_Req, _BoolArray] = {}

    def covers_mask(self, req: _Req) -> _BoolArray:
        """Reviewers who meet a requirement (expert in the artform, or from the region)."""
        mask = self._masks.get(req)
        if mask is None:
            kind, index = req
            mask = self.expert[:, index] if kind == _ART else self.rev_region == index
            self._masks[req] = mask
        return mask

    def covers(self, r: int, req: _Req) -> bool:
        """Whether reviewer ``r`` meets a requirement."""
        kind, index = req
        return index in self.rev_experts[r] if kind == _ART else self.rev_region[r] == index

    def coverage(self, a: int, members: Iterable[int]) -> int:
        """How many coverage requirements of application ``a`` a set of reviewers meets."""
        team = tuple(members)
        return sum(1 for req in self.reqs[a] if any(self.covers(r, req) for r in team))

    def describe(self, req: _Req) -> Unmet:
        """The requirement code and detail of a coverage requirement, reason left empty."""
        kind, index = req
        if kind == _ART:
            return Unmet(ARTFORM_EXPERT, "", self.artforms[index])
        return Unmet(REGION, "", self.regions[index])


# --- the flow --------------------------------------------------------------------------------


def _flow(
    panel: _Panel,
    eligible: _BoolArray,
    demand: _IntArray,
    used: _IntArray,
    rewarded: Sequence[Sequence[int]],
) -> list[list[int]]:
    """A maximum flow of minimum cost: new reviewers for each application.

    Application ``a`` asks for ``demand[a]`` reviewers among ``eligible[a]``; reviewer ``r``
    already has ``used[r]`` reviews; ``rewarded[a]`` lists the artforms whose first expert
    earns the coverage reward.

    Nodes: source, sink, one per application, one per (application, expert group), one per
    reviewer. Each application's eligible reviewers are split into groups: experts in its
    rarest rewarded artform, experts in the next (not already grouped), ..., and the rest.
    The arcs application -> group carry the coverage reward on their first unit only, so the
    flow gains it once per artform. Every group -> reviewer arc has capacity 1: no pair twice.
    Each reviewer -> sink has one arc per free review slot, the j-th review costing j: loads
    spread evenly.
    """
    n_apps, n_revs = len(panel.apps), len(panel.revs)
    k = int(demand.max(initial=0))
    if k == 0 or n_revs == 0:
        return [[] for _ in range(n_apps)]
    free = np.maximum(panel.cap - used, 0)
    slots = np.minimum(free, eligible.sum(axis=0))
    longest = int((used + slots).max(initial=0))
    # Weights: one point of match outweighs any difference of load cost between two reviewers'
    # next slots; one artform covered outweighs any difference of match between two reviewers.
    match_weight = longest + 1
    most_artforms = max((len(a.artforms) for a in panel.apps), default=0)
    coverage_weight = match_weight * (EXPERT_LEVEL * most_artforms + 1)
    experts_per_artform = panel.expert.sum(axis=0)

    source, sink = 0, 1
    app_node0 = 2
    next_node = app_node0 + n_apps
    group_tails: list[int] = []
    group_heads: list[int] = []
    group_caps: list[int] = []
    group_costs: list[int] = []
    pair_tails: list[_IntArray] = []
    pair_heads: list[_IntArray] = []
    pair_costs: list[_IntArray] = []
    pair_apps: list[_IntArray] = []
    for a in range(n_apps):
        k = int(demand[a])
        row = np.flatnonzero(eligible[a])
        if row.size == 0 or k == 0:
            continue
        group = np.full(row.size, -1, dtype=np.int64)
        arts = sorted(rewarded[a], key=lambda f: (int(experts_per_artform[f]), f))
        for f in arts:
            members = panel.expert[row, f] & (group < 0)
            if members.any():
                node = next_node
                next_node += 1
                group[members] = node
                group_tails.append(app_node0 + a)
                group_heads.append(node)
                group_caps.append(1)
                group_costs.append(-coverage_weight)
                if k > 1:
                    group_tails.append(app_node0 + a)
                    group_heads.append(node)
                    group_caps.append(k - 1)
                    group_costs.append(0)
        rest = group < 0
        if rest.any():
            node = next_node
            next_node += 1
            group[rest] = node
            group_tails.append(app_node0 + a)
            group_heads.append(node)
            group_caps.append(k)
            group_costs.append(0)
        pair_tails.append(group)
        pair_heads.append(row)
        pair_costs.append(-match_weight * panel.match[a, row])
        pair_apps.append(np.full(row.size, a, dtype=np.int64))
    rev_node0 = next_node
    if not pair_tails:
        return [[] for _ in range(n_apps)]

    solver = min_cost_flow.SimpleMinCostFlow()

    def add(tails: _IntArray, heads: _IntArray, caps: _IntArray, costs: _IntArray) -> None:
        if tails.size:
            solver.add_arcs_with_capacity_and_unit_cost(
                tails.astype(np.int32),
                heads.astype(np.int32),
                caps.astype(np.int64),
                costs.astype(np.int64),
            )

    add(
        np.full(n_apps, source, dtype=np.int64),
        app_node0 + np.arange(n_apps, dtype=np.int64),
        demand.astype(np.int64),
        np.zeros(n_apps, dtype=np.int64),
    )
    add(
        np.array(group_tails, dtype=np.int64),
        np.array(group_heads, dtype=np.int64),
        np.array(group_caps, dtype=np.int64),
        np.array(group_costs, dtype=np.int64),
    )
    first_pair_arc = n_apps + len(group_tails)
    tails = np.concatenate(pair_tails)
    heads = np.concatenate(pair_heads)
    apps_of_arc = np.concatenate(pair_apps)
    add(tails, rev_node0 + heads, np.ones(tails.size, dtype=np.int64), np.concatenate(pair_costs))
    slot_rev = np.repeat(np.arange(n_revs, dtype=np.int64), slots)
    slot_number = np.arange(slot_rev.size, dtype=np.int64) - np.repeat(
        np.cumsum(slots) - slots, slots
    )
    add(
        rev_node0 + slot_rev,
        np.full(slot_rev.size, sink, dtype=np.int64),
        np.ones(slot_rev.size, dtype=np.int64),
        used[slot_rev] + slot_number + 1,
    )
    total = int(demand.sum())
    solver.set_node_supply(source, total)
    solver.set_node_supply(sink, -total)
    status = solver.solve_max_flow_with_min_cost()
    if status != solver.OPTIMAL:
        raise RuntimeError(f"the minimum-cost flow solver failed: {status}")
    flows = np.asarray(
        solver.flows(np.arange(first_pair_arc, first_pair_arc + tails.size, dtype=np.int32))
    )
    chosen = np.flatnonzero(flows > 0)
    assigned: list[list[int]] = [[] for _ in range(n_apps)]
    for a, r in zip(apps_of_arc[chosen].tolist(), heads[chosen].tolist(), strict=True):
        assigned[a].append(r)
    return assigned


# --- the repair ------------------------------------------------------------------------------


class _State:
    """An assignment being repaired: members per application, applications and load per reviewer."""

    def __init__(self, panel: _Panel, assigned: list[list[int]]) -> None:
        self.panel = panel
        self.members = assigned
        self.apps_of: list[list[int]] = [[] for _ in panel.revs]
        for a, team in enumerate(assigned):
            for r in team:
                self.apps_of[r].append(a)
        self.load = np.array([len(x) for x in self.apps_of], dtype=np.int64)
        self.spare: _BoolArray = self.load < panel.cap

    def _set_load(self, r: int, delta: int) -> None:
        self.load[r] += delta
        self.spare[r] = self.load[r] < self.panel.cap[r]

    def add(self, a: int, r: int) -> None:
        self.members[a].append(r)
        self.apps_of[r].append(a)
        self._set_load(r, 1)

    def remove(self, a: int, r: int) -> None:
        self.members[a].remove(r)
        self.apps_of[r].remove(a)
        self._set_load(r, -1)

    def unmet(self, a: int) -> list[_Req]:
        """The coverage requirements of application ``a`` that its reviewers do not meet."""
        team = self.members[a]
        return [
            req for req in self.panel.reqs[a] if not any(self.panel.covers(r, req) for r in team)
        ]

    def outsiders(self, a: int, mask: _BoolArray) -> _IntArray:
        """Eligible reviewers of ``a`` in ``mask`` not assigned to it, best match first."""
        candidates = mask & self.panel.eligible[a]
        candidates[self.members[a]] = False
        found = np.flatnonzero(candidates)
        # Best match first, then the least loaded; ties keep the seeded reviewer order.
        order = np.lexsort((found, self.load[found], -self.panel.match[a, found]))
        return found[order]


def _best_swap(state: _State, a: int, candidates: _IntArray) -> tuple[int, int | None] | None:
    """The swap (in, out) from ``candidates`` that meets most of ``a``'s coverage, if it gains.

    ``out`` is None when the application has a free review slot. Among equal coverage the
    higher match wins, then the earlier candidate.
    """
    panel = state.panel
    team = state.members[a]
    before = panel.coverage(a, team)
    best: tuple[int, int, int, int | None] | None = None  # (coverage, match, in, out)
    seen: set[tuple[bool, ...]] = set()
    for r in candidates.tolist():
        # Candidates meeting the same requirements are interchangeable for coverage: the first
        # (best match, least loaded) stands for all of them.
        signature = tuple(panel.covers(r, req) for req in panel.reqs[a])
        if signature in seen:
            continue
        seen.add(signature)
        outs: list[int | None] = [None] if len(team) < panel.k else list(team)
        for s in outs:
            after = panel.coverage(a, [m for m in team if m != s] + [r])
            if after <= before:
                continue
            gain = int(panel.match[a, r]) - (0 if s is None else int(panel.match[a, s]))
            if best is None or (after, gain) > (best[0], best[1]):
                best = (after, gain, r, s)
    return None if best is None else (best[2], best[3])


def _eject(state: _State, a: int, req: _Req, tries: int) -> bool:
    """Meet ``req`` of ``a`` with a fully loaded reviewer, moving one of their reviews on.

    The reviewer r leaves an application b for a; b takes instead a reviewer t with free
    capacity (or the reviewer that a lets go) who meets everything r alone met for b.
    """
    panel = state.panel
    team = state.members[a]
    before = panel.coverage(a, team)
    full = state.outsiders(a, panel.covers_mask(req) & ~state.spare)
    for r in full[:tries].tolist():
        outs: list[int | None]
        if len(team) < panel.k:
            outs = [None]
        else:
            outs = [
                s for s in team if panel.coverage(a, [m for m in team if m != s] + [r]) > before
            ]
            outs.sort(key=lambda s: int(panel.match[a, s]))  # let the weakest match go first
        if not outs:
            continue
        for b in sorted(state.apps_of[r]):
            others = [m for m in state.members[b] if m != r]
            lost = [
                q
                for q in panel.reqs[b]
                if panel.covers(r, q) and not any(panel.covers(m, q) for m in others)
            ]
            mask = state.spare.copy()
            for q in lost:
                mask &= panel.covers_mask(q)
            found = state.outsiders(b, mask)
            if found.size:
                _move(state, a, b, r, outs[0], int(found[0]))
                return True
            for s in outs:
                if (
                    s is not None
                    and panel.eligible[b, s]
                    and s not in state.members[b]
                    and all(panel.covers(s, q) for q in lost)
                ):
                    _move(state, a, b, r, s, s)
                    return True
    return False


def _move(state: _State, a: int, b: int, r: int, s: int | None, t: int) -> None:
    """r moves from b to a; s leaves a; t joins b."""
    state.remove(b, r)
    state.add(b, t)
    if s is not None:
        state.remove(a, s)
    state.add(a, r)


def _repair(state: _State, tries: int = 40) -> None:
    """Swap reviewers until no application can meet more coverage by one swap or one move.

    Every step raises one application's coverage and lowers nobody's, keeps every hard rule
    and the number of pairs, so the loop ends.
    """
    panel = state.panel
    changed = True
    while changed:
        changed = False
        for a in range(len(panel.apps)):  # the seeded order
            while True:
                missing = state.unmet(a)
                if not missing:
                    break
                improved = False
                spare_mask = state.spare
                for req in missing:
                    swap = _best_swap(
                        state, a, state.outsiders(a, panel.covers_mask(req) & spare_mask)
                    )
                    if swap is not None:
                        r, s = swap
                        if s is not None:
                            state.remove(a, s)
                        state.add(a, r)
                        improved = True
                        break
                if not improved:
                    improved = any(_eject(state, a, req, tries) for req in missing)
                if not improved:
                    break
                changed = True


def _anchors(panel: _Panel, a: int, team: Sequence[int]) -> list[int]:
    """Few reviewers of ``a`` that together meet every requirement its team meets.

    Greedy: the reviewer meeting most of what is left first; ties go to the higher match,
    then to the team order.
    """
    left = [req for req in panel.reqs[a] if any(panel.covers(r, req) for r in team)]
    chosen: list[int] = []
    while left:
        best = max(
            (r for r in team if r not in chosen),
            key=lambda r: (sum(panel.covers(r, q) for q in left), int(panel.match[a, r])),
        )
        chosen.append(best)
        left = [q for q in left if not panel.covers(best, q)]
    return chosen


def _reoptimise(state: _State) -> _State:
    """Keep each application's anchors, then choose the rest again by one more flow.

    The anchors keep all coverage met; the flow maximises the match of the other reviews,
    which the repair's local swaps may have lowered, and never makes fewer pairs (the
    repaired assignment is one of its solutions).
    """
    panel = state.panel
    anchors = [_anchors(panel, a, team) for a, team in enumerate(state.members)]
    eligible = panel.eligible.copy()
    used = np.zeros(len(panel.revs), dtype=np.int64)
    rewarded: list[list[int]] = []
    for a, fixed in enumerate(anchors):
        eligible[a, fixed] = False
        used[fixed] += 1
        rewarded.append(
            [
                f
                for kind, f in panel.reqs[a]
                if kind == _ART and not any(panel.covers(r, (kind, f)) for r in fixed)
            ]
        )
    demand = np.array([panel.k - len(fixed) for fixed in anchors], dtype=np.int64)
    chosen = _flow(panel, eligible, demand, used, rewarded)
    return _State(panel, [fixed + more for fixed, more in zip(anchors, chosen, strict=True)])


def _fill(state: _State) -> None:
    """Give applications short of reviews any eligible reviewer with free capacity.

    After a maximum flow there is none; this keeps the rule true whatever came before.
    """
    panel = state.panel
    for a in range(len(panel.apps)):
        while len(state.members[a]) < panel.k:
            found = state.outsiders(a, state.spare)
            if not found.size:
                break
            state.add(a, int(found[0]))


# --- the report ------------------------------------------------------------------------------


def _report(state: _State) -> dict[str, tuple[Unmet, ...]]:
    """Every unmet requirement of every application, with its reason."""
    panel = state.panel
    k = panel.k
    result: dict[str, tuple[Unmet, ...]] = {}
    for a, app in enumerate(panel.apps):
        team = state.members[a]
        items: list[Unmet] = []
        if k > 0:
            if len(team) < k:
                outside = state.outsiders(a, np.ones(len(panel.revs), dtype=np.bool_))
                if int(panel.eligible[a].sum()) < k:
                    reason = NOT_ENOUGH_ELIGIBLE_REVIEWERS
                elif not state.spare[outside].any():
                    reason = CAPACITY
                else:
                    reason = NOT_ASSIGNED
                items.append(Unmet(REVIEWS, reason, str(k - len(team))))
            for lang in sorted(app.languages):
                readers = panel.reads[:, panel.lang_index[lang]] & panel.free[a]
                if not readers.any():
                    items.append(Unmet(LANGUAGE, NO_READER, lang))
            for req in state.unmet(a):
                mask = panel.covers_mask(req)
                eligible = mask & panel.eligible[a]
                spare = state.outsiders(a, mask & state.spare)
                if not eligible.any():
                    reason = NO_EXPERT_AVAILABLE if req[0] == _ART else NO_REVIEWER_FROM_REGION
                elif not spare.size:
                    reason = CAPACITY
                elif len(team) >= k and _best_swap(state, a, spare) is None:
                    reason = REVIEW_SLOTS
                else:
                    reason = NOT_ASSIGNED
                base = panel.describe(req)
                items.append(Unmet(base.requirement, reason, base.detail))
        result[app.key] = tuple(items)
    return result


def _violations(state: _State) -> list[str]:
    """Hard rules the state breaks (empty unless there is a bug)."""
    panel = state.panel
    found = []
    for a, team in enumerate(state.members):
        if len(set(team)) != len(team):
            found.append(f"duplicate pair for {panel.apps[a].key}")
        if len(team) > panel.k:
            found.append(f"too many reviewers for {panel.apps[a].key}")
        for r in team:
            if not panel.eligible[a, r]:
                found.append(f"{panel.revs[r].key} is not eligible for {panel.apps[a].key}")
    for r, load in enumerate(state.load.tolist()):
        if load > panel.cap[r]:
            found.append(f"{panel.revs[r].key} above max_load")
    return found


def _result(state: _State, solver: str, seed: int) -> AssignmentResult:
    panel = state.panel
    pairs = sorted(
        (panel.apps[a].key, panel.revs[r].key) for a, team in enumerate(state.members) for r in team
    )
    total = sum(int(panel.match[a, r]) for a, team in enumerate(state.members) for r in team)
    k = panel.k
    upper = 0
    if k and panel.match.size:
        scores = np.where(panel.eligible, panel.match, -1)
        width = min(k, scores.shape[1])
        best = -np.partition(-scores, width - 1, axis=1)[:, :width]
        upper = int(np.clip(best, 0, None).sum())
    return AssignmentResult(
        pairs=tuple(pairs),
        unmet=MappingProxyType(dict(sorted(_report(state).items()))),
        loads=MappingProxyType(
            dict(sorted((rev.key, int(state.load[r])) for r, rev in enumerate(panel.revs)))
        ),
        total_match=total,
        upper_bound=upper,
        solver=solver,
        seed=seed,
    )


SOLVER = f"min-cost flow + coverage repair (OR-tools {ortools.__version__} SimpleMinCostFlow)"


def assign(
    applications: Iterable[ApplicationNeeds],
    reviewers: Iterable[Reviewer],
    conflicts: Iterable[tuple[str, str]],
    reviews_per_application: int,
    seed: int = 0,
) -> AssignmentResult:
    """Assign reviewers to applications; see the module docstring and ``docs/assignment.md``.

    ``conflicts`` holds (reviewer key, application key) pairs; unknown keys are ignored.
    Raises ValueError on duplicate keys or a negative number of reviews, and RuntimeError if
    the solver fails or (a bug) a hard rule would be broken.
    """
    panel = _Panel(applications, reviewers, conflicts, reviews_per_application, seed)
    n_apps, n_revs = len(panel.apps), len(panel.revs)
    arts = [[f for kind, f in reqs if kind == _ART] for reqs in panel.reqs]
    first = _flow(
        panel,
        panel.eligible,
        np.full(n_apps, panel.k, dtype=np.int64),
        np.zeros(n_revs, dtype=np.int64),
        arts,
    )
    state = _State(panel, first)
    _fill(state)
    _repair(state)
    state = _reoptimise(state)
    _fill(state)
    _repair(state)
    broken = _violations(state)
    if broken:
        raise RuntimeError("assignment breaks a hard rule: " + "; ".join(broken[:5]))
    return _result(state, SOLVER, seed)


def report(
    applications: Iterable[ApplicationNeeds],
    reviewers: Iterable[Reviewer],
    conflicts: Iterable[tuple[str, str]],
    reviews_per_application: int,
    pairs: Iterable[Pair],
) -> Mapping[str, tuple[Unmet, ...]]:
    """The unmet requirements of any assignment, for instance one a chair has edited by hand.

    Raises ValueError when a pair breaks a hard rule or names an unknown key.
    """
    panel = _Panel(applications, reviewers, conflicts, reviews_per_application, 0)
    assigned: list[list[int]] = [[] for _ in panel.apps]
    for application_key, reviewer_key in pairs:
        if application_key not in panel.app_index or reviewer_key not in panel.rev_index:
            raise ValueError(f"unknown pair {(application_key, reviewer_key)!r}")
        assigned[panel.app_index[application_key]].append(panel.rev_index[reviewer_key])
    state = _State(panel, assigned)
    broken = _violations(state)
    if broken:
        raise ValueError("the pairs break a hard rule: " + "; ".join(broken[:5]))
    return MappingProxyType(dict(sorted(_report(state).items())))
