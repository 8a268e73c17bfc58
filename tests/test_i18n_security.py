"""Language selection, locale formatting, security headers and cookie settings."""

from __future__ import annotations

import pytest

from grants.app import create_app
from tests.conftest import csrf_token, login, make_user, post


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("ja,en;q=0.5", "ja"),
        ("fr-CH, fr;q=0.9", "fr"),
        ("pt-BR", "en"),
        (None, "en"),
        ("zh-CN,zh;q=0.9", "zh-Hans"),
        ("zh-Hans-CN", "zh-Hans"),
        ("vi-VN", "vi"),
    ],
)
def test_accept_language_picks_the_interface_language(client, accept, expected):
    """Without a setting or a choice, the browser's languages decide."""
    headers = {"Accept-Language": accept} if accept else {}
    page = client.get("/", headers=headers).get_data(as_text=True)
    assert f'<html lang="{expected}">' in page


def test_lang_switch_is_kept_in_the_session(client):
    """``?lang=`` beats Accept-Language and stays for later pages."""
    client.get("/?lang=fr", headers={"Accept-Language": "ja"})
    page = client.get("/", headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert "Appels ouverts" in page or "appels" in page.lower()


def test_user_setting_beats_session_and_browser(client):
    """A signed-in user's own language wins."""
    user = make_user(locale="ja")
    client.get("/?lang=fr")
    login(client, user)
    page = client.get("/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<html lang="ja">' in page


def test_language_picker_saves_the_choice_on_the_account(client):
    """The picker on every page changes a signed-in user's setting."""
    user = make_user(locale="en")
    login(client, user)
    response = post(client, "/language", {"lang": "fr", "next": "/account"})
    assert response.headers["Location"] == "/account"
    assert user.locale == "fr"
    off_site = post(client, "/language", {"lang": "ja", "next": "https://evil.example/"})
    assert off_site.headers["Location"] == "/"


def test_picker_is_on_every_page_with_native_names(client):
    """Each language is offered in its own name."""
    page = client.get("/login").get_data(as_text=True)
    assert 'id="language-picker"' in page
    for name in ("English", "français", "日本語"):
        assert name in page


def test_country_names_come_from_cldr_in_the_readers_language(client, world):
    """Region names on the call page are translated by CLDR."""
    call_id = world["call"].id
    assert "Asia" in client.get(f"/calls/{call_id}?lang=en").get_data(as_text=True)
    assert "アジア" in client.get(f"/calls/{call_id}?lang=ja").get_data(as_text=True)
    assert "Europe" in client.get(f"/calls/{call_id}?lang=fr").get_data(as_text=True)


def test_security_headers_are_sent(client):
    """CSP without inline scripts, no sniffing, no framing."""
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "<script>" not in response.get_data(as_text=True)


def test_session_cookie_is_httponly_and_samesite(client):
    """The session cookie cannot be read by scripts or sent cross-site."""
    response = client.get("/?lang=fr")
    [cookie] = [
        c for c in response.headers.getlist("Set-Cookie") if c.startswith("grants_session=")
    ]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_cookies_are_secure(monkeypatch, tmp_path):
    """Outside development, cookies are Secure and a secret key is required."""
    monkeypatch.setenv("GRANTS_DATABASE_URL", f"sqlite:///{tmp_path}/p.sqlite")
    monkeypatch.delenv("GRANTS_SECRET_KEY", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="GRANTS_SECRET_KEY"):
        create_app("production")
    monkeypatch.setenv("GRANTS_SECRET_KEY", "x" * 40)
    with pytest.raises(RuntimeError, match="GRANTS_BASE_URL"):
        create_app("production")
    monkeypatch.setenv("GRANTS_BASE_URL", "https://grants.example.org")
    app = create_app("production")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


def test_proxy_headers_are_trusted_only_when_configured(monkeypatch, tmp_path):
    """With TRUSTED_PROXIES=1 the client address comes from X-Forwarded-For."""
    monkeypatch.setenv("GRANTS_DATABASE_URL", f"sqlite:///{tmp_path}/p.sqlite")
    monkeypatch.setenv("GRANTS_SECRET_KEY", "x" * 40)
    monkeypatch.setenv("GRANTS_TRUSTED_PROXIES", "1")
    monkeypatch.setenv("GRANTS_BASE_URL", "https://grants.example.org")
    app = create_app("production")
    seen = {}

    @app.route("/_addr")
    def _addr():
        from flask import request

        seen["addr"] = request.remote_addr
        return "ok"

    app.test_client().get("/_addr", headers={"X-Forwarded-For": "203.0.113.9"})
    assert seen["addr"] == "203.0.113.9"


def test_refused_access_is_logged(client, world, caplog):
    """A 403 leaves a line in the access log with the user and the path."""
    login(client, world["applicant"])
    with caplog.at_level("WARNING", logger="grants.access"):
        assert client.get("/admin/").status_code == 403
    assert any("access refused" in r.message and "/admin/" in r.message for r in caplog.records)


def test_error_pages_are_translated(client):
    """A 404 speaks the reader's language."""
    page = client.get("/nowhere?lang=fr").get_data(as_text=True)
    assert "Erreur 404" in page


def _redis_answers() -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _redis_answers(), reason="no Redis server on 127.0.0.1:6379")
def test_login_limit_is_shared_through_redis(monkeypatch, tmp_path, real_sessions):
    """With GRANTS_REDIS_URL set, two app processes share one login counter."""
    import uuid

    from tests.conftest import make_app

    monkeypatch.setenv("GRANTS_REDIS_URL", "redis://127.0.0.1:6379/15")
    prefix = uuid.uuid4().hex
    apps = [
        make_app(
            f"sqlite:///{tmp_path}/{n}.sqlite",
            RATELIMIT_LOGIN="2 per minute",
            RATELIMIT_KEY_PREFIX=prefix,
        )
        for n in range(2)
    ]
    assert apps[0].config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/15"
    statuses = []
    for n in range(3):
        client = apps[n % 2].test_client()
        token = csrf_token(client)
        response = client.post(
            "/login", data={"csrf_token": token, "email": "a@example.org", "password": "x"}
        )
        statuses.append(response.status_code)
    assert statuses == [200, 200, 429]


def test_long_lists_follow_the_readers_collation(app):
    """Thai sorts by consonant, not by a leading vowel; with ICU, Czech puts ch after h."""
    from flask_babel import force_locale

    from grants import i18n

    thai = ["ไทย", "เกาหลี", "กัมพูชา", "ญี่ปุ่น", "จีน"]
    with app.test_request_context("/"), force_locale("th"):
        assert sorted(thai, key=i18n.sort_key) == ["กัมพูชา", "เกาหลี", "จีน", "ญี่ปุ่น", "ไทย"]
    czech = ["Chile", "Dánsko", "Čad", "Cypr", "Hongkong", "Afghánistán"]
    with app.test_request_context("/"), force_locale("cs"):
        ordered = sorted(czech, key=i18n.sort_key)
        assert ordered[0] == "Afghánistán" and ordered.index("Čad") < ordered.index("Dánsko")
        if i18n._icu_sort_key("cs") is not None:
            assert ordered == ["Afghánistán", "Cypr", "Čad", "Dánsko", "Hongkong", "Chile"]
