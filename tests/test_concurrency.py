"""Parallel writers: SQLite never says "database is locked", the chain never forks."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from grants.audit.models import AuditEntry
from grants.audit.operations import record
from grants.audit.verify import verify_stored_chain
from grants.extensions import db
from tests.conftest import database_url, make_app

WRITERS = 6
WRITES_EACH = 25


def test_parallel_writers_all_succeed_and_keep_one_chain(tmp_path, real_sessions):
    """Threads, each with its own connection, write at once; every write lands."""
    app = make_app(database_url(str(tmp_path), "concurrency"))
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def writer(n: int) -> None:
        try:
            with app.app_context():
                start.wait()
                for i in range(WRITES_EACH):
                    # record() reads the chain's head, then writes: the pattern that
                    # fails with a deferred BEGIN under SQLite when another writer
                    # gets in between.
                    record("test", "test.parallel", ("things", f"{n}-{i}"), {"writer": n})
                    db.session.commit()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context():
        total = db.session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "test.parallel")
        )
        assert total == WRITERS * WRITES_EACH
        report = verify_stored_chain()
        assert report.ok is True, report
        db.engine.dispose()
