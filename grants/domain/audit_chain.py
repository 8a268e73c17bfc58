"""The audit log's hash chain.

Each entry's hash is ``sha256(prev_hash || canonical_json(entry))`` where ``prev_hash`` is
the previous entry's hash as 32 raw bytes (32 zero bytes for the first entry) and the
canonical JSON is UTF-8 with sorted keys and no insignificant white space. See
``docs/audit.md``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

GENESIS_HASH = "0" * 64
HASHED_FIELDS = ("seq", "created_at", "actor", "action", "subject_type", "subject_id", "data")


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"Cannot put {type(value).__name__} into an audit entry")


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, compact separators, non-ASCII kept as UTF-8."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default
    )


def normalise(data: Mapping[str, Any]) -> dict[str, Any]:
    """Round-trip through canonical JSON so stored data equals what was hashed."""
    result: dict[str, Any] = json.loads(canonical_json(data))
    return result


def entry_body(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of an entry that the hash covers."""
    return {name: entry[name] for name in HASHED_FIELDS}


def entry_hash(prev_hash: str, entry: Mapping[str, Any]) -> str:
    """``sha256(prev_hash bytes || canonical JSON of the entry)`` as lowercase hex."""
    digest = hashlib.sha256()
    digest.update(bytes.fromhex(prev_hash))
    digest.update(canonical_json(entry_body(entry)).encode("utf-8"))
    return digest.hexdigest()


@dataclass(frozen=True)
class ChainReport:
    """Outcome of walking a chain: how many entries held, and the first break if any."""

    checked: int
    ok: bool
    broken_seq: int | None = None
    problem: str | None = None


def verify_chain(entries: Iterable[Mapping[str, Any]]) -> ChainReport:
    """Walk entries in order; report the first whose sequence, link or hash is wrong.

    Each entry needs the hashed fields plus ``prev_hash`` and ``hash``.
    """
    prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for entry in entries:
        seq = entry["seq"]
        if seq != expected_seq:
            return ChainReport(checked, False, seq, f"expected entry {expected_seq}, found {seq}")
        if entry["prev_hash"] != prev:
            return ChainReport(checked, False, seq, "does not link to the previous entry")
        if entry_hash(prev, entry) != entry["hash"]:
            return ChainReport(checked, False, seq, "content does not match its hash")
        prev = entry["hash"]
        expected_seq += 1
        checked += 1
    return ChainReport(checked, True)
