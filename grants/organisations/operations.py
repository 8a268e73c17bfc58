"""Organisation operations (audited; never commit)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from grants.audit.operations import record
from grants.auth.models import User
from grants.auth.operations import find_user_by_email
from grants.errors import OperationError
from grants.extensions import db
from grants.organisations.models import Organisation, OrganisationMember
from grants.permissions import forget_memberships

FIELDS = ("name", "country", "kind", "website", "registration_id", "org_id_scheme", "budget_band")


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.strip() or None) if isinstance(v, str) else v for k, v in values.items()}


def create_organisation(actor: User, **values: Any) -> Organisation:
    """A new organisation; its creator acts for it."""
    organisation = Organisation(**_clean({k: values[k] for k in FIELDS}))
    db.session.add(organisation)
    db.session.flush()
    db.session.add(OrganisationMember(organisation_id=organisation.id, user_id=actor.id))
    db.session.flush()
    forget_memberships()
    record(
        actor,
        "organisation.created",
        organisation,
        {"country": organisation.country, "kind": organisation.kind},
    )
    return organisation


def update_organisation(actor: User, organisation: Organisation, **values: Any) -> None:
    """Change the profile; the audit entry names the fields that changed."""
    changed = []
    for key, value in _clean({k: values[k] for k in FIELDS}).items():
        if getattr(organisation, key) != value:
            changed.append(key)
            setattr(organisation, key, value)
    if changed:
        record(actor, "organisation.updated", organisation, {"fields": changed})


def add_member(actor: User, organisation: Organisation, email: str) -> OrganisationMember:
    """Let the holder of an existing account act for the organisation too."""
    user = find_user_by_email(email)
    if user is None:
        raise OperationError(
            _l("No account uses this e-mail address. Ask this person to create an account first."),
            "email",
        )
    exists = db.session.scalar(
        select(OrganisationMember.id).where(
            OrganisationMember.organisation_id == organisation.id,
            OrganisationMember.user_id == user.id,
        )
    )
    if exists is not None:
        raise OperationError(_l("This person already acts for the organisation."), "email")
    member = OrganisationMember(organisation_id=organisation.id, user_id=user.id)
    db.session.add(member)
    db.session.flush()
    forget_memberships()
    record(actor, "organisation.member_added", organisation, {"user_id": user.id})
    return member


def my_organisations(user: User) -> list[Organisation]:
    """The organisations a user acts for, by name."""
    return list(
        db.session.scalars(
            select(Organisation)
            .join(OrganisationMember)
            .where(OrganisationMember.user_id == user.id)
            .order_by(Organisation.name)
        )
    )
