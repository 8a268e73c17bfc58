"""File storage behind one small interface: a local folder now, object storage later."""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import current_app


@dataclass(frozen=True)
class StoredFile:
    """Where a file went and what it was."""

    key: str
    sha256: str
    size: int


class Storage(Protocol):
    """What the app needs from a file store."""

    def save(self, data: bytes) -> StoredFile: ...

    def open(self, key: str) -> BinaryIO: ...

    def delete(self, key: str) -> None: ...


class LocalStorage:
    """Files in a folder outside the web root, named by random keys (never user names)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if not key.isalnum():
            raise ValueError("invalid storage key")
        return self.root / key[:2] / key

    def save(self, data: bytes) -> StoredFile:
        """Write ``data`` under a new random key; the write is atomic."""
        key = secrets.token_hex(32)
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        with partial.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(path)
        return StoredFile(key, hashlib.sha256(data).hexdigest(), len(data))

    def open(self, key: str) -> BinaryIO:
        """Read a stored file."""
        return self._path(key).open("rb")

    def delete(self, key: str) -> None:
        """Remove a stored file if it exists."""
        self._path(key).unlink(missing_ok=True)


def get_storage() -> Storage:
    """The configured store (a local folder, ``UPLOAD_FOLDER``)."""
    return LocalStorage(Path(current_app.config["UPLOAD_FOLDER"]))
