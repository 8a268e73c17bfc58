"""The public log of a call, its signed tree heads and its published records: all
append-only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from grants.extensions import db
from grants.types import UTCDateTime, utcnow

# Milestones of a call at which a tree head is signed, in the order they usually come.
MILESTONES = (
    "closed",
    "assignments_confirmed",
    "reviews_closed",
    "ranking_run",
    "decisions_final",
    "published",
)
# A head signed with every entry added once the results are published, so that the log
# of a published call always ends with a signature over all of it (docs/audit.md).
AFTER_PUBLICATION = "after_publication"


class PublicEntry(db.Model):  # type: ignore[name-defined,misc]
    """One entry of a call's public log: a projection of an audit entry without personal
    data, chained per call and a leaf of the call's Merkle tree (docs/audit.md)."""

    __tablename__ = "public_entries"
    __table_args__ = (UniqueConstraint("call_id", "index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"))
    index: Mapped[int] = mapped_column(Integer)
    audit_seq: Mapped[int] = mapped_column(Integer, index=True)
    time: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(120))
    actor: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    leaf_hash: Mapped[str] = mapped_column(String(64))

    def body(self) -> dict[str, Any]:
        """The fields the entry's hash covers."""
        return {
            "index": self.index,
            "time": self.time,
            "action": self.action,
            "subject": self.subject,
            "actor": self.actor,
            "data": self.data,
            "source": self.source,
        }

    def line(self) -> dict[str, Any]:
        """The entry as a line of the JSON Lines export."""
        return {"kind": "entry", **self.body(), "prev": self.prev_hash, "hash": self.hash}


class TreeHead(db.Model):  # type: ignore[name-defined,misc]
    """A signed statement of a call's public log at a milestone: its size and Merkle root."""

    __tablename__ = "tree_heads"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    tree_size: Mapped[int] = mapped_column(Integer)
    root: Mapped[str] = mapped_column(String(64))
    timestamp: Mapped[str] = mapped_column(String(20))
    milestone: Mapped[str] = mapped_column(String(32))
    signature: Mapped[str] = mapped_column(String(128))
    key_id: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def line(self) -> dict[str, Any]:
        """The tree head as a line of the JSON Lines export."""
        return {
            "kind": "tree_head",
            "tree_size": self.tree_size,
            "root": self.root,
            "timestamp": self.timestamp,
            "milestone": self.milestone,
            "call_id": self.call_id,
            "signature": self.signature,
            "key_id": self.key_id,
        }


# Kinds of published record (grants.transparency.records stores and reads them).
RESULTS = "results"  # the data of the results page, rendered for each reader
CALL = "call"  # the call as published: titles, funder (the log's header, the list of results)
AWARDS_JSON = "awards.json"  # the 360Giving package, served as stored
AWARDS_CSV = "awards.csv"  # the awards as CSV with the 360Giving column titles, as stored
API_RESULTS = "api.results"  # /api/calls/<id>/results, served as stored
API_STATISTICS = "api.statistics"  # /api/calls/<id>/statistics, served as stored


class PublishedRecord(db.Model):  # type: ignore[name-defined,misc]
    """What the public sees of a call's results, stored once at publication and never changed:
    the data of the results page and the files served byte for byte (docs/audit.md)."""

    __tablename__ = "published_records"
    __table_args__ = (UniqueConstraint("call_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"))
    kind: Mapped[str] = mapped_column(String(32))
    media_type: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
