"""E-mail goes through the outbox and a real SMTP server; failures are retried.

One message that cannot be built or is refused never stops the others: it is marked failed
with its reason, shown on the outbox page, and an administrator can send it again.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.header import decode_header, make_header
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from grants.audit.models import AuditEntry
from grants.extensions import db
from grants.mail import operations as mail_ops
from grants.mail.models import OutboxMessage
from grants.mail.operations import deliver_pending
from grants.types import utcnow
from tests.conftest import login, make_user, post


class Inbox:
    """An aiosmtpd handler that keeps every message it receives.

    ``refuse`` maps a recipient to the reply its RCPT TO gets (e.g. a permanent 550 or a
    temporary 451); every other recipient is accepted.
    """

    def __init__(self) -> None:
        self.messages: list = []
        self.refuse: dict[str, str] = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp(app) -> Iterator[Inbox]:
    """A real SMTP server on 127.0.0.1, with the app configured to use it."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    saved = {k: app.config[k] for k in ("MAIL_BACKEND", "MAIL_SERVER", "MAIL_PORT")}
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    try:
        yield inbox
    finally:
        controller.stop()
        app.config.update(saved)


def subject_of(message) -> str:
    """The decoded Subject header."""
    return str(make_header(decode_header(message["Subject"])))


def test_password_reset_mail_arrives_over_smtp_in_the_users_language(client, smtp):
    """The worker delivers the outbox; the message is in the recipient's language."""
    make_user("kenji@example.org", locale="ja", name="Kenji")
    post(client, "/reset-password", {"email": "kenji@example.org"})
    sent, failed = deliver_pending()
    assert (sent, failed) == (1, 0)
    [message] = smtp.messages
    assert message["To"] == "kenji@example.org"
    assert message["Content-Language"] == "ja"
    body = message.get_payload(decode=True).decode()
    assert "/reset-password/" in body
    assert "Kenji" in body
    stored = db.session.scalars(select(OutboxMessage)).one()
    assert stored.sent_at is not None and stored.attempts == 1
    assert subject_of(message) == stored.subject


def test_a_down_mail_server_loses_nothing_and_is_retried(app, client):
    """Delivery failure keeps the message, records the error and schedules a retry."""
    make_user("ana@example.org")
    post(client, "/reset-password", {"email": "ana@example.org"})
    saved = {k: app.config[k] for k in ("MAIL_BACKEND", "MAIL_SERVER", "MAIL_PORT")}
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())
    try:
        assert deliver_pending() == (0, 1)
    finally:
        app.config.update(saved)
    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.sent_at is None
    assert message.attempts == 1
    assert message.last_error
    assert message.next_attempt_at > message.created_at
    assert deliver_pending() == (0, 0)  # not due yet


def test_send_mail_command_delivers_waiting_mail(app, client, smtp):
    """``flask grants send-mail`` is the worker."""
    make_user("li@example.org")
    post(client, "/reset-password", {"email": "li@example.org"})
    result = app.test_cli_runner().invoke(args=["grants", "send-mail"])
    assert result.exit_code == 0, result.output
    assert "1 sent, 0 failed" in result.output
    assert len(smtp.messages) == 1


def test_a_message_is_claimed_by_one_worker_only(client):
    """Two workers racing for the same message: only the first claim wins."""
    from grants.mail.operations import _claim
    from grants.types import utcnow

    make_user("race@example.org")
    post(client, "/reset-password", {"email": "race@example.org"})
    message = db.session.scalars(select(OutboxMessage)).one()
    now = utcnow()
    assert _claim(message.id, now) is True
    assert _claim(message.id, now) is False


# --- one bad message among good ones -----------------------------------------------------


def outbox_row(recipient: str, subject: str = "Hello", body: str = "Hello.") -> OutboxMessage:
    """A message as queue_mail would store it, with the fields a test wants to spoil."""
    message = OutboxMessage(recipient=recipient, subject=subject, body=body, locale="en", kind="t")
    db.session.add(message)
    db.session.commit()
    return message


def recipients(inbox: Inbox) -> list[str]:
    """Who the SMTP server delivered to, in order."""
    return [m["To"] for m in inbox.messages]


def reload(message: OutboxMessage) -> OutboxMessage:
    """The stored row as it is now (the worker detaches what it sends)."""
    db.session.expire_all()
    stored = db.session.get(OutboxMessage, message.id)
    assert stored is not None
    return stored


def make_due(*messages: OutboxMessage) -> None:
    """Move retries forward in time: the back-off has passed."""
    for message in messages:
        reload(message).next_attempt_at = utcnow()
    db.session.commit()


def test_one_bad_message_among_good_ones_fails_alone(app, client, smtp):
    """Good messages are delivered; each bad one is failed with its reason, never retried,
    and the outbox page shows it."""
    smtp.refuse["nobody@example.org"] = "550 5.1.1 <nobody@example.org>: no such user"
    # Queued in this order, so each bad message stands before a good one.
    good = [outbox_row("good0@example.org")]
    injected = outbox_row("victim@example.org", subject="Hi\r\nBcc: spy@example.org")
    good.append(outbox_row("good1@example.org"))
    not_an_address = outbox_row("not an address")
    refused = outbox_row("nobody@example.org")
    good.append(outbox_row("good2@example.org"))

    assert deliver_pending() == (3, 3)

    assert recipients(smtp) == [f"good{n}@example.org" for n in range(3)]
    good = [reload(m) for m in good]
    injected, not_an_address, refused = map(reload, (injected, not_an_address, refused))
    assert [m.status for m in good] == ["sent"] * 3
    assert injected.status == "failed" and "subject spans several lines" in injected.last_error
    assert not_an_address.status == "failed"
    assert "not an e-mail address" in not_an_address.last_error
    assert refused.status == "failed" and "550" in refused.last_error
    assert "no such user" in refused.last_error
    for bad in (injected, not_an_address, refused):
        assert bad.attempts == 1 and bad.sent_at is None
        assert "Traceback" not in bad.last_error and "\n" not in bad.last_error

    admin = make_user("postmaster@example.org", admin=True)
    login(client, admin)
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert page.count("failed, not sent") == 3
    assert "no such user" in page and "subject spans several lines" in page
    assert "not an e-mail address" in page


def test_a_poisoned_message_does_not_block_the_queue_on_the_next_run(smtp):
    """The failed message is left alone by later runs: they deliver what came after it."""
    poisoned = outbox_row("first@example.org", subject="Line one\nLine two")
    assert deliver_pending() == (0, 1)
    later = outbox_row("later@example.org")
    make_due(poisoned)  # even once any lease or back-off would have passed
    assert deliver_pending() == (1, 0)
    assert recipients(smtp) == ["later@example.org"]
    poisoned = reload(poisoned)
    later = reload(later)
    assert (poisoned.status, poisoned.attempts) == ("failed", 1)
    assert later.status == "sent"


def test_an_unexpected_error_for_one_message_is_contained(smtp, monkeypatch, caplog):
    """Whatever one message raises, it alone is failed (the traceback goes to the log)."""
    real_send = mail_ops._send_smtp

    def flaky(message, email):
        if message.recipient == "boom@example.org":
            raise RuntimeError("the encoder broke")
        real_send(message, email)

    monkeypatch.setattr(mail_ops, "_send_smtp", flaky)
    boom = outbox_row("boom@example.org")
    fine = outbox_row("fine@example.org")
    with caplog.at_level("ERROR", logger="grants.mail.operations"):
        assert deliver_pending() == (1, 1)
    assert recipients(smtp) == ["fine@example.org"]
    boom = reload(boom)
    fine = reload(fine)
    assert boom.status == "failed"
    assert boom.last_error == "RuntimeError: the encoder broke"
    assert fine.status == "sent"
    assert any(r.exc_info and "the encoder broke" in str(r.exc_info[1]) for r in caplog.records)


def test_a_temporary_refusal_is_retried_then_given_up(app, smtp):
    """A 4xx reply keeps the message for a retry with back-off; after MAIL_MAX_ATTEMPTS
    tries it is failed, with the last error in the reason."""
    smtp.refuse["busy@example.org"] = "451 4.3.0 mailbox busy, try later"
    busy = outbox_row("busy@example.org")
    saved = app.config["MAIL_MAX_ATTEMPTS"]
    app.config["MAIL_MAX_ATTEMPTS"] = 2
    try:
        assert deliver_pending() == (0, 1)
        busy = reload(busy)
        assert (busy.status, busy.attempts) == ("pending", 1)
        assert "451" in busy.last_error
        assert busy.next_attempt_at > utcnow()
        assert deliver_pending() == (0, 0)  # not due yet
        make_due(busy)
        assert deliver_pending() == (0, 1)
    finally:
        app.config["MAIL_MAX_ATTEMPTS"] = saved
    busy = reload(busy)
    assert (busy.status, busy.attempts) == ("failed", 2)
    assert busy.last_error.startswith("Gave up after 2 tries")
    assert "mailbox busy" in busy.last_error
    assert smtp.messages == []


def test_an_administrator_sends_a_failed_message_again(client, smtp):
    """The outbox page's button puts it back in the queue (audited); the worker delivers it."""
    smtp.refuse["moved@example.org"] = "550 5.1.1 mailbox moved"
    message = outbox_row("moved@example.org")
    assert deliver_pending() == (0, 1)
    message = reload(message)
    assert message.status == "failed"

    admin = make_user("postmaster@example.org", admin=True)
    login(client, admin)
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert f"/admin/outbox/{message.id}/retry" in page
    # Without the CSRF token nothing changes.
    assert client.post(f"/admin/outbox/{message.id}/retry").status_code == 400
    message = reload(message)
    assert message.status == "failed"

    response = post(client, f"/admin/outbox/{message.id}/retry")
    assert response.status_code == 302
    message = reload(message)
    assert (message.status, message.attempts, message.last_error) == ("pending", 0, None)
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "outbox.retried")
    ).one()
    assert entry.subject_id == str(message.id)

    del smtp.refuse["moved@example.org"]
    assert deliver_pending() == (1, 0)
    assert recipients(smtp) == ["moved@example.org"]


def test_only_a_failed_message_can_be_sent_again(client, smtp):
    """Retrying a sent or waiting message is refused with a message; nothing changes."""
    sent = outbox_row("done@example.org")
    assert deliver_pending() == (1, 0)
    waiting = outbox_row("waiting@example.org")
    admin = make_user("postmaster@example.org", admin=True)
    login(client, admin)
    for message in (sent, waiting):
        response = post(client, f"/admin/outbox/{message.id}/retry", follow_redirects=True)
        assert "Only a failed message can be sent again." in response.get_data(as_text=True)
    sent = reload(sent)
    waiting = reload(waiting)
    assert (sent.status, waiting.status) == ("sent", "pending")
    assert len(smtp.messages) == 1
    assert not db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "outbox.retried")
    ).all()


def test_a_failed_message_is_never_claimed(smtp):
    """The claim that keeps two workers apart also keeps failed messages out."""
    message = outbox_row("x@example.org", subject="a\rb")
    assert deliver_pending() == (0, 1)
    assert mail_ops._claim(message.id, utcnow()) is False


def test_a_message_that_cannot_be_written_is_stored_as_failed(client, smtp, caplog):
    """A template that fails to render does not undo the action that sent it: the message
    is stored failed with the reason, the worker skips it, and it cannot be retried."""
    from flask_babel import lazy_gettext as _l

    with caplog.at_level("ERROR", logger="grants.mail.operations"):
        message = mail_ops.queue_mail("someone@example.org", "no_such_template", "en", _l("Hi"))
    db.session.commit()
    assert message.status == "failed"
    assert "no_such_template" in message.last_error
    assert "TemplateNotFound" in message.last_error
    assert any(r.exc_info for r in caplog.records)
    assert deliver_pending() == (0, 0)
    admin = make_user("postmaster@example.org", admin=True)
    login(client, admin)
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert "TemplateNotFound" in page
    assert f"/admin/outbox/{message.id}/retry" not in page
    response = post(client, f"/admin/outbox/{message.id}/retry", follow_redirects=True)
    assert "never written" in response.get_data(as_text=True)


def test_a_subject_is_one_line_that_fits_its_column(app):
    """A call title with a line break or at its full length still makes a valid subject."""
    from flask_babel import lazy_gettext as _l

    title = "Line\r\nBcc: spy@example.org " + "x" * 300
    with app.test_request_context():
        message = mail_ops.queue_mail(
            "reviewer@example.org",
            "password_reset",
            "en",
            _l("Invitation to review for %(call)s", call=title),
            user=SimpleNamespace(name="Rei"),
            link="http://localhost/x",
            minutes=60,
        )
    assert "\n" not in message.subject and "\r" not in message.subject
    assert message.subject.startswith("Invitation to review for Line Bcc: spy@example.org")
    assert len(message.subject) == 300 and message.subject.endswith("…")


def test_two_workers_send_each_message_once_and_fail_the_bad_ones_once(tmp_path, real_sessions):
    """Two workers at once, on their own connections: every good message arrives exactly
    once, every bad one is failed once, and neither worker dies."""
    import threading

    from tests.conftest import database_url, make_app

    inbox = Inbox()
    inbox.refuse["gone@example.org"] = "550 5.1.1 gone"
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    app = make_app(
        database_url(str(tmp_path), "mailworkers"),
        MAIL_BACKEND="smtp",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=controller.port,
    )
    try:
        with app.app_context():
            for n in range(12):
                recipient = "gone@example.org" if n % 6 == 3 else f"p{n}@example.org"
                subject = "Bad\nsubject" if n % 6 == 5 else f"Message {n}"
                db.session.add(
                    OutboxMessage(
                        recipient=recipient, subject=subject, body="Hi.", locale="en", kind="t"
                    )
                )
            db.session.commit()
        results: list[tuple[int, int]] = []
        errors: list[BaseException] = []
        start = threading.Barrier(2)

        def worker() -> None:
            try:
                with app.app_context():
                    start.wait()
                    results.append(deliver_pending())
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert sum(sent for sent, _ in results) == 8
        assert sum(failed for _, failed in results) == 4
        assert sorted(recipients(inbox)) == sorted(
            f"p{n}@example.org" for n in range(12) if n % 6 not in (3, 5)
        )
        with app.app_context():
            rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
            assert [m.status for m in rows].count("failed") == 4
            assert all(m.attempts == 1 for m in rows)
            db.engine.dispose()
    finally:
        controller.stop()
