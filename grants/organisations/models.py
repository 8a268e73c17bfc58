"""Organisations (applicants' legal entities) and their members."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.auth.models import User
from grants.extensions import db
from grants.types import UTCDateTime, utcnow


class Organisation(db.Model):  # type: ignore[name-defined,misc]
    """A cultural organisation, collective or company that can apply."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    website: Mapped[str | None] = mapped_column(String(300))
    # Registration number and its org-id.guide list code (e.g. "GB-CHC", "FR-RNA").
    registration_id: Mapped[str | None] = mapped_column(String(100))
    org_id_scheme: Mapped[str | None] = mapped_column(String(20))
    budget_band: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    members: Mapped[list[OrganisationMember]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan"
    )
    invitations: Mapped[list[OrganisationInvitation]] = relationship(
        back_populates="organisation",
        cascade="all, delete-orphan",
        order_by="OrganisationInvitation.id",
    )

    @property
    def org_id(self) -> str | None:
        """The org-id identifier (scheme-registration), when both are known."""
        if self.org_id_scheme and self.registration_id:
            return f"{self.org_id_scheme}-{self.registration_id}"
        return None


class OrganisationMember(db.Model):  # type: ignore[name-defined,misc]
    """A user who may act for an organisation.

    Only people who act for it have a row here: the creator at once, a colleague once they
    have accepted an invitation (``OrganisationInvitation``). Every reader (access, conflict
    detection, partner rights) can therefore trust a row without checking any status.
    """

    __tablename__ = "organisation_members"
    __table_args__ = (UniqueConstraint("organisation_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="members")
    user: Mapped[User] = relationship()


class InvitationStatus(StrEnum):
    """The life of a colleague invitation: pending until answered or withdrawn."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    REVOKED = "revoked"


class OrganisationInvitation(db.Model):  # type: ignore[name-defined,misc]
    """An e-mailed invitation to act for an organisation; it grants nothing until accepted."""

    __tablename__ = "organisation_invitations"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'accepted', 'declined', 'revoked')", name="status_known"
        ),
        Index("ix_organisation_invitations_email_status", "email", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    # Normalised (lower case); the only person who may accept is the holder of this address.
    email: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=InvitationStatus.PENDING.value)
    # A fresh nonce on every (re-)send: older links stop working.
    nonce: Mapped[str] = mapped_column(String(32))
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Who answered (accepted or declined), once answered.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    organisation: Mapped[Organisation] = relationship(back_populates="invitations")
    invited_by: Mapped[User] = relationship(foreign_keys=[invited_by_id])
