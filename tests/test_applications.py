"""The applicant journey: organisations, invitations, parts, budgets, checklist, sign-off,
submission, deadlines, uploads, edit conflicts and access."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from grants.applications import operations as ops
from grants.applications.models import Application, Attachment, Invitation
from grants.audit.models import AuditEntry
from grants.auth.models import User
from grants.calls.models import CallQuestion, ExchangeRate
from grants.domain.workflow import CallPhase, call_phase
from grants.extensions import db
from grants.mail.models import OutboxMessage
from grants.organisations.models import Organisation
from grants.organisations.operations import create_organisation
from tests.conftest import login, make_call, make_user, post


def make_pdf(pages=1, metadata=None, password=None):
    """A real PDF made with pypdf: blank pages, optional document information, optionally
    encrypted."""
    from io import BytesIO

    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if metadata:
        writer.add_metadata(metadata)
    if password is not None:
        writer.encrypt(password, algorithm="RC4-128")
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


PDF = make_pdf()


def make_org(user, name, country):
    """An organisation the user acts for."""
    org = create_organisation(
        user,
        name=name,
        country=country,
        kind="nonprofit",
        website=None,
        registration_id=None,
        org_id_scheme=None,
        budget_band="lt50k",
    )
    db.session.commit()
    return org


@pytest.fixture
def setup(world):
    """An open call (Asia + Europe required, one required question, a JPY rate), a lead in
    Japan and an invited partner in Czechia who has not answered yet."""
    call = make_call(
        world["funder"], world["officer"], title="Cooperation Fund", reference_prefix="AECF"
    )
    question = CallQuestion(
        call=call, position=0, text={"en": "What will you make?"}, guidance={}, required=True
    )
    db.session.add(question)
    db.session.add(
        ExchangeRate(
            call=call, currency="JPY", rate=Decimal("0.0062"), source="InforEuro, November 2026"
        )
    )
    db.session.commit()
    lead = make_user("lead@example.org", name="Aiko Lead", locale="en", timezone="Asia/Tokyo")
    partner = make_user(
        "partner@example.org", name="Jana Partner", locale="en", timezone="Europe/Prague"
    )
    outsider = make_user("outsider@example.org", name="Olga Outsider")
    lead_org = make_org(lead, "Tokyo Theatre Lab", "JP")
    partner_org = make_org(partner, "Prague Dance House", "CZ")
    outsider_org = make_org(outsider, "Other Org", "FR")
    application = ops.start_application(lead, call, lead_org)
    db.session.commit()
    other_app = ops.start_application(outsider, call, outsider_org)
    db.session.commit()
    return {
        **world,
        "call": call,
        "question": question,
        "lead": lead,
        "partner": partner,
        "outsider": outsider,
        "lead_org": lead_org,
        "partner_org": partner_org,
        "application": application,
        "other_app": other_app,
    }


def invite_and_accept(s, client=None):
    """The lead invites the partner; the partner accepts (through the routes if a client)."""
    invitation = ops.invite_partner(
        s["lead"],
        s["application"],
        email=s["partner"].email.capitalize(),  # the address is matched case-insensitively
        locale="fr",
        message="Join us!",
    )
    db.session.commit()
    token = ops.invitation_token(invitation)
    if client is None:
        joined = ops.accept_invitation(s["partner"], invitation, s["partner_org"])
        db.session.commit()
        return joined
    login(client, s["partner"])
    response = post(client, f"/invitations/{token}", {"organisation": str(s["partner_org"].id)})
    assert response.status_code == 302, response.get_data(as_text=True)
    return next(p for p in s["application"].partners if not p.is_lead)


def complete(s):
    """Fill everything so that only signatures are missing."""
    app = s["application"]
    partner = invite_and_accept(s)
    lead = app.lead
    ops.update_general(
        s["lead"],
        app,
        version=app.version,
        title="Rivers",
        summary="A tour.",
        summary_language="en",
        artforms=["theatre"],
        languages=["ja", "cs"],
    )
    ops.save_answer(s["lead"], app, s["question"], version=0, text="A play.", language="en")
    ops.update_partner(
        s["lead"],
        lead,
        version=lead.version,
        role="Lead",
        currency="EUR",
        grant_requested=Decimal(5000),
        contribution_cash=Decimal(2500),
        contribution_in_kind=Decimal(0),
    )
    ops.set_budget_lines(
        s["lead"], lead, version=lead.version, lines=[("fees", "Artists", Decimal(7500))]
    )
    ops.update_partner(
        s["partner"],
        partner,
        version=partner.version,
        role="Co-producer",
        currency="EUR",
        grant_requested=Decimal(3500),
        contribution_cash=Decimal(1000),
        contribution_in_kind=Decimal(500),
    )
    ops.set_budget_lines(
        s["partner"],
        partner,
        version=partner.version,
        lines=[("travel", "Flights", Decimal(3000)), ("accommodation", "Hotel", Decimal(2000))],
    )  # 3,500 of 5,000: a 70% funding rate, the most tier 0 allows
    db.session.commit()
    return partner


def failing(app):
    """The items that still fail, by code."""
    return [c.item.value for c in ops.eligibility(app) if not c.ok]


# --- organisations and starting -----------------------------------------------------------


def test_a_user_creates_an_organisation_and_starts_an_application(client, world):
    """Create an organisation through the form, then start as its lead."""
    call = make_call(world["funder"], world["officer"], title="Open call")
    user = make_user("new@example.org")
    login(client, user)
    response = post(
        client,
        f"/organisations/new?next=/calls/{call.id}/apply",
        {
            "name": "Bangkok Puppets",
            "country": "TH",
            "kind": "collective",
            "website": "",
            "registration_id": "0105556",
            "org_id_scheme": "TH-XX",
            "budget_band": "lt50k",
        },
    )
    assert response.headers["Location"] == f"/calls/{call.id}/apply"
    page = client.get(f"/calls/{call.id}/apply").get_data(as_text=True)
    org_id = re.search(r'<option value="(\d+)">Bangkok Puppets', page).group(1)
    response = post(client, f"/calls/{call.id}/apply", {"organisation": org_id})
    application = db.session.scalars(select(Application)).one()
    assert response.headers["Location"] == f"/applications/{application.id}"
    assert application.lead.organisation.name == "Bangkok Puppets"
    assert application.lead.currency == "EUR"


def test_organisation_form_rejects_bad_input_and_keeps_values(client):
    """A bad org-id code and a missing country are named; the name typed stays."""
    login(client, make_user())
    page = post(
        client,
        "/organisations/new",
        {
            "name": "Teatr Nowy",
            "country": "",
            "kind": "nonprofit",
            "website": "not a url",
            "registration_id": "",
            "org_id_scheme": "pl krs",
            "budget_band": "lt50k",
        },
    ).get_data(as_text=True)
    assert 'value="Teatr Nowy"' in page
    assert "Use a code from org-id.guide" in page
    assert "Enter a full address such as https://example.org." in page
    assert 'id="country-error"' in page


def test_one_user_acts_for_several_organisations(client, setup):
    """A colleague who accepts an invitation to a second organisation sees both."""
    second = make_org(setup["lead"], "Osaka Music Hall", "JP")
    login(client, setup["lead"])
    post(
        client,
        f"/organisations/{second.id}/members",
        {"email": "partner@example.org", "locale": "en"},
    )
    body = db.session.scalars(
        select(OutboxMessage.body).where(OutboxMessage.kind == "colleague_invitation")
    ).one()
    link = re.search(r"http://localhost(/organisations/invitations/\S+)", body).group(1)
    login(client, setup["partner"])
    waiting = client.get("/organisations/?lang=en").get_data(as_text=True)
    assert "Aiko Lead invites you to act for Osaka Music Hall." in waiting
    assert f'href="/organisations/{second.id}"' not in waiting
    post(client, link, {"accept": "1"})
    page = client.get("/organisations/").get_data(as_text=True)
    assert f'href="/organisations/{second.id}"' in page and "Prague Dance House" in page


# --- invitations ------------------------------------------------------------------------------


def test_invitation_mail_in_the_chosen_language_and_accept(client, setup):
    """The invitation goes out in French with a link; accepting adds the partner."""
    partner = invite_and_accept(setup, client)
    mail = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "partner_invitation")
    ).one()
    assert mail.recipient == "partner@example.org" and mail.locale == "fr"
    assert "/invitations/" in mail.body and "Join us!" in mail.body
    assert partner.organisation.name == "Prague Dance House"
    assert partner.contact.email == "partner@example.org"
    invitation = db.session.scalars(select(Invitation)).one()
    assert invitation.status == "accepted"


def test_resend_replaces_the_link_and_revoke_closes_it(client, setup):
    """An old link stops working after a re-send; a revoked one says so."""
    invitation = ops.invite_partner(
        setup["lead"], setup["application"], email="partner@example.org", locale="en", message=""
    )
    db.session.commit()
    old = ops.invitation_token(invitation)
    login(client, setup["lead"])
    post(client, f"/applications/{setup['application'].id}/invitations/{invitation.id}/resend")
    new = ops.invitation_token(invitation)
    login(client, setup["partner"])
    assert "replaced by a newer one" in client.get(f"/invitations/{old}").get_data(as_text=True)
    assert client.get(f"/invitations/{new}").status_code == 200
    login(client, setup["lead"])
    post(client, f"/applications/{setup['application'].id}/invitations/{invitation.id}/revoke")
    login(client, setup["partner"])
    page = client.get(f"/invitations/{new}")
    assert page.status_code == 404
    assert "withdrawn by the lead partner" in page.get_data(as_text=True)


def test_a_different_account_cannot_accept_a_partner_invitation(client, setup):
    """Holding the link is not enough: an account with another address is told the
    invitation went elsewhere (without naming the address) and joins nothing."""
    invitation = ops.invite_partner(
        setup["lead"], setup["application"], email="partner@example.org", locale="en", message=""
    )
    db.session.commit()
    token = ops.invitation_token(invitation)
    outsider_org = db.session.scalars(
        select(Organisation).where(Organisation.name == "Other Org")
    ).one()
    login(client, setup["outsider"])
    page = client.get(f"/invitations/{token}?lang=en")
    text = page.get_data(as_text=True)
    assert page.status_code == 403
    assert "This invitation was sent to another e-mail address." in text
    assert "ask the lead partner to invite the address of this account" in text
    assert "partner@example.org" not in text
    response = post(client, f"/invitations/{token}", {"organisation": str(outsider_org.id)})
    assert response.status_code == 403
    with pytest.raises(ops.OperationError, match="another e-mail address"):
        ops.accept_invitation(setup["outsider"], invitation, outsider_org)
    assert [p.organisation_id for p in setup["application"].partners] == [setup["lead_org"].id]
    assert invitation.status == "pending"
    # The invited address (typed in another case by the lead) can.
    login(client, setup["partner"])
    assert client.get(f"/invitations/{token}").status_code == 200
    joined = ops.accept_invitation(setup["partner"], invitation, setup["partner_org"])
    assert joined.organisation_id == setup["partner_org"].id


def test_registering_through_a_partner_link_with_the_invited_address_signs_in_at_once(
    app, client, setup
):
    """The link proves the invited address: no confirmation e-mail; another address typed
    on the same page goes through the usual confirmation and creates nothing yet."""
    invitation = ops.invite_partner(
        setup["lead"], setup["application"], email="New.Partner@example.org", locale="en",
        message="",
    )  # fmt: skip
    db.session.commit()
    path = f"/invitations/{ops.invitation_token(invitation)}"
    data = {
        "name": "Nora New",
        "password": "a long enough pass",
        "confirm": "a long enough pass",
        "locale": "en",
        "timezone": "Europe/Berlin",
    }
    other = app.test_client()
    response = post(other, f"/register?next={path}", {**data, "email": "someone@example.org"})
    assert response.headers["Location"] == "/register/sent"
    assert db.session.scalar(select(User).where(User.email == "someone@example.org")) is None
    response = post(client, f"/register?next={path}", {**data, "email": "new.partner@example.org"})
    assert response.status_code == 302
    assert response.headers["Location"] == path
    assert db.session.scalar(select(User).where(User.email == "new.partner@example.org"))
    assert client.get(path).status_code == 200  # signed in, on the invitation
    assert db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.recipient == "new.partner@example.org")
    ).all() == [
        db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "partner_invitation")
        ).one()
    ]


def test_expired_invitation_link_is_refused(app, client, setup):
    """A link past its validity asks for a new invitation."""
    invitation = ops.invite_partner(
        setup["lead"], setup["application"], email="partner@example.org", locale="en", message=""
    )
    db.session.commit()
    token = ops.invitation_token(invitation)
    login(client, setup["partner"])
    app.config["INVITATION_MAX_AGE_DAYS"] = -1
    try:
        page = client.get(f"/invitations/{token}").get_data(as_text=True)
    finally:
        app.config["INVITATION_MAX_AGE_DAYS"] = 14
    assert "This invitation has expired." in page


# --- each partner's own part ------------------------------------------------------------------


def test_only_a_partner_edits_its_own_part(client, setup):
    """The lead cannot open the partner's part; the partner can."""
    partner = invite_and_accept(setup)
    app_id = setup["application"].id
    login(client, setup["lead"])
    assert client.get(f"/applications/{app_id}/partners/{partner.id}").status_code == 404
    assert client.get(f"/applications/{app_id}/partners/{partner.id}/budget").status_code == 404
    login(client, setup["partner"])
    assert client.get(f"/applications/{app_id}/partners/{partner.id}").status_code == 200


def test_foreign_currency_is_converted_at_the_calls_rate_and_recorded(client, setup):
    """A JPY budget uses the call's fixed rate; a currency without a rate is refused."""
    app = setup["application"]
    lead = app.lead
    login(client, setup["lead"])
    url = f"/applications/{app.id}/partners/{lead.id}"
    page = post(
        client,
        url,
        {
            "version": lead.version,
            "role": "Lead",
            "currency": "USD",
            "grant_requested": "100",
            "contribution_cash": "0",
            "contribution_in_kind": "0",
        },
    ).get_data(as_text=True)
    assert 'id="currency-error"' in page
    response = post(
        client,
        url,
        {
            "version": lead.version,
            "role": "Lead",
            "currency": "JPY",
            "grant_requested": "1000000",
            "contribution_cash": "200000",
            "contribution_in_kind": "0",
        },
    )
    assert response.status_code == 302
    db.session.refresh(lead)
    assert (lead.currency, lead.rate, lead.rate_source) == (
        "JPY",
        Decimal("0.0062"),
        "InforEuro, November 2026",
    )
    check = next(c for c in ops.eligibility(app) if c.item.value == "grant_range")
    assert check.params["total"] == "6200.00"
    page = post(
        client,
        url,
        {
            "version": lead.version,
            "role": "Lead",
            "currency": "JPY",
            "grant_requested": "1000000.5",
            "contribution_cash": "0",
            "contribution_in_kind": "0",
        },
    ).get_data(as_text=True)
    assert "JPY amounts are whole numbers" in page


def test_budget_lines_keep_every_value_when_one_is_wrong(client, setup):
    """A bad amount on one line marks that line; the other lines keep what was typed."""
    app, lead = setup["application"], setup["application"].lead
    login(client, setup["lead"])
    url = f"/applications/{app.id}/partners/{lead.id}/budget"
    client.get(url)
    data = {
        "version": lead.version,
        "lines-0-category": "fees",
        "lines-0-description": "Director",
        "lines-0-amount": "900",
        "lines-1-category": "travel",
        "lines-1-description": "Trains",
        "lines-1-amount": "lots",
        "lines-2-category": "",
        "lines-2-description": "",
        "lines-2-amount": "",
    }
    page = post(client, url, data).get_data(as_text=True)
    assert 'value="Director"' in page and 'value="900"' in page and 'value="lots"' in page
    assert 'id="lines-1-amount-error"' in page
    assert lead.budget_lines == []
    data["lines-1-amount"] = "100"
    assert post(client, url, data).status_code == 302
    db.session.refresh(lead)
    assert [(x.category, x.amount) for x in lead.budget_lines] == [
        ("fees", Decimal(900)),
        ("travel", Decimal(100)),
    ]


# --- checklist, sign-off, submission ----------------------------------------------------------


def test_checklist_names_what_is_missing(client, setup):
    """A lone Japanese lead lacks a partner, a country, Europe, money and an answer."""
    items = failing(setup["application"])
    for item in (
        "title",
        "summary",
        "min_partners",
        "min_countries",
        "region",
        "grant_range",
        "answer",
        "signed",
    ):
        assert item in items
    login(client, setup["lead"])
    page = client.get(f"/applications/{setup['application'].id}").get_data(as_text=True)
    assert "Add a partner based in Europe." in page
    assert "Answer the question: What will you make?" in page
    setup["lead"].locale = "ja"
    db.session.commit()
    japanese = client.get(f"/applications/{setup['application'].id}")
    assert "ヨーロッパ" in japanese.get_data(as_text=True)  # region names from CLDR


def test_budget_must_match_each_partners_part(setup):
    """Lines adding up to something else are an unmet item for that partner."""
    partner = complete(setup)
    ops.set_budget_lines(
        setup["partner"],
        partner,
        version=partner.version,
        lines=[("travel", "Flights", Decimal(10))],
    )
    db.session.commit()
    assert failing(setup["application"]) == ["budget_balanced", "signed"]


def test_sign_off_then_any_change_clears_every_sign_off(client, setup):
    """After both sign, an edit clears both sign-offs and the page says so."""
    partner = complete(setup)
    app = setup["application"]
    ops.sign_off(setup["lead"], app.lead)
    ops.sign_off(setup["partner"], partner)
    db.session.commit()
    assert failing(app) == []
    login(client, setup["partner"])
    response = post(
        client,
        f"/applications/{app.id}/general",
        {
            "version": app.version,
            "title": "Rivers and Roads",
            "summary": "A tour.",
            "summary_language": "en",
            "artforms": ["theatre"],
            "languages": ["ja", "cs"],
        },
        follow_redirects=True,
    )
    assert "every partner&#39;s sign-off was cleared" in response.get_data(as_text=True)
    assert app.lead.signed_off_at is None and partner.signed_off_at is None
    assert (
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "application.signoffs_cleared")
        ).first()
        is not None
    )


def test_signing_needs_a_complete_application(setup):
    """A partner cannot sign while items other than signatures fail."""
    with pytest.raises(ops.OperationError, match="Complete every item"):
        ops.sign_off(setup["lead"], setup["application"].lead)


def test_submission_assigns_a_reference_and_mails_every_partner_in_its_language(client, setup):
    """One transaction: status, reference AECF-<year>-0001, receipts in ja and fr."""
    partner = complete(setup)
    app = setup["application"]
    login(client, setup["lead"])
    response = post(client, f"/applications/{app.id}/submit")
    assert app.status == "draft"  # not everyone signed
    assert response.status_code == 302
    setup["partner"].locale = "fr"
    ops.sign_off(setup["lead"], app.lead)
    ops.sign_off(setup["partner"], partner)
    db.session.commit()
    post(client, f"/applications/{app.id}/submit")
    db.session.refresh(app)
    year = datetime.now(ZoneInfo("Asia/Tokyo")).year
    assert app.status == "submitted"
    assert app.reference == f"AECF-{year}-0001"
    receipts = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.kind == "submission_receipt")
        .order_by(OutboxMessage.recipient)
    ).all()
    assert [(m.recipient, m.locale) for m in receipts] == [
        ("lead@example.org", "en"),
        ("partner@example.org", "fr"),
    ]
    assert "Receipt" in receipts[0].subject
    assert receipts[1].subject != receipts[0].subject  # the partner's is in French
    assert all(app.reference in m.subject for m in receipts)
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "application.submitted")
    ).one()
    assert entry.data["reference"] == app.reference


def test_references_count_up_per_call(setup):
    """The second submission of a call gets the next number."""
    call = setup["call"]
    first, second = ops._next_reference(call), ops._next_reference(call)
    assert first.endswith("-0001") and second.endswith("-0002")


def test_submitted_application_cannot_change_and_can_be_withdrawn(client, setup):
    """Edits are refused after submission; the lead may withdraw before the deadline."""
    partner = complete(setup)
    app = setup["application"]
    ops.sign_off(setup["lead"], app.lead)
    ops.sign_off(setup["partner"], partner)
    ops.submit_application(setup["lead"], app)
    db.session.commit()
    with pytest.raises(ops.OperationError, match="submitted"):
        ops.update_general(
            setup["lead"],
            app,
            version=app.version,
            title="x",
            summary="y",
            summary_language="en",
            artforms=[],
            languages=[],
        )
    login(client, setup["partner"])
    post(client, f"/applications/{app.id}/withdraw")
    assert app.status == "submitted"  # only the lead may
    login(client, setup["lead"])
    post(client, f"/applications/{app.id}/withdraw")
    db.session.refresh(app)
    assert app.status == "withdrawn"


# --- the deadline -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "local", "utc"),
    [
        ("Pacific/Auckland", "2030-03-31T23:59", datetime(2030, 3, 31, 10, 59, tzinfo=UTC)),
        ("Asia/Tokyo", "2030-03-31T23:59", datetime(2030, 3, 31, 14, 59, tzinfo=UTC)),
        ("Europe/Prague", "2030-03-31T23:59", datetime(2030, 3, 31, 21, 59, tzinfo=UTC)),
        ("America/Los_Angeles", "2030-03-31T23:59", datetime(2030, 4, 1, 6, 59, tzinfo=UTC)),
    ],
)
def test_deadline_is_the_local_time_of_the_calls_zone(client, world, zone, local, utc):
    """23:59 in the call's zone closes at that instant, whatever the reader's zone."""
    from tests.test_calls import call_form

    login(client, world["officer"])
    post(
        client,
        f"/manage/funders/{world['funder'].id}/calls/new",
        call_form(timezone=zone, closes_at=local, reference_prefix="DL"),
    )
    from grants.calls.models import Call

    call = db.session.scalar(select(Call).where(Call.reference_prefix == "DL"))
    assert call.closes_at == utc
    before, at = utc - timedelta(microseconds=1), utc
    assert call_phase("published", call.opens_at, call.closes_at, before) is CallPhase.OPEN
    assert call_phase("published", call.opens_at, call.closes_at, at) is CallPhase.CLOSED


def test_after_the_deadline_the_server_refuses_edits_and_submission(client, setup):
    """Whatever the browser shows, a closed call accepts no change."""
    partner = complete(setup)
    app = setup["application"]
    ops.sign_off(setup["lead"], app.lead)
    ops.sign_off(setup["partner"], partner)
    setup["call"].closes_at = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()
    login(client, setup["lead"])
    response = post(client, f"/applications/{app.id}/submit", follow_redirects=True)
    assert "The call is closed" in response.get_data(as_text=True)
    response = post(
        client,
        f"/applications/{app.id}/general",
        {
            "version": app.version,
            "title": "Late",
            "summary": "x",
            "summary_language": "en",
            "artforms": ["theatre"],
            "languages": ["ja"],
        },
        follow_redirects=True,
    )
    assert "The call is closed" in response.get_data(as_text=True)
    db.session.refresh(app)
    assert (app.status, app.title) == ("draft", "Rivers")


# --- uploads ----------------------------------------------------------------------------------


def upload(client, app_id, data, name="plan.pdf"):
    """POST a file to the application."""
    from io import BytesIO

    return post(
        client,
        f"/applications/{app_id}/attachments",
        {"file": (BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_pdf_upload_is_stored_by_random_key_and_downloaded_safely(app, client, setup):
    """The file lands outside the web root under a random name, with its sha256."""
    import hashlib
    from pathlib import Path

    application = setup["application"]
    login(client, setup["lead"])
    response = upload(client, application.id, PDF, name="../../etc/Plan final.pdf")
    assert response.status_code == 302
    attachment = db.session.scalars(select(Attachment)).one()
    assert attachment.label == "Plan final.pdf"
    assert attachment.sha256 == hashlib.sha256(PDF).hexdigest()
    stored = Path(app.config["UPLOAD_FOLDER"]) / attachment.storage_key[:2] / attachment.storage_key
    assert stored.read_bytes() == PDF
    assert "Plan" not in attachment.storage_key
    download = client.get(f"/applications/{application.id}/attachments/{attachment.id}")
    assert download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    login(client, setup["outsider"])
    assert (
        client.get(f"/applications/{application.id}/attachments/{attachment.id}").status_code == 404
    )


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"MZ\x90\x00 this is an exe", "report.pdf", "This file is not a PDF."),
        (b"<html><script>alert(1)</script></html>", "page.pdf", "This file is not a PDF."),
        (PDF[:-7], "truncated.pdf", "This file is not a PDF."),
    ],
)
def test_renamed_or_broken_files_are_refused(client, setup, data, name, message):
    """The content decides, not the name."""
    login(client, setup["lead"])
    page = upload(client, setup["application"].id, data, name).get_data(as_text=True)
    assert message in page
    assert db.session.scalars(select(Attachment)).all() == []


def test_oversized_upload_is_refused_and_the_rest_stays_saved(app, client, setup):
    """A too-large file is refused; the project section saved before is untouched."""
    application = setup["application"]
    login(client, setup["lead"])
    post(
        client,
        f"/applications/{application.id}/general",
        {
            "version": application.version,
            "title": "Kept title",
            "summary": "Kept",
            "summary_language": "en",
            "artforms": ["theatre"],
            "languages": ["ja"],
        },
    )
    app.config["UPLOAD_MAX_BYTES"] = 100
    try:
        page = upload(client, application.id, PDF + b" " * 200).get_data(as_text=True)
    finally:
        app.config["UPLOAD_MAX_BYTES"] = 10 * 1024 * 1024
    assert "The file is larger than" in page
    db.session.refresh(application)
    assert application.title == "Kept title"


# --- concurrent edits -------------------------------------------------------------------------


def test_two_partners_saving_the_same_section_get_a_conflict_not_a_loss(app, client, setup):
    """The second save shows both versions and overwrites nothing."""
    invite_and_accept(setup)
    application = setup["application"]
    version = application.version
    other = app.test_client()
    login(client, setup["lead"])
    login(other, setup["partner"])
    url = f"/applications/{application.id}/general"
    first = post(
        client,
        url,
        {
            "version": version,
            "title": "Lead's title",
            "summary": "Lead's summary",
            "summary_language": "en",
            "artforms": ["theatre"],
            "languages": ["ja"],
        },
    )
    assert first.status_code == 302
    second = post(
        other,
        url,
        {
            "version": version,
            "title": "Partner's title",
            "summary": "Partner's summary",
            "summary_language": "en",
            "artforms": ["dance"],
            "languages": ["cs"],
        },
    )
    page = second.get_data(as_text=True)
    assert second.status_code == 200
    assert "Someone else saved this section" in page
    assert "Lead&#39;s title" in page and 'value="Partner&#39;s title"' in page
    db.session.refresh(application)
    assert application.title == "Lead's title"
    again = post(
        other,
        url,
        {
            "version": application.version,
            "title": "Partner's title",
            "summary": "Merged",
            "summary_language": "en",
            "artforms": ["dance"],
            "languages": ["cs"],
        },
    )
    assert again.status_code == 302


# --- access and the dashboard -----------------------------------------------------------------


def test_a_partner_of_another_application_gets_404_everywhere(client, setup):
    """Nothing of an application is visible to outsiders, not even its existence."""
    partner = invite_and_accept(setup)
    app_id = setup["application"].id
    login(client, setup["outsider"])
    for path in [
        f"/applications/{app_id}",
        f"/applications/{app_id}/general",
        f"/applications/{app_id}/answers/{setup['question'].id}",
        f"/applications/{app_id}/partners/{partner.id}",
        f"/applications/{app_id}/partners/{partner.id}/budget",
    ]:
        assert client.get(path).status_code == 404, path
    for path in [
        f"/applications/{app_id}/submit",
        f"/applications/{app_id}/withdraw",
        f"/applications/{app_id}/flows",
        f"/applications/{app_id}/invitations",
    ]:
        assert post(client, path).status_code == 404, path


def test_officers_see_submitted_applications_but_not_drafts(client, setup):
    """A draft is the partnership's own; officers of the call read it once submitted."""
    login(client, setup["officer"])
    assert client.get(f"/applications/{setup['application'].id}").status_code == 404


def test_dashboard_shows_status_deadline_and_missing_items(client, setup, count_queries):
    """My applications with what is missing, at a constant number of queries."""
    login(client, setup["lead"])
    page = client.get("/applications/").get_data(as_text=True)
    assert "Cooperation Fund" in page and "items" in page

    with count_queries() as few:
        client.get("/applications/")
    for _ in range(4):
        ops.start_application(setup["lead"], setup["call"], setup["lead_org"])
    db.session.commit()
    with count_queries() as many:
        client.get("/applications/")
    assert many.count == few.count


def test_invitations_wait_on_the_invitees_dashboard(client, setup):
    """A pending invitation shows on the invitee's dashboard."""
    ops.invite_partner(
        setup["lead"], setup["application"], email="partner@example.org", locale="fr", message=""
    )
    db.session.commit()
    login(client, setup["partner"])
    page = client.get("/applications/?lang=en").get_data(as_text=True)
    assert "Aiko Lead invites you to apply together" in page


def test_mobility_flows_are_added_and_validated(client, setup):
    """A journey needs two different countries; a valid one is listed."""
    app_id = setup["application"].id
    login(client, setup["lead"])
    page = post(
        client,
        f"/applications/{app_id}/flows",
        {
            "from_country": "JP",
            "to_country": "JP",
            "people": "3",
            "days": "10",
            "purpose": "Residency",
        },
    ).get_data(as_text=True)
    assert "A journey goes from one country to another." in page
    assert 'value="Residency"' in page
    post(
        client,
        f"/applications/{app_id}/flows",
        {
            "from_country": "JP",
            "to_country": "CZ",
            "people": "3",
            "days": "10",
            "purpose": "Residency",
        },
    )
    flows = setup["application"].flows
    assert [(f.from_country, f.to_country, f.people, f.days) for f in flows] == [
        ("JP", "CZ", 3, 10)
    ]
