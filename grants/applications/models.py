"""Applications made by partnerships."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.auth.models import User
from grants.calls.models import Call, CallQuestion
from grants.extensions import db
from grants.organisations.models import Organisation
from grants.pdf import safe_pdf_name
from grants.types import Money, UTCDateTime, utcnow

BUDGET_CATEGORIES = (
    "fees", "travel", "accommodation", "production", "equipment", "communication", "other",
)  # fmt: skip


class Application(db.Model):  # type: ignore[name-defined,misc]
    """A partnership's application to a call."""

    __tablename__ = "applications"
    __table_args__ = (
        UniqueConstraint("reference"),
        Index("ix_applications_call_id_status", "call_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    reference: Mapped[str | None] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    summary_language: Mapped[str | None] = mapped_column(String(8))
    artforms: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Optimistic locking of the general section: a stale form is a conflict, not a loss.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # An officer may reduce the amount (in the call's currency) the funding line counts.
    reduced_amount: Mapped[Decimal | None] = mapped_column(Money())
    reduction_reason: Mapped[str] = mapped_column(Text, default="", server_default="")

    call: Mapped[Call] = relationship()
    created_by: Mapped[User] = relationship()
    partners: Mapped[list[Partner]] = relationship(
        back_populates="application", order_by="Partner.position", cascade="all, delete-orphan"
    )
    answers: Mapped[list[Answer]] = relationship(
        back_populates="application", cascade="all, delete-orphan"
    )
    flows: Mapped[list[MobilityFlow]] = relationship(
        back_populates="application", order_by="MobilityFlow.id", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="application", order_by="Attachment.id", cascade="all, delete-orphan"
    )
    invitations: Mapped[list[Invitation]] = relationship(
        back_populates="application", order_by="Invitation.id", cascade="all, delete-orphan"
    )

    @property
    def lead(self) -> Partner:
        """The lead partner."""
        return next(p for p in self.partners if p.is_lead)

    def answer_to(self, question_id: int) -> Answer | None:
        """The answer to one of the call's questions, if written."""
        return next((a for a in self.answers if a.question_id == question_id), None)


class Partner(db.Model):  # type: ignore[name-defined,misc]
    """An organisation in a partnership, with its budget part and its sign-off."""

    __tablename__ = "partners"
    __table_args__ = (
        UniqueConstraint("application_id", "organisation_id"),
        CheckConstraint("grant_requested >= 0", name="grant_nonnegative"),
        CheckConstraint("contribution_cash >= 0", name="cash_nonnegative"),
        CheckConstraint("contribution_in_kind >= 0", name="in_kind_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    is_lead: Mapped[bool] = mapped_column(default=False)
    role: Mapped[str] = mapped_column(Text, default="")
    # Amounts in ``currency``; ``rate`` converts one unit of it into the call's currency.
    currency: Mapped[str] = mapped_column(String(3))
    rate: Mapped[Decimal] = mapped_column(Numeric(20, 10), default=Decimal(1))
    rate_source: Mapped[str] = mapped_column(String(300), default="")
    grant_requested: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    contribution_cash: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    contribution_in_kind: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    version: Mapped[int] = mapped_column(Integer, default=1)
    signed_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signed_off_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The user who speaks for this partner: gets its e-mails, in their language.
    contact_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    application: Mapped[Application] = relationship(back_populates="partners")
    organisation: Mapped[Organisation] = relationship()
    contact: Mapped[User] = relationship(foreign_keys=[contact_id])
    budget_lines: Mapped[list[BudgetLine]] = relationship(
        back_populates="partner", order_by="BudgetLine.id", cascade="all, delete-orphan"
    )

    @property
    def part_total(self) -> Decimal:
        """Grant requested plus own contribution, in the partner's currency."""
        return self.grant_requested + self.contribution_cash + self.contribution_in_kind

    @property
    def lines_total(self) -> Decimal:
        """Sum of the partner's budget lines, in its currency."""
        return sum((line.amount for line in self.budget_lines), Decimal(0))


class BudgetLine(db.Model):  # type: ignore[name-defined,misc]
    """One line of a partner's budget, in the partner's currency."""

    __tablename__ = "budget_lines"
    __table_args__ = (CheckConstraint("amount >= 0", name="amount_nonnegative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), index=True)
    category: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(String(300))
    amount: Mapped[Decimal] = mapped_column(Money())

    partner: Mapped[Partner] = relationship(back_populates="budget_lines")


class MobilityFlow(db.Model):  # type: ignore[name-defined,misc]
    """People travelling from one country to another for the project."""

    __tablename__ = "mobility_flows"
    __table_args__ = (
        CheckConstraint("people > 0", name="people_positive"),
        CheckConstraint("days > 0", name="days_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    from_country: Mapped[str] = mapped_column(String(2))
    to_country: Mapped[str] = mapped_column(String(2))
    people: Mapped[int] = mapped_column(Integer)
    days: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(300))

    application: Mapped[Application] = relationship(back_populates="flows")


class Answer(db.Model):  # type: ignore[name-defined,misc]
    """A narrative answer to one of the call's questions, tagged with its language."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("application_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("call_questions.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    # A partner may add a translation for reviewers who do not read the original language.
    translation: Mapped[str] = mapped_column(Text, default="", server_default="")
    translation_language: Mapped[str | None] = mapped_column(String(8))
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    application: Mapped[Application] = relationship(back_populates="answers")
    question: Mapped[CallQuestion] = relationship()


class Attachment(db.Model):  # type: ignore[name-defined,misc]
    """A PDF stored outside the web root under a random key."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    # A safe .pdf name rebuilt from the user's file name (grants.pdf.safe_pdf_name), shown
    # and served; never used as a path.
    label: Mapped[str] = mapped_column(String(255))
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    application: Mapped[Application] = relationship(back_populates="attachments")

    @property
    def file_name(self) -> str:
        """The name to show and serve: a safe ``.pdf`` name (labels stored before names were
        rebuilt on upload are rebuilt here the same way)."""
        return safe_pdf_name(self.label)

    @property
    def number(self) -> int:
        """Its place among the application's documents, from 1 (the "Document 2" of blind
        review)."""
        return next(
            index
            for index, attachment in enumerate(self.application.attachments, start=1)
            if attachment.id == self.id
        )


class Invitation(db.Model):  # type: ignore[name-defined,misc]
    """An e-mailed invitation for a partner organisation to join an application."""

    __tablename__ = "invitations"
    __table_args__ = (Index("ix_invitations_email_status", "email", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    # A fresh nonce on every (re-)send: older links stop working.
    nonce: Mapped[str] = mapped_column(String(32))
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"))

    application: Mapped[Application] = relationship(back_populates="invitations")
    invited_by: Mapped[User] = relationship()


class ReferenceCounter(db.Model):  # type: ignore[name-defined,misc]
    """The last number handed out in the references ``<prefix>-<year>-<number>``.

    One row per prefix and year, whatever call uses the prefix: a reference is a function of
    the three, so two submissions can never get the same one (docs/security.md).
    """

    __tablename__ = "reference_counters"

    prefix: Mapped[str] = mapped_column(String(12), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer)
