"""The key that signs tree heads, and the per-call pseudonyms derived from it."""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from flask import current_app

from grants.domain import merkle


def _load_or_create(path: Path) -> bytes:
    """Read the key file, or create it once (0600) when it does not exist yet."""
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = merkle.generate_private_key()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return bytes.fromhex(path.read_text().strip())
    with os.fdopen(fd, "w") as handle:
        handle.write(key.hex() + "\n")
    return key


def signing_key() -> bytes:
    """The 32-byte Ed25519 private key (from SIGNING_KEY, else the instance key file)."""
    cache = current_app.extensions.setdefault("grants_signing_key", {})
    if "key" not in cache:
        configured = current_app.config.get("SIGNING_KEY")
        if configured:
            key = bytes.fromhex(configured.strip())
        else:
            key = _load_or_create(Path(current_app.config["SIGNING_KEY_FILE"]))
        if len(key) != merkle.KEY_SIZE:
            raise RuntimeError("GRANTS_SIGNING_KEY must be 64 hex digits (32 bytes).")
        cache["key"] = key
    key: bytes = cache["key"]
    return key


def public_key() -> bytes:
    """The public half of the signing key, shown on the site for verifiers."""
    return merkle.public_key(signing_key())


def key_id() -> str:
    """A short fingerprint of the public key."""
    return merkle.key_id(public_key())


def pseudonym(call_id: int, user_id: int) -> str:
    """A reviewer's stable pseudonym within one call, e.g. ``R-3f9a1c07``.

    A keyed hash (HMAC-SHA256) with a key derived from the signing key: stable for the life of
    the site, different in every call, and impossible to reverse without the key.
    """
    secret = hashlib.sha256(b"grants-pseudonyms:" + signing_key()).digest()
    digest = hmac.new(secret, f"{call_id}:{user_id}".encode(), hashlib.sha256).hexdigest()
    return f"R-{digest[:8]}"
