"""Every route, for every role: who may reach it. A new route without a row here fails.

Roles: anonymous, applicant (a signed-in user with no role), officer of another funder (who
also reviews for the call), officer of the funder, site administrator, the panel's chair; and
for every role that can hold a conflict of interest, a conflicted one: an officer of the funder,
a chair and a reviewer, each with a conflict recorded (by someone else) on one application.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from grants.applications import operations as app_ops
from grants.auth import operations as auth_ops
from grants.auth.models import PendingRegistration
from grants.calls import operations as calls_ops
from grants.decisions.models import Appeal, Decision, RankingRun
from grants.mail.models import OutboxMessage
from grants.organisations import operations as org_ops
from grants.organisations.operations import create_organisation
from grants.reviews import operations as review_ops
from grants.reviews.models import Assignment, PanelMember
from grants.transparency.operations import seal
from grants.transparency.records import store_published_records
from grants.types import utcnow
from tests.conftest import login, post
from tests.test_applications import PDF

ROLES = (
    "anonymous",
    "applicant",
    "stranger",
    "officer",
    "admin",
    "chair",
    "conflicted_officer",
    "conflicted_chair",
    "conflicted_reviewer",
)
OK, LOGIN, FORBIDDEN, HIDDEN = "ok", "login", 403, 404

EVERYONE = dict.fromkeys(ROLES, OK)
SIGNED_IN = {**dict.fromkeys(ROLES, OK), "anonymous": LOGIN}
NOBODY_SIGNED_IN = {**dict.fromkeys(ROLES, HIDDEN), "anonymous": LOGIN}
OFFICER_ONLY = {**NOBODY_SIGNED_IN, "officer": OK, "conflicted_officer": OK}
# Panel pages: the call's officers and the chair, conflicted or not (lists hide what they must).
PANEL = {**OFFICER_ONLY, "chair": OK, "conflicted_chair": OK}
# Deciding: the call's officers who are not on its panel.
DECIDING = OFFICER_ONLY
ADMIN_ONLY = {**dict.fromkeys(ROLES, FORBIDDEN), "anonymous": LOGIN, "admin": OK}
ANY_OFFICER = {
    **dict.fromkeys(ROLES, FORBIDDEN),
    "anonymous": LOGIN,
    "stranger": OK,
    "officer": OK,
    "conflicted_officer": OK,
}
REVIEWER_ONLY = {**NOBODY_SIGNED_IN, "stranger": OK}
# An invitation sent to an address none of the roles has, and one sent to the stranger's.
INVITED_ELSEWHERE = {**dict.fromkeys(ROLES, FORBIDDEN), "anonymous": LOGIN}
INVITED_STRANGER = {**INVITED_ELSEWHERE, "stranger": OK}
# Declaring one's own conflicts: the panel and the call's officers.
DECLARING = {**PANEL, "stranger": OK, "conflicted_reviewer": OK}
APPLICANT_ONLY = {**NOBODY_SIGNED_IN, "applicant": OK}
DRAFT_PAGE = {**dict.fromkeys(ROLES, HIDDEN), "officer": OK, "conflicted_officer": OK}
# One application's assessment: refused to whoever is conflicted with it.
ASSESSMENT = {**PANEL, "conflicted_officer": HIDDEN, "conflicted_chair": HIDDEN}

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
    "auth.registration_sent": [("GET", lambda w: "/register/sent", EVERYONE)],
    # Signed-in people are sent home; anyone else with the link may finish registering.
    "auth.confirm_registration": [
        ("GET", lambda w: f"/register/confirm/{w['registration_token']}", EVERYONE)
    ],
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
    "admin.retry_mail": [
        ("POST", lambda w: f"/admin/outbox/{w['failed_mail'].id}/retry", ADMIN_ONLY)
    ],
    "calls.new_question": [
        ("GET", lambda w: f"/manage/calls/{w['call'].id}/questions/new", OFFICER_ONLY)
    ],
    "calls.edit_question": [
        (
            "GET",
            lambda w: f"/manage/calls/{w['call'].id}/questions/{w['question'].id}/en",
            OFFICER_ONLY,
        ),
    ],
    "calls.delete_question": [
        (
            "POST",
            lambda w: f"/manage/calls/{w['draft'].id}/questions/{w['draft_question'].id}/delete",
            OFFICER_ONLY,
        ),
    ],
    "calls.rates": [("GET", lambda w: f"/manage/calls/{w['call'].id}/rates", OFFICER_ONLY)],
    "calls.remove_rate": [
        ("POST", lambda w: f"/manage/calls/{w['call'].id}/rates/USD/remove", OFFICER_ONLY)
    ],
    "calls.submitted_applications": [
        ("GET", lambda w: f"/manage/calls/{w['call'].id}/applications", OFFICER_ONLY)
    ],
    "calls.equity": [("GET", lambda w: f"/manage/calls/{w['call'].id}/equity", OFFICER_ONLY)],
    "calls.statistics": [
        ("GET", lambda w: f"/manage/calls/{w['call'].id}/statistics", OFFICER_ONLY)
    ],
    "calls.set_tier": [
        ("POST", lambda w: f"/manage/calls/{w['call'].id}/equity/tiers", OFFICER_ONLY)
    ],
    "calls.remove_tier": [
        ("POST", lambda w: f"/manage/calls/{w['call'].id}/equity/tiers/ET/remove", OFFICER_ONLY)
    ],
    "reviews.panel": [("GET", lambda w: f"/manage/calls/{w['call'].id}/panel", PANEL)],
    "reviews.invite": [("POST", lambda w: f"/manage/calls/{w['call'].id}/panel/invite", PANEL)],
    "reviews.make_chair": [
        (
            "POST",
            lambda w: f"/manage/calls/{w['call'].id}/panel/{w['member'].id}/chair",
            {**PANEL, "chair": FORBIDDEN, "conflicted_chair": FORBIDDEN},
        )
    ],
    "reviews.detect_conflicts": [
        ("POST", lambda w: f"/manage/calls/{w['call'].id}/panel/conflicts/detect", PANEL)
    ],
    "reviews.add_conflict": [
        ("POST", lambda w: f"/manage/calls/{w['call'].id}/panel/conflicts", PANEL)
    ],
    "reviews.confirm_assignment": [
        ("POST", lambda w: f"/manage/calls/{w['call'].id}/panel/assign", PANEL)
    ],
    "reviews.add_pair": [("POST", lambda w: f"/manage/calls/{w['call'].id}/panel/pairs", PANEL)],
    "reviews.remove_pair": [
        (
            "POST",
            lambda w: f"/manage/calls/{w['call'].id}/panel/pairs/{w['assignment'].id}/remove",
            PANEL,
        )
    ],
    "reviews.progress": [("GET", lambda w: f"/manage/calls/{w['call'].id}/panel/progress", PANEL)],
    "reviews.reminders": [
        ("POST", lambda w: f"/manage/calls/{w['call'].id}/panel/reminders", PANEL)
    ],
    "reviews.consensus": [
        (
            "GET",
            lambda w: f"/manage/calls/{w['call'].id}/panel/consensus/{w['submitted'].id}",
            ASSESSMENT,
        )
    ],
    "decisions.runs": [("GET", lambda w: f"/manage/calls/{w['call'].id}/ranking", PANEL)],
    "decisions.run": [
        ("GET", lambda w: f"/manage/calls/{w['call'].id}/ranking/{w['run'].id}", PANEL)
    ],
    "decisions.commit_seed": [
        (
            "POST",
            lambda w: f"/manage/calls/{w['call'].id}/ranking/{w['run'].id}/lottery/commit",
            OFFICER_ONLY,
        )
    ],
    "decisions.draw": [
        (
            "POST",
            lambda w: f"/manage/calls/{w['call'].id}/ranking/{w['run'].id}/lottery/draw",
            OFFICER_ONLY,
        )
    ],
    "decisions.amounts": [("GET", lambda w: f"/manage/calls/{w['call'].id}/amounts", OFFICER_ONLY)],
    "decisions.amount": [
        (
            "GET",
            lambda w: f"/manage/calls/{w['call'].id}/amounts/{w['submitted'].id}",
            {**DECIDING, "conflicted_officer": FORBIDDEN},
        )
    ],
    "decisions.propose": [
        (
            "GET",
            lambda w: f"/manage/calls/{w['call'].id}/ranking/{w['run'].id}/propose",
            OFFICER_ONLY,
        )
    ],
    "decisions.decisions": [
        ("GET", lambda w: f"/manage/calls/{w['call'].id}/decisions", OFFICER_ONLY)
    ],
    "decisions.approve": [
        (
            "POST",
            lambda w: f"/manage/calls/{w['call'].id}/decisions/{w['decision'].id}/approve",
            {**DECIDING, "conflicted_officer": FORBIDDEN},
        )
    ],
    "decisions.send_back": [
        (
            "POST",
            lambda w: f"/manage/calls/{w['call'].id}/decisions/{w['decision2'].id}/return",
            OFFICER_ONLY,
        )
    ],
    "decisions.release": [
        ("POST", lambda w: f"/manage/calls/{w['call'].id}/decisions/release", OFFICER_ONLY)
    ],
    "decisions.appeals": [("GET", lambda w: f"/manage/calls/{w['call'].id}/appeals", OFFICER_ONLY)],
    "decisions.appeal": [
        (
            "GET",
            lambda w: f"/manage/calls/{w['call'].id}/appeals/{w['appeal'].id}",
            {**DECIDING, "conflicted_officer": HIDDEN},
        )
    ],
    # Only the panel chair releases comments, and not when conflicted; the officer may open
    # the page but not this.
    "reviews.release_comments": [
        (
            "POST",
            lambda w: (
                f"/manage/calls/{w['call'].id}/panel/consensus/{w['submitted'].id}"
                f"/comments/{w['sub_assignment'].id}"
            ),
            {
                **PANEL,
                "officer": FORBIDDEN,
                "conflicted_officer": FORBIDDEN,
                "conflicted_chair": FORBIDDEN,
            },
        )
    ],
    "decisions.publish": [
        ("POST", lambda w: f"/manage/calls/{w['call'].id}/decisions/publish", OFFICER_ONLY)
    ],
    # The world's call has published results: they, its log and its open data are public.
    "transparency.results": [("GET", lambda w: f"/calls/{w['call'].id}/results", EVERYONE)],
    "transparency.log_download": [("GET", lambda w: f"/calls/{w['call'].id}/log.jsonl", EVERYONE)],
    "transparency.awards_json": [("GET", lambda w: f"/calls/{w['call'].id}/awards.json", EVERYONE)],
    "transparency.awards_csv": [("GET", lambda w: f"/calls/{w['call'].id}/awards.csv", EVERYONE)],
    "transparency.verify_guide": [("GET", lambda w: "/transparency", EVERYONE)],
    "transparency.published": [("GET", lambda w: "/results", EVERYONE)],
    "api.openapi": [("GET", lambda w: "/api/openapi.json", EVERYONE)],
    "api.public_key": [("GET", lambda w: "/api/public-key", EVERYONE)],
    "api.calls": [("GET", lambda w: "/api/calls", EVERYONE)],
    "api.api_results": [("GET", lambda w: f"/api/calls/{w['call'].id}/results", EVERYONE)],
    "api.api_statistics": [("GET", lambda w: f"/api/calls/{w['call'].id}/statistics", EVERYONE)],
    "api.api_tree_heads": [("GET", lambda w: f"/api/calls/{w['call'].id}/tree-heads", EVERYONE)],
    "api.api_inclusion": [
        (
            "GET",
            lambda w: (
                f"/api/calls/{w['call'].id}/proofs/inclusion?index=0&tree_size={w['head'].tree_size}"
            ),
            EVERYONE,
        )
    ],
    "api.api_consistency": [
        (
            "GET",
            lambda w: (
                f"/api/calls/{w['call'].id}/proofs/consistency"
                f"?first={w['head'].tree_size}&second={w['head'].tree_size}"
            ),
            EVERYONE,
        )
    ],
    "reviews.join": [("GET", lambda w: f"/panel/join/{w['panel_token']}", SIGNED_IN)],
    "reviews.profile": [("GET", lambda w: "/reviewer/profile", SIGNED_IN)],
    "reviews.workspace": [("GET", lambda w: "/reviewer/", SIGNED_IN)],
    "reviews.conflicts": [
        ("GET", lambda w: f"/reviewer/calls/{w['call'].id}/conflicts", DECLARING)
    ],
    "reviews.review": [
        ("GET", lambda w: f"/reviewer/assignments/{w['assignment'].id}", REVIEWER_ONLY),
        # Assigned, then found conflicted: the pair is kept (set aside) but hidden from all.
        (
            "GET",
            lambda w: f"/reviewer/assignments/{w['conflicted_assignment'].id}",
            NOBODY_SIGNED_IN,
        ),
    ],
    "organisations.mine": [("GET", lambda w: "/organisations/", SIGNED_IN)],
    "organisations.new": [("GET", lambda w: "/organisations/new", SIGNED_IN)],
    "organisations.edit": [("GET", lambda w: f"/organisations/{w['org'].id}", APPLICANT_ONLY)],
    "organisations.add_member": [
        ("POST", lambda w: f"/organisations/{w['org'].id}/members", APPLICANT_ONLY)
    ],
    "organisations.resend_invitation": [
        (
            "POST",
            lambda w: (
                f"/organisations/{w['org'].id}/invitations/{w['member_invitation'].id}/resend"
            ),
            APPLICANT_ONLY,
        )
    ],
    "organisations.revoke_invitation": [
        (
            "POST",
            lambda w: (
                f"/organisations/{w['org'].id}/invitations/{w['member_invitation'].id}/revoke"
            ),
            APPLICANT_ONLY,
        )
    ],
    # Only the account with the invited address may answer an invitation.
    "organisations.invitation": [
        ("GET", lambda w: f"/organisations/invitations/{w['member_token']}", INVITED_ELSEWHERE),
        (
            "GET",
            lambda w: f"/organisations/invitations/{w['member_token_stranger']}",
            INVITED_STRANGER,
        ),
    ],
    "applications.dashboard": [("GET", lambda w: "/applications/", SIGNED_IN)],
    "applications.start": [("GET", lambda w: f"/calls/{w['call'].id}/apply", SIGNED_IN)],
    "applications.invitation": [
        ("GET", lambda w: f"/invitations/{w['token']}", INVITED_ELSEWHERE),
        ("GET", lambda w: f"/invitations/{w['token_stranger']}", INVITED_STRANGER),
    ],
    "applications.view": [("GET", lambda w: f"/applications/{w['app'].id}", APPLICANT_ONLY)],
    "applications.general": [
        ("GET", lambda w: f"/applications/{w['app'].id}/general", APPLICANT_ONLY)
    ],
    "applications.answer": [
        ("GET", lambda w: f"/applications/{w['app'].id}/answers/{w['question'].id}", APPLICANT_ONLY)
    ],
    "applications.partner": [
        ("GET", lambda w: f"/applications/{w['app'].id}/partners/{w['lead'].id}", APPLICANT_ONLY)
    ],
    "applications.budget": [
        (
            "GET",
            lambda w: f"/applications/{w['app'].id}/partners/{w['lead'].id}/budget",
            APPLICANT_ONLY,
        )
    ],
    # The assigned reviewer (here the other funder's officer) may download the documents.
    "applications.download": [
        (
            "GET",
            lambda w: f"/applications/{w['app'].id}/attachments/{w['attachment'].id}",
            {**APPLICANT_ONLY, "stranger": OK},
        )
    ],
    "applications.remove_partner": [
        (
            "POST",
            lambda w: f"/applications/{w['app'].id}/partners/{w['lead'].id}/remove",
            APPLICANT_ONLY,
        )
    ],
    "applications.sign": [
        (
            "POST",
            lambda w: f"/applications/{w['app'].id}/partners/{w['lead'].id}/sign",
            APPLICANT_ONLY,
        )
    ],
    "applications.add_flow": [
        ("POST", lambda w: f"/applications/{w['app'].id}/flows", APPLICANT_ONLY)
    ],
    "applications.delete_flow": [
        (
            "POST",
            lambda w: f"/applications/{w['app'].id}/flows/{w['flow_id']}/delete",
            APPLICANT_ONLY,
        )
    ],
    "applications.upload": [
        ("POST", lambda w: f"/applications/{w['app'].id}/attachments", APPLICANT_ONLY)
    ],
    "applications.delete_attachment": [
        (
            "POST",
            lambda w: f"/applications/{w['app'].id}/attachments/{w['attachment'].id}/delete",
            APPLICANT_ONLY,
        )
    ],
    "applications.invite": [
        ("POST", lambda w: f"/applications/{w['app'].id}/invitations", APPLICANT_ONLY)
    ],
    "applications.resend_invitation": [
        (
            "POST",
            lambda w: f"/applications/{w['app'].id}/invitations/{w['invitation'].id}/resend",
            APPLICANT_ONLY,
        )
    ],
    "applications.revoke_invitation": [
        (
            "POST",
            lambda w: f"/applications/{w['app'].id}/invitations/{w['invitation'].id}/revoke",
            APPLICANT_ONLY,
        )
    ],
    "applications.submit": [
        ("POST", lambda w: f"/applications/{w['app'].id}/submit", APPLICANT_ONLY)
    ],
    "applications.withdraw": [
        ("POST", lambda w: f"/applications/{w['app'].id}/withdraw", APPLICANT_ONLY)
    ],
    # The decisions of the call have been sent: the lead may appeal.
    "applications.appeal": [
        ("POST", lambda w: f"/applications/{w['submitted'].id}/appeal", APPLICANT_ONLY)
    ],
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

    world["officer_link"] = db.session.scalars(
        select(FunderOfficer).where(FunderOfficer.user_id == world["officer"].id)
    ).one()
    for key, call in (("question", world["call"]), ("draft_question", world["draft"])):
        world[key] = calls_ops.add_question(
            world["officer"],
            call,
            language="en",
            text="Why?",
            guidance="",
            required=True,
            max_words=None,
        )
    calls_ops.set_exchange_rate(
        world["officer"], world["call"], currency="USD", rate=Decimal("0.92"), source="InforEuro"
    )
    calls_ops.set_tier_override(
        world["officer"], world["call"], country="ET", tier=3, reason="Low income in FY2025"
    )
    applicant = world["applicant"]
    world["org"] = create_organisation(
        applicant,
        name="Applicant Org",
        country="JP",
        kind="nonprofit",
        website=None,
        registration_id=None,
        org_id_scheme=None,
        budget_band="lt50k",
    )
    app = app_ops.start_application(applicant, world["call"], world["org"])
    world["app"], world["lead"] = app, app.lead
    app_ops.add_flow(
        applicant, app, from_country="JP", to_country="CZ", people=2, days=5, purpose="Residency"
    )
    world["flow_id"] = app.flows[0].id
    world["attachment"], _ = app_ops.add_attachment(applicant, app, "plan.pdf", PDF)
    world["invitation"] = app_ops.invite_partner(
        applicant, app, email="p@example.org", locale="en", message=""
    )
    other = app_ops.invite_partner(applicant, app, email="q@example.org", locale="en", message="")
    world["token"] = app_ops.invitation_token(other)
    to_stranger = app_ops.invite_partner(
        applicant, app, email=world["stranger"].email, locale="en", message=""
    )
    world["token_stranger"] = app_ops.invitation_token(to_stranger)
    world["member_invitation"] = org_ops.invite_member(
        applicant, world["org"], email="colleague@example.org", locale="en"
    )
    elsewhere = org_ops.invite_member(
        applicant, world["org"], email="someone-else@example.org", locale="en"
    )
    world["member_token"] = org_ops.member_invitation_token(elsewhere)
    world["member_token_stranger"] = org_ops.member_invitation_token(
        org_ops.invite_member(applicant, world["org"], email=world["stranger"].email, locale="en")
    )
    pending = auth_ops.request_registration(
        name="New Person",
        email="new-person@example.org",
        password="a long enough pass",
        locale="en",
        timezone="UTC",
    )
    assert pending.user is None
    world["registration_token"] = auth_ops.registration_token(
        db.session.scalars(select(PendingRegistration)).one()
    )
    # The other funder's officer also reviews for this call and is assigned the application.
    member = PanelMember(
        call=world["call"],
        email=world["stranger"].email,
        user_id=world["stranger"].id,
        status="active",
        nonce="n" * 32,
        invited_by_id=world["officer"].id,
    )
    invited = PanelMember(
        call=world["call"],
        email="someone@example.org",
        nonce="m" * 32,
        invited_by_id=world["officer"].id,
    )
    db.session.add_all([member, invited])
    world["assignment"] = Assignment(
        call_id=world["call"].id,
        application_id=app.id,
        reviewer_id=world["stranger"].id,
        source="manual",
        reason="Access test",
        created_by_id=world["officer"].id,
    )
    db.session.add(world["assignment"])
    db.session.flush()
    world["member"] = member
    submitted = app_ops.start_application(applicant, world["call"], world["org"])
    submitted.status, submitted.reference = "submitted", "TEST-2026-0001"
    world["submitted"] = submitted
    db.session.flush()
    world["run"] = RankingRun(
        call_id=world["call"].id,
        method="raw",
        seed="1",
        seed_commitment="0" * 64,
        inputs_hash="0" * 64,
        parameters={"budget": "1"},
        inputs={
            "applications": [],
            "criteria": [],
            "scale": {"minimum": "0", "maximum": "5", "step": "0.5"},
            "labels": {},
        },
        result={
            "applications": [],
            "funded": [],
            "line": 0,
            "remaining": "1",
            "lottery_group": [],
            "lottery_places": 0,
        },
        sensitivity={},
        created_by_id=world["officer"].id,
    )
    db.session.add(world["run"])
    second = app_ops.start_application(applicant, world["call"], world["org"])
    second.status, second.reference = "submitted", "TEST-2026-0002"
    db.session.flush()
    # Proposed by the administrator (here a colleague), so the officer is the second pair of eyes.
    world["decision"], world["decision2"] = (
        Decision(
            call_id=world["call"].id,
            application_id=a.id,
            outcome="not_funded",
            status="proposed",
            proposed_by_id=world["admin"].id,
        )
        for a in (submitted, second)
    )
    world["appeal"] = Appeal(
        call_id=world["call"].id,
        application_id=submitted.id,
        grounds="A conflict of interest was not handled.",
        lodged_by_id=applicant.id,
    )
    db.session.add_all([world["decision"], world["decision2"], world["appeal"]])
    world["call"].decisions_released_at = utcnow()
    third = app_ops.start_application(applicant, world["call"], world["org"])
    third.status, third.reference, third.title = "submitted", "TEST-2026-0003", "Shared stage"
    third.lead.grant_requested = Decimal(1000)
    db.session.flush()
    db.session.add(
        Decision(
            call_id=world["call"].id,
            application_id=third.id,
            run_id=world["run"].id,
            outcome="funded",
            amount=Decimal(500),
            status="approved",
            proposed_by_id=world["admin"].id,
            reviewed_by_id=world["officer"].id,
        )
    )
    world["call"].results_published_at = utcnow()
    db.session.flush()
    store_published_records(world["call"])  # what publish_results stores
    world["head"] = seal(world["call"], "published")
    _add_panel_and_conflicted_roles(world, app, submitted)
    world["panel_token"] = review_ops.panel_token(invited)
    world["failed_mail"] = OutboxMessage(
        recipient="gone@example.org",
        subject="Hello",
        body="Hello.",
        locale="en",
        kind="test",
        status="failed",
        last_error="The mail server refused the recipient: 550 no such user",
    )
    db.session.add(world["failed_mail"])
    db.session.commit()
    return world


def _add_panel_and_conflicted_roles(world: dict[str, Any], app: Any, submitted: Any) -> None:
    """The chair; an officer, a chair and a reviewer each conflicted (recorded by someone else)
    with one application: ``submitted`` for the officer and chair, the reviewer's own
    assignment for the reviewer (its draft review kept, set aside)."""
    from grants.calls.models import FunderOfficer
    from grants.extensions import db
    from grants.reviews.models import Conflict, Review
    from tests.conftest import make_user

    call, officer = world["call"], world["officer"]
    for key, email in (
        ("chair", "chair@example.org"),
        ("conflicted_chair", "conflicted-chair@example.org"),
        ("conflicted_reviewer", "conflicted-reviewer@example.org"),
        ("conflicted_officer", "conflicted-officer@example.org"),
    ):
        world[key] = make_user(email, name=key.replace("_", " ").title())
        if key != "conflicted_officer":
            db.session.add(
                PanelMember(
                    call=call,
                    email=email,
                    user_id=world[key].id,
                    status="active",
                    is_chair=key.endswith("chair"),
                    nonce=key[:1] * 32,
                    invited_by_id=officer.id,
                )
            )
    db.session.add(
        FunderOfficer(funder_id=world["funder"].id, user_id=world["conflicted_officer"].id)
    )
    world["sub_assignment"] = Assignment(
        call_id=call.id,
        application_id=submitted.id,
        reviewer_id=world["stranger"].id,
        source="manual",
        reason="Access test",
        created_by_id=officer.id,
    )
    world["conflicted_assignment"] = Assignment(
        call_id=call.id,
        application_id=app.id,
        reviewer_id=world["conflicted_reviewer"].id,
        source="manual",
        reason="Access test",
        created_by_id=officer.id,
    )
    db.session.add_all([world["sub_assignment"], world["conflicted_assignment"]])
    db.session.flush()
    db.session.add(Review(assignment_id=world["conflicted_assignment"].id, scores={"1": "3"}))
    for key, application in (
        ("conflicted_officer", submitted),
        ("conflicted_chair", submitted),
        ("conflicted_reviewer", app),
    ):
        db.session.add(
            Conflict(
                call_id=call.id,
                application_id=application.id,
                reviewer_id=world[key].id,
                source="added",
                reason="personal",
                created_by_id=officer.id,
            )
        )
    db.session.flush()


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_exactly_what_it_may(app, client, world_with_link, role):
    """Allowed routes answer; the others send to login, refuse (403) or hide (404)."""
    world = world_with_link
    if role != "anonymous":
        login(client, world[role])
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
    print("\n".join(problems))
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
        "calls.new_question": f"/manage/calls/{world['call'].id}/questions/new",
        "calls.edit_question": (
            f"/manage/calls/{world['call'].id}/questions/{world['question'].id}/en"
        ),
        "calls.rates": f"/manage/calls/{world['call'].id}/rates",
        "calls.equity": f"/manage/calls/{world['call'].id}/equity",
        "organisations.new": "/organisations/new",
        "organisations.edit": f"/organisations/{world['org'].id}",
        "applications.start": f"/calls/{world['call'].id}/apply",
        "reviews.join": f"/panel/join/{world['panel_token']}",
        "decisions.runs": f"/manage/calls/{world['call'].id}/ranking",
        "decisions.amount": f"/manage/calls/{world['call'].id}/amounts/{world['submitted'].id}",
        "decisions.propose": (
            f"/manage/calls/{world['call'].id}/ranking/{world['run'].id}/propose"
        ),
        "decisions.appeal": f"/manage/calls/{world['call'].id}/appeals/{world['appeal'].id}",
        "reviews.consensus": (
            f"/manage/calls/{world['call'].id}/panel/consensus/{world['submitted'].id}"
        ),
        "reviews.profile": "/reviewer/profile",
        "reviews.conflicts": f"/reviewer/calls/{world['call'].id}/conflicts",
        "reviews.review": f"/reviewer/assignments/{world['assignment'].id}",
        "applications.invitation": f"/invitations/{world['token']}",
        "organisations.invitation": f"/organisations/invitations/{world['member_token']}",
        "auth.confirm_registration": f"/register/confirm/{world['registration_token']}",
        "applications.general": f"/applications/{world['app'].id}/general",
        "applications.answer": (f"/applications/{world['app'].id}/answers/{world['question'].id}"),
        "applications.partner": f"/applications/{world['app'].id}/partners/{world['lead'].id}",
        "applications.budget": (
            f"/applications/{world['app'].id}/partners/{world['lead'].id}/budget"
        ),
    }
    posts += list(form_routes.items())
    assert {endpoint for endpoint, _ in posts} == post_rules
    for endpoint, path in posts:
        response = client.post(path, data={"name": "x"})
        assert response.status_code == 400, (endpoint, path, response.status_code)


def test_no_get_route_changes_state(client, world_with_link, count_queries):
    """GET requests never write: no INSERT, UPDATE or DELETE is sent."""
    world = world_with_link
    for role in ("applicant", "stranger", "officer", "admin"):
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
