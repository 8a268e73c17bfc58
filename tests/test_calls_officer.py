"""The programme officer's side of questions, exchange rates, attachments and applications."""

from __future__ import annotations

import html
from datetime import timedelta
from decimal import Decimal

import pytest
from flask import url_for
from sqlalchemy import select

from grants.applications.models import Application, Partner
from grants.audit.models import AuditEntry
from grants.calls import operations as ops
from grants.calls.models import Call, CallQuestion, ExchangeRate
from grants.extensions import db
from grants.organisations.models import Organisation
from grants.types import utcnow
from tests.conftest import login, make_user, post
from tests.test_calls import call_form


@pytest.fixture
def officer_client(client, world):
    """A client signed in as the funder's officer."""
    login(client, world["officer"])
    return client


def last_entry(action):
    """The newest audit entry of ``action``."""
    return db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq.desc())
    ).first()


def add_question(call, officer, text="Why this partnership?", **overrides):
    """A question written through the operation, committed."""
    values = {"guidance": "", "required": True, "max_words": None, **overrides}
    question = ops.add_question(officer, call, language=call.default_language, text=text, **values)
    db.session.commit()
    return question


def add_rate(call, officer, currency="USD", rate="0.92", source="InforEuro, November 2026"):
    """A fixed exchange rate written through the operation, committed."""
    entry = ops.set_exchange_rate(
        officer, call, currency=currency, rate=Decimal(rate), source=source
    )
    db.session.commit()
    return entry


_counter = {"n": 0}


def make_application(call, *, status="submitted", reference=None, title=None, countries=("FR",)):
    """An application with one partner per country (the first is the lead)."""
    _counter["n"] += 1
    n = _counter["n"]
    user = make_user(f"applicant-{n}@example.org", name=f"Applicant {n}")
    application = Application(
        call_id=call.id,
        created_by_id=user.id,
        status=status,
        reference=reference or f"TEST-2026-{n:04d}",
        title=title or f"Project {n}",
        submitted_at=utcnow() - timedelta(days=1) if status != "draft" else None,
    )
    for position, country in enumerate(countries):
        organisation = Organisation(
            name=f"Organisation {n}-{country}",
            country=country,
            kind="nonprofit",
            budget_band="lt50k",
        )
        application.partners.append(
            Partner(
                organisation=organisation,
                contact_id=user.id,
                currency="EUR",
                position=position,
                is_lead=position == 0,
            )
        )
    db.session.add(application)
    db.session.commit()
    return application


# --- questions ------------------------------------------------------------------------


def test_question_added_in_the_default_language_and_audited(officer_client, world):
    """A new question is written in the call's default language; the entry holds no free text."""
    call = world["call"]
    response = post(
        officer_client,
        f"/manage/calls/{call.id}/questions/new",
        {
            "text": "How will the partners work together?",
            "guidance": "Name who does what.",
            "required": "y",
            "max_words": "500",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    question = db.session.scalars(select(CallQuestion).where(CallQuestion.call_id == call.id)).one()
    assert question.text == {"en": "How will the partners work together?"}
    assert question.guidance == {"en": "Name who does what."}
    assert question.required is True
    assert question.max_words == 500
    entry = last_entry("call.question_added")
    assert entry.call_id == call.id
    assert entry.data == {
        "language": "en",
        "fields": ["text", "guidance"],
        "required": True,
        "max_words": 500,
    }
    overview = officer_client.get(f"/manage/calls/{call.id}").get_data(as_text=True)
    assert "How will the partners work together?" in overview
    assert "500 words" in overview


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"text": ""}, "text", "Write the question in the call&#39;s default language."),
        ({"max_words": "5"}, "max_words", "Use a word limit from 10 to 10000"),
        ({"max_words": "20000"}, "max_words", "Use a word limit from 10 to 10000"),
        ({"max_words": "many"}, "max_words", "Not a valid integer value."),
        ({"text": "x" * 1001}, "text", "Field cannot be longer than 1000 characters."),
    ],
)
def test_bad_questions_are_refused_beside_the_field(officer_client, world, data, field, message):
    """Each rule's message is tied to its field; nothing is saved."""
    call = world["call"]
    form = {"text": "A question?", "guidance": "Kept guidance", "max_words": "", **data}
    response = post(officer_client, f"/manage/calls/{call.id}/questions/new", form)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in page
    assert f'id="{field}-error"' in page
    assert "Kept guidance" in page
    assert db.session.scalars(select(CallQuestion)).all() == []


def test_question_translated_per_language_with_visible_fallback(client, world):
    """The French version is stored beside the English; readers without one see the marked
    default, and the overview lists the languages still missing."""
    call, officer = world["call"], world["officer"]
    ops.set_call_texts(officer, call, "fr", title="Appel test", summary="Résumé.", description="")
    ops.set_call_texts(officer, call, "ja", title="テスト", summary="概要。", description="")
    db.session.commit()
    question = add_question(call, officer, text="Why now?", max_words=300)
    login(client, officer)
    response = post(
        client,
        f"/manage/calls/{call.id}/questions/{question.id}/fr",
        {"text": "Pourquoi maintenant ?", "guidance": "", "required": "y", "max_words": "300"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.refresh(question)
    assert question.text == {"en": "Why now?", "fr": "Pourquoi maintenant ?"}
    entry = last_entry("call.question_updated")
    assert entry.data == {"language": "fr", "fields": ["text"]}

    edit = client.get(f"/manage/calls/{call.id}/questions/{question.id}/fr").get_data(as_text=True)
    assert "Pourquoi maintenant ?" in edit
    overview = client.get(f"/manage/calls/{call.id}").get_data(as_text=True)
    missing = f"/manage/calls/{call.id}/questions/{question.id}/ja"
    assert missing in overview  # Japanese is missing: linked from the table
    assert f"/manage/calls/{call.id}/questions/{question.id}/fr" not in overview

    officer.locale = "fr"
    db.session.commit()
    page = client.get(f"/manage/calls/{call.id}").get_data(as_text=True)
    assert '<span lang="fr">Pourquoi maintenant ?</span>' in page
    officer.locale = "ja"
    db.session.commit()
    page = client.get(f"/manage/calls/{call.id}").get_data(as_text=True)
    assert '<span lang="en">Why now?</span> <span class="fallback">' in page


def test_question_settings_change_is_audited_with_old_and_new(officer_client, world):
    """Making a question optional and dropping its limit records both values."""
    call = world["call"]
    question = add_question(call, world["officer"], max_words=300)
    post(
        officer_client,
        f"/manage/calls/{call.id}/questions/{question.id}/en",
        {"text": "Why this partnership?", "guidance": "", "max_words": ""},
    )
    db.session.refresh(question)
    assert question.required is False and question.max_words is None
    entry = last_entry("call.question_updated")
    assert entry.data == {
        "language": "en",
        "fields": ["required", "max_words"],
        "required": {"old": True, "new": False},
        "max_words": {"old": 300, "new": None},
    }


def test_default_language_question_text_cannot_be_emptied(officer_client, world):
    """The default language keeps its question; another language may be emptied."""
    call = world["call"]
    question = add_question(call, world["officer"])
    page = post(
        officer_client,
        f"/manage/calls/{call.id}/questions/{question.id}/en",
        {"text": "", "guidance": "", "required": "y"},
    ).get_data(as_text=True)
    assert 'id="text-error"' in page
    db.session.refresh(question)
    assert question.text == {"en": "Why this partnership?"}


def test_question_removed_only_from_a_draft_call(officer_client, world):
    """Removing a question of the draft works and renumbers; the published call keeps its own."""
    draft, call, officer = world["draft"], world["call"], world["officer"]
    first = add_question(draft, officer, text="First?")
    second = add_question(draft, officer, text="Second?")
    response = post(officer_client, f"/manage/calls/{draft.id}/questions/{first.id}/delete")
    assert response.status_code == 302
    remaining = db.session.scalars(
        select(CallQuestion).where(CallQuestion.call_id == draft.id)
    ).all()
    assert [q.id for q in remaining] == [second.id]
    assert remaining[0].position == 0
    entry = last_entry("call.question_removed")
    assert (entry.subject_id, entry.call_id) == (str(first.id), draft.id)

    published = add_question(call, officer)
    edit = officer_client.get(f"/manage/calls/{call.id}/questions/{published.id}/en")
    assert "Remove this question" not in edit.get_data(as_text=True)
    refused = post(
        officer_client,
        f"/manage/calls/{call.id}/questions/{published.id}/delete",
        follow_redirects=True,
    )
    assert "Questions of a published call cannot be removed." in refused.get_data(as_text=True)
    assert db.session.get(CallQuestion, published.id) is not None


def test_question_of_another_call_is_not_found(officer_client, world):
    """A question id under the wrong call is a 404, not an edit of the other call."""
    question = add_question(world["draft"], world["officer"])
    response = officer_client.get(f"/manage/calls/{world['call'].id}/questions/{question.id}/en")
    assert response.status_code == 404
    response = officer_client.get(f"/manage/calls/{world['draft'].id}/questions/{question.id}/xx")
    assert response.status_code == 404


# --- exchange rates -------------------------------------------------------------------


def test_rates_added_changed_and_removed_with_audit(officer_client, world):
    """Adding, changing and removing a rate: each step is audited with old and new values."""
    call = world["call"]
    url = f"/manage/calls/{call.id}/rates"
    response = post(
        officer_client, url, {"currency": "USD", "rate": "0.9215", "source": "InforEuro, Nov 2026"}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    rate = db.session.scalar(select(ExchangeRate).where(ExchangeRate.call_id == call.id))
    assert (rate.currency, rate.rate, rate.source) == (
        "USD",
        Decimal("0.9215"),
        "InforEuro, Nov 2026",
    )
    assert last_entry("call.rate_set").data == {
        "currency": "USD",
        "old": None,
        "new": "0.9215",
        "source": "InforEuro, Nov 2026",
    }

    post(officer_client, url, {"currency": "USD", "rate": "0.93", "source": "InforEuro, Dec 2026"})
    db.session.refresh(rate)
    assert rate.rate == Decimal("0.93")
    entry = last_entry("call.rate_set")
    assert (entry.data["old"], entry.data["new"]) == ("0.9215", "0.93")
    assert db.session.scalar(select(db.func.count(ExchangeRate.id))) == 1

    post(
        officer_client,
        url,
        {"currency": "JPY", "rate": "0.0061234567", "source": "ECB reference rate"},
    )
    page = officer_client.get(url).get_data(as_text=True)
    assert "1 JPY = 0.0061234567 EUR" in page  # every decimal shown, not rounded to three
    assert "Japanese Yen" in page and "US Dollar" in page
    assert "the rate used is recorded on the application" in page

    response = post(officer_client, f"{url}/USD/remove")
    assert response.status_code == 302
    assert [r.currency for r in db.session.scalars(select(ExchangeRate))] == ["JPY"]
    entry = last_entry("call.rate_removed")
    assert entry.data == {"currency": "USD", "rate": "0.93"}
    assert entry.call_id == call.id
    assert post(officer_client, f"{url}/USD/remove").status_code == 404


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"rate": "0"}, "rate", "The rate must be a number above zero."),
        ({"rate": "-1.5"}, "rate", "The rate must be a number above zero."),
        ({"rate": "0.12345678901"}, "rate", "Use at most 10 decimal places."),
        ({"rate": "NaN"}, "rate", "Not a valid decimal value."),
        ({"rate": "12345678901"}, "rate", "The rate is too large."),
        ({"rate": "abc"}, "rate", "Not a valid decimal value."),
        ({"rate": ""}, "rate", "This field is required."),
        ({"currency": "EUR"}, "currency", "The call's own currency needs no exchange rate."),
        ({"currency": "XXX"}, "currency", "Choose a currency from the list."),
        ({"currency": ""}, "currency", "Choose a currency from the list."),
        ({"source": "  "}, "source", "This field is required."),
    ],
)
def test_bad_rates_are_refused_beside_the_field(officer_client, world, data, field, message):
    """Each rule's message is tied to its field; nothing is saved."""
    call = world["call"]
    form = {"currency": "GBP", "rate": "1.15", "source": "Kept source", **data}
    response = post(officer_client, f"/manage/calls/{call.id}/rates", form)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert message in page
    assert f'id="{field}-error"' in page
    if field != "source":
        assert 'value="Kept source"' in page
    assert db.session.scalars(select(ExchangeRate)).all() == []


def test_rates_form_offers_every_currency_but_the_calls_own(officer_client, world):
    """The call is in EUR: EUR is not offered; a "change" link prefills the form."""
    call = world["call"]
    add_rate(call, world["officer"], "USD", "0.92")
    page = officer_client.get(f"/manage/calls/{call.id}/rates").get_data(as_text=True)
    assert '<option value="USD">' in page and '<option value="EUR">' not in page
    prefilled = officer_client.get(f"/manage/calls/{call.id}/rates?currency=USD")
    text = prefilled.get_data(as_text=True)
    assert '<option selected value="USD">' in text
    assert 'value="0.92"' in text and 'value="InforEuro, November 2026"' in text


def test_unchanged_rate_is_not_audited_again(world):
    """Saving the same rate and source again writes no entry."""
    call, officer = world["call"], world["officer"]
    add_rate(call, officer)
    before = db.session.scalar(select(db.func.count(AuditEntry.seq)))
    add_rate(call, officer, rate="0.920")
    assert db.session.scalar(select(db.func.count(AuditEntry.seq))) == before


def test_call_currency_cannot_change_while_rates_exist(officer_client, world):
    """Rates are amounts of the call's currency: changing it first needs the rates removed."""
    call = world["call"]
    add_rate(call, world["officer"])
    form = call_form(
        reference_prefix=call.reference_prefix,
        currency="GBP",
        opens_at="2026-01-01T00:00",
        closes_at="2031-01-01T00:00",
    )
    page = post(officer_client, f"/manage/calls/{call.id}/settings", form).get_data(as_text=True)
    assert "Remove the call&#39;s exchange rates before changing its currency." in page
    assert 'id="currency-error"' in page
    assert db.session.get(Call, call.id).currency == "EUR"


# --- required attachments -------------------------------------------------------------


def test_required_attachments_saved_and_audited(officer_client, world):
    """The minimum number of PDF attachments is a setting like the others."""
    call = world["call"]
    form = call_form(
        reference_prefix=call.reference_prefix,
        opens_at="2026-01-01T00:00",
        closes_at="2031-01-01T00:00",
        required_attachments="2",
    )
    response = post(officer_client, f"/manage/calls/{call.id}/settings", form)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert db.session.get(Call, call.id).required_attachments == 2
    assert last_entry("call.updated").data["required_attachments"] == {"old": 0, "new": 2}
    page = officer_client.get(f"/manage/calls/{call.id}/settings").get_data(as_text=True)
    assert 'id="required_attachments"' in page and 'value="2"' in page


@pytest.mark.parametrize(("value", "ok"), [("11", False), ("-1", False), ("", True)])
def test_required_attachments_range(officer_client, world, value, ok):
    """From 0 to 10; left empty it means none is required."""
    response = post(
        officer_client,
        f"/manage/funders/{world['funder'].id}/calls/new",
        call_form(required_attachments=value),
    )
    call = db.session.scalar(select(Call).where(Call.reference_prefix == "RR"))
    if ok:
        assert response.status_code == 302
        assert call.required_attachments == 0
    else:
        assert 'id="required_attachments-error"' in response.get_data(as_text=True)
        assert call is None


def test_new_call_without_the_field_requires_no_attachment(officer_client, world):
    """A form sent without the field (an older page) creates the call with 0."""
    response = post(officer_client, f"/manage/funders/{world['funder'].id}/calls/new", call_form())
    assert response.status_code == 302
    call = db.session.scalar(select(Call).where(Call.reference_prefix == "RR"))
    assert call.required_attachments == 0


# --- applications ---------------------------------------------------------------------


def test_applications_list_shows_submitted_and_withdrawn_only(app, officer_client, world):
    """Drafts stay hidden; submitted and withdrawn appear with lead, countries and status."""
    call = world["call"]
    make_application(call, status="draft", title="Secret draft", reference="TEST-2026-0003")
    make_application(call, reference="TEST-2026-0002", title="Rivers", countries=("TH", "FR"))
    make_application(call, status="withdrawn", reference="TEST-2026-0001", title="Roads")
    make_application(world["draft"], reference="OTHER-2026-0001", title="Other call")
    overview = officer_client.get(f"/manage/calls/{call.id}").get_data(as_text=True)
    assert "1 submitted application" in overview
    page = officer_client.get(f"/manage/calls/{call.id}/applications").get_data(as_text=True)
    assert "Secret draft" not in page and "Other call" not in page
    assert page.index("TEST-2026-0001") < page.index("TEST-2026-0002")  # by reference
    rivers = db.session.scalar(select(Application).where(Application.title == "Rivers"))
    lead = rivers.partners[0].organisation
    assert lead.country == "TH" and f"<td>{lead.name}</td>" in page
    assert "France and Thailand" in page  # every partner's country, in the reader's words
    assert "Withdrawn" in page
    assert "Europe/Paris" in page  # the officer's time zone
    if "applications.view" in app.view_functions:
        with app.test_request_context():
            link = url_for("applications.view", application_id=rivers.id)
        assert f'href="{link}"' in page
    else:
        assert "<td>Rivers</td>" in page


def test_applications_list_is_paginated(officer_client, world):
    """Twenty a page, the rest on the next; past the end is a 404."""
    call = world["call"]
    for n in range(21):
        make_application(call, reference=f"BULK-{n:04d}")
    first = officer_client.get(f"/manage/calls/{call.id}/applications").get_data(as_text=True)
    second = officer_client.get(f"/manage/calls/{call.id}/applications?page=2")
    assert first.count("BULK-") == 20
    assert "BULK-0020" in second.get_data(as_text=True)
    assert "BULK-0019" not in second.get_data(as_text=True)
    assert officer_client.get(f"/manage/calls/{call.id}/applications?page=9").status_code == 404


def test_applications_list_uses_a_constant_number_of_queries(officer_client, world, count_queries):
    """No N+1: two and twelve applications, each with partners, cost the same queries."""
    call = world["call"]
    url = f"/manage/calls/{call.id}/applications"

    def measure():
        with count_queries() as counter:
            response = officer_client.get(url)
        assert response.status_code == 200
        return counter.count

    for _ in range(2):
        make_application(call, countries=("FR", "TH", "DE"))
    measure()  # warm-up: what only the first request loads (the signed-in user) is not N+1
    few = measure()
    for _ in range(10):
        make_application(call, countries=("JP", "VN"))
    assert officer_client.get(url).get_data(as_text=True).count("Project ") == 12
    assert measure() == few


# --- access ---------------------------------------------------------------------------


def test_officer_of_another_funder_gets_404_on_every_new_page(client, world):
    """The other funder's officer cannot tell these pages exist."""
    call, draft = world["call"], world["draft"]
    question = add_question(draft, world["officer"])
    add_rate(call, world["officer"])
    login(client, world["stranger"])
    gets = [
        f"/manage/calls/{call.id}/questions/new",
        f"/manage/calls/{draft.id}/questions/{question.id}/en",
        f"/manage/calls/{call.id}/rates",
        f"/manage/calls/{call.id}/applications",
    ]
    posts = [
        (f"/manage/calls/{call.id}/questions/new", {"text": "Hijack?"}),
        (f"/manage/calls/{draft.id}/questions/{question.id}/en", {"text": "Hijack?"}),
        (f"/manage/calls/{draft.id}/questions/{question.id}/delete", {}),
        (f"/manage/calls/{call.id}/rates", {"currency": "GBP", "rate": "1", "source": "x"}),
        (f"/manage/calls/{call.id}/rates/USD/remove", {}),
    ]
    for url in gets:
        assert client.get(url).status_code == 404, url
    for url, data in posts:
        assert post(client, url, data).status_code == 404, url
    assert db.session.get(CallQuestion, question.id).text == {"en": "Why this partnership?"}
    assert [r.currency for r in db.session.scalars(select(ExchangeRate))] == ["USD"]
