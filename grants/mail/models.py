"""The outbox: e-mail written in the same transaction as the change that causes it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from grants.extensions import db
from grants.types import UTCDateTime, utcnow


class MailStatus(StrEnum):
    """Where a message stands: waiting (perhaps after a failed try), sent, or given up."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


# The allowed moves: the worker sends or gives up; an administrator retries a failed one.
MAIL_TRANSITIONS: dict[MailStatus, frozenset[MailStatus]] = {
    MailStatus.PENDING: frozenset({MailStatus.SENT, MailStatus.FAILED}),
    MailStatus.FAILED: frozenset({MailStatus.PENDING}),
    MailStatus.SENT: frozenset(),
}

_STATUSES = ", ".join(f"'{status.value}'" for status in MailStatus)


class OutboxMessage(db.Model):  # type: ignore[name-defined,misc]
    """One e-mail to one recipient, in the recipient's language."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_pending", "status", "next_attempt_at"),
        CheckConstraint(f"status IN ({_STATUSES})", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(
        String(16), default=MailStatus.PENDING.value, server_default=MailStatus.PENDING.value
    )
    # Why the last try failed, in a line (the traceback goes to the log, not here).
    last_error: Mapped[str | None] = mapped_column(String(500))
