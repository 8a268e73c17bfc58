"""Every form of the app, fuzzed: generated values (huge and odd numbers, dates out of range,
NUL and other control characters, line breaks, very long text, every script, RTL overrides,
empty) posted into the fields its page shows. Never a server error, and a form page that
comes back with errors shows every typed value as it was typed.

Each POST route runs in its own test (the name says which); every example runs in a
savepoint that is rolled back, so each starts from the same world. ``FORM_FUZZ_EXAMPLES``
sets the number of examples per route (default 10).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, NamedTuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grants.auth.operations import make_reset_token
from grants.extensions import db, limiter
from tests.conftest import csrf_token, login
from tests.formfuzz import PageForm, form_posting_to
from tests.test_calls import call_form
from tests.test_routes_access import RULES, world_with_link  # noqa: F401 - the fixture

EXAMPLES = int(os.environ.get("FORM_FUZZ_EXAMPLES", "10"))
SAME = "same page"  # the route shows its form on GET at its own address


class Route(NamedTuple):
    """How to reach a POST route's form: who signs in, which page holds the form, the
    fields to post when no page shows the form in the test world (a button whose
    precondition does not hold: the route must still refuse calmly), and a URL of its own
    when the access table's does not lead to a form; and valid values for an empty form
    (so that an odd value in one field meets the checks behind the form's)."""

    role: str
    page: str | Callable[[dict[str, Any]], str] | None
    fields: tuple[str, ...] = ()
    url: Callable[[dict[str, Any]], str] | None = None
    baseline: Callable[[dict[str, Any]], dict[str, Any]] | None = None


def _view(w: dict[str, Any]) -> str:
    return f"/applications/{w['app'].id}"


def _funder(w: dict[str, Any]) -> str:
    return f"/admin/funders/{w['funder'].id}"


def _panel(w: dict[str, Any]) -> str:
    return f"/manage/calls/{w['call'].id}/panel"


def _decisions(w: dict[str, Any]) -> str:
    return f"/manage/calls/{w['call'].id}/decisions"


def _rates(w: dict[str, Any]) -> str:
    return f"/manage/calls/{w['call'].id}/rates"


def _equity(w: dict[str, Any]) -> str:
    return f"/manage/calls/{w['call'].id}/equity"


NEW_ORGANISATION = {
    "name": "Kyiv Stage",
    "country": "UA",
    "kind": "nonprofit",
    "budget_band": "lt50k",
}
NEW_FUNDER = {"name": "River Fund", "country": "FR"}

# Every POST route of the app. A new one fails test_every_post_route_is_fuzzed until it is
# added here.
ROUTES: dict[str, Route] = {
    "admin.add_officer": Route("admin", _funder),
    "admin.funder": Route("admin", SAME),
    "admin.new_funder": Route("admin", SAME, baseline=lambda w: NEW_FUNDER),
    "admin.remove_officer": Route("admin", _funder),
    "admin.retry_mail": Route("admin", lambda w: "/admin/outbox"),
    "applications.add_flow": Route("applicant", _view),
    "applications.answer": Route("applicant", SAME),
    "applications.appeal": Route("applicant", None, ("grounds",)),
    "applications.budget": Route("applicant", SAME),
    "applications.delete_attachment": Route("applicant", _view),
    "applications.delete_flow": Route("applicant", _view),
    "applications.general": Route("applicant", SAME),
    # The world's only applicant leads the partnership it was invited to: no form to show.
    "applications.invitation": Route("applicant", None, ("organisation",)),
    "applications.invite": Route("applicant", _view),
    "applications.partner": Route("applicant", SAME),
    "applications.remove_partner": Route("applicant", None),
    "applications.resend_invitation": Route("applicant", _view),
    "applications.revoke_invitation": Route("applicant", _view),
    "applications.sign": Route("applicant", None),
    "applications.start": Route("applicant", SAME),
    "applications.submit": Route("applicant", None),
    "applications.upload": Route("applicant", _view),
    "applications.withdraw": Route("applicant", None),
    "auth.account": Route("applicant", SAME),
    "auth.change_password": Route("applicant", SAME),
    "auth.login": Route("anonymous", SAME),
    "auth.logout": Route("applicant", lambda w: "/"),
    "auth.register": Route("anonymous", SAME),
    "auth.confirm_registration": Route("anonymous", SAME),
    "auth.request_reset": Route("anonymous", SAME),
    "auth.reset_password": Route(
        "anonymous", SAME, url=lambda w: f"/reset-password/{make_reset_token(w['applicant'])}"
    ),
    "calls.delete_criterion": Route("officer", None),
    "calls.delete_question": Route("officer", None),
    "calls.edit_criterion": Route("officer", SAME),
    "calls.edit_question": Route("officer", SAME),
    "calls.equity": Route("officer", SAME),
    "calls.new_call": Route("officer", SAME, baseline=lambda w: call_form()),
    "calls.new_criterion": Route("officer", SAME, baseline=lambda w: {"name": "Reach"}),
    "calls.new_question": Route("officer", SAME, baseline=lambda w: {"text": "Why?"}),
    "calls.publish": Route("officer", None),
    "calls.rates": Route("officer", SAME),
    "calls.remove_rate": Route("officer", _rates),
    "calls.remove_tier": Route("officer", _equity),
    "calls.set_tier": Route("officer", _equity),
    "calls.settings": Route("officer", SAME),
    "calls.texts": Route("officer", SAME),
    "decisions.amount": Route("officer", SAME),
    "decisions.appeal": Route("officer", SAME),
    "decisions.approve": Route("officer", _decisions),
    "decisions.commit_seed": Route("officer", None),
    "decisions.draw": Route("officer", None, ("seed",)),
    "decisions.propose": Route("officer", SAME),
    "decisions.publish": Route("officer", None),
    "decisions.release": Route("officer", None),
    "decisions.runs": Route("officer", SAME),
    "decisions.send_back": Route("officer", _decisions),
    "organisations.add_member": Route("applicant", lambda w: f"/organisations/{w['org'].id}"),
    # Sent to an address no role has: the page refuses, so the fields are posted blind.
    "organisations.invitation": Route("applicant", None, ("accept", "decline")),
    "organisations.resend_invitation": Route(
        "applicant", lambda w: f"/organisations/{w['org'].id}"
    ),
    "organisations.revoke_invitation": Route(
        "applicant", lambda w: f"/organisations/{w['org'].id}"
    ),
    "organisations.edit": Route("applicant", SAME),
    "organisations.new": Route("applicant", SAME, baseline=lambda w: NEW_ORGANISATION),
    "public.set_language": Route("applicant", lambda w: "/"),
    "reviews.add_conflict": Route("officer", _panel),
    "reviews.add_pair": Route("officer", _panel),
    "reviews.confirm_assignment": Route("officer", None, ("seed",)),
    "reviews.conflicts": Route("stranger", SAME),
    "reviews.consensus": Route("officer", SAME),
    "reviews.detect_conflicts": Route("officer", _panel),
    "reviews.invite": Route("officer", _panel),
    "reviews.join": Route("applicant", SAME),
    "reviews.make_chair": Route("officer", _panel),
    # Only the panel's chair may release comments; there is none: a refusal, never a 500.
    "reviews.profile": Route("stranger", SAME),
    "reviews.release_comments": Route("officer", None, ("release",)),
    "reviews.reminders": Route("officer", lambda w: f"/manage/calls/{w['call'].id}/panel/progress"),
    "reviews.remove_pair": Route("officer", _panel),
    "reviews.review": Route("stranger", SAME),
}

ODD = [
    "",
    " ",
    "0",
    "-0",
    "-1",
    "1",
    "1e30",
    "1e309",
    "-1e309",
    "1E+5",
    "NaN",
    "-Infinity",
    "1.005",
    "2,5",
    "20 000,50",
    "99999999999999999999",
    "2147483648",
    "0001-01-01T00:00",
    "99999-12-31",
    "99999-12-31T23:59",
    "9999-12-31T23:59",
    "1899-12-31",
    "\x00",
    "a\x00b",
    "\x1b[31mred",
    "\x85next line",
    "\x7f",
    "\r\nBcc: victim@example.org",
    "line\nbreak",
    "tab\there",
    "\u202eevil\u202c.pdf",
    "\u2028",
    "\ufeffbom",
    "x" * 60_000,
    "長" * 3_000,
    "😀" * 300,
    "مرحبا بالعالم",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%00",
    "../../etc/passwd",
    "a@b",
    "someone@example.org",
    "https://example.org/\x00",
]
VALUES = st.one_of(
    st.sampled_from(ODD),
    st.sampled_from(ODD),
    st.sampled_from(ODD),
    st.text(st.characters(codec="utf-8"), max_size=30),
    st.text(st.characters(codec="utf-8", categories=["Cc", "Cf", "Zl", "Zp", "Mn"]), max_size=5),
    st.decimals(allow_nan=True).map(str),
    st.integers().map(str),
)
TYPED = {"text", "email", "url", "number", "search", "tel", "date", "datetime-local", "textarea"}
SHOWN_BACK_STATUSES = {200, 400, 409, 422}


def _resolve(world: dict[str, Any], endpoint: str) -> tuple[str, str | None]:
    """(the address the form posts to, the page that holds it or None)."""
    route = ROUTES[endpoint]
    if route.url is not None:
        url = route.url(world)
    else:
        cases = RULES[endpoint]
        # A form shown on its own address: the page's (GET) row; else the POST row, if any.
        wanted = "GET" if route.page == SAME else "POST"
        url = next((b for m, b, _ in cases if m == wanted), cases[0][1])(world)
    if route.page is None:
        return url, None
    return url, url if route.page == SAME else route.page(world)  # type: ignore[operator]


def baseline(form: PageForm, extra: dict[str, Any]) -> tuple[dict[str, Any], list[str], list[str]]:
    """What the page would send as shown (its values, selected options, ticked boxes, the
    CSRF token, the first button), with ``extra`` over it; and the names of the typed
    fields and of the others (choices, boxes, hidden fields)."""
    data: dict[str, Any] = {}
    typed: list[str] = []
    other: list[str] = []
    for control in form.inputs:
        name = control.name
        if name in data or control.kind == "file":
            continue
        if control.kind == "submit":
            if not any(i.kind == "submit" and i.name in data for i in form.inputs):
                data[name] = control.value
            continue
        if control.kind in ("checkbox", "radio"):
            data[name] = [i.value for i in form.named(name) if i.checked]
        elif control.kind == "select-multiple":
            data[name] = list(control.selected)
        else:
            data[name] = control.value
        if not name.endswith("csrf_token"):
            (typed if control.kind in TYPED or control.kind == "password" else other).append(name)
    data.update({k: v for k, v in extra.items() if k in data})
    return data, typed, other


@st.composite
def payloads(
    draw: Any, form: PageForm | None, fields: tuple[str, ...], extra: dict[str, Any]
) -> dict[str, Any]:
    """Form data for one example: the page's own data (so that the checks behind the first
    ones run too) with generated values in some fields, or one odd value in every typed
    field. Choices, boxes and hidden fields get generated values sometimes."""
    if form is None:
        return {name: draw(VALUES) for name in fields}
    data, typed, other = baseline(form, extra)
    names = typed + other
    if not names:
        return data
    if typed and draw(st.booleans()):
        odd = draw(st.sampled_from(ODD))
        return {**data, **dict.fromkeys(typed, odd)}
    for name in draw(st.lists(st.sampled_from(names), min_size=1, max_size=6, unique=True)):
        data[name] = draw(VALUES if name in typed else st.one_of(VALUES, st.lists(VALUES)))
    return data


# Tried in each typed field in turn, the others as the page shows them.
CRITICAL = ("a\x00b", "x\r\ny", "1e309", "-1e30", "0001-01-01T00:00", "99999999999")


def sweep(form: PageForm | None, extra: dict[str, Any]) -> list[dict[str, Any]]:
    """One critical value in one typed field at a time."""
    if form is None:
        return []
    data, typed, _ = baseline(form, extra)
    return [{**data, name: value} for name in typed for value in CRITICAL]


def shown_back_problems(sent: dict[str, Any], form: PageForm) -> list[str]:
    """Typed values that the re-rendered form does not show as they were typed."""
    problems = []
    for name, value in sent.items():
        controls = form.named(name)
        if len(controls) != 1 or controls[0].kind not in TYPED or not isinstance(value, str):
            continue  # passwords, files, choices, repeated names
        shown = controls[0].value
        # Browsers send line breaks as CRLF; a text area may show LF. Nothing else may differ.
        if shown.replace("\r\n", "\n").strip() != value.replace("\r\n", "\n").strip():
            problems.append(f"{name}: sent {value[:80]!r}, shown {shown[:80]!r}")
    return problems


def test_every_post_route_is_fuzzed(app):
    """The table covers exactly the app's POST routes."""
    posts = {r.endpoint for r in app.url_map.iter_rules() if "POST" in (r.methods or set())}
    assert posts == set(ROUTES), (
        f"not fuzzed: {sorted(posts - set(ROUTES))}; stale: {sorted(set(ROUTES) - posts)}"
    )


@pytest.mark.parametrize("endpoint", sorted(ROUTES))
def test_form_never_fails_and_keeps_what_was_typed(app, client, world_with_link, endpoint):  # noqa: F811
    """Generated values into every field of the route's form: no 5xx; a form page with
    errors shows back each typed value."""
    world = world_with_link
    route = ROUTES[endpoint]
    limiter.reset()
    url, page = _resolve(world, endpoint)
    # Only the e-mail: world's objects are detached once an example's session is removed.
    user = SimpleNamespace(email=world[route.role].email) if route.role != "anonymous" else None
    if user is not None:
        login(client, user)
    form = None
    if page is not None:
        response = client.get(page)
        assert response.status_code == 200, f"{endpoint}: GET {page} -> {response.status_code}"
        form = form_posting_to(response.get_data(as_text=True), page, url)
        assert form is not None, f"{endpoint}: no form posting to {url} on {page}"
    token = None
    if form is None:  # no page shows the form now: the session's token from another page
        token = csrf_token(client, "/login" if route.role == "anonymous" else "/account")
    connection = db.session.get_bind()
    jar = client._cookies  # restored after each example: a post may sign out or rotate

    extra = route.baseline(world) if route.baseline else {}
    critical = sweep(form, extra)

    @given(data=payloads(form, route.fields, extra))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(data: dict[str, Any]) -> None:
        post_and_check(data)

    def post_and_check(data: dict[str, Any]) -> None:
        if token is not None:
            data = {"csrf_token": token, **data}
        cookies = dict(jar)
        db.session.remove()
        savepoint = connection.begin_nested()
        try:
            if endpoint == "auth.logout":
                login(client, user)
            try:
                response = client.post(url, data=data)
            except Exception as exc:  # the test client re-raises what would be a 500
                raise AssertionError(f"{endpoint}: POST {url} raised {exc!r}") from exc
            status = response.status_code
            body = response.get_data(as_text=True)
        finally:
            db.session.remove()
            savepoint.rollback()
            jar.clear()
            jar.update(cookies)
        assert status < 500, f"{endpoint}: POST {url} answered {status} to {data!r:.600}"
        if status in SHOWN_BACK_STATUSES and form is not None and "html" in response.mimetype:
            again = form_posting_to(body, url, url)
            if again is not None:
                problems = shown_back_problems(data, again)
                assert problems == [], f"{endpoint}: typed values lost: {problems}"

    for data in critical:
        post_and_check(data)
    check()
