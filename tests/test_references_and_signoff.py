"""Reference numbers never collide; a sign-off binds the version the partner read."""

from __future__ import annotations

import html
import re
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from grants.applications import operations as ops
from grants.applications.models import Application, ReferenceCounter
from grants.audit.models import AuditEntry
from grants.calls import operations as call_ops
from grants.calls.models import Call
from grants.errors import OperationError
from grants.extensions import db
from tests.conftest import call_settings, login, make_call, post
from tests.test_applications import complete, setup  # noqa: F401 - the fixture
from tests.test_calls import call_form

SEEN_RE = re.compile(r'name="seen" value="([^"]+)"')


# --- reference prefixes and numbers --------------------------------------------------------


def test_a_prefix_another_call_uses_is_refused_beside_its_field(client, world):
    """Site-wide and whatever the letter case: the form says so and keeps what was typed."""
    taken = world["call"].reference_prefix
    login(client, world["stranger"])  # an officer of another funder: prefixes are site-wide
    response = post(
        client,
        f"/manage/funders/{world['other_funder'].id}/calls/new",
        call_form(reference_prefix=taken),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Another call already uses this reference prefix" in page
    assert 'id="reference_prefix-error"' in page
    assert 'value="Rivers and Roads"' in page
    assert db.session.scalars(select(Call).where(Call.reference_prefix == taken)).all() == [
        world["call"]
    ]
    with pytest.raises(OperationError, match="Another call already uses") as refused:
        call_ops.create_call(
            world["officer"],
            world["funder"],
            title="Lower case",
            summary="",
            **call_settings(reference_prefix=taken.lower()),
        )
    assert refused.value.field == "reference_prefix"


def test_a_call_cannot_take_another_calls_prefix_in_its_settings(client, world):
    """Changing the prefix to one in use is refused; keeping its own prefix is fine."""
    draft, taken = world["draft"], world["call"].reference_prefix
    login(client, world["officer"])
    form = call_form(reference_prefix=taken)
    response = post(client, f"/manage/calls/{draft.id}/settings", form)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Another call already uses this reference prefix" in page
    db.session.refresh(draft)
    assert draft.reference_prefix != taken
    same = call_form(reference_prefix=draft.reference_prefix, grant_max="25000")
    assert post(client, f"/manage/calls/{draft.id}/settings", same).status_code == 302


def test_numbering_is_per_prefix_and_year_so_older_duplicates_cannot_collide(setup):  # noqa: F811
    """Two calls that share a prefix (older data) draw from one counter; a number that an
    older reference already holds is skipped."""
    call = setup["call"]
    twin = make_call(setup["funder"], setup["officer"], title="Twin")
    twin.reference_prefix = call.reference_prefix  # as older data may have it
    db.session.commit()
    year = datetime.now(ZoneInfo(call.timezone)).year
    setup["other_app"].reference = f"{call.reference_prefix}-{year}-0001"  # an older one
    setup["other_app"].status = "submitted"
    db.session.commit()
    first = ops._next_reference(call)
    second = ops._next_reference(twin)
    assert (first, second) == (
        f"{call.reference_prefix}-{year}-0002",
        f"{call.reference_prefix}-{year}-0003",
    )
    counter = db.session.get_one(ReferenceCounter, (call.reference_prefix, year))
    assert counter.last == 3


def test_submitting_past_a_taken_number_gives_the_next_one_not_an_error(client, setup):  # noqa: F811
    """The reference an older record holds is not handed out again: no 500, not stuck."""
    partner = complete(setup)
    app, call = setup["application"], setup["call"]
    year = datetime.now(ZoneInfo(call.timezone)).year
    setup["other_app"].reference = f"{call.reference_prefix}-{year}-0001"
    setup["other_app"].status = "submitted"
    ops.sign_off(setup["lead"], app.lead)
    ops.sign_off(setup["partner"], partner)
    db.session.commit()
    login(client, setup["lead"])
    response = post(client, f"/applications/{app.id}/submit")
    assert response.status_code == 302
    db.session.refresh(app)
    assert (app.status, app.reference) == ("submitted", f"{call.reference_prefix}-{year}-0002")


# --- a sign-off binds what the partner read ----------------------------------------------------


def seen_on_page(client, app_id):
    """The version the sign-off form carries, as the page renders it."""
    page = client.get(f"/applications/{app_id}").get_data(as_text=True)
    match = SEEN_RE.search(page)
    assert match, "no sign-off form on the page"
    return html.unescape(match.group(1))


def sign(client, app_id, partner_id, seen):
    return post(
        client,
        f"/applications/{app_id}/partners/{partner_id}/sign",
        {"seen": seen},
        follow_redirects=True,
    )


def test_a_sign_off_is_refused_when_the_application_changed_since_the_page_was_read(
    client,
    setup,  # noqa: F811
):
    """The partner signs from an old page: refused, naming each section that changed;
    from the page as it stands now, the sign-off goes through."""
    partner = complete(setup)
    app = setup["application"]
    login(client, setup["partner"])
    seen = seen_on_page(client, app.id)
    # Meanwhile the lead changes the title, an answer and the lead's own part.
    ops.update_general(
        setup["lead"],
        app,
        version=app.version,
        title="Rivers, changed",
        summary=app.summary,
        summary_language=app.summary_language,
        artforms=list(app.artforms),
        languages=list(app.languages),
    )
    answer = app.answer_to(setup["question"].id)
    ops.save_answer(
        setup["lead"], app, setup["question"], version=answer.version, text="Another play.",
        language="en",
    )  # fmt: skip
    lead = app.lead
    ops.update_partner(
        setup["lead"],
        lead,
        version=lead.version,
        role="Lead and producer",
        currency="EUR",
        grant_requested=lead.grant_requested,
        contribution_cash=lead.contribution_cash,
        contribution_in_kind=lead.contribution_in_kind,
    )
    db.session.commit()
    response = sign(client, app.id, partner.id, seen)
    page = response.get_data(as_text=True)
    assert "The application changed since you opened it" in page
    assert "the project (title, summary, artforms, languages)" in page
    assert "the answer to question 1" in page
    assert "the part of Tokyo Theatre Lab" in page
    assert "Prague Dance House" not in page.split("changed since you opened it")[1].split(".")[0]
    db.session.refresh(partner)
    assert partner.signed_off_at is None
    # Read again, then sign: accepted, and the audit entry records what was signed.
    response = sign(client, app.id, partner.id, seen_on_page(client, app.id))
    assert "You have signed the application" in response.get_data(as_text=True)
    db.session.refresh(partner)
    assert partner.signed_off_at is not None
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "application.signed_off")
    ).one()
    assert entry.data["content"] == ops._digest(ops.content_fingerprint(app))


def test_a_sign_off_without_the_version_read_is_refused(client, setup):  # noqa: F811
    """A form that does not say what the partner saw signs nothing."""
    partner = complete(setup)
    app = setup["application"]
    login(client, setup["partner"])
    response = sign(client, app.id, partner.id, "")
    assert "read it again before signing" in response.get_data(as_text=True)
    db.session.refresh(partner)
    assert partner.signed_off_at is None


def test_the_fingerprint_names_added_and_removed_sections(setup):  # noqa: F811
    """A new flow and a budget change show up; an unchanged application shows nothing."""
    partner = complete(setup)
    app = setup["application"]
    seen = ops.seen_token(app)
    assert ops._changed_sections(app, seen) == []
    ops.add_flow(
        setup["lead"], app, from_country="JP", to_country="CZ", people=2, days=5, purpose="Tour"
    )
    ops.set_budget_lines(
        setup["partner"],
        partner,
        version=partner.version,
        lines=[("travel", "Flights", Decimal(2500)), ("accommodation", "Hotel", Decimal(2500))],
    )
    db.session.commit()
    assert ops._changed_sections(db.session.get_one(Application, app.id), seen) == [
        "the mobility flows",
        "the part of Prague Dance House",
    ]
