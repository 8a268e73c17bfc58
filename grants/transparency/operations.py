"""Append to a call's public log, sign tree heads at milestones, build proofs and exports.

Appends happen inside ``grants.audit.operations.record``, under the same lock that orders the
audit chain, so two writers never fork a call's public log either. Once a call's results are
published, every append is followed, in the same transaction and under the same lock, by a
new signed tree head: the log of a published call always ends with a signature over all of
its entries, and the verifier refuses one that does not (docs/audit.md).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, select

from grants.audit.models import AuditEntry
from grants.audit.operations import lock_chain
from grants.calls.models import Call
from grants.domain import merkle, publiclog
from grants.domain.audit_chain import GENESIS_HASH, canonical_json, normalise
from grants.domain.texts import pick_text
from grants.extensions import db
from grants.transparency import keys
from grants.transparency.models import (
    AFTER_PUBLICATION,
    CALL,
    PublicEntry,
    PublishedRecord,
    TreeHead,
)
from grants.transparency.projection import PROJECTIONS, public_actor, subject
from grants.types import utcnow

LOG_FORMAT = "grants-public-log/1"


def publish_entry(entry: AuditEntry) -> PublicEntry | None:
    """Project an audit entry into its call's public log, when the action is public."""
    if entry.call_id is None:
        return None
    projection = PROJECTIONS.get(entry.action)
    if projection is None:
        return None
    data = projection(entry)
    if data is None:
        return None
    last = db.session.execute(
        select(PublicEntry.index, PublicEntry.hash)
        .where(PublicEntry.call_id == entry.call_id)
        .order_by(PublicEntry.index.desc())
        .limit(1)
    ).first()
    index, prev = (last[0] + 1, last[1]) if last else (0, GENESIS_HASH)
    body = {
        "index": index,
        "time": entry.created_at.isoformat(),
        "action": entry.action,
        # An entry about one application is filed under it, whatever the audit subject.
        "subject": f"application:{data['application']}"
        if isinstance(data.get("application"), str)
        else subject(entry),
        "actor": public_actor(entry),
        "data": normalise(data),
        "source": entry.hash,
    }
    hash_ = publiclog.entry_hash(prev, body)
    public = PublicEntry(
        call_id=entry.call_id,
        audit_seq=entry.seq,
        prev_hash=prev,
        hash=hash_,
        leaf_hash=merkle.leaf_hash(publiclog.leaf_data({**body, "hash": hash_})).hex(),
        **{k: body[k] for k in ("index", "time", "action", "subject", "actor", "data", "source")},
    )
    db.session.add(public)
    db.session.flush()
    call = db.session.get(Call, entry.call_id)
    if (
        call is not None
        and call.results_published_at is not None
        and has_milestone(call, "published")
    ):
        # Published: no entry may stand outside a signature, not even for a moment.
        seal(call, AFTER_PUBLICATION)
    return public


def leaf_hashes(call: Call, size: int | None = None) -> list[bytes]:
    """The leaf hashes of the call's public log, in order (the first ``size`` of them)."""
    query = (
        select(PublicEntry.leaf_hash)
        .where(PublicEntry.call_id == call.id)
        .order_by(PublicEntry.index)
    )
    if size is not None:
        query = query.limit(size)
    return [bytes.fromhex(h) for h in db.session.scalars(query)]


def seal(call: Call, milestone: str) -> TreeHead:
    """Sign a tree head over the call's public log as it stands (no commit)."""
    lock_chain()  # no entry joins the log between reading it and signing it
    hashes = leaf_hashes(call)
    head = merkle.TreeHead(
        tree_size=len(hashes),
        root=merkle.root_from_hashes(hashes).hex(),
        timestamp=utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
        milestone=milestone,
        call_id=call.id,
    )
    stored = TreeHead(
        call_id=call.id,
        tree_size=head.tree_size,
        root=head.root,
        timestamp=head.timestamp,
        milestone=milestone,
        signature=merkle.sign_tree_head(head, keys.signing_key()),
        key_id=keys.key_id(),
    )
    db.session.add(stored)
    db.session.flush()
    return stored


def has_milestone(call: Call, milestone: str) -> bool:
    return (
        db.session.scalar(
            select(TreeHead.id)
            .where(TreeHead.call_id == call.id, TreeHead.milestone == milestone)
            .limit(1)
        )
        is not None
    )


def seal_once(call: Call, milestone: str) -> TreeHead | None:
    """Sign the milestone's tree head unless the call already has one."""
    return None if has_milestone(call, milestone) else seal(call, milestone)


def unsigned_entries(call: Call) -> int:
    """How many entries of the call's public log no signed tree head covers yet."""
    covered = db.session.scalar(
        select(func.max(TreeHead.tree_size)).where(TreeHead.call_id == call.id)
    )
    return log_size(call) - (covered or 0)


def seal_due(now: Any = None) -> list[TreeHead]:
    """Milestones that arrive with time: calls that closed, review deadlines that passed;
    and a head over entries that a published call's log holds beyond its last signature
    (logs published before every later entry was signed at once)."""
    now = now or utcnow()
    heads = []
    for call in db.session.scalars(
        select(Call).where(Call.results_published_at.is_not(None)).order_by(Call.id)
    ):
        if has_milestone(call, "published") and unsigned_entries(call) > 0:
            heads.append(seal(call, AFTER_PUBLICATION))
    for call in db.session.scalars(
        select(Call).where(Call.status == "published", Call.closes_at <= now)
    ):
        head = seal_once(call, "closed")
        if head:
            heads.append(head)
        if call.review_deadline is not None and call.review_deadline <= now:
            head = seal_once(call, "reviews_closed")
            if head:
                heads.append(head)
    return heads


def tree_heads(call: Call) -> list[TreeHead]:
    return list(
        db.session.scalars(
            select(TreeHead).where(TreeHead.call_id == call.id).order_by(TreeHead.id)
        )
    )


def log_size(call: Call) -> int:
    return (
        db.session.scalar(
            select(func.count()).select_from(PublicEntry).where(PublicEntry.call_id == call.id)
        )
        or 0
    )


def inclusion(call: Call, index: int, head: TreeHead) -> list[str]:
    """The inclusion proof of entry ``index`` in the tree of ``head`` (hex hashes)."""
    hashes = leaf_hashes(call, head.tree_size)
    return [h.hex() for h in merkle.inclusion_proof(hashes, index)]


def consistency(call: Call, first: TreeHead, second: TreeHead) -> list[str]:
    """The consistency proof between two tree heads of the call (hex hashes)."""
    hashes = leaf_hashes(call, second.tree_size)
    return [h.hex() for h in merkle.consistency_proof(hashes, first.tree_size)]


def _log_title(call: Call) -> str:
    """The call's title in the log's header: as published, once the results are."""
    content = db.session.scalar(
        select(PublishedRecord.content).where(
            PublishedRecord.call_id == call.id, PublishedRecord.kind == CALL
        )
    )
    if content is None:
        return call.text("title", call.default_language).text
    published = json.loads(content)
    language = published["default_language"]
    return pick_text(published["title"], [language, language.split("_")[0]], language).text


def export_header(call: Call, heads: list[TreeHead]) -> dict[str, Any]:
    """The header line of the call's public log. ``generated_at`` is the time of the last
    signed tree head (the file is the same whenever it is downloaded until the log grows),
    or the time of the export while nothing is signed."""
    return {
        "kind": "header",
        "format": LOG_FORMAT,
        "call_id": call.id,
        "title": _log_title(call),
        "public_key": keys.public_key().hex(),
        "key_id": keys.key_id(),
        "generated_at": heads[-1].timestamp if heads else utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def export_etag(call: Call) -> str:
    """A strong validator of the export: the SHA-256 of its header, its tree heads, its size
    and its last entry's hash. Entries never change (the database refuses it), so the file's
    bytes change exactly when one of these does, and the ETag costs no pass over the log."""
    heads = tree_heads(call)
    last = db.session.scalar(
        select(PublicEntry.hash)
        .where(PublicEntry.call_id == call.id)
        .order_by(PublicEntry.index.desc())
        .limit(1)
    )
    state = {
        "header": export_header(call, heads),
        "heads": [h.line() for h in heads],
        "size": log_size(call),
        "last": last,
    }
    return hashlib.sha256(canonical_json(state).encode("utf-8")).hexdigest()


def export_lines(call: Call) -> Iterator[dict[str, Any]]:
    """The call's public log as JSON Lines objects: header, entries, tree heads after the
    entries they cover. Entries are streamed in batches, never all in memory."""
    heads = tree_heads(call)
    yield export_header(call, heads)
    pending = list(heads)
    last = -1
    while True:
        batch = db.session.scalars(
            select(PublicEntry)
            .where(PublicEntry.call_id == call.id, PublicEntry.index > last)
            .order_by(PublicEntry.index)
            .limit(1000)
        ).all()
        if not batch:
            break
        for entry in batch:
            while pending and pending[0].tree_size <= entry.index:
                yield pending.pop(0).line()
            yield entry.line()
        last = batch[-1].index
    for head in pending:
        yield head.line()


def application_proofs(
    call: Call, reference: str
) -> tuple[TreeHead | None, list[tuple[PublicEntry, list[str]]]]:
    """The public entries about one application with their inclusion proofs in the latest
    signed tree head that covers them."""
    head = db.session.scalar(
        select(TreeHead)
        .where(TreeHead.call_id == call.id)
        .order_by(TreeHead.tree_size.desc(), TreeHead.id.desc())
        .limit(1)
    )
    entries = db.session.scalars(
        select(PublicEntry)
        .where(
            PublicEntry.call_id == call.id,
            PublicEntry.subject == f"application:{reference}",
        )
        .order_by(PublicEntry.index)
    ).all()
    if head is None:
        return None, []
    hashes = leaf_hashes(call, head.tree_size)
    return head, [
        (entry, [h.hex() for h in merkle.inclusion_proof(hashes, entry.index)])
        for entry in entries
        if entry.index < head.tree_size
    ]
