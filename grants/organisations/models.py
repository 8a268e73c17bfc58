"""Organisations (applicants' legal entities) and their members."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
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

    @property
    def org_id(self) -> str | None:
        """The org-id identifier (scheme-registration), when both are known."""
        if self.org_id_scheme and self.registration_id:
            return f"{self.org_id_scheme}-{self.registration_id}"
        return None


class OrganisationMember(db.Model):  # type: ignore[name-defined,misc]
    """A user who may act for an organisation."""

    __tablename__ = "organisation_members"
    __table_args__ = (UniqueConstraint("organisation_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="members")
    user: Mapped[User] = relationship()
