"""Funders, officers and calls: creation, validation, translations, publication, public pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from grants.audit.models import AuditEntry
from grants.calls.models import Call, Funder, FunderOfficer
from grants.extensions import db
from tests.conftest import call_settings, login, make_call, make_funder, make_user, post


def call_form(**overrides):
    """Form data for a valid new call, as the browser sends it."""
    data = {
        "title": "Rivers and Roads",
        "summary": "Touring projects along shared rivers.",
        "reference_prefix": "RR",
        "default_language": "en",
        "timezone": "Asia/Tokyo",
        "opens_at": "2030-03-01T09:00",
        "closes_at": "2030-04-30T17:00",
        "currency": "EUR",
        "budget_envelope": "500000",
        "grant_min": "5000",
        "grant_max": "50000",
        "min_partners": "2",
        "min_countries": "2",
        "required_regions": ["142", "150"],
        "artforms": ["theatre", "music"],
        "languages": ["en", "ja", "th"],
        "score_min": "0",
        "score_max": "5",
        "score_step": "0.5",
        "reviews_per_application": "3",
    }
    data.update(overrides)
    return data


@pytest.fixture
def officer_client(client, world):
    """A client signed in as the funder's officer."""
    login(client, world["officer"])
    return client


def test_admin_creates_a_funder_and_names_an_officer(client):
    """The administrator creates a funder, then adds an existing account as officer."""
    admin = make_user("boss@example.org", admin=True)
    future = make_user("future@example.org")
    login(client, admin)
    response = post(
        client,
        "/admin/funders/new",
        {"name": "Mekong Arts", "country": "TH", "website": "https://mekong.example"},
    )
    funder = db.session.scalar(select(Funder).where(Funder.name == "Mekong Arts"))
    assert response.headers["Location"] == f"/admin/funders/{funder.id}"
    unknown = post(client, f"/admin/funders/{funder.id}/officers", {"email": "nobody@x.org"})
    assert "Ask this person to create an account first." in unknown.get_data(as_text=True)
    post(client, f"/admin/funders/{funder.id}/officers", {"email": "FUTURE@example.org"})
    link = db.session.scalar(select(FunderOfficer).where(FunderOfficer.user_id == future.id))
    assert link.funder_id == funder.id
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)).all()
    assert actions[-2:] == ["funder.created", "funder.officer_added"]


def test_create_admin_command(app):
    """``flask grants create-admin`` makes a site administrator."""
    result = app.test_cli_runner().invoke(
        args=[
            "grants",
            "create-admin",
            "--email",
            "ops@example.org",
            "--name",
            "Ops",
            "--password",
            "a very long password",
        ]
    )
    assert result.exit_code == 0, result.output
    from grants.auth.models import User

    user = db.session.scalar(select(User).where(User.email == "ops@example.org"))
    assert user.is_admin is True


def test_officer_creates_a_call_in_its_time_zone(officer_client, world):
    """Times typed in the call's time zone are stored in UTC."""
    response = post(officer_client, f"/manage/funders/{world['funder'].id}/calls/new", call_form())
    assert response.status_code == 302, response.get_data(as_text=True)
    call = db.session.scalar(select(Call).where(Call.reference_prefix == "RR"))
    assert call.status == "draft"
    assert call.closes_at == datetime(2030, 4, 30, 8, 0, tzinfo=UTC)  # 17:00 in Tokyo
    assert call.title == {"en": "Rivers and Roads"}
    assert call.artforms == ["theatre", "music"]
    assert call.budget_envelope == Decimal("500000")
    entry = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == "call.created")
        .order_by(AuditEntry.seq.desc())
    ).first()
    assert entry.data["closes_at"] == "2030-04-30T08:00:00+00:00"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"closes_at": "2030-02-01T09:00"},
            "closes_at",
            "The closing time must be after the opening time.",
        ),
        ({"grant_min": "60000"}, "grant_max", "The largest grant must not be below the smallest."),
        ({"budget_envelope": "100"}, "budget_envelope", "must cover at least the largest grant"),
        ({"currency": "JPY", "grant_min": "5000.50"}, "grant_min", "JPY amounts are whole numbers"),
        ({"reference_prefix": "rr-1"}, "reference_prefix", "Use 2 to 12 capital letters"),
        ({"score_max": "4.7"}, "score_max", "whole number of score steps"),
        ({"grant_max": "lots"}, "grant_max", "Not a valid decimal value."),
        ({"timezone": "Nowhere/Town"}, "timezone", "Choose a time zone from the list."),
    ],
)
def test_bad_call_settings_are_refused_next_to_the_field(
    officer_client, world, overrides, field, message
):
    """Every rule has its own message beside its field; nothing typed is lost."""
    response = post(
        officer_client, f"/manage/funders/{world['funder'].id}/calls/new", call_form(**overrides)
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in page
    assert f'id="{field}-error"' in page
    assert 'value="Rivers and Roads"' in page  # the title typed is still there
    assert "Touring projects along shared rivers." in page
    assert db.session.scalar(select(Call).where(Call.reference_prefix == "RR")) is None


def test_settings_change_is_audited_with_old_and_new_values(officer_client, world):
    """A published call's settings change is recorded with both values."""
    call = world["call"]
    form = call_form(
        reference_prefix=call.reference_prefix,
        grant_max="25000",
        opens_at="2026-01-01T00:00",
        closes_at="2031-01-01T00:00",
    )
    response = post(officer_client, f"/manage/calls/{call.id}/settings", form)
    assert response.status_code == 302, response.get_data(as_text=True)
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "call.updated")).one()
    assert entry.data["grant_max"] == {"old": "20000", "new": "25000"}


def test_texts_per_language_with_visible_fallback(client, officer_client, world):
    """A Japanese reader sees the Japanese title; a French reader the marked default."""
    call = world["call"]
    post(
        officer_client,
        f"/manage/calls/{call.id}/texts/ja",
        {"title": "川と道", "summary": "共有する川に沿ったツアー。", "description": ""},
    )
    overview = officer_client.get(f"/manage/calls/{call.id}").get_data(as_text=True)
    assert "missing" in overview  # the Japanese description is missing
    post(officer_client, "/logout")
    japanese = client.get(f"/calls/{call.id}?lang=ja").get_data(as_text=True)
    assert '<span lang="ja">川と道</span>' in japanese
    french = client.get(f"/calls/{call.id}?lang=fr").get_data(as_text=True)
    assert '<span lang="en">Test call</span> <span class="fallback">' in french


def test_default_language_title_cannot_be_emptied(officer_client, world):
    """The default language must keep its title."""
    call = world["call"]
    page = post(
        officer_client,
        f"/manage/calls/{call.id}/texts/en",
        {"title": "", "summary": "x", "description": ""},
    ).get_data(as_text=True)
    assert "The default language needs a title." in page
    db.session.refresh(call)
    assert call.title["en"] == "Test call"


def test_publication_is_refused_until_the_call_is_ready(officer_client, world):
    """A call without criteria lists the problem and cannot be published."""
    draft = world["draft"]
    post(officer_client, f"/manage/calls/{draft.id}/criteria/{world['draft_criterion'].id}/delete")
    overview = officer_client.get(f"/manage/calls/{draft.id}").get_data(as_text=True)
    assert "Add at least one assessment criterion." in overview
    response = post(officer_client, f"/manage/calls/{draft.id}/publish", follow_redirects=True)
    assert "The call is not ready to be published." in response.get_data(as_text=True)
    assert db.session.get(Call, draft.id).status == "draft"


def test_criterion_threshold_must_lie_on_the_scale(officer_client, world):
    """A threshold outside 0-5 is refused beside the field."""
    call = world["call"]
    page = post(
        officer_client,
        f"/manage/calls/{call.id}/criteria/new",
        {"weight": "2", "threshold": "7", "name": "Reach", "description": ""},
    ).get_data(as_text=True)
    assert "The threshold must lie on the call&#39;s scale" in page
    assert 'value="Reach"' in page


def test_criterion_translations_and_descriptors(officer_client, world):
    """Names and rubric descriptors are stored per language."""
    call, criterion = world["call"], world["criterion"]
    post(
        officer_client,
        f"/manage/calls/{call.id}/criteria/{criterion.id}/fr",
        {
            "weight": "1",
            "threshold": "",
            "name": "Qualité",
            "description": "",
            "level_0": "Absent",
            "level_5": "Excellent",
        },
    )
    db.session.refresh(criterion)
    assert criterion.name == {"en": "Quality", "fr": "Qualité"}
    assert criterion.descriptors["fr"] == {"0": "Absent", "5": "Excellent"}
    assert criterion.descriptors["en"] == {"0": "None", "5": "Top"}


def test_public_call_page_shows_deadline_in_both_time_zones(client, world):
    """The call's zone (Asia/Tokyo) and the reader's zone (Europe/Paris) both appear."""
    login(client, world["officer"])  # the officer's time zone is Europe/Paris
    page = client.get(f"/calls/{world['call'].id}").get_data(as_text=True)
    assert "Asia/Tokyo, UTC+09:00" in page
    assert "Europe/Paris, UTC+0" in page


def test_open_calls_list_shows_only_published_and_not_closed(client, world):
    """Drafts and closed calls stay off the public list."""
    now = datetime.now(UTC)
    closed = make_call(
        world["funder"],
        world["officer"],
        title="Old call",
        opens_at=now - timedelta(days=60),
        closes_at=now + timedelta(seconds=1),
    )
    closed.closes_at = now - timedelta(days=1)
    db.session.commit()
    page = client.get("/").get_data(as_text=True)
    assert "Test call" in page
    assert "Draft call" not in page and "Old call" not in page


def test_call_list_and_page_use_a_constant_number_of_queries(client, world, count_queries):
    """No N+1: the list and the page cost the same with 3 or 13 calls."""

    def measure():
        with count_queries() as list_counter:
            client.get("/")
        with count_queries() as page_counter:
            client.get(f"/calls/{world['call'].id}")
        return list_counter.count, page_counter.count

    few = measure()
    # Anonymous: list = count + page of calls with their funders; page = call with its
    # funder, criteria, tier overrides and the publication check's questions.
    assert few == (2, 4)
    other = make_funder("Third Funder", officers=(world["officer"],))
    for n in range(10):
        make_call(other if n % 2 else world["funder"], world["officer"], title=f"Call {n}")
    from grants.calls import operations as ops

    for n in range(4):  # more criteria on the page's call
        ops.add_criterion(
            world["officer"],
            world["call"],
            language="en",
            weight=Decimal(1),
            threshold=None,
            name=f"Extra {n}",
            description="",
            descriptors={},
        )
    for country in ("TH", "VN"):  # and tier overrides shown on the page
        ops.set_tier_override(
            world["officer"], world["call"], country=country, tier=2, reason="Test"
        )
    db.session.commit()
    assert measure() == few


def test_lists_are_paginated(client, world):
    """Twenty calls a page; the next page holds the rest; past the end is a 404."""
    for n in range(21):
        make_call(world["funder"], world["officer"], title=f"Bulk call {n:02d}")
    first = client.get("/").get_data(as_text=True)
    second = client.get("/?page=2").get_data(as_text=True)
    assert first.count('class="card"') == 20
    assert second.count('class="card"') == 2  # 22 open calls in all
    assert client.get("/?page=9").status_code == 404


def test_officer_dashboard_lists_only_own_funders_calls(client, world):
    """The other funder's officer sees none of this funder's calls."""
    login(client, world["stranger"])
    page = client.get("/manage/").get_data(as_text=True)
    assert "Test call" not in page


def test_money_follows_currency_decimals(client, world):
    """JPY amounts show no decimals; EUR amounts show two."""
    jpy = make_call(
        world["funder"],
        world["officer"],
        title="Yen call",
        currency="JPY",
        grant_min=Decimal(100000),
        grant_max=Decimal(2500000),
        budget_envelope=Decimal(90000000),
    )
    page = client.get(f"/calls/{jpy.id}?lang=en").get_data(as_text=True)
    assert "¥2,500,000" in page and "¥2,500,000.00" not in page
    euro = client.get(f"/calls/{world['call'].id}").get_data(as_text=True)
    assert "€20,000.00" in euro


def test_settings_form_shows_times_in_the_calls_zone(officer_client, world):
    """The edit form shows the stored UTC time converted back to the call's zone."""
    call = world["call"]
    call.closes_at = datetime(2031, 1, 31, 15, 0, tzinfo=UTC)
    db.session.commit()
    page = officer_client.get(f"/manage/calls/{call.id}/settings").get_data(as_text=True)
    assert 'value="2031-02-01T00:00"' in page  # Tokyo is UTC+9


def test_call_settings_helper_is_valid():
    """The test helper's settings describe a publishable call."""
    assert call_settings()["grant_min"] < call_settings()["grant_max"]


@pytest.mark.parametrize(
    ("zone", "local", "message"),
    [
        ("Europe/Paris", "2030-03-31T02:30", "does not exist in Europe/Paris"),
        ("Europe/Paris", "2030-10-27T02:30", "happens twice in Europe/Paris"),
        ("America/New_York", "2030-03-10T02:15", "does not exist in America/New_York"),
    ],
)
def test_skipped_or_repeated_local_times_are_refused(officer_client, world, zone, local, message):
    """Daylight-saving gaps and overlaps are named instead of silently shifted."""
    page = post(
        officer_client,
        f"/manage/funders/{world['funder'].id}/calls/new",
        call_form(timezone=zone, closes_at=local),
    ).get_data(as_text=True)
    assert message in page
    assert 'id="closes_at-error"' in page


def test_a_yen_call_can_be_saved_again_unchanged(officer_client, world):
    """Whole-number currencies round-trip through the settings form."""
    response = post(
        officer_client,
        f"/manage/funders/{world['funder'].id}/calls/new",
        call_form(
            currency="JPY",
            budget_envelope="90000000",
            grant_min="100000",
            grant_max="2500000",
            reference_prefix="YEN",
        ),
    )
    assert response.status_code == 302
    call = db.session.scalar(select(Call).where(Call.reference_prefix == "YEN"))
    page = officer_client.get(f"/manage/calls/{call.id}/settings").get_data(as_text=True)
    shown = re.search(r'id="grant_max"[^>]*value="([^"]+)"', page).group(1)
    assert shown == "2500000"
    again = post(
        officer_client,
        f"/manage/calls/{call.id}/settings",
        call_form(
            currency="JPY",
            budget_envelope="90000000.00",
            grant_min="100000.00",
            grant_max="2500000",
            reference_prefix="YEN",
        ),
    )
    assert again.status_code == 302, again.get_data(as_text=True)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"currency": "USD"}, "currency"), ({"score_max": "10"}, "score_max")],
)
def test_published_call_keeps_its_currency_and_scale(officer_client, world, overrides, field):
    """Applicants rely on these once the call is public."""
    call = world["call"]
    form = call_form(
        reference_prefix=call.reference_prefix,
        opens_at="2026-01-01T00:00",
        closes_at="2031-01-01T00:00",
        **overrides,
    )
    page = post(officer_client, f"/manage/calls/{call.id}/settings", form).get_data(as_text=True)
    assert "cannot change once the call is published" in page
    assert f'id="{field}-error"' in page


def test_published_call_cannot_close_in_the_past(officer_client, world):
    """Moving the deadline into the past is refused."""
    call = world["call"]
    form = call_form(
        reference_prefix=call.reference_prefix,
        opens_at="2020-01-01T00:00",
        closes_at="2021-01-01T00:00",
    )
    page = post(officer_client, f"/manage/calls/{call.id}/settings", form).get_data(as_text=True)
    assert "cannot be moved into the past" in page


def test_numbers_are_read_as_the_reader_writes_them(officer_client, world):
    """In French "2,5" and "20 000" are numbers; in English "2,5" is refused, not 25."""
    call = world["call"]
    url = f"/manage/calls/{call.id}/criteria/new"
    english = post(
        officer_client, url, {"weight": "2,5", "threshold": "", "name": "Reach", "description": ""}
    ).get_data(as_text=True)
    assert "Not a valid decimal value." in english
    world["officer"].locale = "fr"
    db.session.commit()
    french = post(
        officer_client,
        url,
        {"weight": "2,5", "threshold": "1,5", "name": "Reach", "description": ""},
    )
    assert french.status_code == 302
    criterion = call.criteria[-1]
    assert (criterion.weight, criterion.threshold) == (Decimal("2.5"), Decimal("1.5"))
