"""Accounts: registration, sign-in, sessions, password reset and change, rate limits."""

from __future__ import annotations

import re

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from grants.auth.models import User
from grants.extensions import db
from grants.mail.models import OutboxMessage
from tests.conftest import PASSWORD, csrf_token, login, make_user, post


def register(client, **overrides):
    """Submit the registration form."""
    data = {
        "name": "Mai Nguyen",
        "email": "Mai@Example.org",
        "password": "a long enough pass",
        "confirm": "a long enough pass",
        "locale": "fr",
        "timezone": "Asia/Ho_Chi_Minh",
    }
    data.update(overrides)
    return post(client, "/register", data)


def _mails(kind: str, recipient: str) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind == kind, OutboxMessage.recipient == recipient)
            .order_by(OutboxMessage.id)
        )
    )


def _confirm_link(recipient: str = "mai@example.org") -> str:
    """The path of the latest confirmation link e-mailed to ``recipient``."""
    body = _mails("confirm_registration", recipient)[-1].body
    match = re.search(r"http://localhost(/register/confirm/\S+)", body)
    assert match, body
    return match.group(1)


def test_register_creates_an_argon2_account_and_signs_in(client):
    """The account, created once the e-mailed link is opened and the password typed again,
    stores an argon2id hash, the chosen language and time zone; the link then stops working."""
    response = register(client)
    assert response.status_code == 302
    assert response.headers["Location"] == "/register/sent"
    assert db.session.scalar(select(User).where(User.email == "mai@example.org")) is None
    mail = _mails("confirm_registration", "mai@example.org")[-1]
    assert mail.locale == "fr"
    link = _confirm_link()
    response = post(client, link, {"password": "a long enough pass"})
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "mai@example.org"))
    assert user is not None
    assert user.password_hash.startswith("$argon2id$")
    assert PasswordHasher().verify(user.password_hash, "a long enough pass")
    assert (user.locale, user.timezone) == ("fr", "Asia/Ho_Chi_Minh")
    page = client.get("/").get_data(as_text=True)
    assert "Se déconnecter" in page  # signed in, and the interface follows the setting
    post(client, "/logout")
    again = client.get(link)
    assert again.status_code == 404
    assert "used or replaced by a newer one" in again.get_data(as_text=True)


def test_confirming_needs_the_password_chosen_at_registration(client):
    """Whoever opens the link must also know the password typed at registration, so an
    address typed by someone else cannot become an account that person controls."""
    register(client)
    link = _confirm_link()
    response = post(client, link, {"password": "a guess at the password"}, headers=EN)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "This is not the password you chose when you registered." in page
    assert 'id="password-error"' in page
    assert db.session.scalar(select(User).where(User.email == "mai@example.org")) is None


EN = {"Accept-Language": "en"}


def _answer(app, email: str) -> tuple[int, str, str]:
    """Status, redirect and the page it leads to (address, tokens and nonces blanked) when
    a fresh browser registers ``email``."""
    browser = app.test_client()
    data = {
        "name": "Mai Nguyen",
        "email": email,
        "password": "a long enough pass",
        "confirm": "a long enough pass",
        "locale": "en",
        "timezone": "Asia/Ho_Chi_Minh",
    }
    response = post(browser, "/register", data, headers=EN)
    page = browser.get(response.headers.get("Location", "/"), headers=EN).get_data(as_text=True)
    page = page.replace(email, "ADDRESS")
    page = re.sub(r'(value|nonce|content)="[A-Za-z0-9_\-.=+/]{20,}"', r'\1="X"', page)
    return response.status_code, response.headers.get("Location", ""), page


def test_register_answers_the_same_for_a_registered_and_a_new_address(app, client):
    """Same status, redirect and page whether or not the address has an account; the
    holder of a registered address is told by e-mail, with links to sign in and reset."""
    make_user("taken@example.org", name="Tomas Taken", locale="en")
    taken = _answer(app, "taken@example.org")
    new = _answer(app, "fresh@example.org")
    assert taken == new
    assert taken[:2] == (302, "/register/sent")
    assert "We have sent a message to ADDRESS." in taken[2]
    assert "Check your e-mail" in taken[2]
    notice = _mails("registration_attempt", "taken@example.org")
    assert len(notice) == 1
    assert "http://localhost/login" in notice[0].body
    assert "http://localhost/reset-password" in notice[0].body
    assert _mails("confirm_registration", "taken@example.org") == []
    assert len(_mails("confirm_registration", "fresh@example.org")) == 1
    # The existing account is untouched: same name, same password.
    user = db.session.scalar(select(User).where(User.email == "taken@example.org"))
    assert user.name == "Tomas Taken"
    assert PasswordHasher().verify(user.password_hash, PASSWORD)


def test_someone_elses_registration_neither_blocks_nor_claims_the_address(app, client):
    """A stranger registering my address creates nothing; my own later registration
    replaces theirs, and only my link (with my password) creates the account."""
    stranger = app.test_client()
    register(stranger, password="the strangers password", confirm="the strangers password")
    their_link = _confirm_link()
    register(client)
    my_link = _confirm_link()
    assert my_link != their_link
    assert post(stranger, their_link, {"password": "the strangers password"}).status_code == 404
    assert post(client, my_link, {"password": "a long enough pass"}).status_code == 302
    user = db.session.scalar(select(User).where(User.email == "mai@example.org"))
    assert PasswordHasher().verify(user.password_hash, "a long enough pass")


def test_expired_or_forged_confirmation_links_are_refused(app, client):
    """A link past its age or with a bad signature explains what to do and creates nothing."""
    register(client)
    link = _confirm_link()
    forged = client.get(link + "x", headers=EN)
    assert forged.status_code == 404
    assert "This confirmation link is not valid." in forged.get_data(as_text=True)
    app.config["REGISTRATION_MAX_AGE_HOURS"] = -1
    try:
        expired = client.get(link, headers=EN)
    finally:
        app.config["REGISTRATION_MAX_AGE_HOURS"] = 48
    assert "This confirmation link has expired." in expired.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == "mai@example.org")) is None


def test_register_is_rate_limited_per_address(app, client):
    """Registering one address again and again from many places is limited, so nobody can
    flood an inbox with messages."""
    app.config["RATELIMIT_LOGIN_ACCOUNT"] = "3 per minute"
    token = csrf_token(client, "/register")
    statuses = []
    try:
        for n in range(4):
            response = client.post(
                "/register",
                data={
                    "csrf_token": token,
                    "name": "Mai",
                    "email": "mai@example.org",
                    "password": "a long enough pass",
                    "confirm": "a long enough pass",
                    "locale": "en",
                    "timezone": "UTC",
                },
                environ_base={"REMOTE_ADDR": f"192.0.2.{n + 1}"},
            )
            statuses.append(response.status_code)
    finally:
        app.config["RATELIMIT_LOGIN_ACCOUNT"] = "1000 per minute"
    assert statuses == [302, 302, 302, 429]
    assert len(_mails("confirm_registration", "mai@example.org")) == 3


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"email": "not-an-email"}, "email", "Invalid email address."),
        ({"password": "short", "confirm": "short"}, "password", "Use between 12 and 128"),
        ({"confirm": "something else!!"}, "confirm", "The two passwords differ."),
        ({"timezone": "Mars/Olympus"}, "timezone", "Choose a time zone from the list."),
        ({"locale": "xx"}, "locale", "Choose one of the listed languages."),
        ({"name": ""}, "name", "This field is required."),
    ],
)
def test_register_rejects_bad_input_and_keeps_what_was_typed(client, overrides, field, message):
    """Each error sits next to its field; the other values stay in the form."""
    response = register(client, **overrides)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in page
    assert f'id="{field}-error"' in page
    assert 'aria-invalid="true"' in page
    if field != "name":
        assert 'value="Mai Nguyen"' in page
    assert db.session.scalar(select(User).where(User.email == "mai@example.org")) is None


def test_login_rotates_the_session_and_logout_clears_it(client):
    """Nothing planted before sign-in survives it; sign-out empties the session."""
    user = make_user()
    with client.session_transaction() as session:
        session["planted"] = "attacker"
        session["lang"] = "ja"
    login(client, user)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["lang"] == "ja"
        assert session["_user_id"] == f"{user.id}:1"
    post(client, "/logout")
    with client.session_transaction() as session:
        assert "_user_id" not in session


def test_login_with_a_wrong_password_says_so_without_revealing_accounts(client):
    """Same message for an unknown e-mail and a wrong password."""
    make_user()
    wrong = post(client, "/login", {"email": "user@example.org", "password": "nope"})
    unknown = post(client, "/login", {"email": "nobody@example.org", "password": "nope"})
    message = "The e-mail address or the password is not correct."
    assert message in wrong.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/account", "/account"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_next_redirects_only_within_the_site(client, target, expected):
    """``next=`` never leads off the site."""
    user = make_user()
    response = post(client, "/login", {"email": user.email, "password": PASSWORD, "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_change_password_ends_other_sessions_but_keeps_this_one(app, client):
    """A second browser is signed out; this one stays signed in."""
    user = make_user()
    other = app.test_client()
    login(client, user)
    login(other, user)
    assert other.get("/account").status_code == 200
    response = post(
        client,
        "/account/password",
        {
            "current": PASSWORD,
            "password": "a brand new password",
            "confirm": "a brand new password",
        },
    )
    assert response.status_code == 302
    assert client.get("/account").status_code == 200
    assert other.get("/account").status_code == 302  # sent to the login page


def test_change_password_checks_the_current_one(client):
    """A wrong current password changes nothing."""
    user = make_user()
    login(client, user)
    page = post(
        client,
        "/account/password",
        {
            "current": "wrong password!",
            "password": "a brand new password",
            "confirm": "a brand new password",
        },
    ).get_data(as_text=True)
    assert "Your current password is not correct." in page
    assert PasswordHasher().verify(user.password_hash, PASSWORD)


def _reset_link(body: str) -> str:
    match = re.search(r"http://localhost(/reset-password/\S+)", body)
    assert match, body
    return match.group(1)


def test_password_reset_by_emailed_token_is_single_use(client):
    """The e-mailed link sets a new password once, in the user's language."""
    user = make_user(locale="fr")
    post(client, "/reset-password", {"email": "USER@example.org"})
    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.recipient == "user@example.org"
    assert message.locale == "fr"
    assert "mot de passe" in message.subject.lower()
    link = _reset_link(message.body)
    response = post(client, link, {"password": "completely new pw", "confirm": "completely new pw"})
    assert response.status_code == 302
    login(client, user, "completely new pw")
    again = client.get(link, follow_redirects=True).get_data(as_text=True)
    assert "already been used" in again or "déjà été utilisé" in again


def test_password_reset_for_an_unknown_email_sends_nothing(client):
    """Same answer, no e-mail: accounts are not revealed."""
    response = post(
        client, "/reset-password", {"email": "ghost@example.org"}, follow_redirects=True
    )
    assert "If an account uses this address" in response.get_data(as_text=True)
    assert db.session.scalars(select(OutboxMessage)).all() == []


def test_expired_or_forged_reset_tokens_are_refused(app, client):
    """A token past its age or with a bad signature leads back to the request form."""
    user = make_user()
    from grants.auth.operations import make_reset_token

    with app.test_request_context():
        token = make_reset_token(user)
    forged = client.get(f"/reset-password/{token}x", follow_redirects=True)
    assert "This reset link is not valid." in forged.get_data(as_text=True)
    app.config["PASSWORD_RESET_MAX_AGE"] = -1
    try:
        expired = client.get(f"/reset-password/{token}", follow_redirects=True)
    finally:
        app.config["PASSWORD_RESET_MAX_AGE"] = 3600
    assert "This reset link has expired." in expired.get_data(as_text=True)


def test_login_is_rate_limited_per_address(app, client):
    """After the limit, further attempts get 429 even with the right password."""
    user = make_user()
    app.config["RATELIMIT_LOGIN"] = "3 per minute"
    try:
        for _ in range(3):
            post(client, "/login", {"email": user.email, "password": "wrong"})
        response = post(client, "/login", {"email": user.email, "password": PASSWORD})
    finally:
        app.config["RATELIMIT_LOGIN"] = "1000 per minute"
    assert response.status_code == 429


def test_forged_forwarded_for_does_not_dodge_the_limit(app, client):
    """Without a configured proxy, X-Forwarded-For is ignored by the limiter."""
    make_user()
    app.config["RATELIMIT_LOGIN"] = "3 per minute"
    token = csrf_token(client)
    statuses = []
    try:
        for n in range(5):
            response = client.post(
                "/login",
                data={"csrf_token": token, "email": f"a{n}@example.org", "password": "x"},
                headers={"X-Forwarded-For": f"10.0.0.{n}"},
            )
            statuses.append(response.status_code)
    finally:
        app.config["RATELIMIT_LOGIN"] = "1000 per minute"
    assert statuses[-1] == 429, statuses


def test_preferences_change_language_and_time_zone(client):
    """The account page saves language and time zone and the pages follow them."""
    user = make_user()
    login(client, user)
    post(client, "/account", {"name": "New Name", "locale": "ja", "timezone": "Asia/Tokyo"})
    assert (user.name, user.locale, user.timezone) == ("New Name", "ja", "Asia/Tokyo")
    assert "ログアウト" in client.get("/account").get_data(as_text=True)


def test_sign_out_ends_the_session_on_the_server(app, client):
    """A cookie copied before signing out no longer opens the account."""
    user = make_user()
    login(client, user)
    stolen = client.get_cookie("grants_session").value
    post(client, "/logout")
    thief = app.test_client()
    thief.set_cookie("grants_session", stolen)
    assert thief.get("/account").status_code == 302


def test_per_account_limit_counts_across_addresses(app, client):
    """Guesses from many addresses at one account are limited separately and loosely."""
    user = make_user()
    app.config["RATELIMIT_LOGIN_ACCOUNT"] = "3 per minute"
    token = csrf_token(client)
    statuses = []
    try:
        for n in range(4):
            response = client.post(
                "/login",
                data={"csrf_token": token, "email": user.email, "password": "wrong"},
                environ_base={"REMOTE_ADDR": f"192.0.2.{n + 1}"},
            )
            statuses.append(response.status_code)
    finally:
        app.config["RATELIMIT_LOGIN_ACCOUNT"] = "1000 per minute"
    assert statuses == [200, 200, 200, 429]


def test_failed_sign_in_is_logged(client, caplog):
    """Wrong passwords leave a security log line (without the password)."""
    make_user()
    with caplog.at_level("WARNING", logger="grants.security"):
        post(client, "/login", {"email": "user@example.org", "password": "guess-123"})
    lines = [r.message for r in caplog.records if r.name == "grants.security"]
    assert lines and "user@example.org" in lines[0] and "guess-123" not in lines[0]


def test_a_forged_host_header_does_not_change_the_reset_link(app):
    """E-mail links come from BASE_URL, never from the request's Host."""
    from grants.auth.operations import request_password_reset

    make_user()
    with app.test_request_context(
        "/reset-password", method="POST", headers={"Host": "evil.example"}
    ):
        request_password_reset("user@example.org")
    body = db.session.scalars(select(OutboxMessage)).one().body
    assert "evil.example" not in body
    assert "http://localhost/reset-password/" in body


def test_read_only_requests_do_not_take_the_write_lock(app, tmp_path, real_sessions):
    """On SQLite a GET begins deferred, so it runs while a writer holds the lock."""
    import sqlite3
    import time

    from tests.conftest import make_app

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite locking only")
    other = make_app(f"sqlite:///{tmp_path}/lock.sqlite")
    writer = sqlite3.connect(f"{tmp_path}/lock.sqlite", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        response = other.test_client().get("/health")
        assert response.status_code == 200
        assert time.monotonic() - started < 5
    finally:
        writer.execute("ROLLBACK")
        writer.close()
