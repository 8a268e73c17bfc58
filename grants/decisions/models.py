"""Ranking runs, lottery draws, four-eyes decisions and appeals."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.applications.models import Application
from grants.auth.models import User
from grants.extensions import db
from grants.types import Money, UTCDateTime, utcnow

OUTCOMES = ("funded", "reserve", "not_funded")
PROPOSED, RETURNED, APPROVED = "proposed", "returned", "approved"
APPEAL_OUTCOMES = ("upheld", "dismissed")


class RankingRun(db.Model):  # type: ignore[name-defined,misc]
    """One ranking of a call's submitted applications (docs/scoring.md)."""

    __tablename__ = "ranking_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    method: Mapped[str] = mapped_column(String(32))
    # The seed is committed (its sha256 in the audit log) before the draw, revealed after.
    seed: Mapped[str] = mapped_column(String(64))
    seed_commitment: Mapped[str] = mapped_column(String(64))
    inputs_hash: Mapped[str] = mapped_column(String(64))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sensitivity: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    draw: Mapped[LotteryDraw | None] = relationship(back_populates="run", uselist=False)

    @property
    def needs_draw(self) -> bool:
        """The run has a lottery group that has not been drawn yet."""
        return bool(self.result.get("lottery_group")) and (
            self.draw is None or self.draw.drawn_at is None
        )


class LotteryDraw(db.Model):  # type: ignore[name-defined,misc]
    """The draw among a run's lottery group, in two audited steps: the seed's hash is
    committed first, the seed is revealed with the drawn order later."""

    __tablename__ = "lottery_draws"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("ranking_runs.id"), unique=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    seed_commitment: Mapped[str] = mapped_column(String(64))
    # Kept out of every page and log until the draw reveals it.
    seed: Mapped[str] = mapped_column(String(64))
    committed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    committed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    drawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    drawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    order: Mapped[list[str]] = mapped_column(JSON, default=list)
    funded: Mapped[list[str]] = mapped_column(JSON, default=list)
    remaining: Mapped[Decimal | None] = mapped_column(Money())

    run: Mapped[RankingRun] = relationship(back_populates="draw")


class Decision(db.Model):  # type: ignore[name-defined,misc]
    """The outcome for one application: proposed by one officer, approved by another.

    Only an approved decision is final; a returned one goes back to the proposer's desk.
    """

    __tablename__ = "decisions"
    __table_args__ = (Index("ix_decisions_call_id_status", "call_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"))
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("ranking_runs.id"))
    outcome: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=PROPOSED)
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    review_note: Mapped[str] = mapped_column(Text, default="")

    application: Mapped[Application] = relationship()
    run: Mapped[RankingRun | None] = relationship()
    proposed_by: Mapped[User] = relationship(foreign_keys=[proposed_by_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])

    @property
    def is_final(self) -> bool:
        return self.status == APPROVED


class Appeal(db.Model):  # type: ignore[name-defined,misc]
    """A lead's appeal on procedural grounds and the officers' outcome."""

    __tablename__ = "appeals"
    __table_args__ = (Index("ix_appeals_call_id_status", "call_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"))
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    grounds: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="lodged")
    lodged_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    lodged_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    outcome_note: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    application: Mapped[Application] = relationship()
    lodged_by: Mapped[User] = relationship(foreign_keys=[lodged_by_id])
