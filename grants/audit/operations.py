"""Write audit entries. Called by every operation that changes state; never commits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text

from grants.audit.models import AuditEntry
from grants.domain.audit_chain import GENESIS_HASH, entry_hash, normalise
from grants.extensions import db
from grants.types import utcnow

if TYPE_CHECKING:
    from grants.auth.models import User

# Any constant works; it only has to be the same for every writer of the chain.
_PG_CHAIN_LOCK = 7_210_427_001


def lock_chain() -> None:
    """Serialise writers of the audit chain and the public logs until the transaction ends.

    PostgreSQL: a transaction-level advisory lock (taking it twice is harmless). SQLite:
    write transactions already begin immediately, one at a time. Operations that read what
    they are about to log (a ranking run's inputs, a tree head's entries) take it first.
    """
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_CHAIN_LOCK})


def actor_label(actor: User | str | None) -> str:
    """Structured actor reference: ``user:<id>`` or a system name such as ``cli``."""
    if actor is None:
        return "system"
    if isinstance(actor, str):
        return actor
    return f"user:{actor.id}"


def _unproxy(value: Any) -> Any:
    # Routes may hand over Flask-Login's current_user proxy; record the real object.
    getter = getattr(value, "_get_current_object", None)
    return getter() if callable(getter) else value


def _subject_ref(subject: Any) -> tuple[str, str]:
    subject = _unproxy(subject)
    if isinstance(subject, tuple):
        kind, ident = subject
        return str(kind), str(ident)
    db.session.flush()  # make sure a new subject has its id
    return type(subject).__tablename__, str(subject.id)


def record(
    actor: User | str | None,
    action: str,
    subject: Any,
    data: Mapping[str, Any] | None = None,
    *,
    call_id: int | None = None,
) -> AuditEntry:
    """Append one entry to the chain inside the caller's transaction."""
    actor = _unproxy(actor)
    subject_type, subject_id = _subject_ref(subject)
    session = db.session
    lock_chain()
    last = session.execute(
        select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
    created_at = utcnow()
    body = {
        "seq": seq,
        "created_at": created_at.isoformat(),
        "actor": actor_label(actor),
        "action": action,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "data": normalise(data or {}),
    }
    entry = AuditEntry(
        seq=seq,
        created_at=created_at,
        actor_id=None if actor is None or isinstance(actor, str) else actor.id,
        actor=body["actor"],
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        call_id=call_id,
        data=body["data"],
        prev_hash=prev_hash,
        hash=entry_hash(prev_hash, body),
    )
    session.add(entry)
    session.flush()
    if call_id is not None:
        # The call's public log grows under the same lock (docs/audit.md).
        from grants.transparency.operations import publish_entry

        publish_entry(entry)
    return entry
