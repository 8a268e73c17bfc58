"""Reviewer profiles, panels, conflicts of interest, assignments and reviews."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.applications.models import Application
from grants.auth.models import User
from grants.calls.models import Call
from grants.extensions import db
from grants.types import UTCDateTime, utcnow

CONFLICT_REASONS = ("employer", "collaborator", "personal", "financial", "other")


class ReviewerProfile(db.Model):  # type: ignore[name-defined,misc]
    """What a reviewer knows and reads, and where they come from."""

    __tablename__ = "reviewer_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    country: Mapped[str | None] = mapped_column(String(2))
    # {"theatre": 3, "dance": 1}: 1 familiar, 2 practitioner, 3 expert
    expertise: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Organisations the reviewer works for or with (names, one per line in the form).
    affiliations: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship()


class PanelMember(db.Model):  # type: ignore[name-defined,misc]
    """A reviewer (or the chair) of a call's panel, invited by e-mail."""

    __tablename__ = "panel_members"
    __table_args__ = (
        UniqueConstraint("call_id", "email"),
        CheckConstraint("max_load >= 0", name="max_load_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    is_chair: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default="invited")  # invited, active
    max_load: Mapped[int] = mapped_column(Integer, default=10)
    # Whether the reviewer agrees to be named on the published panel composition.
    consent_to_be_named: Mapped[bool] = mapped_column(default=False)
    nonce: Mapped[str] = mapped_column(String(32))
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    call: Mapped[Call] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])


class Conflict(db.Model):  # type: ignore[name-defined,misc]
    """A conflict of interest: the reviewer sees nothing of the application."""

    __tablename__ = "conflicts"
    __table_args__ = (
        UniqueConstraint("application_id", "reviewer_id"),
        Index("ix_conflicts_call_id_reviewer_id", "call_id", "reviewer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"))
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    source: Mapped[str] = mapped_column(String(16))  # automatic, declared, added
    reason: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    application: Mapped[Application] = relationship()
    reviewer: Mapped[User] = relationship(foreign_keys=[reviewer_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])


class Assignment(db.Model):  # type: ignore[name-defined,misc]
    """A reviewer asked to review an application."""

    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("application_id", "reviewer_id"),
        Index("ix_assignments_call_id_reviewer_id", "call_id", "reviewer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"))
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    source: Mapped[str] = mapped_column(String(16), default="solver")  # solver, manual
    reason: Mapped[str] = mapped_column(Text, default="")
    # None when the command line made the assignment.
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The chair releases a review's comments to the applicants, anonymised.
    comments_released: Mapped[bool] = mapped_column(default=False, server_default="0")
    # The review version whose comments were released: an amendment is not released with it.
    released_version: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    application: Mapped[Application] = relationship()
    reviewer: Mapped[User] = relationship(foreign_keys=[reviewer_id])
    reviews: Mapped[list[Review]] = relationship(
        back_populates="assignment", order_by="Review.version", cascade="all, delete-orphan"
    )

    @property
    def current_review(self) -> Review | None:
        """The latest version of the review, draft or submitted."""
        return self.reviews[-1] if self.reviews else None


class Review(db.Model):  # type: ignore[name-defined,misc]
    """One version of a review; submitted versions never change (amendments are new ones)."""

    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("assignment_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft, submitted
    # {"<criterion id>": "3.5"} and {"<criterion id>": "comment"}
    scores: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    comments: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    recommendation: Mapped[str | None] = mapped_column(String(16))
    confidence: Mapped[int | None] = mapped_column(Integer)
    amendment_reason: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    assignment: Mapped[Assignment] = relationship(back_populates="reviews")

    def as_dict(self) -> dict[str, Any]:
        """Plain values for audit entries."""
        return {
            "version": self.version,
            "scores": dict(self.scores),
            "recommendation": self.recommendation,
            "confidence": self.confidence,
        }


class Consensus(db.Model):  # type: ignore[name-defined,misc]
    """The chair's record of the panel's agreed scores for one application."""

    __tablename__ = "consensus_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    scores: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    justification: Mapped[str] = mapped_column(Text, default="")
    majority_view: Mapped[str] = mapped_column(Text, default="")
    minority_view: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    application: Mapped[Application] = relationship()
