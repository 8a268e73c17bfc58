"""Account operations: register, authenticate, reset and change passwords, preferences."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, session
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from grants.audit.operations import record
from grants.auth.models import PendingRegistration, User, UserSession
from grants.errors import OperationError
from grants.extensions import db
from grants.mail.operations import queue_mail
from grants.types import utcnow
from grants.urls import external_url

_hashers: dict[tuple[int, int, int], tuple[PasswordHasher, str]] = {}
security_log = logging.getLogger("grants.security")

# E-mailed links that stand for one address (invitations): endpoint -> a function of the
# link's ``token`` giving the invited address while the link is valid. Features to the right
# of auth add theirs, so that registering through such a link with that very address counts
# as a confirmed address (only its holder received the link).
ADDRESS_PROOFS: dict[str, Callable[[str], str | None]] = {}


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


def _create_user(
    *, name: str, email: str, password_hash: str, locale: str, timezone: str, is_admin: bool
) -> User:
    """Insert an account; the e-mail must not be taken (also when a parallel request won)."""
    if find_user_by_email(email) is not None:
        raise OperationError(_l("An account with this e-mail address already exists."), "email")
    user = User(
        name=name.strip(),
        email=normalise_email(email),
        password_hash=password_hash,
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


def register_user(
    *, name: str, email: str, password: str, locale: str, timezone: str, is_admin: bool = False
) -> User:
    """Create an account whose address is known to be right (command line, demo, an
    address proven by an invitation link); the e-mail must not be taken."""
    return _create_user(
        name=name,
        email=email,
        password_hash=hash_password(password),
        locale=locale,
        timezone=timezone,
        is_admin=is_admin,
    )


# --- registration through the public form ------------------------------------------------
#
# The form never says whether an address has an account: it always ends on "check your
# e-mail". A new address receives a link; the account is created only when that link is
# opened and the password chosen at registration is typed again (so someone who typed
# another person's address can neither claim it nor have the owner activate an account
# whose password they know). An address that already has an account receives a notice with
# links to sign in and to reset the password.


def proven_address(path: str | None) -> str | None:
    """The address an e-mailed link (``path`` on this site) was sent to, if it is a valid
    invitation link; None otherwise."""
    if not path:
        return None
    parts = urlsplit(path)
    if parts.scheme or parts.netloc:
        return None
    try:
        endpoint, values = current_app.url_map.bind("localhost").match(parts.path, method="GET")
    except (HTTPException, RequestRedirect):
        return None
    proof = ADDRESS_PROOFS.get(str(endpoint))
    token = values.get("token")
    if proof is None or not isinstance(token, str):
        return None
    address = proof(token)
    return normalise_email(address) if address else None


@dataclass(frozen=True)
class Registration:
    """What a registration led to: an account at once (``user``, the address was proven by
    an invitation link) or, as always otherwise, an e-mail to the address."""

    email: str
    user: User | None = None


def _registration_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="registration")


def _registration_max_age() -> int:
    return int(current_app.config["REGISTRATION_MAX_AGE_HOURS"]) * 3600


def registration_token(pending: PendingRegistration) -> str:
    """A signed, expiring token for the confirmation link; a newer registration of the
    same address replaces it."""
    return _registration_serializer().dumps({"id": pending.id, "n": pending.nonce})


def request_registration(
    *,
    name: str,
    email: str,
    password: str,
    locale: str,
    timezone: str,
    next_path: str | None = None,
) -> Registration:
    """Register from the public form without revealing whether the address has an account.

    ``next_path`` is where to go afterwards; when it is a valid invitation link sent to this
    very address, the address is proven and the account is created at once.
    """
    email = normalise_email(email)
    # Hash first whatever happens, so the time taken does not tell the cases apart.
    password_hash = hash_password(password)
    existing = find_user_by_email(email)
    if next_path is not None and len(next_path) > PendingRegistration.next_path.type.length:
        next_path = None
    if existing is None and proven_address(next_path) == email:
        try:
            user = _create_user(
                name=name,
                email=email,
                password_hash=password_hash,
                locale=locale,
                timezone=timezone,
                is_admin=False,
            )
        except OperationError:  # a parallel registration won: answer as for any address
            return Registration(email=email)
        return Registration(email=email, user=user)
    if existing is not None:
        _notify_existing_account(existing)
        return Registration(email=email)
    now = utcnow()
    # Only the latest registration of an address stays; expired ones are forgotten.
    db.session.execute(
        delete(PendingRegistration).where(
            (PendingRegistration.email == email)
            | (PendingRegistration.created_at < now - timedelta(seconds=_registration_max_age()))
        )
    )
    pending = PendingRegistration(
        email=email,
        name=name.strip(),
        password_hash=password_hash,
        locale=locale,
        timezone=timezone,
        next_path=next_path,
        nonce=secrets.token_hex(16),
        created_at=now,
    )
    db.session.add(pending)
    db.session.flush()
    queue_mail(
        email,
        "confirm_registration",
        locale,
        _l("Confirm your e-mail address to create your grants account"),
        name=pending.name,
        link=external_url("auth.confirm_registration", token=registration_token(pending)),
        hours=current_app.config["REGISTRATION_MAX_AGE_HOURS"],
    )
    return Registration(email=email)


def _notify_existing_account(user: User) -> None:
    """Tell the holder of the address that someone tried to register with it."""
    security_log.info("registration with an existing address: user=%s", user.id)
    if not user.active:
        return
    queue_mail(
        user.email,
        "registration_attempt",
        user.locale,
        _l("Someone tried to create a grants account with your address"),
        user=user,
        sign_in=external_url("auth.login"),
        reset=external_url("auth.request_reset"),
    )


def pending_registration_from_token(token: str) -> PendingRegistration:
    """The registration a confirmation link stands for; raises with a clear reason."""
    try:
        payload: dict[str, Any] = _registration_serializer().loads(
            token, max_age=_registration_max_age()
        )
    except SignatureExpired as exc:
        raise OperationError(
            _l("This confirmation link has expired. Register again to get a new one.")
        ) from exc
    except BadSignature as exc:
        raise OperationError(
            _l("This confirmation link is not valid. Register again to get a new one.")
        ) from exc
    pending = db.session.get(PendingRegistration, payload.get("id"))
    if pending is None or pending.nonce != payload.get("n"):
        raise OperationError(
            _l(
                "This confirmation link has been used or replaced by a newer one. Use the "
                "latest e-mail, or sign in if your account exists."
            )
        )
    return pending


def confirm_registration(token: str, password: str) -> tuple[User, str | None]:
    """Create the account of a confirmed registration: the link proves the address, the
    password proves the person who registered. Returns the user and where to go next."""
    pending = pending_registration_from_token(token)
    hasher = _hasher_and_dummy()[0]
    try:
        hasher.verify(pending.password_hash, password)
    except (VerificationError, InvalidHashError) as exc:
        raise OperationError(
            _l("This is not the password you chose when you registered."), "password"
        ) from exc
    user = _create_user(
        name=pending.name,
        email=pending.email,
        password_hash=pending.password_hash,
        locale=pending.locale,
        timezone=pending.timezone,
        is_admin=False,
    )
    next_path = pending.next_path
    db.session.execute(delete(PendingRegistration).where(PendingRegistration.email == user.email))
    return user, next_path


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
