"""A Merkle tree over the audit log, its proofs, and signed tree heads.

The tree follows RFC 9162 (Certificate Transparency 2.0, same hashing as RFC 6962):

* ``leaf_hash(d) = SHA-256(0x00 || d)`` and ``node_hash(l, r) = SHA-256(0x01 || l || r)``;
* the hash of the empty tree is ``SHA-256("")``;
* a tree of ``n > 1`` leaves is split after ``k`` leaves, ``k`` the largest power of two
  strictly smaller than ``n`` (RFC 9162 §2.1.1).

The leaf for an audit entry is the UTF-8 canonical JSON of its hashed fields plus its chain
``hash`` (see :func:`leaf_bytes`), so the tree commits to the hash chain as well.

Tree heads are signed with Ed25519 over the canonical JSON of their fields; signatures are
written as lowercase hex. Everything here is specified in ``docs/audit.md`` precisely enough
to write an independent verifier.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from grants.domain.audit_chain import canonical_json, entry_body

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
KEY_SIZE = 32
SIGNATURE_SIZE = 64
KEY_ID_LENGTH = 16

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_SIGNATURE_HEX = re.compile(r"[0-9a-f]{128}")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


# --- Hashing -------------------------------------------------------------------------------


def leaf_bytes(entry: Mapping[str, Any]) -> bytes:
    """The bytes an audit entry contributes as a leaf.

    UTF-8 canonical JSON of the chain's hashed fields (``seq``, ``created_at``, ``actor``,
    ``action``, ``subject_type``, ``subject_id``, ``data``) plus ``hash``, the entry's chain
    hash as 64 lowercase hex digits.
    """
    body = entry_body(entry)
    body["hash"] = entry["hash"]
    return canonical_json(body).encode("utf-8")


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 || data)``: the hash of one leaf."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``: the hash of an interior node."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _largest_power_of_two_below(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_hashes(hashes: Sequence[bytes]) -> None:
    for value in hashes:
        if not isinstance(value, bytes) or len(value) != HASH_SIZE:
            raise ValueError("every leaf hash must be 32 bytes")


def _range_root(hashes: Sequence[bytes], start: int, end: int) -> bytes:
    """MTH of the leaves ``start .. end - 1``, given their leaf hashes, in O(end - start).

    Hashing neighbours pairwise, level by level, and carrying an unpaired last node up
    unchanged builds exactly the tree of the RFC's split rule.
    """
    if start == end:
        return EMPTY_ROOT
    level = [
        node_hash(hashes[i], hashes[i + 1]) if i + 1 < end else hashes[i]
        for i in range(start, end, 2)
    ]
    while len(level) > 1:
        size = len(level)
        level = [
            node_hash(level[i], level[i + 1]) if i + 1 < size else level[i]
            for i in range(0, size, 2)
        ]
    return level[0]


def root_from_hashes(hashes: Sequence[bytes]) -> bytes:
    """The Merkle tree hash (MTH) of a tree given its leaf hashes."""
    _check_hashes(hashes)
    return _range_root(hashes, 0, len(hashes))


def root(leaves: Sequence[bytes]) -> bytes:
    """The Merkle tree hash (MTH) of a tree given its leaves' raw bytes."""
    return _range_root([leaf_hash(leaf) for leaf in leaves], 0, len(leaves))


# --- Inclusion proofs (RFC 9162 §2.1.3) ----------------------------------------------------


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """PATH(index, D[n]): the sibling hashes from the leaf up to the root (§2.1.3.1)."""
    _check_hashes(leaf_hashes)
    size = len(leaf_hashes)
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of {size} leaves")
    path: list[bytes] = []  # collected root-first, returned leaf-first
    start, end, m = 0, size, index
    while end - start > 1:
        k = _largest_power_of_two_below(end - start)
        if m < k:
            path.append(_range_root(leaf_hashes, start + k, end))
            end = start + k
        else:
            path.append(_range_root(leaf_hashes, start, start + k))
            start, m = start + k, m - k
    path.reverse()
    return path


def _valid_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _valid_proof(proof: object) -> bool:
    if not isinstance(proof, Sequence) or isinstance(proof, bytes | str):
        return False
    return all(_valid_hash(p) for p in proof)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``proof`` shows leaf ``index`` with ``leaf_hash`` in the tree (§2.1.3.2).

    Returns False, never raises, for malformed input.
    """
    if not (_is_int(index) and _is_int(tree_size) and 0 <= index < tree_size):
        return False
    if not (_valid_hash(leaf_hash) and _valid_hash(root)):
        return False
    if not _valid_proof(proof):
        return False
    fn, sn = index, tree_size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


# --- Consistency proofs (RFC 9162 §2.1.4) --------------------------------------------------


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int) -> list[bytes]:
    """PROOF(old_size, D[n]) = SUBPROOF(old_size, D[n], true) (§2.1.4.1).

    Shows the tree of the first ``old_size`` leaves is a prefix of the tree of all of them.
    Empty when ``old_size == n``.
    """
    _check_hashes(leaf_hashes)
    size = len(leaf_hashes)
    if not 0 < old_size <= size:
        raise ValueError(f"old size must be 1 .. {size}, not {old_size}")
    tail: list[bytes] = []  # hashes appended on the way down, in root-first order
    start, end, m, whole = 0, size, old_size, True
    while m != end - start:
        k = _largest_power_of_two_below(end - start)
        if m <= k:
            tail.append(_range_root(leaf_hashes, start + k, end))
            end = start + k
        else:
            tail.append(_range_root(leaf_hashes, start, start + k))
            start, m, whole = start + k, m - k, False
    proof = [] if whole else [_range_root(leaf_hashes, start, end)]
    proof.extend(reversed(tail))
    return proof


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether ``proof`` shows the old tree is a prefix of the new one (§2.1.4.2).

    Needs ``0 < old_size <= new_size``. When the sizes are equal the proof must be empty and
    the roots equal. Returns False, never raises, for malformed input.
    """
    if not (_is_int(old_size) and _is_int(new_size) and 0 < old_size <= new_size):
        return False
    if not (_valid_hash(old_root) and _valid_hash(new_root)):
        return False
    if not _valid_proof(proof):
        return False
    path = list(proof)
    if old_size == new_size:
        return not path and old_root == new_root
    if not path:
        return False
    if old_size & (old_size - 1) == 0:  # an exact power of two
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0


# --- Signed tree heads ---------------------------------------------------------------------


@dataclass(frozen=True)
class TreeHead:
    """What is signed at a milestone: the tree's size and root, when, and why.

    ``root`` is 64 lowercase hex digits; ``timestamp`` is UTC in the form
    ``2026-11-22T10:00:00Z``; ``call_id`` is None for a head not tied to one call.
    """

    tree_size: int
    root: str
    timestamp: str
    milestone: str
    call_id: int | None = None

    def __post_init__(self) -> None:
        if not _is_int(self.tree_size) or self.tree_size < 0:
            raise ValueError("tree_size must be a whole number, 0 or more")
        if not isinstance(self.root, str) or not _HEX64.fullmatch(self.root):
            raise ValueError("root must be 64 lowercase hex digits")
        if not isinstance(self.timestamp, str) or not _TIMESTAMP.fullmatch(self.timestamp):
            raise ValueError("timestamp must look like 2026-11-22T10:00:00Z")
        try:
            datetime.strptime(self.timestamp, "%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            raise ValueError(f"timestamp {self.timestamp!r} is not a real time") from None
        if not isinstance(self.milestone, str) or not self.milestone:
            raise ValueError("milestone must be a non-empty string")
        if self.call_id is not None and not _is_int(self.call_id):
            raise ValueError("call_id must be a whole number or None")


def tree_head_message(head: TreeHead) -> bytes:
    """The signed bytes: UTF-8 canonical JSON of the head's five fields.

    ``{"call_id":…,"milestone":…,"root":…,"timestamp":…,"tree_size":…}`` with keys sorted,
    no white space, ``call_id`` written as ``null`` when absent.
    """
    fields = {
        "call_id": head.call_id,
        "milestone": head.milestone,
        "root": head.root,
        "timestamp": head.timestamp,
        "tree_size": head.tree_size,
    }
    return canonical_json(fields).encode("utf-8")


def _private_key(private_key_bytes: bytes) -> Ed25519PrivateKey:
    if not isinstance(private_key_bytes, bytes) or len(private_key_bytes) != KEY_SIZE:
        raise ValueError("an Ed25519 private key is 32 raw bytes")
    return Ed25519PrivateKey.from_private_bytes(private_key_bytes)


def generate_private_key() -> bytes:
    """A new Ed25519 private key as 32 raw bytes (keep it secret)."""
    return Ed25519PrivateKey.generate().private_bytes_raw()


def public_key(private_key_bytes: bytes) -> bytes:
    """The Ed25519 public key, 32 raw bytes, belonging to a 32-byte private key."""
    return _private_key(private_key_bytes).public_key().public_bytes_raw()


def key_id(public_key_bytes: bytes) -> str:
    """The first 16 lowercase hex digits of SHA-256 of the 32-byte raw public key."""
    if not isinstance(public_key_bytes, bytes) or len(public_key_bytes) != KEY_SIZE:
        raise ValueError("an Ed25519 public key is 32 raw bytes")
    return hashlib.sha256(public_key_bytes).hexdigest()[:KEY_ID_LENGTH]


def sign_tree_head(head: TreeHead, private_key_bytes: bytes) -> str:
    """Ed25519 signature over :func:`tree_head_message`, as 128 lowercase hex digits."""
    return _private_key(private_key_bytes).sign(tree_head_message(head)).hex()


def verify_tree_head(head: TreeHead, signature: str, public_key_bytes: bytes) -> bool:
    """Whether ``signature`` is a valid Ed25519 signature of ``head``; never raises.

    ``signature`` is 128 lowercase hex digits; anything else is simply not valid.
    """
    if not isinstance(head, TreeHead) or not isinstance(signature, str):
        return False
    if not isinstance(public_key_bytes, bytes) or len(public_key_bytes) != KEY_SIZE:
        return False
    if not _SIGNATURE_HEX.fullmatch(signature):
        return False
    try:
        key = Ed25519PublicKey.from_public_bytes(public_key_bytes)
        key.verify(bytes.fromhex(signature), tree_head_message(head))
    except (ValueError, InvalidSignature):
        return False
    return True
