"""Verify the stored chain in pages, so a long log never sits in memory at once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select

from grants.audit.models import AuditEntry
from grants.domain.audit_chain import ChainReport, verify_chain
from grants.extensions import db


def _stream(batch: int = 1000) -> Iterator[dict[str, Any]]:
    last_seq = 0
    while True:
        rows = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.seq > last_seq)
            .order_by(AuditEntry.seq)
            .limit(batch)
        ).all()
        if not rows:
            return
        for row in rows:
            yield row.as_chain_dict()
        last_seq = rows[-1].seq
        db.session.expunge_all()


def verify_stored_chain() -> ChainReport:
    """Walk the whole stored chain and report the first broken entry."""
    return verify_chain(_stream())
