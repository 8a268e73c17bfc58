"""Funders, officers, calls and criteria."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.auth.models import User
from grants.domain.equity import EquityPolicy
from grants.domain.texts import LocalText, pick_text
from grants.domain.workflow import CallPhase, call_phase
from grants.extensions import db
from grants.types import Money, UTCDateTime, utcnow

LocalisedText = dict[str, str]


class Funder(db.Model):  # type: ignore[name-defined,misc]
    """An organisation that runs calls."""

    __tablename__ = "funders"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    country: Mapped[str] = mapped_column(String(2))
    website: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    officers: Mapped[list[FunderOfficer]] = relationship(
        back_populates="funder", cascade="all, delete-orphan"
    )


class FunderOfficer(db.Model):  # type: ignore[name-defined,misc]
    """A programme officer: a user who acts for a funder."""

    __tablename__ = "funder_officers"
    __table_args__ = (UniqueConstraint("funder_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    funder_id: Mapped[int] = mapped_column(ForeignKey("funders.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    funder: Mapped[Funder] = relationship(back_populates="officers")
    user: Mapped[User] = relationship()


class Call(db.Model):  # type: ignore[name-defined,misc]
    """A call for applications, with texts in several languages."""

    __tablename__ = "calls"
    __table_args__ = (
        Index("ix_calls_status_closes_at", "status", "closes_at"),
        CheckConstraint("grant_min <= grant_max", name="grant_range"),
        CheckConstraint("min_partners >= 1", name="min_partners"),
        CheckConstraint("reviews_per_application >= 1", name="reviews_per_application"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    funder_id: Mapped[int] = mapped_column(ForeignKey("funders.id"), index=True)
    reference_prefix: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    default_language: Mapped[str] = mapped_column(String(8))
    # {"en": "...", "fr": "..."}: one version per language, with visible fallback.
    title: Mapped[LocalisedText] = mapped_column(JSON, default=dict)
    summary: Mapped[LocalisedText] = mapped_column(JSON, default=dict)
    description: Mapped[LocalisedText] = mapped_column(JSON, default=dict)
    timezone: Mapped[str] = mapped_column(String(64))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    currency: Mapped[str] = mapped_column(String(3))
    budget_envelope: Mapped[Decimal] = mapped_column(Money())
    grant_min: Mapped[Decimal] = mapped_column(Money())
    grant_max: Mapped[Decimal] = mapped_column(Money())
    min_partners: Mapped[int] = mapped_column(Integer, default=2)
    min_countries: Mapped[int] = mapped_column(Integer, default=2)
    required_regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    artforms: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    score_min: Mapped[Decimal] = mapped_column(Numeric(4, 1), default=Decimal(0))
    score_max: Mapped[Decimal] = mapped_column(Numeric(4, 1), default=Decimal(5))
    score_step: Mapped[Decimal] = mapped_column(Numeric(3, 2), default=Decimal("0.5"))
    reviews_per_application: Mapped[int] = mapped_column(Integer, default=3)
    # Minimum number of PDF attachments an application needs (0: attachments optional).
    required_attachments: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Review settings: a blind call hides partner names from reviewers; reviewers may see
    # the other reviews of an application only after submitting their own.
    blind: Mapped[bool] = mapped_column(default=False, server_default="0")
    reviews_visible_after_submit: Mapped[bool] = mapped_column(default=True, server_default="1")
    disagreement_threshold: Mapped[Decimal] = mapped_column(
        Numeric(4, 1), default=Decimal("1.5"), server_default="1.5"
    )
    review_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The equity policy (docs/equity.md): weight of the equity index in the ranking, and per
    # income tier 0-3 the capacity weight and the maximum share of costs a grant may cover.
    equity_weight: Mapped[Decimal] = mapped_column(
        Numeric(4, 3), default=Decimal("0.10"), server_default="0.10"
    )
    capacity_weights: Mapped[list[str]] = mapped_column(
        JSON, default=lambda: ["1.0", "0.6", "0.35", "0.2"]
    )
    max_funding_rates: Mapped[list[str]] = mapped_column(
        JSON, default=lambda: ["0.70", "0.80", "0.90", "1.00"]
    )
    # Decisions: the lead may appeal on procedural grounds for this many days after release.
    appeal_days: Mapped[int] = mapped_column(Integer, default=14, server_default="14")
    decisions_released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Publication: on the public results page, applications that were not funded appear
    # under their reference only (no title, no partners) when this is set.
    results_pseudonymous: Mapped[bool] = mapped_column(default=True, server_default="1")
    results_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    funder: Mapped[Funder] = relationship()
    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="call", order_by="Criterion.position", cascade="all, delete-orphan"
    )
    questions: Mapped[list[CallQuestion]] = relationship(
        back_populates="call", order_by="CallQuestion.position", cascade="all, delete-orphan"
    )
    tier_overrides: Mapped[list[TierOverride]] = relationship(
        back_populates="call", order_by="TierOverride.country", cascade="all, delete-orphan"
    )
    exchange_rates: Mapped[list[ExchangeRate]] = relationship(
        back_populates="call", order_by="ExchangeRate.currency", cascade="all, delete-orphan"
    )

    def equity_policy(self) -> EquityPolicy:
        """The call's policy: World Bank tiers with the officers' overrides, and its numbers."""
        base = EquityPolicy.default().with_overrides(
            {override.country: override.tier for override in self.tier_overrides}
        )
        return replace(
            base,
            capacity=tuple(Decimal(x) for x in self.capacity_weights),  # type: ignore[arg-type]
            max_funding_rates=tuple(  # type: ignore[arg-type]
                Decimal(x) for x in self.max_funding_rates
            ),
            equity_weight=Decimal(self.equity_weight),
        )

    def phase(self, now: datetime | None = None) -> CallPhase:
        """Draft, upcoming, open or closed at ``now``."""
        return call_phase(self.status, self.opens_at, self.closes_at, now or utcnow())

    @property
    def appeals_close_at(self) -> datetime | None:
        """When the appeal window ends: ``appeal_days`` after the decisions were released."""
        if self.decisions_released_at is None:
            return None
        return self.decisions_released_at + timedelta(days=self.appeal_days)

    def appeals_open(self, now: datetime | None = None) -> bool:
        """Whether a lead may still lodge an appeal."""
        closes = self.appeals_close_at
        return closes is not None and (now or utcnow()) < closes

    def text(self, field: str, locale: str) -> LocalText:
        """One of title/summary/description in ``locale``, falling back to the default."""
        versions: dict[str, Any] = getattr(self, field) or {}
        return pick_text(versions, [locale, locale.split("_")[0]], self.default_language)

    @property
    def content_languages(self) -> list[str]:
        """Languages the call's texts exist in, the default first."""
        present = set(self.title or {}) | set(self.summary or {}) | set(self.description or {})
        others = sorted(present - {self.default_language})
        return [self.default_language, *others]


class Criterion(db.Model):  # type: ignore[name-defined,misc]
    """An assessment criterion: weight, threshold and rubric descriptors per score level."""

    __tablename__ = "criteria"
    __table_args__ = (CheckConstraint("weight > 0", name="weight_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    weight: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    threshold: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    name: Mapped[LocalisedText] = mapped_column(JSON, default=dict)
    description: Mapped[LocalisedText] = mapped_column(JSON, default=dict)
    # {"en": {"0": "...", "1": "...", ...}, "fr": {...}}: a descriptor per whole score level.
    descriptors: Mapped[dict[str, dict[str, str]]] = mapped_column(JSON, default=dict)

    call: Mapped[Call] = relationship(back_populates="criteria")

    def text(self, field: str, locale: str, default_language: str) -> LocalText:
        """Name or description in ``locale`` with fallback."""
        return pick_text(getattr(self, field) or {}, [locale], default_language)

    def descriptor(self, level: str, locale: str, default_language: str) -> LocalText:
        """The rubric descriptor of a score level in ``locale`` with fallback."""
        versions = {
            lang: levels.get(level, "") for lang, levels in (self.descriptors or {}).items()
        }
        return pick_text(versions, [locale], default_language)


class CallQuestion(db.Model):  # type: ignore[name-defined,misc]
    """A narrative question applicants answer, with its text per language."""

    __tablename__ = "call_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[LocalisedText] = mapped_column(JSON, default=dict)
    guidance: Mapped[LocalisedText] = mapped_column(JSON, default=dict)
    required: Mapped[bool] = mapped_column(default=True)
    max_words: Mapped[int | None] = mapped_column(Integer)

    call: Mapped[Call] = relationship(back_populates="questions")

    def localised(self, field: str, locale: str, default_language: str) -> LocalText:
        """Text or guidance in ``locale`` with fallback."""
        return pick_text(getattr(self, field) or {}, [locale], default_language)


class ExchangeRate(db.Model):  # type: ignore[name-defined,misc]
    """A fixed rate for a call: one unit of ``currency`` is ``rate`` units of the call's."""

    __tablename__ = "exchange_rates"
    __table_args__ = (
        UniqueConstraint("call_id", "currency"),
        CheckConstraint("rate > 0", name="rate_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    rate: Mapped[Decimal] = mapped_column(Numeric(20, 10))
    source: Mapped[str] = mapped_column(String(300))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    call: Mapped[Call] = relationship(back_populates="exchange_rates")


class TierOverride(db.Model):  # type: ignore[name-defined,misc]
    """An officer's decision to treat a country as another income tier in one call."""

    __tablename__ = "tier_overrides"
    __table_args__ = (
        UniqueConstraint("call_id", "country"),
        CheckConstraint("tier >= 0 AND tier <= 3", name="tier_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    country: Mapped[str] = mapped_column(String(2))
    tier: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(500))
    set_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    call: Mapped[Call] = relationship(back_populates="tier_overrides")
