"""Bad input is a form error beside its field, never a server error, and nothing typed is lost:
huge or odd numbers, dates out of range, control characters, line breaks in titles."""

from __future__ import annotations

import html
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DataError

from grants.calls.models import Call, Criterion
from grants.extensions import db
from grants.mail.models import OutboxMessage
from grants.reviews import operations as review_ops
from tests.conftest import login, post
from tests.test_applications import setup  # noqa: F401 - the fixture
from tests.test_calls import call_form


def _page(response):
    return html.unescape(response.get_data(as_text=True))


def _calls():
    return db.session.scalar(select(func.count()).select_from(Call))


def assert_refused_beside(response, field, typed=None):
    """A form page (not a server error) with the error beside ``field`` and, when given,
    the typed value shown back in the field."""
    assert response.status_code == 200, response.status_code
    page = _page(response)
    assert f'id="{field}-error"' in page, page[-3000:]
    if typed is not None:
        assert f'value="{typed}"' in page or f">{typed}</textarea>" in page


# --- money and other decimals -------------------------------------------------------------


MONEY_FIELDS = ("budget_envelope", "grant_min", "grant_max")
HUGE = ("1e30", "1e309", "1E+5", "-1e309", "1234567890123456", "0.001", "12.345")


@pytest.mark.parametrize("value", HUGE)
@pytest.mark.parametrize("field", MONEY_FIELDS)
def test_call_money_with_huge_exponents_or_cents_is_refused_beside_the_field(
    client, world, field, value
):
    """A new call: 1e30, 1e309, an exponent, more digits than Numeric(14, 2) holds or
    fractions of a cent are refused beside the field; the call is not created."""
    login(client, world["officer"])
    before = _calls()
    response = post(
        client, f"/manage/funders/{world['funder'].id}/calls/new", call_form(**{field: value})
    )
    assert_refused_beside(response, field, value)
    assert _calls() == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("threshold", "12345.6"),  # Numeric(4, 1)
        ("threshold", "1e30"),
        ("threshold", "2.25"),  # would be rounded to 2.3 by the column
        ("weight", "1e309"),
        ("weight", "1.005"),
    ],
)
def test_criterion_numbers_that_do_not_fit_their_column_are_refused(client, world, field, value):
    """A criterion's threshold and weight fit their columns or are refused, never rounded
    or overflowing (PostgreSQL refuses an out-of-range numeric with a DataError)."""
    login(client, world["officer"])
    call = world["draft"]
    before = db.session.scalar(select(func.count()).select_from(Criterion))
    data = {"name": "Reach", "description": "", "weight": "1", field: value}
    response = post(client, f"/manage/calls/{call.id}/criteria/new", data)
    assert_refused_beside(response, field, value)
    assert db.session.scalar(select(func.count()).select_from(Criterion)) == before


@pytest.mark.parametrize("value", ["1e30", "1e309", "Infinity", "1000000000000"])
@pytest.mark.parametrize("field", ["grant_requested", "contribution_cash"])
def test_partner_money_out_of_range_is_refused(client, setup, field, value):  # noqa: F811
    """A partner's amounts: huge values and exponents are form errors."""
    application = setup["application"]
    lead = application.lead
    login(client, setup["lead"])
    data = {
        "version": lead.version,
        "role": "Lead",
        "currency": "EUR",
        "grant_requested": "100",
        "contribution_cash": "0",
        "contribution_in_kind": "0",
        field: value,
    }
    response = post(client, f"/applications/{application.id}/partners/{lead.id}", data)
    assert_refused_beside(response, field, value)


@pytest.mark.parametrize("value", ["1e30", "1e309", "99999999999999", "10.005"])
def test_budget_line_amount_out_of_range_is_refused(client, setup, value):  # noqa: F811
    """A budget line's amount: the line is marked, the other lines keep their values."""
    application = setup["application"]
    lead = application.lead
    login(client, setup["lead"])
    data = {
        "version": lead.version,
        "lines-0-category": "fees",
        "lines-0-description": "Director",
        "lines-0-amount": "900",
        "lines-1-category": "travel",
        "lines-1-description": "Trains",
        "lines-1-amount": value,
    }
    url = f"/applications/{application.id}/partners/{lead.id}/budget"
    response = post(client, url, data)
    assert_refused_beside(response, "lines-1-amount", value)
    assert 'value="Director"' in _page(response)
    assert lead.budget_lines == []


# --- dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"opens_at": "0001-01-01T00:00"}, "opens_at"),
        ({"opens_at": "1899-12-31T23:59"}, "opens_at"),
        ({"closes_at": "99999-12-31T23:59"}, "closes_at"),
        ({"closes_at": "9999-12-31T23:59"}, "closes_at"),
        # Converted to UTC this is in the year 10000: Python's datetime overflows.
        ({"timezone": "America/New_York", "closes_at": "9999-12-31T23:59"}, "closes_at"),
        ({"timezone": "Pacific/Kiritimati", "opens_at": "0001-01-01T09:00"}, "opens_at"),
        ({"review_deadline": "0001-01-01T00:00"}, "review_deadline"),
    ],
)
def test_call_times_out_of_range_are_refused(client, world, changes, field):
    """Year 1 and year 99999 in a call's times are form errors, also where the conversion
    from the call's time zone to UTC would overflow."""
    login(client, world["officer"])
    call = world["call"]
    opens, closes = call.opens_at, call.closes_at
    response = post(client, f"/manage/calls/{call.id}/settings", call_form(**changes))
    assert_refused_beside(response, field, changes[field])
    db.session.refresh(call)
    assert (call.opens_at, call.closes_at) == (opens, closes)


@pytest.mark.parametrize("step", ["abc", "\x00", "1e309", ""])
def test_an_unknown_score_step_is_refused_beside_it(client, world, step):
    """A score step that is not one of the choices is an error beside it, not a crash of
    the check on the highest score that divides by it."""
    login(client, world["officer"])
    response = post(
        client, f"/manage/calls/{world['call'].id}/settings", call_form(score_step=step)
    )
    assert_refused_beside(response, "score_step")


def test_the_last_allowed_time_in_the_most_western_zone_is_kept_and_shown(client, world):
    """The range's end converts to UTC without overflow in every zone, and back into the
    reader's zone on every page that shows it (here the easternmost)."""
    login(client, world["officer"])
    call = world["draft"]
    form = call_form(timezone="Pacific/Pago_Pago", closes_at="9998-12-31T23:59")
    response = post(client, f"/manage/calls/{call.id}/settings", form)
    assert response.status_code == 302, _page(response)[-2000:]
    db.session.refresh(call)
    assert call.closes_at.year == 9999  # 10:59 UTC on 1 January
    world["officer"].timezone = "Pacific/Kiritimati"
    db.session.commit()
    for path in (f"/manage/calls/{call.id}", f"/manage/calls/{call.id}/settings", "/manage/"):
        assert client.get(path).status_code == 200, path


# --- control characters and line breaks ------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "message"),
    [
        ("Rivers\x00and Roads", "control character U+0000"),
        ("Rivers\x07and Roads", "control character U+0007"),
        ("Rivers\x85and Roads", "control character U+0085"),
        ("Rivers\tand Roads", "control character U+0009"),
        ("Rivers\r\nBcc: victim@example.org", "line breaks are not allowed"),
        ("Rivers\nand Roads", "line breaks are not allowed"),
        ("Rivers\u2028and Roads", "line breaks are not allowed"),
    ],
)
def test_control_characters_and_line_breaks_in_a_call_title_are_refused(
    client, world, title, message
):
    """NUL (which PostgreSQL refuses), other control characters and line breaks (which could
    reach an e-mail subject) in a single-line field are refused beside it; the call is not
    created and the other values stay."""
    login(client, world["officer"])
    before = _calls()
    response = post(
        client, f"/manage/funders/{world['funder'].id}/calls/new", call_form(title=title)
    )
    assert_refused_beside(response, "title", title)
    page = _page(response)
    assert message in page
    assert 'value="RR"' in page  # the reference prefix, typed beside it
    assert _calls() == before


def test_control_characters_in_texts_are_refused_but_line_breaks_kept(client, world):
    """A text area keeps tabs and line breaks; NUL in it is refused beside it."""
    login(client, world["officer"])
    call = world["call"]
    url = f"/manage/calls/{call.id}/texts/fr"
    response = post(client, url, {"title": "Fleuves", "summary": "a\x00b", "description": ""})
    assert_refused_beside(response, "summary")
    assert call.text("title", "fr").text != "Fleuves"
    body = "Ligne un\r\n\tLigne deux"
    response = post(client, url, {"title": "Fleuves", "summary": body, "description": body})
    assert response.status_code == 302
    db.session.refresh(call)
    assert call.text("summary", "fr").text.replace("\r\n", "\n") == "Ligne un\n\tLigne deux"


@pytest.mark.parametrize("field", ["name", "email", "password"])
def test_nul_in_login_and_registration_is_never_a_server_error(client, field):
    """Sign-in and registration with NUL: a form page or a refusal, never a 500."""
    data = {
        "name": "Ann",
        "email": "ann@example.org",
        "password": "correct horse battery",
        "confirm": "correct horse battery",
        "locale": "en",
        "timezone": "Europe/Paris",
    }
    data[field] += "\x00"
    for url in ("/register", "/login"):
        response = post(client, url, data)
        assert response.status_code < 500, (url, response.status_code)


# --- e-mail subjects --------------------------------------------------------------------------


def test_a_stored_title_with_line_breaks_never_reaches_an_e_mail_subject(world):
    """A title saved before the forms refused line breaks (or by another way in) becomes a
    one-line subject that fits its column."""
    call = world["call"]
    call.title = {**call.title, "en": "Call\r\nBcc: all@example.org " + "x" * 400}
    db.session.flush()
    review_ops.invite_reviewer(
        world["officer"], call, email="rev@example.org", locale="en", is_chair=False, max_load=5
    )
    message = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.recipient == "rev@example.org")
    ).one()
    assert "\r" not in message.subject and "\n" not in message.subject
    assert message.subject.startswith("Invitation to review for Call Bcc: all@example.org x")
    assert len(message.subject) <= 300


# --- NUL outside forms, and the last line of defence --------------------------------------------


def test_nul_in_a_path_or_query_is_refused_before_any_query(client, world):
    """NUL in a URL segment or a query parameter is a 400, never a database error."""
    login(client, world["officer"])
    call = world["call"]
    response = post(client, f"/manage/calls/{call.id}/rates/US%00D/remove")
    assert response.status_code == 400
    assert "NUL" in _page(response)
    assert client.get(f"/manage/calls/{call.id}/rates?currency=%00").status_code == 400
    assert client.get(f"/manage/calls/{call.id}/rates?currency=USD&currency=%00").status_code == 400
    assert client.get("/api/calls?x=%00").status_code == 400
    assert client.get("/api/calls?x=%00").get_json()["error"]


def test_nul_in_a_field_name_or_file_name_is_refused(client, world):
    """Names no one types: a NUL in them is a 400 before any query."""
    from io import BytesIO

    login(client, world["applicant"])
    assert post(client, "/account", {"na\x00me": "x"}).status_code == 400
    upload = {"file": (BytesIO(b"%PDF-1.4"), "plan\x00.pdf")}
    call = world["call"]
    assert post(client, f"/calls/{call.id}/apply", upload).status_code == 400


def test_a_value_the_database_refuses_is_a_400_and_rolled_back(app, client, world, monkeypatch):
    """A DataError that no check caught: the transaction is rolled back, the answer is 400."""

    def broken():
        raise DataError("INSERT ...", {}, Exception("value too long for type character"))

    monkeypatch.setitem(app.view_functions, "public.index", broken)
    response = client.get("/")
    assert response.status_code == 400
    assert "cannot be stored" in _page(response)
    assert db.session.scalar(select(func.count()).select_from(Call)) >= 1  # session usable


def test_decimal_field_refuses_by_the_columns_shape(app):
    """The shared field: precision and scale of the column, exponents, NaN."""
    from werkzeug.datastructures import MultiDict

    from grants.forms import FlaskForm, LocaleDecimalField

    class F(FlaskForm):
        class Meta:
            csrf = False

        amount = LocaleDecimalField(places=None)
        share = LocaleDecimalField(places=None, digits=4, decimals=3)

    cases = {
        ("amount", "999999999999.99"): Decimal("999999999999.99"),
        ("amount", "-0"): Decimal("-0"),
        ("share", "0.125"): Decimal("0.125"),
        ("amount", "1000000000000"): None,
        ("amount", "1e3"): None,
        ("amount", "NaN"): None,
        ("amount", "0.001"): None,
        ("share", "10"): None,
        ("share", "0.1255"): None,
    }
    with app.test_request_context():
        for (name, raw), expected in cases.items():
            other = "share" if name == "amount" else "amount"
            form = F(formdata=MultiDict({name: raw, other: "0"}))
            ok = form.validate()
            assert ok is (expected is not None), (name, raw, form.errors)
            assert form[name].data == expected
            assert form[name]._value() == raw  # shown back as typed


def test_every_form_of_the_app_inherits_the_shared_checks(app):
    """A form written on Flask-WTF's or WTForms' own base would skip the checks above."""
    import importlib
    import pkgutil

    import flask_wtf
    import wtforms

    import grants
    from grants import forms as shared

    for module in pkgutil.walk_packages(grants.__path__, "grants."):
        if module.name.endswith(".forms"):
            importlib.import_module(module.name)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = {
        cls
        for cls in subclasses(wtforms.Form)
        if cls.__module__.startswith("grants.") and cls not in (shared.Form, shared.FlaskForm)
    }
    assert len(ours) > 30
    stray = sorted(
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in ours
        if not issubclass(cls, (shared.Form, shared.FlaskForm))
        or (issubclass(cls, flask_wtf.FlaskForm) and not issubclass(cls, shared.FlaskForm))
    )
    assert stray == []
