"""Row locks for operations that check a state and then write (docs/security.md).

PostgreSQL runs requests side by side under READ COMMITTED: two requests that both read
"draft" and both write "submitted" would both succeed. An operation therefore takes the
lock of the row its decision depends on first, and reads that state again under it; a
parallel request waits at the lock and then sees what the first one committed.

SQLite has no row locks (``FOR UPDATE`` renders as nothing there): its write requests begin
``BEGIN IMMEDIATE`` (grants/extensions.py), so they already run one at a time, reads included.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect, select

from grants.extensions import db


def lock(obj: Any) -> None:
    """Lock ``obj``'s row until the transaction ends, then read everything again.

    ``FOR NO KEY UPDATE`` (not ``FOR UPDATE``): inserting a row that refers to the locked
    one (an appeal, an assignment, a tree head) does not wait for it. Take row locks before
    the audit chain's lock (``record`` takes that one last), always in one order: the call,
    then the application, then the row itself.
    What the session read before the lock may be stale: it is flushed (nothing typed is
    lost) and expired, so every attribute read after this is the committed state.
    """
    db.session.flush()  # a new object gets its primary key
    state = inspect(obj)
    lock_id(state.mapper.class_, state.identity[0])


def lock_id(model: Any, ident: Any) -> None:
    """``lock`` for the row of ``model`` whose primary key is ``ident``."""
    session = db.session
    session.flush()
    key = inspect(model).primary_key[0]
    session.execute(select(key).where(key == ident).with_for_update(key_share=True))
    session.expire_all()
