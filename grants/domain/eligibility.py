"""The eligibility checklist of an application: plain facts in, checklist items out.

The same function drives the live checklist on the application page and the check at
submission, so what the applicant sees is exactly what the server enforces.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum


class Item(StrEnum):
    """Checklist items; pages translate them with their parameters."""

    TITLE = "title"
    SUMMARY = "summary"
    ARTFORMS = "artforms"
    LANGUAGES = "languages"
    MIN_PARTNERS = "min_partners"
    MIN_COUNTRIES = "min_countries"
    REGION = "region"
    GRANT_RANGE = "grant_range"
    BUDGET_BALANCED = "budget_balanced"
    TIERS = "tiers"
    FUNDING_RATES = "funding_rates"
    ANSWER = "answer"
    ATTACHMENTS = "attachments"
    INVITATIONS = "invitations"
    SIGNED = "signed"


@dataclass(frozen=True)
class PartnerFacts:
    """One partner. Money in the partner's currency except ``grant_in_call_currency``."""

    key: str
    name: str
    country: str
    region: str | None
    grant_in_call_currency: Decimal
    part_total: Decimal
    lines_total: Decimal
    signed: bool
    # From the equity assessment (docs/equity.md): does the country have an income tier,
    # and does the grant stay within the maximum funding rate of that tier?
    tier_known: bool = True
    within_rate: bool = True


@dataclass(frozen=True)
class Rules:
    """The call's eligibility rules."""

    min_partners: int
    min_countries: int
    required_regions: tuple[str, ...]
    grant_min: Decimal
    grant_max: Decimal
    required_questions: tuple[str, ...]
    required_attachments: int


@dataclass(frozen=True)
class Facts:
    """What the application holds now."""

    has_title: bool
    has_summary: bool
    artform_count: int
    language_count: int
    partners: tuple[PartnerFacts, ...]
    answered_questions: frozenset[str]
    attachment_count: int
    pending_invitations: int


@dataclass(frozen=True)
class Check:
    """One checklist line: what it is about, whether it holds, and its numbers."""

    item: Item
    ok: bool
    params: Mapping[str, str | int] = field(default_factory=dict)
    subject: str | None = None  # partner key or question key it is about


def total_grant(facts: Facts) -> Decimal:
    """The grant requested by the whole partnership, in the call's currency."""
    return sum((p.grant_in_call_currency for p in facts.partners), Decimal(0))


def checklist(facts: Facts, rules: Rules) -> list[Check]:
    """Every eligibility item with its state, in the order the page shows them."""
    partners = facts.partners
    countries = {p.country for p in partners}
    regions = {p.region for p in partners if p.region}
    total = total_grant(facts)
    checks = [
        Check(Item.TITLE, facts.has_title),
        Check(Item.SUMMARY, facts.has_summary),
        Check(Item.ARTFORMS, facts.artform_count > 0),
        Check(Item.LANGUAGES, facts.language_count > 0),
        Check(
            Item.MIN_PARTNERS,
            len(partners) >= rules.min_partners,
            {"needed": rules.min_partners, "have": len(partners)},
        ),
        Check(
            Item.MIN_COUNTRIES,
            len(countries) >= rules.min_countries,
            {"needed": rules.min_countries, "have": len(countries)},
        ),
    ]
    checks += [
        Check(Item.REGION, region in regions, {"region": region}, subject=region)
        for region in rules.required_regions
    ]
    checks.append(
        Check(
            Item.GRANT_RANGE,
            rules.grant_min <= total <= rules.grant_max,
            {"total": str(total), "min": str(rules.grant_min), "max": str(rules.grant_max)},
        )
    )
    checks += [
        Check(
            Item.BUDGET_BALANCED,
            p.part_total > 0 and p.lines_total == p.part_total,
            {"partner": p.name, "lines": str(p.lines_total), "part": str(p.part_total)},
            subject=p.key,
        )
        for p in partners
    ]
    unclassified = [p.name for p in partners if not p.tier_known]
    checks.append(
        Check(
            Item.TIERS,
            not unclassified,
            {"count": len(unclassified), "partners": ", ".join(unclassified)},
        )
    )
    over = [p.name for p in partners if p.tier_known and not p.within_rate]
    checks.append(
        Check(Item.FUNDING_RATES, not over, {"count": len(over), "partners": ", ".join(over)})
    )
    checks += [
        Check(Item.ANSWER, key in facts.answered_questions, {"question": key}, subject=key)
        for key in rules.required_questions
    ]
    if rules.required_attachments:
        checks.append(
            Check(
                Item.ATTACHMENTS,
                facts.attachment_count >= rules.required_attachments,
                {"needed": rules.required_attachments, "have": facts.attachment_count},
            )
        )
    checks.append(
        Check(
            Item.INVITATIONS, facts.pending_invitations == 0, {"pending": facts.pending_invitations}
        )
    )
    unsigned = [p.name for p in partners if not p.signed]
    checks.append(
        Check(
            Item.SIGNED,
            not unsigned and bool(partners),
            {"count": len(unsigned), "partners": ", ".join(unsigned)},
        )
    )
    return checks


def blocking(checks: list[Check], *, ignore: frozenset[Item] = frozenset()) -> list[Check]:
    """The items that fail (optionally ignoring some, e.g. signatures before sign-off)."""
    return [c for c in checks if not c.ok and c.item not in ignore]
