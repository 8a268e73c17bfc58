"""A live server for concurrency tests: the real app under gunicorn, on its own database.

``live_server()`` migrates a database of its own (a SQLite file, or ``TEST_DATABASE_URL``
with a suffix on PostgreSQL), starts gunicorn on a free port of 127.0.0.1 with several
workers and threads, and gives back the app (for setting up data through the operations and
reading the outcome) and browsers: HTTP clients with their own session cookie and CSRF
token. ``at_once()`` releases one request per browser together, behind a barrier.
"""

from __future__ import annotations

import functools
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from flask import Flask

from grants.config import PROJECT_ROOT
from grants.extensions import db
from tests.conftest import CSRF_RE, PASSWORD, database_url, make_app

START_TIMEOUT = 90
REQUEST_TIMEOUT = 120


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@functools.cache
def _has_no_control_socket() -> bool:
    """Recent gunicorn shares one control socket per user: each server here opts out."""
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    return "--no-control-socket" in result.stdout


class Browser:
    """One visitor: its own cookies (session, CSRF token) on the live server."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()
        # A fresh connection per request: gunicorn closes idle keep-alive connections
        # after two seconds, and a POST on one it just closed fails without an answer.
        self.http.headers["Connection"] = "close"
        self.token = ""

    def get(self, path: str) -> requests.Response:
        """GET a page; the CSRF token of a form on it is kept for the next post."""
        response = self.http.get(self.base + path, timeout=REQUEST_TIMEOUT, allow_redirects=False)
        match = CSRF_RE.search(response.text)
        if match:
            self.token = match.group(1)
        return response

    def post(self, path: str, data: dict[str, Any] | None = None) -> requests.Response:
        """POST a form with the session's CSRF token; redirects are not followed."""
        payload = {"csrf_token": self.token, **(data or {})}
        return self.http.post(
            self.base + path, data=payload, timeout=REQUEST_TIMEOUT, allow_redirects=False
        )

    def login(self, email: str, password: str = PASSWORD) -> Browser:
        """Sign in through the login form."""
        self.get("/login")
        response = self.post("/login", {"email": email, "password": password})
        assert response.status_code == 302, response.text
        return self


@dataclass
class Outcome:
    """What one of the simultaneous requests got back."""

    status: int
    text: str
    location: str


@dataclass
class LiveServer:
    """gunicorn serving the app on ``url``; ``app`` is the same app on the same database."""

    url: str
    app: Flask
    process: subprocess.Popen[bytes]
    log_path: Path

    def browser(self, email: str | None = None, page: str | None = None) -> Browser:
        """A new visitor, signed in as ``email`` if given, holding the CSRF token of ``page``."""
        visitor = Browser(self.url)
        if email is not None:
            visitor.login(email)
        if page is not None:
            response = visitor.get(page)
            assert response.status_code == 200, (page, response.status_code)
        return visitor

    def browsers(self, email: str, page: str, count: int) -> list[Browser]:
        """``count`` separate sign-ins of one user, each with the page's form loaded."""
        return [self.browser(email, page) for _ in range(count)]

    def log(self) -> str:
        """The server's output so far (tracebacks of failed requests are here)."""
        return self.log_path.read_text(errors="replace")

    def at_once(
        self, browsers: list[Browser], send: Callable[[int, Browser], requests.Response]
    ) -> list[Outcome]:
        """Send one request per browser, all released together; none may fail with a 5xx."""
        barrier = threading.Barrier(len(browsers))
        outcomes: list[Outcome | None] = [None] * len(browsers)
        errors: list[BaseException] = []

        def run(n: int, visitor: Browser) -> None:
            try:
                barrier.wait()
                response = send(n, visitor)
                outcomes[n] = Outcome(
                    response.status_code, response.text, response.headers.get("Location", "")
                )
            except BaseException as exc:
                errors.append(exc)

        threads = [
            threading.Thread(target=run, args=(n, b), daemon=True) for n, b in enumerate(browsers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(REQUEST_TIMEOUT + 10)
        assert errors == [], f"{errors}; server log:\n{self.log()[-6000:]}"
        done = [o for o in outcomes if o is not None]
        assert len(done) == len(browsers), "some requests did not come back"
        failed = [o.status for o in done if o.status >= 500]
        assert failed == [], f"{failed} answered; server log:\n{self.log()[-6000:]}"
        return done


@contextmanager
def live_server(
    tmp_root: str, name: str, *, workers: int = 4, threads: int = 5
) -> Iterator[LiveServer]:
    """The app under gunicorn (``workers`` x ``threads``) on a database of its own."""
    url = database_url(tmp_root, name)
    uploads = tempfile.mkdtemp(prefix="grants-live-uploads-")
    app = make_app(url, UPLOAD_FOLDER=uploads)
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": tmp_root,
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(PROJECT_ROOT),
        "GRANTS_ENV": "testing",
        "GRANTS_DATABASE_URL": url,
        "GRANTS_UPLOAD_FOLDER": uploads,
    }
    command = [sys.executable, "-m", "gunicorn", "wsgi:app"]
    command += ["--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    command += ["--threads", str(threads), "--timeout", str(REQUEST_TIMEOUT)]
    command += ["--graceful-timeout", "5"]
    if _has_no_control_socket():
        command.append("--no-control-socket")
    log_path = Path(tmp_root) / f"gunicorn-{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    server = LiveServer(f"http://127.0.0.1:{port}", app, process, log_path)
    try:
        _wait_until_up(server, workers)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        with app.app_context():
            db.engine.dispose()


def _wait_until_up(server: LiveServer, workers: int) -> None:
    """Until every worker answers (each has imported the app): a few seconds."""
    deadline = time.monotonic() + START_TIMEOUT
    answered = 0
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn stopped:\n{server.log()}")
        try:
            if requests.get(server.url + "/login", timeout=30).status_code == 200:
                answered += 1
                if answered >= workers * 2:
                    return
                continue
        except requests.RequestException:
            pass  # not listening yet, or a worker still importing the app
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer in {START_TIMEOUT} s:\n{server.log()}")
