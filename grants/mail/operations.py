"""Queue e-mail in the recipient's language; deliver the outbox with retries."""

from __future__ import annotations

import logging
import re
import smtplib
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from flask import current_app, g, render_template
from flask_babel import force_locale
from sqlalchemy import select, update

from grants.extensions import db
from grants.mail.models import OutboxMessage
from grants.types import utcnow

log = logging.getLogger(__name__)
CLAIM_LEASE = timedelta(minutes=5)
SUBJECT_LENGTH = 300  # the outbox column
# Line breaks would start a new header; other control characters cannot be sent. Forms
# refuse them in titles and names, but a value stored before that check may hold them.
_SUBJECT_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def one_line_subject(text: str) -> str:
    """``text`` as a one-line subject that fits its column (cut with an ellipsis)."""
    line = " ".join(_SUBJECT_BREAKS.sub(" ", text).split())
    if len(line) > SUBJECT_LENGTH:
        line = line[: SUBJECT_LENGTH - 1].rstrip() + "\u2026"
    return line


def queue_mail(
    recipient: str, template: str, locale: str, subject: Any, **context: Any
) -> OutboxMessage:
    """Render ``mail/<template>.txt`` in ``locale`` and add it to the outbox (no commit).

    ``subject`` is a lazy string (``_l(...)``): it is rendered in the recipient's
    locale, never the sender's.
    """
    with force_locale(locale):
        rendered_subject = one_line_subject(str(subject))
        body = render_template(f"mail/{template}.txt", **context)
    message = OutboxMessage(
        recipient=recipient, subject=rendered_subject, body=body, locale=locale, kind=template
    )
    db.session.add(message)
    db.session.flush()
    g.mail_queued = True  # lets development deliver it at the end of the request
    return message


def _send_smtp(message: OutboxMessage) -> None:
    cfg = current_app.config
    email = EmailMessage()
    email["From"] = cfg["MAIL_DEFAULT_SENDER"]
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Message-ID"] = make_msgid(domain="grants.local")
    email.set_content(message.body)  # clears Content-* headers, so the language goes after
    email["Content-Language"] = message.locale
    smtp_cls = smtplib.SMTP_SSL if cfg["MAIL_USE_SSL"] else smtplib.SMTP
    with smtp_cls(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=20) as smtp:
        if cfg["MAIL_USE_TLS"]:
            smtp.starttls()
        if cfg["MAIL_USERNAME"]:
            smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
        smtp.send_message(email)


def _claim(message_id: int, now: datetime) -> bool:
    """Take one due message for this worker: a conditional UPDATE only one worker wins.

    The claim pushes ``next_attempt_at`` past the send timeout, so a worker that dies
    mid-send leaves the message to be retried later, never lost and never sent by two
    workers at once.
    """
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.next_attempt_at <= now,
        )
        .values(next_attempt_at=now + CLAIM_LEASE, attempts=OutboxMessage.attempts + 1)
    )
    db.session.commit()
    return bool(getattr(result, "rowcount", 0))


def deliver_pending(limit: int = 100) -> tuple[int, int]:
    """Send due messages, each claimed first; no database lock is held while sending.

    Returns (sent, failed). A failure keeps the message and schedules a retry with
    exponential back-off (1, 2, 4, ... minutes) until ``MAIL_MAX_ATTEMPTS``.
    """
    now = utcnow()
    cfg = current_app.config
    ids = db.session.scalars(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.next_attempt_at <= now,
            OutboxMessage.attempts < cfg["MAIL_MAX_ATTEMPTS"],
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    db.session.commit()
    sent = failed = 0
    for message_id in ids:
        if not _claim(message_id, now):
            continue  # another worker has it
        message = db.session.get(OutboxMessage, message_id)
        if message is None:
            continue
        db.session.expunge(message)
        db.session.commit()  # end the read transaction before talking to the mail server
        error: str | None = None
        try:
            if cfg["MAIL_BACKEND"] == "log":
                log.info("E-mail to %s: %s\n%s", message.recipient, message.subject, message.body)
            else:
                _send_smtp(message)
        except (OSError, smtplib.SMTPException) as exc:
            error = str(exc)[:500]
            log.warning("E-mail %s to %s failed: %s", message.id, message.recipient, exc)
        values: dict[str, Any]
        if error is None:
            sent += 1
            values = {"sent_at": utcnow(), "last_error": None}
        else:
            failed += 1
            backoff = timedelta(minutes=2 ** (message.attempts - 1))
            values = {"last_error": error, "next_attempt_at": utcnow() + backoff}
        db.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == message_id).values(**values)
        )
        db.session.commit()
    return sent, failed
