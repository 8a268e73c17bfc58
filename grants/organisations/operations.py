"""Organisation operations (audited; never commit)."""

from __future__ import annotations

import secrets
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from grants.audit.operations import record
from grants.auth.models import User
from grants.auth.operations import normalise_email
from grants.errors import OperationError
from grants.extensions import db
from grants.mail.operations import queue_mail
from grants.organisations.models import (
    InvitationStatus,
    Organisation,
    OrganisationInvitation,
    OrganisationMember,
)
from grants.permissions import can_answer_invitation, forget_memberships
from grants.types import utcnow
from grants.urls import external_url

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


# --- colleagues: membership by invitation ---------------------------------------------------
#
# Nobody is made to act for an organisation without their consent: "add a colleague" only
# e-mails the address a signed link, whether or not it has an account, and says the same
# thing either way. The membership (an OrganisationMember row) exists once the holder of
# that address, signed in with it, accepts. Until then the invitation counts for nothing:
# no access, no partner rights, no conflict of interest.

WRONG_ADDRESS = _l(
    "This invitation was sent to another e-mail address. Sign in with the address that "
    "received it, or ask the person who invited you to invite the address of this account."
)


def _member_invitation_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="organisation-invitation")


def member_invitation_token(invitation: OrganisationInvitation) -> str:
    """A signed link token; a re-send changes the nonce, so old links stop working."""
    return _member_invitation_serializer().dumps({"id": invitation.id, "n": invitation.nonce})


def _send_member_invitation(invitation: OrganisationInvitation) -> None:
    queue_mail(
        invitation.email,
        "colleague_invitation",
        invitation.locale,
        _l(
            "You are invited to act for %(organisation)s",
            organisation=invitation.organisation.name,
        ),
        invitation=invitation,
        organisation=invitation.organisation,
        inviter=invitation.invited_by,
        days=current_app.config["INVITATION_MAX_AGE_DAYS"],
        link=external_url("organisations.invitation", token=member_invitation_token(invitation)),
    )


def _is_member(organisation: Organisation, user_id: int) -> bool:
    return (
        db.session.scalar(
            select(OrganisationMember.id).where(
                OrganisationMember.organisation_id == organisation.id,
                OrganisationMember.user_id == user_id,
            )
        )
        is not None
    )


def invite_member(
    actor: User, organisation: Organisation, *, email: str, locale: str
) -> OrganisationInvitation:
    """E-mail an address a signed, expiring link to act for the organisation.

    The answer is the same whether or not the address has an account; only addresses the
    inviter already sees (people who act for the organisation, pending invitations) are
    refused.
    """
    email = normalise_email(email)
    listed = db.session.scalar(
        select(OrganisationMember.id)
        .join(User, User.id == OrganisationMember.user_id)
        .where(OrganisationMember.organisation_id == organisation.id, User.email == email)
    )
    if listed is not None:
        raise OperationError(_l("This person already acts for the organisation."), "email")
    pending = db.session.scalar(
        select(OrganisationInvitation.id).where(
            OrganisationInvitation.organisation_id == organisation.id,
            OrganisationInvitation.email == email,
            OrganisationInvitation.status == InvitationStatus.PENDING,
        )
    )
    if pending is not None:
        raise OperationError(
            _l("This address already has a pending invitation: re-send it instead."), "email"
        )
    invitation = OrganisationInvitation(
        organisation=organisation,
        email=email,
        locale=locale,
        status=InvitationStatus.PENDING,
        nonce=secrets.token_hex(16),
        invited_by_id=actor.id,
    )
    db.session.add(invitation)
    db.session.flush()
    _send_member_invitation(invitation)
    record(actor, "organisation.member_invited", organisation, {"invitation_id": invitation.id})
    return invitation


def _locked(invitation: OrganisationInvitation) -> OrganisationInvitation:
    """The invitation re-read under a row lock (PostgreSQL), so two answers cannot race."""
    locked = db.session.scalar(
        select(OrganisationInvitation)
        .where(OrganisationInvitation.id == invitation.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert locked is not None
    return locked


def resend_member_invitation(actor: User, invitation: OrganisationInvitation) -> None:
    """A new link (the old one stops working) with a fresh expiry."""
    invitation = _locked(invitation)
    if invitation.status != InvitationStatus.PENDING:
        raise OperationError(_l("Only pending invitations can be sent again."))
    invitation.nonce = secrets.token_hex(16)
    invitation.sent_at = utcnow()
    _send_member_invitation(invitation)
    record(
        actor,
        "organisation.invitation_resent",
        invitation.organisation,
        {"invitation_id": invitation.id},
    )


def revoke_member_invitation(actor: User, invitation: OrganisationInvitation) -> None:
    """Withdraw an invitation; its link stops working."""
    invitation = _locked(invitation)
    if invitation.status != InvitationStatus.PENDING:
        raise OperationError(_l("Only pending invitations can be withdrawn."))
    invitation.status = InvitationStatus.REVOKED
    invitation.responded_at = utcnow()
    record(
        actor,
        "organisation.invitation_revoked",
        invitation.organisation,
        {"invitation_id": invitation.id},
    )


def member_invitation_from_token(token: str) -> OrganisationInvitation:
    """The pending invitation a link stands for; raises with a clear reason otherwise."""
    max_age = current_app.config["INVITATION_MAX_AGE_DAYS"] * 24 * 3600
    try:
        payload = _member_invitation_serializer().loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise OperationError(
            _l("This invitation has expired. Ask your colleague to send it again.")
        ) from exc
    except BadSignature as exc:
        raise OperationError(_l("This invitation link is not valid.")) from exc
    invitation = db.session.get(OrganisationInvitation, payload.get("id"))
    if invitation is None or invitation.nonce != payload.get("n"):
        raise OperationError(
            _l("This invitation link has been replaced by a newer one. Use the latest e-mail.")
        )
    if invitation.status == InvitationStatus.REVOKED:
        raise OperationError(_l("This invitation has been withdrawn."))
    if invitation.status == InvitationStatus.ACCEPTED:
        raise OperationError(_l("This invitation has already been accepted."))
    if invitation.status == InvitationStatus.DECLINED:
        raise OperationError(_l("This invitation has been declined."))
    return invitation


def _answerable(actor: User, invitation: OrganisationInvitation) -> OrganisationInvitation:
    if not can_answer_invitation(actor, invitation.email):
        raise OperationError(WRONG_ADDRESS)
    invitation = _locked(invitation)
    if invitation.status != InvitationStatus.PENDING:
        raise OperationError(_l("This invitation has already been answered or withdrawn."))
    return invitation


def accept_member_invitation(
    actor: User, invitation: OrganisationInvitation
) -> OrganisationMember | None:
    """The invited person, signed in with the invited address, starts acting for the
    organisation. Returns the new membership (None if they already acted for it)."""
    invitation = _answerable(actor, invitation)
    organisation = invitation.organisation
    invitation.status = InvitationStatus.ACCEPTED
    invitation.responded_at = utcnow()
    invitation.user_id = actor.id
    member = None
    if not _is_member(organisation, actor.id):
        member = OrganisationMember(organisation_id=organisation.id, user_id=actor.id)
        db.session.add(member)
    db.session.flush()
    forget_memberships()
    record(
        actor,
        "organisation.member_joined",
        organisation,
        {"invitation_id": invitation.id, "user_id": actor.id},
    )
    return member


def decline_member_invitation(actor: User, invitation: OrganisationInvitation) -> None:
    """The invited person says no; the link stops working and nothing else changes."""
    invitation = _answerable(actor, invitation)
    invitation.status = InvitationStatus.DECLINED
    invitation.responded_at = utcnow()
    invitation.user_id = actor.id
    record(
        actor,
        "organisation.invitation_declined",
        invitation.organisation,
        {"invitation_id": invitation.id},
    )


def pending_member_invitations(organisation: Organisation) -> list[OrganisationInvitation]:
    """Invitations still waiting for an answer, oldest first."""
    return [i for i in organisation.invitations if i.status == InvitationStatus.PENDING]


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
