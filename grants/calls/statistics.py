"""Figures about a call's submitted applications for officers (and, later, the public)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from grants.applications.models import Application
from grants.calls.models import Call
from grants.domain.countries import region_of
from grants.domain.equity import MobilityBalance, MobilityFlow, mobility_balance

ASIA, EUROPE = "142", "150"


@dataclass(frozen=True)
class CallStatistics:
    """Tier combinations, grant requested per tier and the Asia-Europe mobility balance."""

    applications: int
    combinations: list[tuple[tuple[int | None, ...], int]]
    money_by_tier: list[tuple[int | None, Decimal]]
    mobility: MobilityBalance | None


def equity_statistics(call: Call, applications: Sequence[Application]) -> CallStatistics:
    """Count and sum from the applications' partners with the call's current policy."""
    policy = call.equity_policy()
    combinations: Counter[tuple[int | None, ...]] = Counter()
    money: dict[int | None, Decimal] = {}
    flows = []
    for application in applications:
        tiers = []
        for partner in application.partners:
            tier = policy.tier_of(partner.organisation.country)
            tiers.append(tier)
            money[tier] = money.get(tier, Decimal(0)) + partner.grant_requested * partner.rate
        combinations[tuple(sorted(tiers, key=lambda t: (t is None, t)))] += 1
        flows += [
            MobilityFlow(f.from_country, f.to_country, f.people, f.days) for f in application.flows
        ]
    balances = mobility_balance(flows, region_of)
    return CallStatistics(
        applications=len(applications),
        combinations=sorted(combinations.items(), key=lambda item: (-item[1], str(item[0]))),
        money_by_tier=sorted(money.items(), key=lambda item: (item[0] is None, item[0] or 0)),
        mobility=balances.get((ASIA, EUROPE)),
    )
