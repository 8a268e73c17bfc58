"""The suite ignores the caller's environment: a shell set up for a real deployment (or for
another app) passes the same tests as a clean one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from grants.config import PROJECT_ROOT, load_config
from tests.conftest import child_env, scrub_environment

# What a developer's or a server's shell may well hold.
HOSTILE = {
    "GRANTS_BASE_URL": "https://evil.example",
    "GRANTS_ENV": "production",
    "GRANTS_MAIL_BACKEND": "smtp",
    "GRANTS_MAIL_DELIVER_INLINE": "1",
    "GRANTS_SECRET_KEY": "shell-secret",
    "GRANTS_DATABASE_URL": "sqlite:////nonexistent/grants.sqlite",
    "GRANTS_UPLOAD_FOLDER": "/nonexistent/uploads",
    "GRANTS_SIGNING_KEY": "00" * 32,
    "SECRET_KEY": "x",
    "DATABASE_URL": "sqlite:////nonexistent/x",
    "FLASK_DEBUG": "1",
}


def test_scrub_removes_every_variable_that_changes_the_app():
    """GRANTS_*, FLASK_* and the bare DATABASE_URL and SECRET_KEY go; the suite's own
    switches and unrelated variables stay."""
    environ = {
        **HOSTILE,
        "TEST_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1/test",
        "GRANTS_360GIVING_SCHEMAS": "/data/360giving",
        "PATH": "/usr/bin",
        "HOME": "/root",
    }
    removed = scrub_environment(environ)
    assert sorted(removed) == sorted(HOSTILE)
    assert environ == {
        "TEST_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1/test",
        "GRANTS_360GIVING_SCHEMAS": "/data/360giving",
        "PATH": "/usr/bin",
        "HOME": "/root",
    }


def test_this_run_was_scrubbed_before_any_app_was_built():
    """By the time tests run, nothing of the caller's grants or Flask settings is left."""
    leftovers = [
        name
        for name in os.environ
        if name.startswith(("GRANTS_", "FLASK_")) or name in {"DATABASE_URL", "SECRET_KEY"}
    ]
    assert set(leftovers) <= {"GRANTS_360GIVING_SCHEMAS"}


def test_subprocesses_get_the_scrubbed_environment(monkeypatch):
    """What a test starts (pybabel, python -c) sees no grants settings either."""
    for name, value in HOSTILE.items():
        monkeypatch.setenv(name, value)
    env = child_env(PYTHONIOENCODING="utf-8")
    assert not set(HOSTILE) & set(env)
    assert env["PYTHONIOENCODING"] == "utf-8"


def test_testing_config_ignores_the_shells_bare_database_url_and_secret_key(monkeypatch):
    """The bare names belong to a deployment: the testing defaults stay."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://prod@db.example.org/grants")
    monkeypatch.setenv("SECRET_KEY", "production-secret")
    settings = load_config("testing")
    assert settings["SECRET_KEY"] == "testing-secret"
    assert settings["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    # Production still takes them, as the README documents.
    production = load_config("production")
    assert production["SECRET_KEY"] == "production-secret"
    assert production["SQLALCHEMY_DATABASE_URI"] == (
        "postgresql+psycopg://prod@db.example.org/grants"
    )


@pytest.mark.parametrize(
    ("variable", "setting", "value"),
    [
        ("BASE_URL", "BASE_URL", "https://evil.example"),
        ("REDIS_URL", "RATELIMIT_STORAGE_URI", "redis://other-app:6379/0"),
        ("MAIL_SERVER", "MAIL_SERVER", "smtp.other-app.example"),
        ("TIMEZONE", "BABEL_DEFAULT_TIMEZONE", "Asia/Tokyo"),
    ],
)
def test_only_documented_settings_are_read_without_the_prefix(
    monkeypatch, variable, setting, value
):
    """A common name such as BASE_URL or REDIS_URL, set for something else, is not taken as
    meant for grants; GRANTS_<NAME> is."""
    monkeypatch.setenv(variable, value)
    assert load_config("testing")[setting] != value
    assert load_config("production")[setting] != value
    monkeypatch.setenv(f"GRANTS_{variable}", value)
    assert load_config("production")[setting] == value


def test_a_bare_env_does_not_choose_the_configuration(monkeypatch):
    """ENV (a POSIX shell's start-up file, or another app's setting) is not GRANTS_ENV."""
    monkeypatch.setenv("ENV", "development")
    assert load_config()["ENV_NAME"] == "production"


def test_the_suite_passes_whatever_the_shell_has_set(tmp_path: Path):
    """A few tests that read settings (the password-reset link, the mail worker, production
    checks), run in a fresh pytest with a production-like shell: they pass."""
    env = {**child_env(), **HOSTILE, "PYTHONIOENCODING": "utf-8"}
    env.pop("TEST_DATABASE_URL", None)  # its own SQLite file, never this run's database
    tests = [
        "tests/test_auth.py::test_password_reset_by_emailed_token_is_single_use",
        "tests/test_mail.py::test_password_reset_mail_arrives_over_smtp_in_the_users_language",
        "tests/test_i18n_security.py::test_production_cookies_are_secure",
    ]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--basetemp={tmp_path / 'inner'}",
            *tests,
        ],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "3 passed" in result.stdout
