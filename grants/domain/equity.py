"""Resource-asymmetry weighting: judge a partnership by capacity, not by equal money.

Every partner is weighted by the resources of its country (its World Bank income tier). The
formulas are stated in ``docs/equity.md`` with a worked example; this module is their one
implementation, used by the application page, the officer views and the ranking alike.

Money comes in as ``Decimal`` in the call's currency. Arithmetic is exact (``Fraction``) until
the result is handed out as a ``Decimal`` correctly rounded to 28 significant digits, so results
never depend on partner order and scaling all money by the same factor changes no index. Nothing
is rounded for display here: the pages format the numbers.

Partners whose country has no tier (``unclassified``) are reported, not guessed: they count in
the naive balance (which needs no tier) and are left out of every tier-based measure (effort,
funding-rate limit, capacity-weighted balance, asymmetry, fairness). The application cannot be
submitted until an officer gives their country a tier for the call.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Context, Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import NamedTuple, Protocol

from grants.domain.countries import countries

TIERS = (0, 1, 2, 3)
"""0 high income, 1 upper-middle income, 2 lower-middle income, 3 low income."""

INCOME_GROUP_TIERS: Mapping[str, int] = MappingProxyType({"HIC": 0, "UMC": 1, "LMC": 2, "LIC": 3})
"""World Bank income group code to tier."""

DEFAULT_CAPACITY = (Decimal("1.0"), Decimal("0.6"), Decimal("0.35"), Decimal("0.2"))
DEFAULT_MAX_FUNDING_RATES = (Decimal("0.70"), Decimal("0.80"), Decimal("0.90"), Decimal("1.00"))
DEFAULT_EQUITY_WEIGHT = Decimal("0.10")
MAX_EQUITY_WEIGHT = Decimal("0.25")

# 28 significant digits, round half even: the decimal module's default, fixed here so that a
# caller's thread-local context can never change a result.
_CONTEXT = Context(prec=28)

_ZERO = Fraction(0)
_ONE = Fraction(1)


def _decimal(value: Fraction) -> Decimal:
    """An exact fraction as a Decimal, correctly rounded to 28 significant digits."""
    return _CONTEXT.divide(Decimal(value.numerator), Decimal(value.denominator))


def _is_country_code(code: object) -> bool:
    return isinstance(code, str) and len(code) == 2 and code.isascii() and code.isupper()


def _finite(value: object) -> bool:
    return isinstance(value, Decimal) and value.is_finite()


# --- the policy ----------------------------------------------------------------------------


@dataclass(frozen=True)
class EquityPolicy:
    """A call's equity policy: country tiers, capacity weights, funding-rate limits, weight.

    ``capacity`` and ``max_funding_rates`` are indexed by tier (0 to 3). A country missing
    from ``tiers`` is unclassified.
    """

    tiers: Mapping[str, int]
    capacity: tuple[Decimal, Decimal, Decimal, Decimal] = DEFAULT_CAPACITY
    max_funding_rates: tuple[Decimal, Decimal, Decimal, Decimal] = DEFAULT_MAX_FUNDING_RATES
    equity_weight: Decimal = DEFAULT_EQUITY_WEIGHT

    def __post_init__(self) -> None:
        for country, tier in self.tiers.items():
            if not _is_country_code(country):
                raise ValueError(f"country code must be ISO 3166-1 alpha-2, got {country!r}")
            if isinstance(tier, bool) or not isinstance(tier, int) or tier not in TIERS:
                raise ValueError(f"tier of {country} must be 0, 1, 2 or 3, got {tier!r}")
        if len(self.capacity) != len(TIERS) or not all(_finite(c) and c > 0 for c in self.capacity):
            raise ValueError("capacity needs four finite weights greater than 0")
        if len(self.max_funding_rates) != len(TIERS) or not all(
            _finite(r) and 0 < r <= 1 for r in self.max_funding_rates
        ):
            raise ValueError("max_funding_rates needs four rates greater than 0 and at most 1")
        if not _finite(self.equity_weight) or not 0 <= self.equity_weight <= MAX_EQUITY_WEIGHT:
            raise ValueError(f"equity_weight must be between 0 and {MAX_EQUITY_WEIGHT}")
        # A read-only copy: the policy is frozen, so its tiers must not change behind its back.
        object.__setattr__(self, "tiers", MappingProxyType(dict(self.tiers)))

    @classmethod
    def default(cls) -> EquityPolicy:
        """The default policy, tiers from the shipped World Bank FY2026 income groups.

        Countries the World Bank does not classify (Ethiopia and Venezuela for FY2026, and
        ISO entries it does not list) get no tier.
        """
        tiers = {
            code: INCOME_GROUP_TIERS[country.income_group]
            for code, country in countries().items()
            if country.income_group in INCOME_GROUP_TIERS
        }
        return cls(tiers=tiers)

    def with_overrides(self, overrides: Mapping[str, int]) -> EquityPolicy:
        """A copy of this policy with some countries' tiers set (or replaced) by an officer."""
        return replace(self, tiers={**self.tiers, **overrides})

    def tier_of(self, country: str) -> int | None:
        """The tier of a country (ISO alpha-2, upper case), or None when it is unclassified."""
        return self.tiers.get(country)


# --- partners and their assessment ---------------------------------------------------------


@dataclass(frozen=True)
class PartnerBudget:
    """One partner's budget part in the call's currency; contribution is cash plus in kind."""

    key: str
    country: str
    grant: Decimal
    contribution: Decimal

    def __post_init__(self) -> None:
        for name in ("grant", "contribution"):
            value = getattr(self, name)
            if not _finite(value) or value < 0:
                raise ValueError(f"{name} of partner {self.key} must be a Decimal >= 0")


@dataclass(frozen=True)
class PartnerAssessment:
    """What the equity model says about one partner.

    ``tier``, ``capacity``, ``max_funding_rate``, ``within_rate`` and ``effort`` are None
    when the partner's country is unclassified.
    """

    key: str
    country: str
    tier: int | None
    grant: Decimal
    contribution: Decimal
    cost: Decimal  # C = g + k
    funding_rate: Decimal  # f = g / C, and 0 when C = 0
    capacity: Decimal | None  # c of the tier
    max_funding_rate: Decimal | None
    within_rate: bool | None  # f <= max funding rate of the tier
    effort: Decimal | None  # e = k / c
    lower_resource: bool  # tier above the partnership's lowest tier number


@dataclass(frozen=True)
class EquityAssessment:
    """The equity panel of a partnership: per-partner results and partnership measures.

    Partners keep the order they were given in; the key tuples are sorted.
    """

    partners: tuple[PartnerAssessment, ...]
    naive_balance: Decimal  # 1 - Gini of the contributions
    capacity_balance: Decimal  # 1 - Gini of the efforts
    asymmetry: Decimal  # A = (max tier - min tier) / 3
    lower_resource_grant_share: Decimal  # share of the grant going to L
    lower_resource_headcount_share: Decimal  # share of the partners in L
    fairness: Decimal  # F = min(1, grant share / head-count share)
    equity_index: Decimal  # E = A x F
    ranking_multiplier: Decimal  # 1 + w x E
    unclassified: tuple[str, ...] = ()  # keys of partners whose country has no tier
    lower_resource: tuple[str, ...] = ()  # keys of L
    over_rate: tuple[str, ...] = ()  # keys of partners above their maximum funding rate
    _by_key: Mapping[str, PartnerAssessment] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_key", {p.key: p for p in self.partners})

    def partner(self, key: str) -> PartnerAssessment:
        """The assessment of one partner by key (KeyError if there is none)."""
        return self._by_key[key]

    @property
    def complete(self) -> bool:
        """True when every partner has a tier, so every measure covers the whole partnership."""
        return not self.unclassified


def _gini(values: Sequence[Fraction]) -> Fraction:
    """Normalised Gini of non-negative values: 0 if n < 2, all equal or all zero; at most 1."""
    n = len(values)
    total = sum(values, _ZERO)
    if n < 2 or total == 0:
        return _ZERO
    # sum_i sum_j |x_i - x_j| = 2 * sum_k (2k - n - 1) x_(k), x sorted ascending, k = 1..n.
    pairwise = 2 * sum(((2 * k - n - 1) * x for k, x in enumerate(sorted(values), 1)), _ZERO)
    return pairwise / (2 * n * total) * Fraction(n, n - 1)


def normalised_gini(values: Iterable[Decimal]) -> Decimal:
    """G = sum_i sum_j |x_i - x_j| / (2 n sum x) * n / (n - 1) of non-negative values.

    0 for fewer than two values, when all are equal, or when all are zero; 1 when one value
    holds everything.
    """
    fractions = [Fraction(v) for v in values]
    if any(v < 0 for v in fractions):
        raise ValueError("the Gini coefficient needs non-negative values")
    return _decimal(_gini(fractions))


def _fairness(
    grant_lower: Fraction, grant_total: Fraction, lower_count: int, count: int
) -> tuple[Fraction, Fraction, Fraction]:
    """Grant share of L, head-count share of L, and F = min(1, grant share / head-count share).

    F is 1 when L is empty (nobody to be unfair to) and when the total grant is 0 (nothing is
    shared, so no share is unfair); the grant share is then reported as 0.
    """
    if lower_count == 0:
        return _ZERO, _ZERO, _ONE
    headcount_share = Fraction(lower_count, count)
    if grant_total == 0:
        return _ZERO, headcount_share, _ONE
    grant_share = grant_lower / grant_total
    return grant_share, headcount_share, min(_ONE, grant_share / headcount_share)


def assess(partners: Iterable[PartnerBudget], policy: EquityPolicy) -> EquityAssessment:
    """Assess a partnership under a call's equity policy (see ``docs/equity.md``).

    With no partners every balance and F are 1, A and E are 0 and the multiplier is 1.
    Raises ValueError when two partners share a key.
    """
    budgets = tuple(partners)
    keys = [b.key for b in budgets]
    if len(set(keys)) != len(keys):
        raise ValueError("partner keys must be unique")
    tiers = {b.key: policy.tier_of(b.country) for b in budgets}
    classified = [b for b in budgets if tiers[b.key] is not None]
    present = [t for t in tiers.values() if t is not None]
    lowest = min(present, default=0)
    highest = max(present, default=0)

    grants = {b.key: Fraction(b.grant) for b in budgets}
    contributions = {b.key: Fraction(b.contribution) for b in budgets}
    efforts: dict[str, Fraction] = {}
    results = []
    for b in budgets:
        g, k = grants[b.key], contributions[b.key]
        cost = g + k
        rate = g / cost if cost else _ZERO
        tier = tiers[b.key]
        if tier is None:
            results.append(
                PartnerAssessment(
                    key=b.key,
                    country=b.country,
                    tier=None,
                    grant=b.grant,
                    contribution=b.contribution,
                    cost=_decimal(cost),
                    funding_rate=_decimal(rate),
                    capacity=None,
                    max_funding_rate=None,
                    within_rate=None,
                    effort=None,
                    lower_resource=False,
                )
            )
            continue
        capacity = Fraction(policy.capacity[tier])
        max_rate = policy.max_funding_rates[tier]
        efforts[b.key] = k / capacity
        results.append(
            PartnerAssessment(
                key=b.key,
                country=b.country,
                tier=tier,
                grant=b.grant,
                contribution=b.contribution,
                cost=_decimal(cost),
                funding_rate=_decimal(rate),
                capacity=policy.capacity[tier],
                max_funding_rate=max_rate,
                within_rate=rate <= Fraction(max_rate),
                effort=_decimal(efforts[b.key]),
                lower_resource=tier > lowest,
            )
        )

    lower = [b for b in classified if tiers[b.key] != lowest]
    grant_share, headcount_share, fairness = _fairness(
        sum((grants[b.key] for b in lower), _ZERO),
        sum((grants[b.key] for b in classified), _ZERO),
        len(lower),
        len(classified),
    )
    asymmetry = Fraction(highest - lowest, len(TIERS) - 1)
    equity_index = asymmetry * fairness
    return EquityAssessment(
        partners=tuple(results),
        naive_balance=_decimal(1 - _gini(list(contributions.values()))),
        capacity_balance=_decimal(1 - _gini(list(efforts.values()))),
        asymmetry=_decimal(asymmetry),
        lower_resource_grant_share=_decimal(grant_share),
        lower_resource_headcount_share=_decimal(headcount_share),
        fairness=_decimal(fairness),
        equity_index=_decimal(equity_index),
        ranking_multiplier=_decimal(1 + Fraction(policy.equity_weight) * equity_index),
        unclassified=tuple(sorted(b.key for b in budgets if tiers[b.key] is None)),
        lower_resource=tuple(sorted(b.key for b in lower)),
        over_rate=tuple(sorted(r.key for r in results if r.within_rate is False)),
    )


# --- mobility ------------------------------------------------------------------------------


class Flow(Protocol):
    """A mobility flow: ``people`` travel from one country to another for ``days`` each."""

    @property
    def from_country(self) -> str: ...

    @property
    def to_country(self) -> str: ...

    @property
    def people(self) -> int | Decimal: ...

    @property
    def days(self) -> int | Decimal: ...


class MobilityFlow(NamedTuple):
    """A plain mobility flow (any object with these four attributes will also do)."""

    from_country: str
    to_country: str
    people: int | Decimal
    days: int | Decimal


@dataclass(frozen=True)
class MobilityBalance:
    """Person-days between two regions ``a < b``: out is a to b, in is b to a.

    ``index`` = (out - in) / (out + in), in [-1, 1]: +1 only a travels to b, -1 only b
    travels to a, 0 balanced (also when there are no person-days at all).
    """

    region_a: str
    region_b: str
    outbound: Decimal  # person-days a -> b
    inbound: Decimal  # person-days b -> a
    index: Decimal


def mobility_balance(
    flows: Iterable[Flow], region_of: Callable[[str], str | None]
) -> dict[tuple[str, str], MobilityBalance]:
    """Directional mobility index per pair of regions, keyed ``(a, b)`` with ``a < b``.

    Person-days (people x days) are summed per ordered pair of regions, ``region_of`` giving a
    country's M49 region code. Flows with an end whose region is None, and flows within one
    region, are skipped. Raises ValueError for negative or non-finite people or days.
    """
    totals: defaultdict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for flow in flows:
        people, days = Decimal(flow.people), Decimal(flow.days)
        if not (people.is_finite() and days.is_finite()) or people < 0 or days < 0:
            raise ValueError("people and days of a flow must be finite and >= 0")
        origin, destination = region_of(flow.from_country), region_of(flow.to_country)
        if origin is None or destination is None or origin == destination:
            continue
        totals[origin, destination] = _CONTEXT.add(
            totals[origin, destination], _CONTEXT.multiply(people, days)
        )
    result = {}
    for a, b in sorted({(min(pair), max(pair)) for pair in totals}):
        out, back = totals.get((a, b), Decimal(0)), totals.get((b, a), Decimal(0))
        both = _CONTEXT.add(out, back)
        index = _CONTEXT.divide(_CONTEXT.subtract(out, back), both) if both else Decimal(0)
        result[a, b] = MobilityBalance(a, b, out, back, index)
    return result
