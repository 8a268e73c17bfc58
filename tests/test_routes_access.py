"""Every route, for every role: who may reach it. A new route without a row here fails.

Roles: anonymous, applicant (a signed-in user with no role), officer of another funder,
officer of the funder, site administrator.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import login, post

ROLES = ("anonymous", "applicant", "stranger", "officer", "admin")
OK, LOGIN, FORBIDDEN, HIDDEN = "ok", "login", 403, 404

EVERYONE = dict.fromkeys(ROLES, OK)
SIGNED_IN = {**dict.fromkeys(ROLES, OK), "anonymous": LOGIN}
OFFICER_ONLY = {
    "anonymous": LOGIN,
    "applicant": HIDDEN,
    "stranger": HIDDEN,
    "officer": OK,
    "admin": HIDDEN,
}
ADMIN_ONLY = {
    "anonymous": LOGIN,
    "applicant": FORBIDDEN,
    "stranger": FORBIDDEN,
    "officer": FORBIDDEN,
    "admin": OK,
}
ANY_OFFICER = {
    "anonymous": LOGIN,
    "applicant": FORBIDDEN,
    "stranger": OK,
    "officer": OK,
    "admin": FORBIDDEN,
}
DRAFT_PAGE = {
    "anonymous": HIDDEN,
    "applicant": HIDDEN,
    "stranger": HIDDEN,
    "officer": OK,
    "admin": HIDDEN,
}

Url = Callable[[dict[str, Any]], str]

# endpoint -> list of (method, url builder, expectations per role)
RULES: dict[str, list[tuple[str, Url, dict[str, Any]]]] = {
    "static": [("GET", lambda w: "/static/css/site.css", EVERYONE)],
    "public.index": [("GET", lambda w: "/", EVERYONE)],
    "public.health": [("GET", lambda w: "/health", EVERYONE)],
    "public.call_detail": [
        ("GET", lambda w: f"/calls/{w['call'].id}", EVERYONE),
        ("GET", lambda w: f"/calls/{w['draft'].id}", DRAFT_PAGE),
    ],
    "public.set_language": [("POST", lambda w: "/language", EVERYONE)],
    "auth.register": [("GET", lambda w: "/register", EVERYONE)],
    "auth.login": [("GET", lambda w: "/login", EVERYONE)],
    "auth.logout": [("POST", lambda w: "/logout", EVERYONE)],
    "auth.request_reset": [("GET", lambda w: "/reset-password", EVERYONE)],
    "auth.reset_password": [("GET", lambda w: "/reset-password/not-a-token", EVERYONE)],
    "auth.account": [("GET", lambda w: "/account", SIGNED_IN)],
    "auth.change_password": [("GET", lambda w: "/account/password", SIGNED_IN)],
    "calls.dashboard": [("GET", lambda w: "/manage/", ANY_OFFICER)],
    "calls.new_call": [
        ("GET", lambda w: f"/manage/funders/{w['funder'].id}/calls/new", OFFICER_ONLY)
    ],
    "calls.overview": [("GET", lambda w: f"/manage/calls/{w['call'].id}", OFFICER_ONLY)],
    "calls.settings": [("GET", lambda w: f"/manage/calls/{w['call'].id}/settings", OFFICER_ONLY)],
    "calls.texts": [("GET", lambda w: f"/manage/calls/{w['call'].id}/texts/fr", OFFICER_ONLY)],
    "calls.add_translation": [
        ("GET", lambda w: f"/manage/calls/{w['call'].id}/translations?lang=ja", OFFICER_ONLY)
    ],
    "calls.new_criterion": [
        ("GET", lambda w: f"/manage/calls/{w['call'].id}/criteria/new", OFFICER_ONLY)
    ],
    "calls.edit_criterion": [
        (
            "GET",
            lambda w: f"/manage/calls/{w['call'].id}/criteria/{w['criterion'].id}/en",
            OFFICER_ONLY,
        ),
    ],
    "calls.delete_criterion": [
        (
            "POST",
            lambda w: f"/manage/calls/{w['draft'].id}/criteria/{w['draft_criterion'].id}/delete",
            OFFICER_ONLY,
        ),
    ],
    "calls.publish": [("POST", lambda w: f"/manage/calls/{w['draft'].id}/publish", OFFICER_ONLY)],
    "admin.funders": [("GET", lambda w: "/admin/", ADMIN_ONLY)],
    "admin.new_funder": [("GET", lambda w: "/admin/funders/new", ADMIN_ONLY)],
    "admin.funder": [("GET", lambda w: f"/admin/funders/{w['funder'].id}", ADMIN_ONLY)],
    "admin.add_officer": [
        ("POST", lambda w: f"/admin/funders/{w['funder'].id}/officers", ADMIN_ONLY)
    ],
    "admin.remove_officer": [
        (
            "POST",
            lambda w: f"/admin/funders/{w['funder'].id}/officers/{w['officer_link'].id}/remove",
            ADMIN_ONLY,
        ),
    ],
    "admin.outbox": [("GET", lambda w: "/admin/outbox", ADMIN_ONLY)],
    "admin.audit": [("GET", lambda w: "/admin/audit", ADMIN_ONLY)],
}


def test_every_route_has_an_access_rule(app):
    """The table covers exactly the routes the app has."""
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints == set(RULES), (
        f"missing: {sorted(endpoints - set(RULES))}; stale: {sorted(set(RULES) - endpoints)}"
    )


def _outcome(response) -> Any:
    if response.status_code in (301, 302, 303):
        return LOGIN if response.headers["Location"].startswith("/login") else OK
    if response.status_code < 400:
        return OK
    return response.status_code


@pytest.fixture
def world_with_link(world):
    """The shared world plus the officer's membership row."""
    from grants.calls.models import FunderOfficer
    from grants.extensions import db

    world["officer_link"] = (
        db.session.query(FunderOfficer).filter_by(user_id=world["officer"].id).one()
    )
    return world


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_exactly_what_it_may(app, client, world_with_link, role):
    """Allowed routes answer; the others send to login, refuse (403) or hide (404)."""
    world = world_with_link
    if role != "anonymous":
        login(client, world[role] if role != "stranger" else world["stranger"])
    problems = []
    # Signing out last, so the other routes are tried while signed in.
    for endpoint, cases in sorted(RULES.items(), key=lambda item: item[0] == "auth.logout"):
        for method, url, expected in cases:
            path = url(world)
            response = client.get(path) if method == "GET" else post(client, path, {})
            got = _outcome(response)
            if got != expected[role]:
                problems.append(
                    f"{method} {path} ({endpoint}): expected {expected[role]}, got {got}"
                )
    assert problems == []


@pytest.mark.parametrize("role", ["anonymous", "admin"])
def test_every_post_route_refuses_a_missing_csrf_token(client, world_with_link, role):
    """No state-changing request passes without the CSRF token."""
    world = world_with_link
    if role == "admin":
        login(client, world["admin"])
    posts = [
        (endpoint, url(world))
        for endpoint, cases in RULES.items()
        for method, url, _ in cases
        if method == "POST"
    ]
    post_rules = {
        rule.endpoint
        for rule in client.application.url_map.iter_rules()
        if "POST" in (rule.methods or set())
    }
    # every POST-capable route, including GET+POST forms
    form_routes = {
        "auth.register": "/register",
        "auth.login": "/login",
        "auth.request_reset": "/reset-password",
        "auth.account": "/account",
        "auth.change_password": "/account/password",
        "calls.new_call": f"/manage/funders/{world['funder'].id}/calls/new",
        "calls.settings": f"/manage/calls/{world['call'].id}/settings",
        "calls.texts": f"/manage/calls/{world['call'].id}/texts/fr",
        "calls.new_criterion": f"/manage/calls/{world['call'].id}/criteria/new",
        "calls.edit_criterion": (
            f"/manage/calls/{world['call'].id}/criteria/{world['criterion'].id}/en"
        ),
        "admin.new_funder": "/admin/funders/new",
        "admin.funder": f"/admin/funders/{world['funder'].id}",
        "auth.reset_password": "/reset-password/x",
    }
    posts += list(form_routes.items())
    assert {endpoint for endpoint, _ in posts} == post_rules
    for endpoint, path in posts:
        response = client.post(path, data={"name": "x"})
        assert response.status_code == 400, (endpoint, path, response.status_code)


def test_no_get_route_changes_state(client, world_with_link, count_queries):
    """GET requests never write: no INSERT, UPDATE or DELETE is sent."""
    world = world_with_link
    for role in ("officer", "admin"):
        login(client, world[role])
        for cases in RULES.values():
            for method, url, _ in cases:
                if method != "GET":
                    continue
                with count_queries() as counter:
                    client.get(url(world))
                writes = [
                    s
                    for s in counter.statements
                    if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
                ]
                assert writes == [], (url(world), writes)
        post(client, "/logout")
