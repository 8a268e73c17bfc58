"""The audit log: every write recorded, chained, verified, and append-only in the database."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from grants.audit.models import AuditEntry
from grants.audit.operations import record
from grants.audit.verify import verify_stored_chain
from grants.extensions import db
from tests.conftest import login, make_user, post


def entries(action: str | None = None) -> list[AuditEntry]:
    """Stored entries in order, optionally of one action."""
    query = select(AuditEntry).order_by(AuditEntry.seq)
    if action:
        query = query.where(AuditEntry.action == action)
    return list(db.session.scalars(query))


def test_operations_write_chained_entries(client):
    """Registering and signing in are recorded, each linked to the one before."""
    user = make_user()
    login(client, user)
    chain = entries()
    assert [e.action for e in chain[-2:]] == ["user.registered", "user.logged_in"]
    assert chain[-1].prev_hash == chain[-2].hash
    assert chain[-1].actor == f"user:{user.id}"
    assert verify_stored_chain().ok is True


def test_audit_entries_keep_personal_data_out(client):
    """The e-mail address and name are not written into the log."""
    user = make_user("secret.person@example.org", name="Secret Person")
    login(client, user)
    post(client, "/account", {"name": "Other Name", "locale": "en", "timezone": "UTC"})
    dumped = " ".join(str(e.data) for e in entries())
    assert "secret.person" not in dumped and "Secret Person" not in dumped
    assert "Other Name" not in dumped


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entries SET action = 'forged' WHERE seq = :seq",
        "DELETE FROM audit_entries WHERE seq = :seq",
    ],
)
def test_database_refuses_update_and_delete(statement):
    """Triggers in the database itself refuse to change or remove entries."""
    entry = record("test", "test.entry", ("things", 1))
    with pytest.raises(DBAPIError, match="append-only"), db.session.begin_nested():
        db.session.execute(text(statement), {"seq": entry.seq})
    assert db.session.get(AuditEntry, entry.id).action == "test.entry"


def _disable_guards() -> None:
    """Lift the triggers inside the test's transaction (rolled back at the end)."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(text("DROP TRIGGER audit_entries_no_update"))
        db.session.execute(text("DROP TRIGGER audit_entries_no_delete"))
    else:
        db.session.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER USER"))


def test_verify_reports_the_first_tampered_entry(app):
    """Editing an entry in the database is found by the CLI at that entry."""
    first = record("test", "test.one", ("things", 1), {"n": 1})
    record("test", "test.two", ("things", 2), {"n": 2})
    db.session.flush()
    _disable_guards()
    db.session.execute(
        text("UPDATE audit_entries SET data = :data WHERE seq = :seq"),
        {"data": '{"n": 100}', "seq": first.seq},
    )
    db.session.expire_all()
    report = verify_stored_chain()
    assert (report.ok, report.broken_seq) == (False, first.seq)
    result = app.test_cli_runner().invoke(args=["grants", "audit", "verify"])
    assert result.exit_code == 1
    assert f"BROKEN at entry {first.seq}" in result.output


def test_verify_reports_a_deleted_entry(app):
    """Removing an entry from the middle breaks the sequence there."""
    record("test", "test.one", ("things", 1))
    middle = record("test", "test.two", ("things", 2)).seq
    record("test", "test.three", ("things", 3))
    _disable_guards()
    db.session.execute(text("DELETE FROM audit_entries WHERE seq = :seq"), {"seq": middle})
    db.session.expire_all()
    report = verify_stored_chain()
    assert (report.ok, report.broken_seq) == (False, middle + 1)


def test_cli_verify_says_the_log_holds(app):
    """A clean log verifies with a plain sentence."""
    record("test", "test.one", ("things", 1))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["grants", "audit", "verify"])
    assert result.exit_code == 0, result.output
    count = db.session.scalar(select(func.count()).select_from(AuditEntry))
    assert f"The audit log holds: {count} entries" in result.output


def test_postgres_refuses_truncate():
    """On PostgreSQL the log cannot be emptied with TRUNCATE either."""
    if db.session.get_bind().dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL (set TEST_DATABASE_URL); SQLite has no TRUNCATE")
    with pytest.raises(DBAPIError, match="append-only"), db.session.begin_nested():
        db.session.execute(text("TRUNCATE audit_entries"))
