"""Queue e-mail in the recipient's language; deliver the outbox with retries."""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from flask import current_app, g, render_template
from flask_babel import force_locale
from sqlalchemy import select

from grants.extensions import db
from grants.mail.models import OutboxMessage
from grants.types import utcnow

log = logging.getLogger(__name__)


def queue_mail(
    recipient: str, template: str, locale: str, subject: Any, **context: Any
) -> OutboxMessage:
    """Render ``mail/<template>.txt`` in ``locale`` and add it to the outbox (no commit).

    ``subject`` is a lazy string (``_l(...)``): it is rendered in the recipient's
    locale, never the sender's.
    """
    with force_locale(locale):
        rendered_subject = str(subject)
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


def deliver_pending(limit: int = 100) -> tuple[int, int]:
    """Send due messages; commit after each so a crash never sends twice. (sent, failed)"""
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
        message = db.session.get(OutboxMessage, message_id)
        if message is None or message.sent_at is not None:
            db.session.commit()
            continue
        message.attempts += 1
        try:
            if cfg["MAIL_BACKEND"] == "log":
                log.info("E-mail to %s: %s\n%s", message.recipient, message.subject, message.body)
            else:
                _send_smtp(message)
        except (OSError, smtplib.SMTPException) as exc:
            failed += 1
            message.last_error = str(exc)[:500]
            # Exponential back-off: 1, 2, 4, ... minutes.
            message.next_attempt_at = utcnow() + timedelta(minutes=2 ** (message.attempts - 1))
            log.warning("E-mail %s to %s failed: %s", message.id, message.recipient, exc)
        else:
            sent += 1
            message.sent_at = utcnow()
            message.last_error = None
        db.session.commit()
    return sent, failed
