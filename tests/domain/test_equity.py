"""Resource-asymmetry weighting: tiers, funding rates, balances, fairness, mobility."""

from dataclasses import replace
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from grants.domain.countries import region_of
from grants.domain.equity import (
    EquityPolicy,
    MobilityFlow,
    PartnerBudget,
    assess,
    mobility_balance,
    normalised_gini,
)

D = Decimal

# No deadline: the examples are fast, but a busy machine must not make them flaky.
unhurried = settings(deadline=None)
FOUR = Decimal("0.0001")

# Two countries per tier, and Ethiopia (unclassified for FY2026).
TIERS = {"JP": 0, "CZ": 0, "TH": 1, "CN": 1, "MM": 2, "IN": 2, "AF": 3, "KP": 3}
POLICY = EquityPolicy(tiers=TIERS)

INDICES = (
    "naive_balance",
    "capacity_balance",
    "asymmetry",
    "lower_resource_grant_share",
    "lower_resource_headcount_share",
    "fairness",
    "equity_index",
    "ranking_multiplier",
)


def four(value):
    """A result rounded to 4 decimals, as docs/equity.md shows it."""
    return value.quantize(FOUR)


def indices(result):
    """The partnership measures of an assessment."""
    return {name: getattr(result, name) for name in INDICES}


def money(max_value=1_000_000):
    """Amounts of money with cents, zero included."""
    return st.decimals(min_value=0, max_value=max_value, places=2, allow_nan=False)


@st.composite
def partnerships(draw, countries=(*TIERS, "ET"), min_size=1):
    """A partnership of 1 to 8 partners with unique keys."""
    size = draw(st.integers(min_value=min_size, max_value=8))
    return [
        PartnerBudget(
            f"p{i}", draw(st.sampled_from(countries)), draw(money()), draw(money(500_000))
        )
        for i in range(size)
    ]


# --- the policy ----------------------------------------------------------------------------


def test_default_policy_uses_world_bank_fy2026_groups():
    """HIC 0, UMC 1, LMC 2, LIC 3; unclassified countries get no tier."""
    policy = EquityPolicy.default()
    assert policy.tier_of("JP") == 0
    assert policy.tier_of("TH") == 1
    assert policy.tier_of("MM") == 2
    assert policy.tier_of("CZ") == 0
    assert policy.tier_of("AF") == 3
    assert policy.tier_of("ET") is None  # temporarily unclassified for FY2026
    assert policy.tier_of("VE") is None
    assert policy.tier_of("AQ") is None  # not in the World Bank list
    assert policy.capacity == (D("1.0"), D("0.6"), D("0.35"), D("0.2"))
    assert policy.max_funding_rates == (D("0.70"), D("0.80"), D("0.90"), D("1.00"))
    assert policy.equity_weight == D("0.10")


def test_policy_with_overrides_sets_tiers_on_a_copy():
    """An officer's override gives an unclassified country a tier without touching the base."""
    base = EquityPolicy.default()
    policy = base.with_overrides({"ET": 3, "JP": 1})
    assert policy.tier_of("ET") == 3 and policy.tier_of("JP") == 1
    assert policy.tier_of("TH") == 1
    assert base.tier_of("ET") is None and base.tier_of("JP") == 0


def test_policy_tiers_cannot_change_behind_its_back():
    """The policy keeps its own read-only copy of the tiers."""
    tiers = {"JP": 0}
    policy = EquityPolicy(tiers=tiers)
    tiers["JP"] = 3
    assert policy.tier_of("JP") == 0
    with pytest.raises(TypeError):
        policy.tiers["JP"] = 3  # type: ignore[index]


@pytest.mark.parametrize(
    "changes",
    [
        {"tiers": {"JP": 4}},
        {"tiers": {"JP": -1}},
        {"tiers": {"JP": True}},
        {"tiers": {"jp": 0}},
        {"tiers": {"JPN": 0}},
        {"capacity": (D(1), D("0.6"), D(0), D("0.2"))},
        {"capacity": (D(1), D("0.6"), D("0.35"))},
        {"capacity": (D(1), D("0.6"), D("NaN"), D("0.2"))},
        {"max_funding_rates": (D("0.7"), D("0.8"), D("0.9"), D("1.01"))},
        {"max_funding_rates": (D(0), D("0.8"), D("0.9"), D(1))},
        {"equity_weight": D("0.26")},
        {"equity_weight": D("-0.01")},
        {"equity_weight": D("Infinity")},
    ],
)
def test_policy_refuses_values_out_of_range(changes):
    """Tiers 0..3, capacity > 0, rates in (0, 1], weight in 0..0.25."""
    with pytest.raises(ValueError):
        EquityPolicy(**{"tiers": {"JP": 0}, **changes})


@pytest.mark.parametrize("weight", [D(0), D("0.25")])
def test_policy_accepts_the_ends_of_the_weight_range(weight):
    """0 and 0.25 are both allowed."""
    assert EquityPolicy(tiers={}, equity_weight=weight).equity_weight == weight


def test_policy_override_is_validated():
    """An override outside 0..3 is refused too."""
    with pytest.raises(ValueError):
        POLICY.with_overrides({"ET": 5})


# --- partners ------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", [D(-1), D("NaN"), D("Infinity")])
def test_partner_budget_refuses_negative_or_non_finite_money(amount):
    """Money is a finite Decimal >= 0."""
    with pytest.raises(ValueError):
        PartnerBudget("a", "JP", amount, D(0))
    with pytest.raises(ValueError):
        PartnerBudget("a", "JP", D(0), amount)


def test_assess_refuses_duplicate_keys():
    """Each partner is one key."""
    with pytest.raises(ValueError):
        assess([PartnerBudget("a", "JP", D(1), D(1)), PartnerBudget("a", "TH", D(1), D(1))], POLICY)


@pytest.mark.parametrize(
    ("country", "grant", "contribution", "within"),
    [
        ("JP", D(70), D(30), True),  # tier 0: 0.70 exactly is allowed
        ("JP", D("70.01"), D("29.99"), False),
        ("TH", D(80), D(20), True),  # tier 1: 0.80
        ("TH", D("80.01"), D("19.99"), False),
        ("MM", D(90), D(10), True),  # tier 2: 0.90
        ("MM", D("90.01"), D("9.99"), False),
        ("AF", D(100), D(0), True),  # tier 3: 1.00, the grant may cover everything
        ("AF", D(0), D(0), True),  # no cost at all: rate 0
    ],
)
def test_funding_rate_limit_per_tier(country, grant, contribution, within):
    """f = g / (g + k) must not exceed the maximum of the partner's tier."""
    result = assess([PartnerBudget("a", country, grant, contribution)], POLICY)
    partner = result.partner("a")
    assert partner.within_rate is within
    assert partner.max_funding_rate == POLICY.max_funding_rates[TIERS[country]]
    assert result.over_rate == (() if within else ("a",))


def test_funding_rate_is_zero_when_there_is_no_cost():
    """C = 0 gives f = 0 rather than a division by zero."""
    partner = assess([PartnerBudget("a", "JP", D(0), D(0))], POLICY).partner("a")
    assert partner.cost == 0 and partner.funding_rate == 0 and partner.effort == 0


def test_effort_divides_contribution_by_capacity():
    """e = k / c: 1,400 from Myanmar is the effort of 4,000 from Japan."""
    result = assess([PartnerBudget("mm", "MM", D(0), D(1400))], POLICY)
    assert result.partner("mm").effort == D(4000)
    assert result.partner("mm").capacity == D("0.35")


def test_unclassified_partners_are_reported_and_left_out_of_tier_measures():
    """Ethiopia has no tier: reported, counted in the naive balance only."""
    partners = [
        PartnerBudget("jp", "JP", D(10_000), D(5_000)),
        PartnerBudget("et", "ET", D(50_000), D(0)),
        PartnerBudget("mm", "MM", D(10_000), D(1_750)),
    ]
    result = assess(partners, POLICY)
    assert result.unclassified == ("et",) and not result.complete
    et = result.partner("et")
    assert et.tier is None and et.max_funding_rate is None
    assert et.within_rate is None and et.effort is None and not et.lower_resource
    assert et.funding_rate == 1
    # Efforts 5,000 and 5,000: perfectly balanced once Ethiopia is left out.
    assert result.capacity_balance == 1
    # Contributions 5,000, 0 and 1,750 all count in the naive balance.
    assert result.naive_balance == D(1) - normalised_gini([D(5000), D(0), D(1750)])
    # Japan and Myanmar alone: A = 2/3, half the grant to half the partners, F = 1.
    assert result.lower_resource == ("mm",)
    assert result.fairness == 1
    assert result.asymmetry == assess([partners[0], partners[2]], POLICY).asymmetry
    assert result.over_rate == ()


def test_only_unclassified_partners_give_neutral_measures():
    """With no tier anywhere, A and E are 0 and the multiplier is 1."""
    result = assess(
        [PartnerBudget("a", "ET", D(5), D(1)), PartnerBudget("b", "VE", D(5), D(2))], POLICY
    )
    assert result.unclassified == ("a", "b")
    assert (result.asymmetry, result.equity_index, result.ranking_multiplier) == (0, 0, 1)
    assert result.capacity_balance == 1 and result.fairness == 1


def test_no_partners_give_neutral_measures():
    """An empty partnership is balanced, symmetric and unweighted."""
    result = assess([], POLICY)
    assert result.partners == () and result.complete
    assert indices(result) == {
        "naive_balance": 1,
        "capacity_balance": 1,
        "asymmetry": 0,
        "lower_resource_grant_share": 0,
        "lower_resource_headcount_share": 0,
        "fairness": 1,
        "equity_index": 0,
        "ranking_multiplier": 1,
    }


def test_single_partner_is_balanced():
    """Balance is 1 for a single partner."""
    result = assess([PartnerBudget("a", "MM", D(100), D(7))], POLICY)
    assert result.naive_balance == 1 and result.capacity_balance == 1
    assert result.asymmetry == 0 and result.equity_index == 0


def test_fairness_is_one_when_no_grant_is_requested():
    """With a total grant of 0 nothing is shared, so F = 1 and E = A."""
    partners = [PartnerBudget("jp", "JP", D(0), D(100)), PartnerBudget("af", "AF", D(0), D(10))]
    result = assess(partners, POLICY)
    assert result.lower_resource == ("af",)
    assert result.lower_resource_grant_share == 0
    assert result.lower_resource_headcount_share == D("0.5")
    assert result.fairness == 1 and result.asymmetry == 1 and result.equity_index == 1


def test_fairness_is_capped_at_one():
    """L receiving more than its head-count share still gives F = 1."""
    partners = [PartnerBudget("jp", "JP", D(10), D(10)), PartnerBudget("af", "AF", D(90), D(0))]
    result = assess(partners, POLICY)
    assert result.lower_resource_grant_share == D("0.9")
    assert result.fairness == 1
    assert result.equity_index == 1
    assert result.ranking_multiplier == D("1.10")


def test_lower_resource_means_poorer_than_the_richest_partner():
    """L = tiers above the lowest tier number present, not above tier 0."""
    partners = [
        PartnerBudget("th", "TH", D(10), D(5)),
        PartnerBudget("mm", "MM", D(10), D(2)),
        PartnerBudget("af", "AF", D(10), D(0)),
    ]
    result = assess(partners, POLICY)
    assert result.lower_resource == ("af", "mm")
    assert not result.partner("th").lower_resource
    assert result.asymmetry == D(2) / D(3)


# --- Gini ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "gini"),
    [
        ([], D(0)),
        ([D(7)], D(0)),  # a single value
        ([D(5), D(5), D(5)], D(0)),  # all equal
        ([D(0), D(0), D(0)], D(0)),  # all zero
        ([D(0), D(10)], D(1)),  # one holds everything
        ([D(0), D(0), D(0), D(4)], D(1)),
        ([D(1), D(3)], D("0.5")),  # |1-3| * 2 / (2 * 2 * 4) * 2 / 1
    ],
)
def test_normalised_gini_edge_cases(values, gini):
    """0 when equal, zero or alone; 1 when one value holds everything."""
    assert normalised_gini(values) == gini


def test_normalised_gini_refuses_negative_values():
    """Contributions and efforts are never negative."""
    with pytest.raises(ValueError):
        normalised_gini([D(1), D(-1)])


@unhurried
@given(st.lists(money(), max_size=10))
def test_normalised_gini_matches_the_pairwise_formula(values):
    """The sorted-sum shortcut equals sum_i sum_j |x_i - x_j| / (2 n sum x) * n / (n - 1)."""
    n, total = len(values), sum(values, D(0))
    if n < 2 or total == 0:
        expected = Fraction(0)
    else:
        pairwise = sum(abs(Fraction(x) - Fraction(y)) for x in values for y in values)
        expected = pairwise / (2 * n * Fraction(total)) * Fraction(n, n - 1)
    gini = normalised_gini(values)
    assert abs(Fraction(gini) - expected) < Fraction(1, 10**26)
    assert 0 <= gini <= 1


# --- properties ------------------------------------------------------------------------------


@unhurried
@given(partnerships(), st.randoms(use_true_random=False))
def test_results_do_not_depend_on_partner_order_or_keys(partners, random):
    """Shuffling the partners and renaming them changes no measure and no partner result."""
    shuffled = list(partners)
    random.shuffle(shuffled)
    renamed = [replace(p, key=f"other-{p.key}") for p in shuffled]
    before, after = assess(partners, POLICY), assess(renamed, POLICY)
    assert indices(before) == indices(after)
    for p in partners:
        assert replace(before.partner(p.key), key="") == replace(
            after.partner(f"other-{p.key}"), key=""
        )
    assert after.unclassified == tuple(sorted(f"other-{k}" for k in before.unclassified))


@unhurried
@given(partnerships(), st.decimals(min_value="0.01", max_value=1000, places=2))
def test_scaling_all_money_changes_no_index(partners, factor):
    """Results are the same in cents or in thousands: every measure is scale-free."""
    scaled = [
        replace(p, grant=p.grant * factor, contribution=p.contribution * factor) for p in partners
    ]
    before, after = assess(partners, POLICY), assess(scaled, POLICY)
    assert indices(before) == indices(after)
    for one, other in zip(before.partners, after.partners, strict=True):
        assert one.funding_rate == other.funding_rate
        assert one.within_rate == other.within_rate


@unhurried
@given(partnerships(countries=("TH", "CN", "ET")))
def test_equity_index_is_zero_when_all_partners_share_a_tier(partners):
    """Without asymmetry there is nothing to reward."""
    result = assess(partners, POLICY)
    assert result.asymmetry == 0
    assert result.equity_index == 0
    assert result.ranking_multiplier == 1


@unhurried
@given(partnerships(min_size=0))
def test_measures_stay_in_their_ranges(partners):
    """Balances, A, F and E in [0, 1]; the multiplier in [1, 1 + w]."""
    result = assess(partners, POLICY)
    for name in ("naive_balance", "capacity_balance", "asymmetry", "fairness", "equity_index"):
        assert 0 <= getattr(result, name) <= 1, name
    assert 1 <= result.ranking_multiplier <= 1 + POLICY.equity_weight
    assert result.equity_index <= result.asymmetry


@unhurried
@given(partnerships(min_size=2), st.data())
def test_moving_grant_to_a_lower_resource_partner_never_lowers_fairness(partners, data):
    """Grant moved from a partner of the lowest tier number to one in L: F cannot fall."""
    result = assess(partners, POLICY)
    top = [p for p in partners if p.key not in result.lower_resource and p.country in TIERS]
    lower = [p for p in partners if p.key in result.lower_resource]
    assume(top and lower)
    giver = data.draw(st.sampled_from(top))
    taker = data.draw(st.sampled_from(lower))
    amount = data.draw(st.decimals(min_value=0, max_value=giver.grant, places=2))
    moved = [
        replace(p, grant=p.grant - amount)
        if p is giver
        else replace(p, grant=p.grant + amount)
        if p is taker
        else p
        for p in partners
    ]
    assert assess(moved, POLICY).fairness >= result.fairness


@unhurried
@given(partnerships(min_size=0))
def test_multiplier_is_one_when_the_weight_is_zero(partners):
    """w = 0 switches the equity weighting off."""
    policy = EquityPolicy(tiers=TIERS, equity_weight=D(0))
    assert assess(partners, policy).ranking_multiplier == 1


@unhurried
@given(partnerships(min_size=0), st.decimals(min_value=0, max_value="0.25", places=2))
def test_multiplier_is_one_plus_weight_times_index(partners, weight):
    """1 + w x E, with E not depending on w."""
    policy = EquityPolicy(tiers=TIERS, equity_weight=weight)
    result = assess(partners, policy)
    expected = 1 + Fraction(weight) * Fraction(result.equity_index)
    assert abs(Fraction(result.ranking_multiplier) - expected) < Fraction(1, 10**26)
    assert result.equity_index == assess(partners, POLICY).equity_index


# --- the worked example of docs/equity.md ----------------------------------------------------


def test_worked_example_of_the_documentation():
    """Japan, Thailand, Myanmar and Czechia under the default policy, as docs/equity.md shows."""
    partners = [
        PartnerBudget("jp", "JP", D(30_000), D(15_000)),
        PartnerBudget("th", "TH", D(20_000), D(6_000)),
        PartnerBudget("mm", "MM", D(12_600), D(1_400)),
        PartnerBudget("cz", "CZ", D(12_000), D(8_000)),
    ]
    result = assess(partners, EquityPolicy.default())
    table = {
        p.key: (p.tier, p.cost, four(p.funding_rate), p.max_funding_rate, p.within_rate, p.effort)
        for p in result.partners
    }
    assert table == {
        "jp": (0, D(45_000), D("0.6667"), D("0.70"), True, D(15_000)),
        "th": (1, D(26_000), D("0.7692"), D("0.80"), True, D(10_000)),
        "mm": (2, D(14_000), D("0.9000"), D("0.90"), True, D(4_000)),
        "cz": (0, D(20_000), D("0.6000"), D("0.70"), True, D(8_000)),
    }
    # Naive: contributions 15,000 6,000 1,400 8,000; pairwise sum 2 x 42,800 = 85,600.
    assert four(normalised_gini([D(15_000), D(6_000), D(1_400), D(8_000)])) == D("0.4693")
    # G = 85,600 / (2 x 4 x 30,400) x 4 / 3 = 85,600 / 182,400
    assert normalised_gini([D(15_000), D(6_000), D(1_400), D(8_000)]) == D(85_600) / D(182_400)
    assert four(result.naive_balance) == D("0.5307")
    # Capacity-weighted: efforts 15,000 10,000 4,000 8,000; pairwise sum 2 x 35,000 = 70,000.
    assert four(normalised_gini([D(15_000), D(10_000), D(4_000), D(8_000)])) == D("0.3153")
    assert normalised_gini([D(15_000), D(10_000), D(4_000), D(8_000)]) == D(70_000) / D(222_000)
    assert four(result.capacity_balance) == D("0.6847")
    assert four(result.asymmetry) == D("0.6667")
    assert result.lower_resource == ("mm", "th")
    assert four(result.lower_resource_grant_share) == D("0.4370")  # 32,600 / 74,600
    assert result.lower_resource_headcount_share == D("0.5")
    assert four(result.fairness) == D("0.8740")
    assert four(result.equity_index) == D("0.5827")
    assert four(result.ranking_multiplier) == D("1.0583")
    assert result.unclassified == () and result.over_rate == ()

    # The variant in the text: Myanmar asks 13,000 with the same contribution.
    over = assess(
        [*partners[:2], replace(partners[2], grant=D(13_000)), partners[3]],
        EquityPolicy.default(),
    )
    assert four(over.partner("mm").funding_rate) == D("0.9028")
    assert over.over_rate == ("mm",)


# --- mobility --------------------------------------------------------------------------------


ASIA, EUROPE, AFRICA = "142", "150", "002"


def test_mobility_worked_example():
    """Asia -> Europe 58 person-days, Europe -> Asia 14: index (58 - 14) / 72 = 0.6111."""
    flows = [
        MobilityFlow("TH", "CZ", 3, 10),  # 30 person-days Asia -> Europe
        MobilityFlow("MM", "CZ", 2, 14),  # 28 person-days Asia -> Europe
        MobilityFlow("JP", "TH", 4, 5),  # within Asia: skipped
        MobilityFlow("CZ", "JP", 2, 7),  # 14 person-days Europe -> Asia
        MobilityFlow("TW", "CZ", 1, 30),  # Taiwan has no M49 region: skipped
    ]
    result = mobility_balance(flows, region_of)
    assert set(result) == {(ASIA, EUROPE)}
    balance = result[ASIA, EUROPE]
    assert (balance.region_a, balance.region_b) == (ASIA, EUROPE)
    assert (balance.outbound, balance.inbound) == (D(58), D(14))
    assert four(balance.index) == D("0.6111")


def test_mobility_pairs_are_keyed_with_the_smaller_code_first():
    """Europe -> Africa only: key (002, 150), out is Africa -> Europe, so the index is -1."""
    result = mobility_balance([MobilityFlow("CZ", "NG", 2, 5)], region_of)
    balance = result[AFRICA, EUROPE]
    assert (balance.outbound, balance.inbound, balance.index) == (D(0), D(10), D(-1))


def test_mobility_balanced_and_empty_flows_have_index_zero():
    """Equal person-days both ways, or no person-days at all, give 0."""
    both = mobility_balance(
        [MobilityFlow("JP", "CZ", 2, 5), MobilityFlow("CZ", "JP", 1, 10)], region_of
    )
    assert both[ASIA, EUROPE].index == 0
    empty = mobility_balance([MobilityFlow("JP", "CZ", 0, 5)], region_of)
    assert empty[ASIA, EUROPE].index == 0
    assert mobility_balance([], region_of) == {}


def test_mobility_refuses_negative_people_or_days():
    """People and days are counts."""
    with pytest.raises(ValueError):
        mobility_balance([MobilityFlow("JP", "CZ", -1, 5)], region_of)


FLOW_COUNTRIES = ["JP", "TH", "MM", "CZ", "DE", "NG", "BR", "AU", "TW"]


@st.composite
def flow_lists(draw):
    """Up to 12 flows between countries of five regions (and Taiwan, which has none)."""
    return draw(
        st.lists(
            st.builds(
                MobilityFlow,
                st.sampled_from(FLOW_COUNTRIES),
                st.sampled_from(FLOW_COUNTRIES),
                st.integers(min_value=0, max_value=50),
                st.one_of(st.integers(min_value=0, max_value=90), money(90)),
            ),
            max_size=12,
        )
    )


@unhurried
@given(flow_lists())
def test_mobility_index_sign_and_bounds(flows):
    """The index lies in [-1, 1] and has the sign of out - in; reversing flows negates it."""
    result = mobility_balance(flows, region_of)
    reverse = mobility_balance(
        [MobilityFlow(f.to_country, f.from_country, f.people, f.days) for f in flows], region_of
    )
    assert set(result) == set(reverse)
    for (a, b), balance in result.items():
        assert a < b and (balance.region_a, balance.region_b) == (a, b)
        assert -1 <= balance.index <= 1
        difference = balance.outbound - balance.inbound
        assert (balance.index > 0) == (difference > 0)
        assert (balance.index < 0) == (difference < 0)
        assert reverse[a, b].index == -balance.index
        assert (reverse[a, b].outbound, reverse[a, b].inbound) == (
            balance.inbound,
            balance.outbound,
        )


@unhurried
@given(flow_lists(), st.randoms(use_true_random=False))
def test_mobility_does_not_depend_on_flow_order(flows, random):
    """Sums are order-free."""
    shuffled = list(flows)
    random.shuffle(shuffled)
    assert mobility_balance(flows, region_of) == mobility_balance(shuffled, region_of)
