"""E-mail goes through the outbox and a real SMTP server; failures are retried."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from grants.extensions import db
from grants.mail.models import OutboxMessage
from grants.mail.operations import deliver_pending
from tests.conftest import make_user, post


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list = []

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
