"""Open data: a call's final awards as a 360Giving Data Standard 1.4 package and as a CSV.

Pure functions over plain frozen dataclasses; the caller loads the awards and serves the files.

Choices made here (the 360Giving schema allows more than one way):

- Grant identifiers are ``360G-<prefix>-<reference>``, ``prefix`` being the publisher's
  360Giving prefix without its leading ``360G-``.
- ``recipientOrganization`` holds the lead partner only. The schema accepts several recipients,
  but the standard's flattened spreadsheet format rolls up a single recipient per grant, and
  tools that total "grants received" per organisation would credit the whole amount to every
  partner listed. Every partner's country (the lead's first, then the others in order, each
  once) goes in ``beneficiaryLocation``, and every partner's resource tier in
  ``classifications``.
- An organisation without an org-id.guide identifier gets ``360G-<prefix>-org-<CC>-<hash>``:
  its country code and the first 12 hexadecimal digits of the SHA-256 of the canonical JSON of
  ``[country, name]``, the name NFKC-normalised, case-folded and with white space collapsed.
  The same organisation therefore keeps one identifier across awards and exports, whatever
  the script of its name, and two organisations differing only in country never share one.
- Amounts are JSON numbers, as the schema requires: an ``int`` when the amount is whole, else
  the ``float`` of its two-decimal string. Amounts must be positive, have at most two decimal
  places and be below 10**13, so they have at most 15 significant digits and the float's
  shortest representation, which is what JSON carries, is exactly the decimal amount.
- Countries are ISO 3166-1 alpha-2 codes. A user-assigned code (``XK`` for Kosovo, any
  ``X?``, ``AA``, ``QM`` to ``QZ``, ``ZZ``) is outside the schema's country code list, so its
  locations carry the country's name and no ``countryCode``.
- The grant programme is the call (code and title); an optional wider programme name follows
  as a second grant programme.

CSV cells are neutralised against spreadsheet formula injection (see ``neutralise``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from grants.domain.audit_chain import canonical_json
from grants.domain.countries import countries
from grants.domain.equity import TIERS
from grants.domain.vocabulary import ARTFORMS

STANDARD_VERSION = "1.4"
"""Major.minor version of the 360Giving Data Standard the package follows."""

ARTFORM_VOCABULARY = "grants-artform"
TIER_VOCABULARY = "grants-resource-tier"

ARTFORM_TITLES: Mapping[str, str] = MappingProxyType(
    {
        "theatre": "Theatre",
        "dance": "Dance",
        "music": "Music",
        "visual_arts": "Visual arts",
        "crafts": "Crafts",
        "literature": "Literature",
        "film_media": "Film and media",
        "design": "Design",
        "architecture": "Architecture",
        "cultural_heritage": "Cultural heritage",
        "museums": "Museums",
        "digital_media": "Digital and new media",
        "interdisciplinary": "Interdisciplinary",
    }
)
"""English titles of the artform vocabulary (keys of ``vocabulary.ARTFORMS``)."""

TIER_CODES: tuple[str, ...] = tuple(str(tier) for tier in TIERS)
"""Resource tier keys: the equity tiers 0 to 3 as strings."""

TIER_TITLES: Mapping[str, str] = MappingProxyType(
    {
        "0": "Tier 0: high income",
        "1": "Tier 1: upper-middle income",
        "2": "Tier 2: lower-middle income",
        "3": "Tier 3: low income",
    }
)
"""English titles of the resource tiers (World Bank income groups of the partners' countries)."""

DANGEROUS_PREFIXES: frozenset[str] = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
"""First characters that make a spreadsheet read a cell as a formula: OWASP's list (=, +, -, @,
tab, carriage return) and the full-width forms of the first four, which some spreadsheet
software treats like the ASCII ones."""

_MAX_AMOUNT = Decimal(10) ** 13
_CENT = Decimal("0.01")
_ORG_ID = re.compile(r"[A-Za-z0-9]+-[A-Za-z0-9]+-\S+")
_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_PREFIX = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


# --- input ---------------------------------------------------------------------------------


def _is_country(code: object) -> bool:
    return isinstance(code, str) and len(code) == 2 and code.isascii() and code.isupper()


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def valid_org_id(org_id: str) -> bool:
    """Whether ``org_id`` has the shape of an org-id.guide identifier (GB-CHC-123456)."""
    return _ORG_ID.fullmatch(org_id) is not None


def _check_org_id(org_id: str | None, whose: str) -> None:
    if org_id is not None and not _ORG_ID.fullmatch(org_id):
        raise ValueError(
            f"org_id of {whose} must be an org-id.guide identifier such as GB-CHC-123456, "
            f"got {org_id!r}"
        )


def _check_date(value: object, name: str) -> None:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValueError(f"{name} must be a date (not a datetime), got {value!r}")


def _check_amount(value: object, name: str) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueError(f"{name} must be a finite Decimal, got {value!r}")
    if not 0 < value < _MAX_AMOUNT:
        raise ValueError(f"{name} must be greater than 0 and below 10**13, got {value}")
    if value != value.quantize(_CENT):
        raise ValueError(f"{name} must have at most two decimal places, got {value}")


@dataclass(frozen=True)
class Recipient:
    """A partner organisation of an award; ``tier`` is a key of ``TIER_CODES`` or None."""

    name: str
    org_id: str | None
    country: str
    role: str  # "lead" or "partner"
    tier: str | None = None

    def __post_init__(self) -> None:
        if not _text(self.name):
            raise ValueError("a recipient needs a name")
        _check_org_id(self.org_id, self.name)
        if not _is_country(self.country):
            raise ValueError(f"country of {self.name} must be ISO 3166-1 alpha-2")
        if self.role not in ("lead", "partner"):
            raise ValueError(f"role of {self.name} must be 'lead' or 'partner'")
        if self.tier is not None and self.tier not in TIER_CODES:
            raise ValueError(f"tier of {self.name} must be one of {', '.join(TIER_CODES)}")


@dataclass(frozen=True)
class Funder:
    """The funding organisation."""

    name: str
    org_id: str | None
    country: str

    def __post_init__(self) -> None:
        if not _text(self.name):
            raise ValueError("a funder needs a name")
        _check_org_id(self.org_id, self.name)
        if not _is_country(self.country):
            raise ValueError(f"country of {self.name} must be ISO 3166-1 alpha-2")


@dataclass(frozen=True)
class Publisher:
    """Who publishes the package; ``identifier`` is an org-id, the others are URLs."""

    name: str
    identifier: str | None = None
    website: str | None = None
    logo: str | None = None

    def __post_init__(self) -> None:
        if not _text(self.name):
            raise ValueError("a publisher needs a name")


@dataclass(frozen=True)
class Award:
    """A final award of a call, in the call's currency.

    ``reference`` is unique within the publisher (letters, digits, ``_``, ``.`` and ``-``);
    exactly one recipient is the lead; ``artforms`` are keys of ``vocabulary.ARTFORMS``.
    """

    reference: str
    title: str
    description: str
    currency: str
    amount_awarded: Decimal
    amount_requested: Decimal
    award_date: date
    recipients: Sequence[Recipient]
    artforms: Sequence[str]
    call_title: str
    call_reference: str
    funder: Funder
    planned_start: date | None = None
    planned_end: date | None = None
    programme: str | None = None
    data_source: str | None = None
    url: str | None = None
    open_call: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.reference, str) or not _REFERENCE.fullmatch(self.reference):
            raise ValueError(
                "reference must be letters, digits, '_', '.' or '-', starting with a letter "
                f"or digit, got {self.reference!r}"
            )
        for name in ("title", "description", "call_title", "call_reference"):
            if not _text(getattr(self, name)):
                raise ValueError(f"award {self.reference} needs a {name.replace('_', ' ')}")
        if not (
            isinstance(self.currency, str)
            and len(self.currency) == 3
            and self.currency.isascii()
            and self.currency.isalpha()
            and self.currency.isupper()
        ):
            raise ValueError(f"currency of award {self.reference} must be ISO 4217")
        _check_amount(self.amount_awarded, "amount_awarded")
        _check_amount(self.amount_requested, "amount_requested")
        _check_date(self.award_date, "award_date")
        for name in ("planned_start", "planned_end"):
            if getattr(self, name) is not None:
                _check_date(getattr(self, name), name)
        if (
            self.planned_start is not None
            and self.planned_end is not None
            and self.planned_end < self.planned_start
        ):
            raise ValueError(f"award {self.reference} ends before it starts")
        recipients = tuple(self.recipients)
        if sum(r.role == "lead" for r in recipients) != 1:
            raise ValueError(f"award {self.reference} needs exactly one lead recipient")
        artforms = tuple(dict.fromkeys(self.artforms))
        unknown = [a for a in artforms if a not in ARTFORMS]
        if unknown:
            raise ValueError(f"unknown artforms in award {self.reference}: {unknown}")
        if self.programme is not None and not _text(self.programme):
            raise ValueError(f"programme of award {self.reference} must not be blank")
        object.__setattr__(self, "recipients", recipients)
        object.__setattr__(self, "artforms", artforms)

    @property
    def lead(self) -> Recipient:
        """The lead recipient."""
        return next(r for r in self.recipients if r.role == "lead")

    @property
    def partners_lead_first(self) -> tuple[Recipient, ...]:
        """All recipients, the lead first, the others in their given order."""
        return (self.lead, *(r for r in self.recipients if r.role != "lead"))


# --- identifiers, numbers, places ----------------------------------------------------------


def _check_prefix(prefix: str) -> None:
    if prefix.upper().startswith("360G-"):
        raise ValueError("give the 360Giving prefix without its leading '360G-'")
    if not _PREFIX.fullmatch(prefix):
        raise ValueError(f"prefix must be letters, digits, '_' or '-', got {prefix!r}")


def grant_id(prefix: str, reference: str) -> str:
    """The 360Giving identifier of a grant: ``360G-<prefix>-<reference>``."""
    _check_prefix(prefix)
    return f"360G-{prefix}-{reference}"


def organisation_id(prefix: str, name: str, country: str, org_id: str | None = None) -> str:
    """The org-id when known, else ``360G-<prefix>-org-<country>-<12 hex digits>``.

    The digits come from the SHA-256 of ``canonical_json([country, name])`` with the name
    NFKC-normalised, case-folded and its white space collapsed to single spaces.
    """
    if org_id is not None:
        return org_id
    _check_prefix(prefix)
    key = " ".join(unicodedata.normalize("NFKC", name).casefold().split())
    digest = hashlib.sha256(canonical_json([country, key]).encode("utf-8")).hexdigest()
    return f"360G-{prefix}-org-{country}-{digest[:12]}"


def json_amount(amount: Decimal) -> int | float:
    """An amount as a JSON number: int when whole, else the float of its two-decimal string."""
    _check_amount(amount, "amount")
    if amount == amount.to_integral_value():
        return int(amount)
    return float(str(amount.quantize(_CENT)))


def _user_assigned(code: str) -> bool:
    """ISO 3166-1 alpha-2 codes left to users (AA, QM-QZ, XA-XZ, ZZ), such as XK for Kosovo."""
    return code in ("AA", "ZZ") or code[0] == "X" or (code[0] == "Q" and code[1] >= "M")


def _country_name(code: str) -> str:
    country = countries().get(code)
    return country.name if country else code


def _location(code: str) -> dict[str, Any]:
    if _user_assigned(code):
        return {"name": _country_name(code)}
    return {"countryCode": code, "name": _country_name(code)}


def _organisation(prefix: str, name: str, org_id: str | None, country: str) -> dict[str, Any]:
    return {
        "id": organisation_id(prefix, name, country, org_id),
        "name": name,
        "addressCountry": _country_name(country),
        "location": [_location(country)],
    }


# --- the package ---------------------------------------------------------------------------


def _grant(award: Award, prefix: str) -> dict[str, Any]:
    lead = award.lead
    partners = award.partners_lead_first
    countries_in_order = list(dict.fromkeys(r.country for r in partners))
    tiers = sorted({r.tier for r in partners if r.tier is not None})
    programmes: list[dict[str, Any]] = [{"code": award.call_reference, "title": award.call_title}]
    if award.programme is not None:
        programmes.append({"title": award.programme})
    grant: dict[str, Any] = {
        "id": grant_id(prefix, award.reference),
        "title": award.title,
        "description": award.description,
        "currency": award.currency,
        "amountAwarded": json_amount(award.amount_awarded),
        "amountAppliedFor": json_amount(award.amount_requested),
        "awardDate": award.award_date.isoformat(),
        "recipientOrganization": [_organisation(prefix, lead.name, lead.org_id, lead.country)],
        "fundingOrganization": [
            _organisation(prefix, award.funder.name, award.funder.org_id, award.funder.country)
        ],
        "beneficiaryLocation": [_location(code) for code in countries_in_order],
        "grantProgramme": programmes,
        "fromOpenCall": "Yes" if award.open_call else "No",
        "classifications": [
            *(
                {"vocabulary": ARTFORM_VOCABULARY, "code": a, "title": ARTFORM_TITLES[a]}
                for a in award.artforms
            ),
            *({"vocabulary": TIER_VOCABULARY, "code": t, "title": TIER_TITLES[t]} for t in tiers),
        ],
    }
    dates = {
        key: value.isoformat()
        for key, value in (("startDate", award.planned_start), ("endDate", award.planned_end))
        if value is not None
    }
    if dates:
        grant["plannedDates"] = [dates]
    if award.url is not None:
        grant["url"] = award.url
    if award.data_source is not None:
        grant["dataSource"] = award.data_source
    return grant


def _grants(awards: Iterable[Award], prefix: str) -> list[dict[str, Any]]:
    _check_prefix(prefix)
    grants = [_grant(award, prefix) for award in awards]
    ids = [g["id"] for g in grants]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"grant references must be unique: {', '.join(duplicates)}")
    return grants


def package(
    awards: Iterable[Award],
    *,
    prefix: str,
    publisher: Publisher,
    publish_date: date,
    uri: str,
    license: str,
    title: str | None = None,
    description: str | None = None,
    access_url: str | None = None,
) -> dict[str, Any]:
    """A 360Giving 1.4 data package of the awards, ready for ``to_json``.

    ``uri`` is where the file is downloaded from; it is also the package's identifier.
    ``license`` is the canonical URL of the data's licence. Raises ValueError when there are
    no awards (a package needs at least one grant) or when two awards share a reference.
    """
    _check_date(publish_date, "publish_date")
    grants = _grants(awards, prefix)
    if not grants:
        raise ValueError("a 360Giving package needs at least one grant")
    publisher_data: dict[str, Any] = {"name": publisher.name}
    for key, value in (
        ("identifier", publisher.identifier),
        ("website", publisher.website),
        ("logo", publisher.logo),
    ):
        if value is not None:
            publisher_data[key] = value
    result: dict[str, Any] = {
        "version": STANDARD_VERSION,
        "identifier": uri,
        "issued": publish_date.isoformat(),
        "publisher": publisher_data,
        "downloadURL": uri,
        "license": license,
        "grants": grants,
    }
    for key, value in (("title", title), ("description", description), ("accessURL", access_url)):
        if value is not None:
            result[key] = value
    return result


def to_json(data: Mapping[str, Any]) -> str:
    """The package as canonical JSON (sorted keys, compact, UTF-8): the same awards always
    give the same bytes."""
    return canonical_json(data)


# --- CSV -----------------------------------------------------------------------------------

CSV_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "identifier": "Identifier",
        "title": "Title",
        "description": "Description",
        "currency": "Currency",
        "amount_awarded": "Amount Awarded",
        "amount_applied_for": "Amount Applied For",
        "award_date": "Award Date",
        "planned_start": "Planned Dates:Start Date",
        "planned_end": "Planned Dates:End Date",
        "recipient_id": "Recipient Org:Identifier",
        "recipient_name": "Recipient Org:Name",
        "recipient_country": "Recipient Org:Country",
        "funder_id": "Funding Org:Identifier",
        "funder_name": "Funding Org:Name",
        "funder_country": "Funding Org:Country",
        "from_open_call": "From An Open Call?",
        "url": "URL",
        "data_source": "Data Source",
        "programme_code": "Grant Programme:{n}:Code",
        "programme_title": "Grant Programme:{n}:Title",
        "location_country_code": "Beneficiary Location:{n}:Country Code",
        "location_name": "Beneficiary Location:{n}:Name",
        "classification_vocabulary": "Classifications:{n}:Vocabulary",
        "classification_code": "Classifications:{n}:Code",
        "classification_title": "Classifications:{n}:Title",
    }
)
"""Column keys and their 360Giving spreadsheet titles; ``{n}`` is the item number, from 0."""

# Simple columns: key and the path to the value in a grant.
_COLUMNS: tuple[tuple[str, tuple[str | int, ...]], ...] = (
    ("identifier", ("id",)),
    ("title", ("title",)),
    ("description", ("description",)),
    ("currency", ("currency",)),
    ("amount_awarded", ("amountAwarded",)),
    ("amount_applied_for", ("amountAppliedFor",)),
    ("award_date", ("awardDate",)),
    ("planned_start", ("plannedDates", 0, "startDate")),
    ("planned_end", ("plannedDates", 0, "endDate")),
    ("recipient_id", ("recipientOrganization", 0, "id")),
    ("recipient_name", ("recipientOrganization", 0, "name")),
    ("recipient_country", ("recipientOrganization", 0, "addressCountry")),
    ("funder_id", ("fundingOrganization", 0, "id")),
    ("funder_name", ("fundingOrganization", 0, "name")),
    ("funder_country", ("fundingOrganization", 0, "addressCountry")),
    ("from_open_call", ("fromOpenCall",)),
    ("url", ("url",)),
    ("data_source", ("dataSource",)),
)

# Repeated groups: the grant's array and the key and field of each column of an item.
_GROUPS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("grantProgramme", (("programme_code", "code"), ("programme_title", "title"))),
    (
        "beneficiaryLocation",
        (("location_country_code", "countryCode"), ("location_name", "name")),
    ),
    (
        "classifications",
        (
            ("classification_vocabulary", "vocabulary"),
            ("classification_code", "code"),
            ("classification_title", "title"),
        ),
    ),
)


def neutralise(cell: str) -> str:
    """The cell with a leading apostrophe when it starts with a ``DANGEROUS_PREFIXES`` character.

    A spreadsheet then shows it as text instead of evaluating it. Every other string comes back
    unchanged, and the result never starts with a dangerous character, so applying it twice
    changes nothing more. Nothing in the export is a negative number (amounts are positive),
    so no legitimate cell loses its meaning.
    """
    if cell and cell[0] in DANGEROUS_PREFIXES:
        return "'" + cell
    return cell


def _labels(overrides: Mapping[str, str] | None) -> dict[str, str]:
    labels = dict(CSV_LABELS)
    for key, label in (overrides or {}).items():
        if key not in CSV_LABELS:
            raise ValueError(f"unknown CSV column key {key!r}")
        if "{n}" in CSV_LABELS[key] and "{n}" not in label:
            raise ValueError(f"the label of {key} needs '{{n}}' for the item number")
        labels[key] = label
    return labels


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, int | float):
        return json.dumps(value)
    return str(value)


def _get(grant: Mapping[str, Any], path: tuple[str | int, ...]) -> object:
    value: Any = grant
    for step in path:
        if isinstance(step, int):
            if not isinstance(value, list) or len(value) <= step:
                return None
            value = value[step]
        else:
            if not isinstance(value, dict) or step not in value:
                return None
            value = value[step]
    return value


def csv_rows(
    awards: Iterable[Award], prefix: str, *, labels: Mapping[str, str] | None = None
) -> list[list[str]]:
    """The awards as rows of a 360Giving flattened spreadsheet, the header row first.

    One row per award with the same content as ``package``. Repeated items (grant programmes,
    beneficiary locations, classifications) get numbered columns, as many as the award with
    the most of them needs. ``labels`` replaces some header titles, keyed like ``CSV_LABELS``
    (a translation, say); only the default titles are the 360Giving ones. Every cell is
    neutralised.
    """
    return grant_rows(_grants(awards, prefix), labels=labels)


def grant_rows(
    grants: Sequence[Mapping[str, Any]], *, labels: Mapping[str, str] | None = None
) -> list[list[str]]:
    """The grants of a package (its ``"grants"``, as stored) as the rows of ``csv_rows``: a
    published package gives its spreadsheet again, in any reader's column titles."""
    titles = _labels(labels)
    counts = [max((len(g.get(array, [])) for g in grants), default=0) for array, _ in _GROUPS]
    header = [titles[key] for key, _ in _COLUMNS]
    for (_, fields), count in zip(_GROUPS, counts, strict=True):
        for n in range(count):
            header.extend(titles[key].replace("{n}", str(n)) for key, _ in fields)
    rows = [header]
    for grant in grants:
        row = [_cell(_get(grant, path)) for _, path in _COLUMNS]
        for (array, fields), count in zip(_GROUPS, counts, strict=True):
            for n in range(count):
                row.extend(_cell(_get(grant, (array, n, field))) for _, field in fields)
        rows.append(row)
    return [[neutralise(cell) for cell in row] for row in rows]


def to_csv(rows: Iterable[Sequence[str]], *, bom: bool = False) -> str:
    """RFC 4180 CSV (CRLF line ends, quoted only where needed) with every cell neutralised.

    ``bom`` puts a UTF-8 byte order mark first, which some spreadsheet software needs to read
    non-Latin text correctly.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([neutralise(cell) for cell in row] for row in rows)
    return ("\ufeff" if bom else "") + buffer.getvalue()
