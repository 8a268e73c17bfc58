"""Reviewer assignment: hard rules, coverage, the report of what is unmet, determinism.

The checks here are independent of ``grants/domain/assignment.py``: they read only the inputs
and the returned pairs, and compute eligibility, coverage, loads and maximum flows themselves.
"""

import random
from collections import Counter, deque
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grants.domain.assignment import (
    ApplicationNeeds,
    Reviewer,
    Unmet,
    assign,
    report,
)

# No deadline: the examples are fast, but a busy machine must not make them flaky.
unhurried = settings(deadline=None)
# Tests that call assign several times per example look at fewer examples.
fewer = settings(deadline=None, max_examples=50)

ASIA, EUROPE, AMERICAS = "142", "150", "019"


def app(key, artforms=("theatre",), languages=("en",), regions=(ASIA, EUROPE)):
    """An application with sensible defaults."""
    return ApplicationNeeds(key, frozenset(artforms), frozenset(languages), frozenset(regions))


def rev(key, expertise=None, languages=("en",), region=EUROPE, max_load=5):
    """A reviewer with sensible defaults."""
    return Reviewer(key, expertise or {}, frozenset(languages), region, max_load)


def team_of(result, key):
    """The reviewers assigned to one application."""
    return [r for a, r in result.pairs if a == key]


def unmet_of(result, key):
    """The unmet requirements of one application as (requirement, reason, detail) triples."""
    return {(u.requirement, u.reason, u.detail) for u in result.unmet[key]}


# --- hand-made panels ------------------------------------------------------------------------


def test_assign_reports_thai_application_without_thai_reader():
    """Nobody reads Thai: the application gets no reviewer and the report names the language."""
    apps = [app("thai", languages=("th",)), app("english")]
    revs = [rev(f"r{i}", {"theatre": 3}, region=(ASIA, EUROPE)[i % 2]) for i in range(4)]
    result = assign(apps, revs, [], 3)
    assert team_of(result, "thai") == []
    assert unmet_of(result, "thai") == {
        ("reviews", "not_enough_eligible_reviewers", "3"),
        ("language", "no_reader", "th"),
        ("artform_expert", "no_expert_available", "theatre"),
        ("region", "no_reviewer_from_region", ASIA),
        ("region", "no_reviewer_from_region", EUROPE),
    }
    assert len(team_of(result, "english")) == 3
    assert result.unmet["english"] == ()


def test_assign_needs_readers_of_every_language_of_the_application():
    """An application in English and Thai goes only to reviewers who read both."""
    apps = [app("a", languages=("en", "th"))]
    revs = [
        rev("en_only", {"theatre": 3}),
        rev("th_only", {"theatre": 3}, languages=("th",), region=ASIA),
        rev("both", {"theatre": 1}, languages=("en", "th"), region=ASIA),
    ]
    result = assign(apps, revs, [], 2)
    assert team_of(result, "a") == ["both"]
    assert unmet_of(result, "a") == {
        ("reviews", "not_enough_eligible_reviewers", "1"),
        ("artform_expert", "no_expert_available", "theatre"),
        ("region", "no_reviewer_from_region", EUROPE),
    }


def test_assign_never_pairs_a_conflicted_reviewer():
    """The only theatre expert is in conflict: someone else reviews, the gap is reported."""
    apps = [app("a", regions=(EUROPE,))]
    revs = [rev("expert", {"theatre": 3}), rev("other", {"theatre": 1})]
    result = assign(apps, revs, [("expert", "a")], 1)
    assert result.pairs == (("a", "other"),)
    assert unmet_of(result, "a") == {("artform_expert", "no_expert_available", "theatre")}


def test_assign_ignores_conflicts_of_unknown_keys():
    """A conflict naming someone outside the panel changes nothing."""
    apps = [app("a", regions=(EUROPE,))]
    revs = [rev("r", {"theatre": 3})]
    result = assign(apps, revs, [("ghost", "a"), ("r", "elsewhere")], 1)
    assert result.pairs == (("a", "r"),)


def test_assign_respects_max_load_and_reports_capacity():
    """Two reviewers of load 2 cannot give four applications two reviews each."""
    apps = [app(f"a{i}", regions=(EUROPE,)) for i in range(4)]
    revs = [rev("r0", {"theatre": 3}, max_load=2), rev("r1", {"theatre": 3}, max_load=2)]
    result = assign(apps, revs, [], 2)
    assert result.loads == {"r0": 2, "r1": 2}
    assert len(result.pairs) == 4
    shortfalls = [u for items in result.unmet.values() for u in items]
    assert Counter((u.requirement, u.reason) for u in shortfalls)[("reviews", "capacity")] >= 2
    for key in ("a0", "a1", "a2", "a3"):
        missing = 2 - len(team_of(result, key))
        if missing:
            assert Unmet("reviews", "capacity", str(missing)) in result.unmet[key]


def test_assign_reviewer_with_no_load_gets_nothing():
    """max_load 0 keeps a reviewer off every application; the gap is capacity."""
    apps = [app("a", regions=(EUROPE,))]
    revs = [rev("resting", {"theatre": 3}, max_load=0)]
    result = assign(apps, revs, [], 1)
    assert result.pairs == ()
    assert unmet_of(result, "a") == {
        ("reviews", "capacity", "1"),
        ("artform_expert", "capacity", "theatre"),
        ("region", "capacity", EUROPE),
    }


def test_assign_gives_the_requested_number_by_moving_reviewers_around():
    """A maximum flow: b can only have r1, so a takes r2 even though r1 matches a better."""
    apps = [app("a", regions=()), app("b", regions=())]
    revs = [rev("r1", {"theatre": 3}, max_load=1), rev("r2", {"theatre": 1}, max_load=1)]
    result = assign(apps, revs, [("r2", "b")], 1)
    assert set(result.pairs) == {("a", "r2"), ("b", "r1")}
    assert unmet_of(result, "a") == {("artform_expert", "capacity", "theatre")}
    assert result.unmet["b"] == ()


def test_assign_covers_each_region_of_the_partnership():
    """Two European experts match best, yet one review goes to the Asian reviewer."""
    apps = [app("a")]
    revs = [
        rev("eu1", {"theatre": 3}),
        rev("eu2", {"theatre": 3}),
        rev("asia", {"theatre": 1}, region=ASIA),
    ]
    result = assign(apps, revs, [], 2)
    assert "asia" in team_of(result, "a")
    assert result.unmet["a"] == ()


def test_assign_puts_an_expert_on_each_artform():
    """Two all-rounders match better in total, but each artform needs its expert."""
    apps = [app("a", artforms=("theatre", "dance"), regions=(EUROPE,))]
    revs = [
        rev("theatre_expert", {"theatre": 3}),
        rev("dance_expert", {"dance": 3}),
        rev("all_rounder_1", {"theatre": 2, "dance": 2}),
        rev("all_rounder_2", {"theatre": 2, "dance": 2}),
    ]
    result = assign(apps, revs, [], 2)
    assert sorted(team_of(result, "a")) == ["dance_expert", "theatre_expert"]
    assert result.total_match == 6
    assert result.upper_bound == 8  # the two all-rounders, ignoring coverage


def test_assign_reports_an_expert_taken_by_another_application():
    """One theatre expert with room for one review: the other application reports capacity."""
    apps = [app("a", regions=(EUROPE,)), app("b", regions=(EUROPE,))]
    revs = [rev("expert", {"theatre": 3}, max_load=1), rev("other", {"theatre": 1})]
    result = assign(apps, revs, [], 1)
    served = [key for key in ("a", "b") if team_of(result, key) == ["expert"]]
    assert len(served) == 1
    other = "b" if served == ["a"] else "a"
    assert unmet_of(result, other) == {("artform_expert", "capacity", "theatre")}


def test_assign_reports_review_slots_when_one_review_cannot_cover_two_regions():
    """With one review, one of two regions stays uncovered although reviewers are free."""
    apps = [app("a", artforms=())]
    revs = [rev("eu"), rev("asia", region=ASIA)]
    result = assign(apps, revs, [], 1)
    assert len(result.pairs) == 1
    (item,) = result.unmet["a"]
    assert item.requirement == "region" and item.reason == "review_slots"
    assert item.detail in {ASIA, EUROPE}


def test_assign_reports_not_enough_eligible_reviewers():
    """Three reviews asked, two reviewers eligible: one missing, and said why."""
    apps = [app("a", regions=(EUROPE,))]
    revs = [rev("r1", {"theatre": 3}), rev("r2"), rev("r3", languages=("fr",))]
    result = assign(apps, revs, [], 3)
    assert sorted(team_of(result, "a")) == ["r1", "r2"]
    assert unmet_of(result, "a") == {("reviews", "not_enough_eligible_reviewers", "1")}


def test_assign_balances_loads_among_equal_matches():
    """Equal reviewers share the work evenly."""
    apps = [app(f"a{i}", regions=(EUROPE,)) for i in range(6)]
    revs = [rev(f"r{i}", {"theatre": 2}) for i in range(3)]
    result = assign(apps, revs, [], 1)
    assert sorted(result.loads.values()) == [2, 2, 2]


def test_assign_prefers_match_over_balance():
    """The expert takes every review their load allows: match comes before balance."""
    apps = [app(f"a{i}", regions=(EUROPE,)) for i in range(4)]
    revs = [rev("expert", {"theatre": 3}, max_load=3), rev("novice", {"theatre": 1})]
    result = assign(apps, revs, [], 1)
    assert result.loads == {"expert": 3, "novice": 1}
    assert result.total_match == 10


def test_assign_with_no_reviews_asked_assigns_and_requires_nothing():
    """reviews_per_application 0: no pairs, nothing unmet."""
    result = assign([app("a")], [rev("r", {"theatre": 3})], [], 0)
    assert result.pairs == () and result.unmet == {"a": ()} and result.loads == {"r": 0}


def test_assign_with_empty_panel_reports_everything():
    """No reviewers at all: every requirement is unmet for want of eligible reviewers."""
    result = assign([app("a", languages=("en",))], [], [], 2)
    assert unmet_of(result, "a") == {
        ("reviews", "not_enough_eligible_reviewers", "2"),
        ("language", "no_reader", "en"),
        ("artform_expert", "no_expert_available", "theatre"),
        ("region", "no_reviewer_from_region", ASIA),
        ("region", "no_reviewer_from_region", EUROPE),
    }


def test_assign_result_helpers():
    """reviewers_of lists an application's reviewers; complete says nothing is unmet."""
    apps = [app("a", regions=(EUROPE,))]
    revs = [rev("r2", {"theatre": 3}), rev("r1", {"theatre": 3})]
    result = assign(apps, revs, [], 2)
    assert result.reviewers_of("a") == ("r1", "r2")
    assert result.reviewers_of("unknown") == ()
    assert result.complete
    assert "SimpleMinCostFlow" in result.solver


def test_seed_breaks_ties_only():
    """Identical reviewers: the seed picks among them; match and loads stay the same."""
    apps = [app("a", regions=(EUROPE,))]
    revs = [rev(f"r{i}", {"theatre": 2}) for i in range(8)]
    results = [assign(apps, revs, [], 1, seed=seed) for seed in range(12)]
    assert len({r.pairs for r in results}) > 1
    assert {r.total_match for r in results} == {2}
    assert results[3] == assign(apps, revs, [], 1, seed=3)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: rev("r", {"theatre": 4}), "1, 2 or 3"),
        (lambda: rev("r", {"theatre": 0}), "1, 2 or 3"),
        (lambda: rev("r", {"theatre": True}), "1, 2 or 3"),
        (lambda: rev("r", max_load=-1), "0 or more"),
        (lambda: rev("r", max_load=True), "integer"),
        (lambda: Reviewer("r", {}, "en", None, 1), "set of strings"),
        (lambda: ApplicationNeeds("a", frozenset(), "en", frozenset()), "set of strings"),
        (lambda: assign([app("a"), app("a")], [], [], 1), "unique"),
        (lambda: assign([], [rev("r"), rev("r")], [], 1), "unique"),
        (lambda: assign([], [], [], -1), "0 or more"),
        (lambda: assign([], [], [], True), "integer"),
    ],
)
def test_invalid_input_is_refused(build, message):
    """Bad levels, loads, duplicate keys and negative review counts raise ValueError."""
    with pytest.raises(ValueError, match=message):
        build()


def test_reviewer_expertise_is_a_read_only_copy():
    """Changing the dict given to a reviewer does not change the reviewer."""
    expertise = {"theatre": 3}
    reviewer = rev("r", expertise)
    expertise["theatre"] = 1
    assert reviewer.expertise["theatre"] == 3
    with pytest.raises(TypeError):
        reviewer.expertise["dance"] = 2  # type: ignore[index]
    assert hash(reviewer) == hash(rev("r", {"theatre": 3}))


def test_report_of_a_hand_edited_assignment():
    """After a chair removes a reviewer, the report says what could be assigned again."""
    apps = [app("a", regions=(EUROPE,))]
    revs = [rev("expert", {"theatre": 3}), rev("other")]
    unmet = report(apps, revs, [], 2, [("a", "other")])
    assert {(u.requirement, u.reason, u.detail) for u in unmet["a"]} == {
        ("reviews", "not_assigned", "1"),
        ("artform_expert", "not_assigned", "theatre"),
    }
    assert report(apps, revs, [], 2, [("a", "other"), ("a", "expert")]) == {"a": ()}


@pytest.mark.parametrize(
    "pairs",
    [
        [("a", "conflicted")],
        [("a", "french")],
        [("a", "tired"), ("b", "tired")],
        [("a", "other"), ("a", "other")],
        [("a", "nobody")],
    ],
)
def test_report_refuses_pairs_that_break_a_hard_rule(pairs):
    """Conflict, language, load, duplicate and unknown keys are refused."""
    apps = [app("a"), app("b")]
    revs = [
        rev("conflicted"),
        rev("french", languages=("fr",)),
        rev("tired", max_load=1),
        rev("other"),
    ]
    with pytest.raises(ValueError):
        report(apps, revs, [("conflicted", "a")], 2, pairs)


# --- independent checks ----------------------------------------------------------------------

EXPERT = 3


def _eligible(application, reviewer, conflicts):
    return (reviewer.key, application.key) not in conflicts and (
        application.languages <= reviewer.languages
    )


def _requirements(application):
    return [("artform_expert", f) for f in sorted(application.artforms)] + [
        ("region", g) for g in sorted(application.regions)
    ]


def _meets(reviewer, requirement):
    kind, detail = requirement
    if kind == "artform_expert":
        return reviewer.expertise.get(detail) == EXPERT
    return reviewer.region == detail


def _coverage(application, team):
    return sum(any(_meets(r, q) for r in team) for q in _requirements(application))


def _maximum_pairs(applications, reviewers, conflicts, k):
    """The largest number of pairs any assignment can make (augmenting paths, from scratch)."""
    source, sink = "source", "sink"
    capacity: dict[tuple[str, str], int] = {}
    neighbours: dict[str, set[str]] = {}

    def arc(u, v, c):
        capacity[u, v] = capacity.get((u, v), 0) + c
        capacity.setdefault((v, u), 0)
        neighbours.setdefault(u, set()).add(v)
        neighbours.setdefault(v, set()).add(u)

    for a in applications:
        arc(source, "a:" + a.key, k)
        for r in reviewers:
            if _eligible(a, r, conflicts):
                arc("a:" + a.key, "r:" + r.key, 1)
    for r in reviewers:
        arc("r:" + r.key, sink, r.max_load)
    total = 0
    while True:
        parent = {source: None}
        queue = deque([source])
        while queue and sink not in parent:
            u = queue.popleft()
            for v in sorted(neighbours.get(u, ())):
                if v not in parent and capacity[u, v] > 0:
                    parent[v] = u
                    queue.append(v)
        if sink not in parent:
            return total
        v = sink
        while parent[v] is not None:
            u = parent[v]
            capacity[u, v] -= 1
            capacity[v, u] += 1
            v = u
        total += 1


def expected_report(applications, reviewers, conflicts, k, pairs):
    """What must be reported, with which reason, for any valid assignment.

    Returns {application key: {(requirement, detail): reason}}, computed from scratch.
    """
    conflicts = set(conflicts)
    load = Counter(reviewer_key for _, reviewer_key in pairs)
    expected = {}
    for application in applications:
        key = application.key
        items = expected[key] = {}
        if k == 0:
            continue
        members = {r for a, r in pairs if a == key}
        team = [r for r in reviewers if r.key in members]
        eligible = [r for r in reviewers if _eligible(application, r, conflicts)]
        spare = [r for r in eligible if r.key not in members and load[r.key] < r.max_load]
        if len(team) < k:
            items["reviews", str(k - len(team))] = (
                "not_enough_eligible_reviewers"
                if len(eligible) < k
                else "not_assigned"
                if spare
                else "capacity"
            )
        for language in application.languages:
            if not any(
                language in r.languages and (r.key, key) not in conflicts for r in reviewers
            ):
                items["language", language] = "no_reader"
        before = _coverage(application, team)
        for requirement in _requirements(application):
            if any(_meets(r, requirement) for r in team):
                continue
            free = [r for r in spare if _meets(r, requirement)]
            if not any(_meets(r, requirement) for r in eligible):
                reason = (
                    "no_expert_available"
                    if requirement[0] == "artform_expert"
                    else "no_reviewer_from_region"
                )
            elif not free:
                reason = "capacity"
            elif len(team) == k and not any(
                _coverage(application, [r for r in team if r is not leaving] + [candidate]) > before
                for candidate in free
                for leaving in team
            ):
                reason = "review_slots"
            else:
                reason = "not_assigned"
            items[requirement] = reason
    return expected


def check_result(applications, reviewers, conflicts, k, result):
    """Every hard rule, the exact report and its reasons, from the inputs and pairs alone."""
    apps = {a.key: a for a in applications}
    revs = {r.key: r for r in reviewers}
    conflicts = set(conflicts)
    pairs = list(result.pairs)

    # Hard rules.
    assert pairs == sorted(pairs)
    assert len(set(pairs)) == len(pairs), "a pair appears twice"
    teams = {key: [] for key in apps}
    for application_key, reviewer_key in pairs:
        application, reviewer = apps[application_key], revs[reviewer_key]
        assert (reviewer_key, application_key) not in conflicts, "conflicted pair"
        assert application.languages <= reviewer.languages, "reviewer cannot read it"
        teams[application_key].append(reviewer)
    load = Counter(reviewer_key for _, reviewer_key in pairs)
    assert dict(result.loads) == {key: load[key] for key in revs}
    for key, reviewer in revs.items():
        assert load[key] <= reviewer.max_load, "reviewer above max_load"
    # The most pairs any assignment can make.
    assert len(pairs) == _maximum_pairs(applications, reviewers, conflicts, k)
    assert result.total_match == sum(
        revs[r].expertise.get(f, 0) for a, r in pairs for f in apps[a].artforms
    )
    assert result.total_match <= result.upper_bound

    # Reported iff unmet, nothing more, nothing less, each with its reason.
    expected = expected_report(applications, reviewers, conflicts, k, pairs)
    assert set(result.unmet) == set(apps)
    for key, application in apps.items():
        team = teams[key]
        assert len(team) <= k
        reported = {(u.requirement, u.detail): u.reason for u in result.unmet[key]}
        assert len(reported) == len(result.unmet[key]), "an item is reported twice"
        assert reported == expected[key]
        # Fewer than k reviewers only when it must be: too few eligible, or all of them full.
        if len(team) < k:
            members = {r.key for r in team}
            eligible = [r for r in reviewers if _eligible(application, r, conflicts)]
            assert len(eligible) < k or all(
                load[r.key] >= r.max_load for r in eligible if r.key not in members
            )
        # assign leaves nothing a reviewer with free capacity could meet: no swap with one
        # would meet more of this application's coverage.
        assert "not_assigned" not in reported.values()
        members = {r.key for r in team}
        spare = [
            r
            for r in reviewers
            if _eligible(application, r, conflicts)
            and r.key not in members
            and load[r.key] < r.max_load
        ]
        before = _coverage(application, team)
        for candidate in spare:
            for leaving in team:
                swapped = [r for r in team if r is not leaving] + [candidate]
                assert _coverage(application, swapped) <= before


ARTFORMS = ("theatre", "dance", "music", "crafts")
LANGUAGES = ("en", "th", "fr")
REGIONS = (ASIA, EUROPE, AMERICAS)


@st.composite
def panels(draw, max_apps=12, max_revs=10):
    """Small calls: applications, reviewers, conflicts and the reviews asked."""
    n_apps = draw(st.integers(0, max_apps))
    n_revs = draw(st.integers(0, max_revs))
    applications = [
        ApplicationNeeds(
            f"a{i}",
            frozenset(draw(st.sets(st.sampled_from(ARTFORMS), max_size=3))),
            frozenset(
                draw(st.sets(st.sampled_from(LANGUAGES), min_size=1, max_size=2))
                if draw(st.integers(0, 3))
                else {"en"}
            ),
            frozenset(draw(st.sets(st.sampled_from(REGIONS), max_size=2))),
        )
        for i in range(n_apps)
    ]
    reviewers = [
        Reviewer(
            f"r{j}",
            draw(st.dictionaries(st.sampled_from(ARTFORMS), st.integers(1, 3), max_size=3)),
            frozenset(draw(st.sets(st.sampled_from(LANGUAGES), max_size=3)) | {"en"})
            if draw(st.integers(0, 4))
            else frozenset(draw(st.sets(st.sampled_from(LANGUAGES), max_size=2))),
            draw(st.sampled_from((*REGIONS, None))),
            draw(st.integers(0, 6)),
        )
        for j in range(n_revs)
    ]
    conflicts = (
        draw(
            st.sets(
                st.tuples(
                    st.sampled_from([r.key for r in reviewers]),
                    st.sampled_from([a.key for a in applications]),
                ),
                max_size=12,
            )
        )
        if applications and reviewers
        else set()
    )
    k = draw(st.integers(0, 4))
    return applications, reviewers, sorted(conflicts), k


@unhurried
@given(panels(), st.integers(0, 3))
def test_assign_never_breaks_a_hard_rule_and_reports_exactly_what_is_unmet(panel, seed):
    """Hard rules hold, the pairs are a maximum flow, and the report is exact with its reasons."""
    applications, reviewers, conflicts, k = panel
    result = assign(applications, reviewers, conflicts, k, seed=seed)
    check_result(applications, reviewers, conflicts, k, result)


@fewer
@given(panels(), st.integers(0, 3), st.randoms(use_true_random=False))
def test_same_seed_gives_the_same_result_whatever_the_input_order(panel, seed, rnd):
    """Same inputs and seed, in any order: the same result."""
    applications, reviewers, conflicts, k = panel
    first = assign(applications, reviewers, conflicts, k, seed=seed)
    shuffled = [list(applications), list(reviewers), list(conflicts)]
    for items in shuffled:
        rnd.shuffle(items)
    again = assign(*shuffled, k, seed=seed)
    assert again == first
    assert assign(applications, reviewers, conflicts, k, seed=seed) == first


@fewer
@given(panels(max_apps=8, max_revs=8))
def test_report_agrees_with_assign(panel):
    """report() on the pairs assign returned says what assign said."""
    applications, reviewers, conflicts, k = panel
    result = assign(applications, reviewers, conflicts, k)
    assert report(applications, reviewers, conflicts, k, result.pairs) == result.unmet


@unhurried
@given(panels(max_apps=8, max_revs=8), st.data())
def test_report_is_exact_for_any_valid_assignment(panel, data):
    """On hand-made assignments the report names exactly what is unmet, with its reason."""
    applications, reviewers, conflicts, k = panel
    conflict_set = set(conflicts)
    load: Counter[str] = Counter()
    pairs = []
    for application in applications:
        eligible = [r for r in reviewers if _eligible(application, r, conflict_set)]
        if not eligible:
            continue
        chosen = data.draw(st.lists(st.sampled_from(eligible), unique=True, max_size=k))
        for reviewer in chosen:
            if load[reviewer.key] < reviewer.max_load:
                load[reviewer.key] += 1
                pairs.append((application.key, reviewer.key))
    unmet = report(applications, reviewers, conflicts, k, pairs)
    expected = expected_report(applications, reviewers, conflicts, k, pairs)
    assert {
        key: {(u.requirement, u.detail): u.reason for u in items} for key, items in unmet.items()
    } == expected


def test_assign_on_a_larger_random_call_keeps_every_rule():
    """A call of 60 applications and 25 reviewers, checked like the small ones."""
    rnd = random.Random(5)
    applications = [
        app(
            f"a{i:02d}",
            rnd.sample(ARTFORMS, rnd.randint(1, 2)),
            rnd.choice([("en",), ("en",), ("en", "th"), ("fr",)]),
            rnd.choice([(ASIA, EUROPE), (ASIA, EUROPE), (EUROPE,)]),
        )
        for i in range(60)
    ]
    reviewers = [
        rev(
            f"r{j:02d}",
            {f: rnd.randint(1, 3) for f in rnd.sample(ARTFORMS, rnd.randint(1, 3))},
            rnd.choice([("en",), ("en", "th"), ("en", "fr"), ("th",)]),
            rnd.choice([ASIA, EUROPE]),
            rnd.randint(6, 10),
        )
        for j in range(25)
    ]
    conflicts = sorted(
        {(f"r{rnd.randrange(25):02d}", f"a{rnd.randrange(60):02d}") for _ in range(20)}
    )
    result = assign(applications, reviewers, conflicts, 3, seed=7)
    check_result(applications, reviewers, conflicts, 3, result)
    assert result == assign(list(reversed(applications)), reviewers, conflicts, 3, seed=7)
    assert replace(result, seed=8) != result
