"""Account operations: register, authenticate, reset and change passwords, preferences."""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, session
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from grants.audit.operations import record
from grants.auth.models import User, UserSession
from grants.errors import OperationError
from grants.extensions import db
from grants.mail.operations import queue_mail
from grants.types import utcnow
from grants.urls import external_url

_hashers: dict[tuple[int, int, int], tuple[PasswordHasher, str]] = {}


def _hasher_and_dummy() -> tuple[PasswordHasher, str]:
    """The argon2id hasher with the configured cost, and a dummy hash made with it.

    The dummy is verified against when the e-mail is unknown, so the time taken does
    not reveal which accounts exist.
    """
    cfg = current_app.config
    key = (cfg["ARGON2_TIME_COST"], cfg["ARGON2_MEMORY_COST"], cfg["ARGON2_PARALLELISM"])
    if key not in _hashers:
        hasher = PasswordHasher(time_cost=key[0], memory_cost=key[1], parallelism=key[2])
        _hashers[key] = (hasher, hasher.hash("not-a-real-password"))
    return _hashers[key]


def hash_password(password: str) -> str:
    """An argon2id hash."""
    return _hasher_and_dummy()[0].hash(password)


def normalise_email(email: str) -> str:
    """E-mail addresses compare case-insensitively, without surrounding space."""
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    """The account with this e-mail, if any."""
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def load_user(session_key: str) -> User | None:
    """Flask-Login loader: ``<id>:<session_version>`` plus the session's server-side token.

    An old version (password changed) or a revoked token (signed out) means signed out.
    """
    try:
        raw_id, raw_version = session_key.split(":", 1)
        user_id, version = int(raw_id), int(raw_version)
    except ValueError:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.session_version != version:
        return None
    token = session.get("sid")
    if not token or not session_is_open(user, token):
        return None
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def session_is_open(user: User, token: str) -> bool:
    """True while the session with this token has not been ended."""
    return (
        db.session.scalar(
            select(UserSession.id).where(
                UserSession.user_id == user.id,
                UserSession.token_hash == _token_hash(token),
                UserSession.revoked_at.is_(None),
            )
        )
        is not None
    )


def open_session(user: User) -> str:
    """Record a new signed-in session; the returned token goes into the cookie."""
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(user_id=user.id, token_hash=_token_hash(token)))
    db.session.flush()
    return token


def close_session(token: str | None) -> None:
    """End one session (signing out)."""
    if token:
        db.session.execute(
            update(UserSession)
            .where(UserSession.token_hash == _token_hash(token), UserSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )


def close_other_sessions(user: User, keep: str | None = None) -> None:
    """End every session of the user except ``keep`` (after a password change or reset)."""
    query = update(UserSession).where(
        UserSession.user_id == user.id, UserSession.revoked_at.is_(None)
    )
    if keep:
        query = query.where(UserSession.token_hash != _token_hash(keep))
    db.session.execute(query.values(revoked_at=utcnow()))


def register_user(
    *, name: str, email: str, password: str, locale: str, timezone: str, is_admin: bool = False
) -> User:
    """Create an account; the e-mail must not be taken."""
    if find_user_by_email(email) is not None:
        raise OperationError(_l("An account with this e-mail address already exists."), "email")
    user = User(
        name=name.strip(),
        email=normalise_email(email),
        password_hash=hash_password(password),
        locale=locale,
        timezone=timezone,
        is_admin=is_admin,
    )
    try:
        with db.session.begin_nested():  # a parallel registration may have just won
            db.session.add(user)
            db.session.flush()
    except IntegrityError as exc:
        raise OperationError(
            _l("An account with this e-mail address already exists."), "email"
        ) from exc
    record(user, "user.registered", user, {"locale": locale, "is_admin": is_admin})
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user when the password matches (rehashing old parameters), else None."""
    hasher, dummy = _hasher_and_dummy()
    user = find_user_by_email(email)
    if user is None or not user.active:
        with contextlib.suppress(VerificationError):
            hasher.verify(dummy, password)
        return None
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    record(user, "user.logged_in", user)
    return user


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def _password_fingerprint(user: User) -> str:
    # Ties a token to the current password: once used (or the password changes) it is void.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def make_reset_token(user: User) -> str:
    """A signed, expiring, single-use token for a password reset link."""
    return _serializer().dumps({"uid": user.id, "pw": _password_fingerprint(user)})


def request_password_reset(email: str) -> None:
    """E-mail a reset link when the account exists; say nothing either way."""
    user = find_user_by_email(email)
    if user is None or not user.active:
        return
    token = make_reset_token(user)
    queue_mail(
        user.email,
        "password_reset",
        user.locale,
        _l("Reset your grants password"),
        user=user,
        link=external_url("auth.reset_password", token=token),
        minutes=current_app.config["PASSWORD_RESET_MAX_AGE"] // 60,
    )
    record(user, "user.password_reset_requested", user)


def user_for_reset_token(token: str) -> User:
    """The user a valid token belongs to; raises when expired, forged or used."""
    try:
        payload: dict[str, Any] = _serializer().loads(
            token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"]
        )
    except SignatureExpired as exc:
        raise OperationError(_l("This reset link has expired. Ask for a new one.")) from exc
    except BadSignature as exc:
        raise OperationError(_l("This reset link is not valid. Ask for a new one.")) from exc
    user = db.session.get(User, payload.get("uid"))
    if user is None or payload.get("pw") != _password_fingerprint(user):
        raise OperationError(_l("This reset link has already been used. Ask for a new one."))
    return user


def reset_password(token: str, new_password: str) -> User:
    """Set a new password from a reset link; every existing session ends."""
    user = user_for_reset_token(token)
    _set_password(user, new_password)
    record(user, "user.password_reset", user)
    return user


def _set_password(user: User, new_password: str, keep_session: str | None = None) -> None:
    user.password_hash = hash_password(new_password)
    user.session_version += 1
    close_other_sessions(user, keep=keep_session)


def change_password(
    user: User, current_password: str, new_password: str, keep_session: str | None = None
) -> None:
    """Change the password after checking the current one; other sessions end."""
    try:
        _hasher_and_dummy()[0].verify(user.password_hash, current_password)
    except (VerificationError, InvalidHashError) as exc:
        raise OperationError(_l("Your current password is not correct."), "current") from exc
    _set_password(user, new_password, keep_session)
    record(user, "user.password_changed", user)


def update_preferences(user: User, *, name: str, locale: str, timezone: str) -> None:
    """Change name, interface language and time zone."""
    changes: dict[str, Any] = {}
    if user.locale != locale:
        changes["locale"] = {"old": user.locale, "new": locale}
    if user.timezone != timezone:
        changes["timezone"] = {"old": user.timezone, "new": timezone}
    if user.name != name.strip():
        changes["name"] = "changed"  # personal data stays out of the log
    user.name, user.locale, user.timezone = name.strip(), locale, timezone
    if changes:
        record(user, "user.preferences_changed", user, changes)


def set_locale(user: User, locale: str) -> None:
    """Change only the interface language (the language picker)."""
    if user.locale != locale:
        record(
            user, "user.preferences_changed", user, {"locale": {"old": user.locale, "new": locale}}
        )
        user.locale = locale


def count_admins() -> int:
    """How many site administrators exist."""
    return db.session.scalar(select(func.count()).select_from(User).where(User.is_admin)) or 0
