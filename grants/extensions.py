"""Flask extensions, created unbound and attached in ``create_app``."""

from __future__ import annotations

import sqlite3
from typing import Any

from flask import has_request_context, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a constraint naming convention (stable migrations)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()


def _client_address() -> str:
    """The peer address; ProxyFix rewrites it only when TRUSTED_PROXIES is configured."""
    return get_remote_address() or request.remote_addr or "unknown"


limiter = Limiter(key_func=_client_address, default_limits=[])

SQLITE_BUSY_TIMEOUT_MS = 30_000


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    """WAL, foreign keys and a busy timeout on every SQLite connection."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Let SQLAlchemy's "begin" event issue BEGIN IMMEDIATE itself (see below).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys = ON")
    if cursor.execute("PRAGMA database_list").fetchone()[2]:  # a file, not :memory:
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@event.listens_for(Engine, "begin")
def _sqlite_begin_immediate(conn: Any) -> None:
    """Take SQLite's write lock at BEGIN for writers, so they wait instead of failing.

    A deferred transaction that reads and then writes cannot wait for the lock without
    risking a deadlock, so SQLite answers "database is locked" at once; BEGIN IMMEDIATE
    queues behind the busy timeout instead. Requests that never write (GET, HEAD; a test
    checks that no GET writes) begin deferred, so readers run beside writers under WAL.
    """
    if conn.dialect.name != "sqlite":
        return
    if has_request_context() and request.method in READ_ONLY_METHODS:
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
