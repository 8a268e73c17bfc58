"""Configuration: defaults, overridden by ``GRANTS_*`` environment variables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"

# Interface languages, each with a complete catalog (tests/test_catalogs.py checks them); a
# new locale joins this list when its catalog is complete (see docs/translating.md).
LANGUAGES = ["en", "fr", "ja", "cs", "de", "es", "hi", "id", "ko", "th", "vi", "zh_Hans"]


# The only settings also read without the GRANTS_ prefix: the names hosting platforms set.
# Others (ENV, BASE_URL, REDIS_URL, MAIL_SERVER...) are too common in a shell or a container
# to be taken as meant for grants.
BARE_NAMES = frozenset({"DATABASE_URL", "SECRET_KEY"})


def _env(name: str, default: str | None = None, *, bare: bool = True) -> str | None:
    """Read ``GRANTS_<NAME>``; for ``BARE_NAMES``, fall back to the bare ``<NAME>``."""
    value = os.environ.get(f"GRANTS_{name}")
    if value is None and bare and name in BARE_NAMES:
        value = os.environ.get(name)
    return default if value is None else value


def _bool(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def default_database_url() -> str:
    """SQLite in ``instance/grants.sqlite`` unless ``DATABASE_URL`` says otherwise."""
    return f"sqlite:///{INSTANCE_DIR / 'grants.sqlite'}"


class Config:
    """Settings shared by every environment."""

    ENV_NAME = "production"
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI = default_database_url()
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}

    LANGUAGES = LANGUAGES
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    BABEL_TRANSLATION_DIRECTORIES = str(PROJECT_ROOT / "translations")

    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = "grants_session"
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 12
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    WTF_CSRF_TIME_LIMIT = 60 * 60 * 8

    # Number of reverse proxies whose X-Forwarded-* headers are trusted. 0 = trust none,
    # so a forged X-Forwarded-For cannot dodge the login rate limit.
    TRUSTED_PROXIES = 0
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_LOGIN = "10 per minute;50 per hour"
    # Per account, whatever the address: loose, so attackers cannot easily lock a user out.
    RATELIMIT_LOGIN_ACCOUNT = "30 per hour"
    RATELIMIT_HEADERS_ENABLED = True

    MAIL_BACKEND = "smtp"  # "smtp" delivers; "log" writes to the log and keeps the outbox
    MAIL_SERVER = "localhost"
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_DEFAULT_SENDER = "grants <no-reply@localhost>"
    MAIL_DELIVER_INLINE = False
    MAIL_MAX_ATTEMPTS = 8

    PASSWORD_RESET_MAX_AGE = 60 * 60
    # How long the link that confirms a new account's address works.
    REGISTRATION_MAX_AGE_HOURS = 48
    # argon2id cost (RFC 9106's second recommended option); tests lower it for speed.
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536  # KiB
    ARGON2_PARALLELISM = 4
    # The site's public address: every link in an e-mail starts with it.
    BASE_URL: str | None = None
    PAGE_SIZE = 20
    UPLOAD_FOLDER = str(INSTANCE_DIR / "uploads")
    UPLOAD_MAX_BYTES = 10 * 1024 * 1024
    # A generous cap on the pages of an uploaded PDF (reading the page tree is bounded too).
    UPLOAD_MAX_PAGES = 2000
    # CPU seconds a PDF may take to check on upload or to copy for blind review; the work
    # runs in a separate, memory-limited process, so a hostile file cannot hold a worker.
    UPLOAD_PARSE_SECONDS = 10
    # Requests larger than this are refused before they are read (413).
    MAX_CONTENT_LENGTH = 12 * 1024 * 1024
    INVITATION_MAX_AGE_DAYS = 14
    SITE_NAME = "grants"
    # Ed25519 key that signs the tree heads of the public logs: 64 hex digits (32 bytes).
    # Unset, a key is generated once into instance/signing_key.hex; several hosts must
    # share one key, so set GRANTS_SIGNING_KEY (or share the instance folder) in production.
    SIGNING_KEY: str | None = None
    SIGNING_KEY_FILE = str(INSTANCE_DIR / "signing_key.hex")
    # Open data: the publisher's 360Giving prefix (ids are 360G-<prefix>-<reference>) and the
    # licence of the published data.
    OPENDATA_PREFIX = "grants"
    OPENDATA_LICENSE = "https://creativecommons.org/licenses/by/4.0/"


class DevelopmentConfig(Config):
    """Local development: SQLite, mail written to the log, plain-http cookies."""

    ENV_NAME = "development"
    SECRET_KEY = "dev-only-not-secret"  # noqa: S105 - replaced by GRANTS_SECRET_KEY outside dev
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    MAIL_BACKEND = "log"
    MAIL_DELIVER_INLINE = True
    BASE_URL = "http://127.0.0.1:5000"


class TestingConfig(Config):
    """The test suite: CSRF stays on, mail goes to the outbox only."""

    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret"  # noqa: S105
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    MAIL_BACKEND = "log"
    MAIL_DELIVER_INLINE = False
    RATELIMIT_LOGIN = "1000 per minute"
    RATELIMIT_LOGIN_ACCOUNT = "1000 per minute"
    BASE_URL = "http://localhost"
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 1024
    ARGON2_PARALLELISM = 1
    # A fixed key keeps the tests from writing into instance/.
    SIGNING_KEY = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"


CONFIGS: dict[str, type[Config]] = {
    "production": Config,
    "development": DevelopmentConfig,
    "testing": TestingConfig,
}


def load_config(name: str | None = None) -> dict[str, Any]:
    """Build the settings for ``name`` (or ``GRANTS_ENV``), then apply the environment."""
    env_name = name or _env("ENV", "production") or "production"
    base = CONFIGS.get(env_name)
    if base is None:
        raise RuntimeError(f"Unknown GRANTS_ENV {env_name!r}; use one of {sorted(CONFIGS)}")
    settings = {key: getattr(base, key) for key in dir(base) if key.isupper()}
    # The test suite never takes the bare DATABASE_URL or SECRET_KEY of the shell it runs
    # in: those belong to a real deployment, and the tests rely on their own defaults.
    bare = env_name != "testing"
    overrides: dict[str, Any] = {
        "SECRET_KEY": _env("SECRET_KEY", bare=bare),
        "SQLALCHEMY_DATABASE_URI": _env("DATABASE_URL", bare=bare),
        "BABEL_DEFAULT_TIMEZONE": _env("TIMEZONE"),
        "MAIL_BACKEND": _env("MAIL_BACKEND"),
        "MAIL_SERVER": _env("MAIL_SERVER"),
        "MAIL_USERNAME": _env("MAIL_USERNAME"),
        "MAIL_PASSWORD": _env("MAIL_PASSWORD"),
        "MAIL_DEFAULT_SENDER": _env("MAIL_DEFAULT_SENDER"),
        "RATELIMIT_STORAGE_URI": _env("REDIS_URL"),
        "UPLOAD_FOLDER": _env("UPLOAD_FOLDER"),
        "BASE_URL": _env("BASE_URL"),
        "SIGNING_KEY": _env("SIGNING_KEY"),
        "SIGNING_KEY_FILE": _env("SIGNING_KEY_FILE"),
        "OPENDATA_PREFIX": _env("OPENDATA_PREFIX"),
    }
    for key, value in overrides.items():
        if value:
            settings[key] = value
    for key in (
        "MAIL_PORT",
        "TRUSTED_PROXIES",
        "UPLOAD_MAX_BYTES",
        "UPLOAD_MAX_PAGES",
        "UPLOAD_PARSE_SECONDS",
        "MAIL_MAX_ATTEMPTS",
    ):
        raw = _env(key)
        if raw:
            settings[key] = int(raw)
    for key in ("MAIL_USE_TLS", "MAIL_USE_SSL", "MAIL_DELIVER_INLINE", "SESSION_COOKIE_SECURE"):
        settings[key] = _bool(_env(key), settings[key])
    url = settings["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgres://")
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    settings["SQLALCHEMY_DATABASE_URI"] = url
    return settings
