"""Queue e-mail in the recipient's language; deliver the outbox with retries."""

from __future__ import annotations

import logging
import re
import smtplib
from datetime import datetime, timedelta
from email.errors import HeaderParseError, NonASCIILocalPartDefect
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from flask import current_app, g, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from grants.audit.operations import record
from grants.errors import OperationError
from grants.extensions import db
from grants.mail.models import MAIL_TRANSITIONS, MailStatus, OutboxMessage
from grants.types import utcnow

log = logging.getLogger(__name__)
CLAIM_LEASE = timedelta(minutes=5)
SUBJECT_MAX = OutboxMessage.subject.type.length or 300
REASON_MAX = OutboxMessage.last_error.type.length or 500
LANGUAGE_TAG = re.compile(r"[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*")


class BuildError(ValueError):
    """The stored message cannot become an e-mail: retrying would fail the same way."""


class PermanentFailure(Exception):
    """The mail server refused this message for good (an unknown recipient, say)."""


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _safe_str(value: Any) -> str:
    try:
        return str(value)
    except Exception:  # a subject whose translation cannot be formatted
        return ""


def _short(text: str, limit: int = REASON_MAX) -> str:
    """One line of at most ``limit`` characters: what the outbox page shows."""
    text = _one_line(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Line breaks would start a new header; other control characters cannot be sent. Forms
# refuse them in titles and names, but a value stored before that check may hold them.
_SUBJECT_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def one_line_subject(text: str) -> str:
    """``text`` as a one-line subject that fits its column (cut with an ellipsis)."""
    line = " ".join(_SUBJECT_BREAKS.sub(" ", text).split())
    if len(line) > SUBJECT_MAX:
        line = line[: SUBJECT_MAX - 1].rstrip() + "\u2026"
    return line


def queue_mail(
    recipient: str, template: str, locale: str, subject: Any, **context: Any
) -> OutboxMessage:
    """Render ``mail/<template>.txt`` in ``locale`` and add it to the outbox (no commit).

    ``subject`` is a lazy string (``_l(...)``): it is rendered in the recipient's
    locale, never the sender's. A subject is one line (a call title with a line break in
    it must not become a header break) and fits its column. A message that cannot be
    rendered does not undo the action that caused it: it is stored as failed, with the
    reason, for the outbox page, and the traceback goes to the log.
    """
    try:
        with force_locale(locale):
            rendered_subject = one_line_subject(str(subject))
            body = render_template(f"mail/{template}.txt", **context)
    except Exception as exc:
        log.exception("E-mail %r to %s could not be written", template, recipient)
        message = OutboxMessage(
            recipient=recipient,
            subject=one_line_subject(_safe_str(subject) or template),
            body="",
            locale=locale[:16],
            kind=template[:64],
            status=MailStatus.FAILED.value,
            last_error=_short(f"Could not be written ({template}): {type(exc).__name__}: {exc}"),
        )
    else:
        message = OutboxMessage(
            recipient=recipient, subject=rendered_subject, body=body, locale=locale, kind=template
        )
        g.mail_queued = True  # lets development deliver it at the end of the request
    db.session.add(message)
    db.session.flush()
    return message


def _check_recipient(address: str) -> None:
    if not address or "\r" in address or "\n" in address:
        raise BuildError("The recipient address is empty or spans several lines.")
    try:
        Address(addr_spec=address)
    except NonASCIILocalPartDefect:
        return  # valid with SMTPUTF8; the server says whether it takes it
    except (ValueError, IndexError, HeaderParseError) as exc:
        raise BuildError(f"The recipient {address!r} is not an e-mail address ({exc}).") from exc


def build_email(message: OutboxMessage) -> EmailMessage:
    """The e-mail for a stored message; ``BuildError`` says why it cannot be one."""
    if not message.body:
        raise BuildError("The message has no text: it was never written.")
    _check_recipient(message.recipient)
    if "\r" in message.subject or "\n" in message.subject:
        raise BuildError("The subject spans several lines.")
    if not LANGUAGE_TAG.fullmatch(message.locale or ""):
        raise BuildError(f"The language {message.locale!r} is not a language tag.")
    email = EmailMessage()
    try:
        email["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
        email["To"] = message.recipient
        email["Subject"] = message.subject
        email["Message-ID"] = make_msgid(domain="grants.local")
        email.set_content(message.body)  # clears Content-* headers, so the language goes after
        email["Content-Language"] = message.locale.replace("_", "-")
    except (ValueError, TypeError, LookupError, HeaderParseError) as exc:
        raise BuildError(f"The e-mail cannot be built: {exc}") from exc
    return email


def _send_smtp(message: OutboxMessage, email: EmailMessage) -> None:
    cfg = current_app.config
    smtp_cls = smtplib.SMTP_SSL if cfg["MAIL_USE_SSL"] else smtplib.SMTP
    with smtp_cls(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=20) as smtp:
        if cfg["MAIL_USE_TLS"]:
            smtp.starttls()
        if cfg["MAIL_USERNAME"]:
            smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
        try:
            smtp.send_message(email, to_addrs=[message.recipient])
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            text = f"The mail server refused the recipient: {code} {_decode(reply)}"
            if code >= 500:
                raise PermanentFailure(text) from exc
            raise smtplib.SMTPException(text) from exc
        except smtplib.SMTPDataError as exc:
            # Refused after reading it (too large, judged spam): this message, not the server.
            text = f"The mail server refused the message: {exc.smtp_code} {_decode(exc.smtp_error)}"
            if exc.smtp_code >= 500:
                raise PermanentFailure(text) from exc
            raise smtplib.SMTPException(text) from exc


def _decode(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


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
            OutboxMessage.status == MailStatus.PENDING.value,
            OutboxMessage.next_attempt_at <= now,
        )
        .values(next_attempt_at=now + CLAIM_LEASE, attempts=OutboxMessage.attempts + 1)
    )
    db.session.commit()
    return bool(getattr(result, "rowcount", 0))


def _deliver_one(message: OutboxMessage) -> dict[str, Any]:
    """Build and send one claimed message; the values to store, whatever happens.

    Never raises: a message that cannot be built or is refused for good is failed with a
    one-line reason (the traceback goes to the log); a transient failure is retried with
    exponential back-off (1, 2, 4, ... minutes) until ``MAIL_MAX_ATTEMPTS`` tries.
    """
    cfg = current_app.config
    failed = MailStatus.FAILED.value
    try:
        email = build_email(message)
        if cfg["MAIL_BACKEND"] == "log":
            log.info("E-mail to %s: %s\n%s", message.recipient, message.subject, message.body)
        else:
            _send_smtp(message, email)
    except BuildError as exc:
        log.warning("E-mail %s cannot be built: %s", message.id, exc, exc_info=True)
        return {"status": failed, "last_error": _short(str(exc))}
    except PermanentFailure as exc:
        log.warning("E-mail %s refused for good: %s", message.id, exc, exc_info=True)
        return {"status": failed, "last_error": _short(str(exc))}
    except (OSError, smtplib.SMTPException) as exc:
        reason = _short(str(exc) or type(exc).__name__)
        log.warning("E-mail %s to %s failed: %s", message.id, message.recipient, reason)
        if message.attempts >= cfg["MAIL_MAX_ATTEMPTS"]:
            given_up = f"Gave up after {message.attempts} tries. Last error: {reason}"
            return {"status": failed, "last_error": _short(given_up)}
        backoff = timedelta(minutes=2 ** max(message.attempts - 1, 0))
        return {"last_error": reason, "next_attempt_at": utcnow() + backoff}
    except Exception as exc:  # one bad message must never stop the worker
        log.exception("E-mail %s could not be sent", message.id)
        return {"status": failed, "last_error": _short(f"{type(exc).__name__}: {exc}")}
    return {"status": MailStatus.SENT.value, "sent_at": utcnow(), "last_error": None}


def deliver_pending(limit: int = 100) -> tuple[int, int]:
    """Send due messages, each claimed first; no database lock is held while sending.

    Returns (sent, failed), where failed counts both given-up messages and those that
    will be retried. One message that cannot be built or sent never stops the others.
    """
    now = utcnow()
    ids = db.session.scalars(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.status == MailStatus.PENDING.value,
            OutboxMessage.next_attempt_at <= now,
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
        values = _deliver_one(message)
        if values.get("status") == MailStatus.SENT.value:
            sent += 1
        else:
            failed += 1
        db.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.status == MailStatus.PENDING.value,
            )
            .values(**values)
        )
        db.session.commit()
    return sent, failed


def retry_message(actor: Any, message: OutboxMessage) -> None:
    """Put a failed message back in the queue, with a fresh set of tries (no commit)."""
    if MailStatus.PENDING not in MAIL_TRANSITIONS[MailStatus(message.status)]:
        raise OperationError(_l("Only a failed message can be sent again."))
    if not message.body:
        raise OperationError(_l("This message was never written, so it cannot be sent again."))
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.status == MailStatus.FAILED.value)
        .values(
            status=MailStatus.PENDING.value,
            attempts=0,
            next_attempt_at=utcnow(),
            last_error=None,
        )
    )
    if not getattr(result, "rowcount", 0):
        raise OperationError(_l("Only a failed message can be sent again."))
    record(
        actor,
        "outbox.retried",
        message,
        {"attempts": message.attempts, "kind": message.kind},
    )
    db.session.refresh(message)
