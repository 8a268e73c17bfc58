"""Open data of a published call: a 360Giving 1.4 package and a CSV (docs/audit.md).

The package is built once, from the rows as they stand at publication, and stored; the CSV
is rendered from the stored package's grants, so neither follows a later rename.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from grants.applications.models import Application, Partner
from grants.calls.models import Call
from grants.domain import opendata
from grants.extensions import db
from grants.transparency.results import Results
from grants.urls import external_url


def _org_id(organisation: Any) -> str | None:
    if organisation.org_id_scheme and organisation.registration_id:
        candidate = f"{organisation.org_id_scheme}-{organisation.registration_id}"
        return candidate if opendata.valid_org_id(candidate) else None
    return None


def awards(call: Call, results: Results) -> list[opendata.Award]:
    """The funded projects of the results as 360Giving awards (read at publication)."""
    policy = call.equity_policy()
    funder = opendata.Funder(name=call.funder.name, org_id=None, country=call.funder.country)
    award_date = (call.decisions_released_at or call.results_published_at).date()  # type: ignore[union-attr]
    applications = {
        a.reference: a
        for a in db.session.scalars(
            select(Application)
            .options(selectinload(Application.partners).joinedload(Partner.organisation))
            .where(
                Application.call_id == call.id,
                Application.reference.in_([p.reference for p in results.funded]),
            )
        )
    }
    items = []
    for project in results.funded:
        application = applications[project.reference]
        partners = sorted(application.partners, key=lambda p: (not p.is_lead, p.position))
        tiers = {p.id: policy.tier_of(p.organisation.country) for p in partners}
        items.append(
            opendata.Award(
                reference=project.reference,
                title=project.title or project.reference,
                description=application.summary or project.title or project.reference,
                currency=call.currency,
                amount_awarded=project.amount,
                amount_requested=project.requested,
                award_date=award_date,
                recipients=[
                    opendata.Recipient(
                        name=p.organisation.name,
                        org_id=_org_id(p.organisation),
                        country=p.organisation.country,
                        role="lead" if p.is_lead else "partner",
                        tier=None if tiers[p.id] is None else str(tiers[p.id]),
                    )
                    for p in partners
                ],
                artforms=[a for a in project.artforms if a in opendata.ARTFORM_TITLES],
                call_title=call.text("title", call.default_language).text,
                call_reference=call.reference_prefix,
                funder=funder,
                url=external_url("transparency.results", call_id=call.id),
            )
        )
    return items


def package(call: Call, results: Results) -> dict[str, Any]:
    """The 360Giving package of a call's awards (built at publication, then stored)."""
    return opendata.package(
        awards(call, results),
        prefix=current_app.config["OPENDATA_PREFIX"],
        publisher=opendata.Publisher(name=call.funder.name, website=call.funder.website),
        publish_date=(call.results_published_at).date(),  # type: ignore[union-attr]
        uri=external_url("transparency.awards_json", call_id=call.id),
        license=current_app.config["OPENDATA_LICENSE"],
        title=call.text("title", call.default_language).text,
    )


# Column titles for readers, in their language; the 360Giving titles stay available for tools.
CSV_TITLES: dict[str, Any] = {
    "identifier": _l("Identifier"),
    "title": _l("Title"),
    "description": _l("Description"),
    "currency": _l("Currency"),
    "amount_awarded": _l("Amount awarded"),
    "amount_applied_for": _l("Amount applied for"),
    "award_date": _l("Award date"),
    "planned_start": _l("Planned start"),
    "planned_end": _l("Planned end"),
    "recipient_id": _l("Lead organisation: identifier"),
    "recipient_name": _l("Lead organisation: name"),
    "recipient_country": _l("Lead organisation: country"),
    "funder_id": _l("Funder: identifier"),
    "funder_name": _l("Funder: name"),
    "funder_country": _l("Funder: country"),
    "from_open_call": _l("From an open call?"),
    "url": _l("Web address"),
    "data_source": _l("Data source"),
    "programme_code": _l("Programme {n}: code"),
    "programme_title": _l("Programme {n}: title"),
    "location_country_code": _l("Place of benefit {n}: country code"),
    "location_name": _l("Place of benefit {n}: name"),
    "classification_vocabulary": _l("Classification {n}: vocabulary"),
    "classification_code": _l("Classification {n}: code"),
    "classification_title": _l("Classification {n}: title"),
}


def csv_text(package: dict[str, Any], *, standard: bool = False) -> str:
    """The grants of a stored package as CSV, every cell neutralised against formula
    injection: column titles in the reader's language, or the 360Giving titles
    (``standard``) for open-data tools."""
    labels = None if standard else {k: str(v) for k, v in CSV_TITLES.items()}
    return opendata.to_csv(opendata.grant_rows(package["grants"], labels=labels), bom=True)
