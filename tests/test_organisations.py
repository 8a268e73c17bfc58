"""Colleagues act for an organisation only with their consent: invitations by e-mail, answered
by the invited address; the page never tells whether an address has an account."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from grants.audit.models import AuditEntry
from grants.auth.models import User
from grants.extensions import db
from grants.mail.models import OutboxMessage
from grants.organisations import operations as ops
from grants.organisations.models import OrganisationInvitation, OrganisationMember
from tests.conftest import login, make_user, post
from tests.test_applications import make_org

EN = {"Accept-Language": "en"}


@pytest.fixture
def org_world(world):
    """An organisation with one member (its creator), a registered colleague-to-be and an
    outsider."""
    owner = make_user("owner@example.org", name="Olga Owner", locale="en")
    colleague = make_user("colleague@example.org", name="Carl Colleague", locale="en")
    outsider = make_user("outsider@example.org", name="Otto Outsider")
    org = make_org(owner, "Lisbon Music House", "PT")
    return {**world, "owner": owner, "colleague": colleague, "outsider": outsider, "org": org}


def _link(recipient: str) -> str:
    """The path of the latest colleague invitation link e-mailed to ``recipient``."""
    body = db.session.scalars(
        select(OutboxMessage.body)
        .where(OutboxMessage.kind == "colleague_invitation", OutboxMessage.recipient == recipient)
        .order_by(OutboxMessage.id.desc())
    ).first()
    assert body, f"no invitation to {recipient}"
    match = re.search(r"http://localhost(/organisations/invitations/\S+)", body)
    assert match, body
    return match.group(1)


def _members(org) -> set[int]:
    return set(
        db.session.scalars(
            select(OrganisationMember.user_id).where(OrganisationMember.organisation_id == org.id)
        )
    )


def _normalised(page: str, email: str) -> str:
    page = page.replace(email, "ADDRESS")
    return re.sub(r'(value|nonce|content)="[A-Za-z0-9_\-.=+/]{20,}"', r'\1="X"', page)


def test_the_add_colleague_page_answers_the_same_for_registered_and_unknown_addresses(
    client, org_world
):
    """Same status, redirect and page (apart from the address); both addresses get a link."""
    login(client, org_world["owner"])
    org = org_world["org"]
    answers = []
    for email in ("colleague@example.org", "nobody-yet@example.org"):
        response = post(
            client, f"/organisations/{org.id}/members", {"email": email, "locale": "en"}, headers=EN
        )
        page = client.get(response.headers.get("Location", "/"), headers=EN).get_data(as_text=True)
        page = re.sub(r"sent [^<]*\(Europe/Paris", "sent WHEN (Europe/Paris", page)
        page = re.sub(r"/invitations/\d+/", "/invitations/N/", page)
        answers.append((response.status_code, response.headers.get("Location"), page, email))
        assert _link(email)
        # Withdrawn, so that each page lists exactly one pending invitation: its own.
        ops.revoke_member_invitation(org_world["owner"], org.invitations[-1])
        db.session.commit()
    (s1, l1, p1, e1), (s2, l2, p2, e2) = answers
    assert (s1, l1) == (s2, l2) == (302, f"/organisations/{org.id}#members-h")
    assert "An invitation was sent to ADDRESS." in _normalised(p1, e1)
    assert _normalised(p1, e1) == _normalised(p2, e2)
    assert _members(org) == {org_world["owner"].id}


def test_a_pending_colleague_has_no_access_and_an_accepted_one_has(client, org_world):
    """Until accepted, the invitation grants nothing; accepting through the link, signed in
    with the invited address, makes the person act for the organisation."""
    org, colleague = org_world["org"], org_world["colleague"]
    login(client, org_world["owner"])
    post(
        client,
        f"/organisations/{org.id}/members",
        {"email": "Colleague@Example.org", "locale": "fr"},
    )
    mail = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "colleague_invitation")
    ).one()
    assert mail.recipient == "colleague@example.org" and mail.locale == "fr"
    assert "Lisbon Music House" in mail.subject
    owner_page = client.get(f"/organisations/{org.id}", headers=EN).get_data(as_text=True)
    assert "Invitations waiting for an answer" in owner_page
    assert "Send again to colleague@example.org" in owner_page
    link = _link("colleague@example.org")

    login(client, colleague)
    assert _members(org) == {org_world["owner"].id}
    assert client.get(f"/organisations/{org.id}").status_code == 404
    page = client.get(link, headers=EN).get_data(as_text=True)
    assert "Olga Owner invites you to act for Lisbon Music House" in page
    response = post(client, link, {"accept": "1"})
    assert response.status_code == 302
    assert _members(org) == {org_world["owner"].id, colleague.id}
    assert client.get(f"/organisations/{org.id}").status_code == 200
    invitation = db.session.scalars(select(OrganisationInvitation)).one()
    assert (invitation.status, invitation.user_id) == ("accepted", colleague.id)
    actions = db.session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.action.like("organisation.%"))
        .order_by(AuditEntry.seq)
    ).all()
    assert actions[-2:] == ["organisation.member_invited", "organisation.member_joined"]
    gone = client.get(link, headers=EN)
    assert gone.status_code == 404
    assert "already been accepted" in gone.get_data(as_text=True)


def test_a_different_account_cannot_accept_a_colleague_invitation(client, org_world):
    """The link alone proves nothing: another account is told it went to another address
    (without naming it), how to proceed, and gains nothing."""
    org = org_world["org"]
    invitation = ops.invite_member(
        org_world["owner"], org, email="colleague@example.org", locale="en"
    )
    db.session.commit()
    link = _link("colleague@example.org")
    login(client, org_world["outsider"])
    page = client.get(link, headers=EN)
    text = page.get_data(as_text=True)
    assert page.status_code == 403
    assert "This invitation was sent to another e-mail address." in text
    assert "Sign in with the address that received it" in text
    assert "colleague@example.org" not in text
    assert post(client, link, {"accept": "1"}).status_code == 403
    with pytest.raises(ops.OperationError, match="another e-mail address"):
        ops.accept_member_invitation(org_world["outsider"], invitation)
    assert _members(org) == {org_world["owner"].id}
    assert invitation.status == "pending"


def test_declining_changes_nothing_but_closes_the_link(client, org_world):
    """A person who does not want to act for the organisation says no."""
    org = org_world["org"]
    ops.invite_member(org_world["owner"], org, email="colleague@example.org", locale="en")
    db.session.commit()
    link = _link("colleague@example.org")
    login(client, org_world["colleague"])
    response = post(client, link, {"decline": "1"})
    assert response.headers["Location"] == "/organisations/"
    assert _members(org) == {org_world["owner"].id}
    assert db.session.scalars(select(OrganisationInvitation.status)).one() == "declined"
    assert "has been declined" in client.get(link, headers=EN).get_data(as_text=True)


def test_resend_replaces_the_link_and_revoke_closes_it(client, org_world):
    """Only the latest link works; a withdrawn invitation says so and grants nothing."""
    org = org_world["org"]
    invitation = ops.invite_member(
        org_world["owner"], org, email="colleague@example.org", locale="en"
    )
    db.session.commit()
    old = _link("colleague@example.org")
    login(client, org_world["owner"])
    base = f"/organisations/{org.id}/invitations/{invitation.id}"
    assert post(client, f"{base}/resend").status_code == 302
    new = _link("colleague@example.org")
    assert new != old
    assert post(client, f"{base}/revoke").status_code == 302
    login(client, org_world["colleague"])
    assert "replaced by a newer one" in client.get(old, headers=EN).get_data(as_text=True)
    withdrawn = client.get(new, headers=EN)
    assert withdrawn.status_code == 404
    assert "This invitation has been withdrawn." in withdrawn.get_data(as_text=True)
    assert post(client, new, {"accept": "1"}).status_code == 404
    assert _members(org) == {org_world["owner"].id}
    actions = db.session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.action.like("organisation.%"))
        .order_by(AuditEntry.seq)
    ).all()
    assert actions[-3:] == [
        "organisation.member_invited",
        "organisation.invitation_resent",
        "organisation.invitation_revoked",
    ]


def test_only_people_who_act_for_the_organisation_resend_or_withdraw(client, org_world):
    """The invited person, or anyone else, cannot manage the invitation."""
    org = org_world["org"]
    invitation = ops.invite_member(
        org_world["owner"], org, email="colleague@example.org", locale="en"
    )
    db.session.commit()
    login(client, org_world["colleague"])
    base = f"/organisations/{org.id}/invitations/{invitation.id}"
    assert post(client, f"{base}/revoke").status_code == 404
    assert post(client, f"{base}/resend").status_code == 404
    assert invitation.status == "pending"


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("owner@example.org", "This person already acts for the organisation."),
        ("colleague@example.org", "This address already has a pending invitation"),
        ("not an address", "Invalid email address."),
    ],
)
def test_refused_invitations_are_explained_beside_the_field(client, org_world, email, message):
    """Only what the inviter already sees is refused; the typed address stays."""
    org = org_world["org"]
    ops.invite_member(org_world["owner"], org, email="colleague@example.org", locale="en")
    db.session.commit()
    login(client, org_world["owner"])
    response = post(
        client, f"/organisations/{org.id}/members", {"email": email, "locale": "en"}, headers=EN
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in page
    assert 'id="email-error"' in page
    assert f'value="{email}"' in page


def test_registering_through_a_colleague_link_with_the_invited_address(app, client, org_world):
    """Someone without an account follows the link, registers with the invited address, is
    signed in at once and can accept."""
    org = org_world["org"]
    ops.invite_member(org_world["owner"], org, email="newcomer@example.org", locale="en")
    db.session.commit()
    link = _link("newcomer@example.org")
    first = client.get(link)
    assert first.status_code == 302 and first.headers["Location"].startswith("/login")
    data = {
        "name": "Nina Newcomer",
        "email": "NEWCOMER@example.org",
        "password": "a long enough pass",
        "confirm": "a long enough pass",
        "locale": "en",
        "timezone": "Europe/Lisbon",
    }
    response = post(client, f"/register?next={link}", data)
    assert response.headers["Location"] == link
    newcomer = db.session.scalar(select(User).where(User.email == "newcomer@example.org"))
    assert newcomer is not None
    assert post(client, link, {"accept": "1"}).status_code == 302
    assert newcomer.id in _members(org)


def test_the_creator_acts_for_the_organisation_at_once(org_world):
    """No invitation for the person who creates the organisation."""
    assert _members(org_world["org"]) == {org_world["owner"].id}
    assert db.session.scalars(select(OrganisationInvitation)).all() == []


def test_registering_through_a_link_with_a_registered_address_still_reveals_nothing(
    client, org_world
):
    """Even through an invitation link, a registered address gets the usual answer (and its
    holder a notice); no second account, no sign-in."""
    org = org_world["org"]
    ops.invite_member(org_world["owner"], org, email="colleague@example.org", locale="en")
    db.session.commit()
    link = _link("colleague@example.org")
    data = {
        "name": "Someone Else",
        "email": "colleague@example.org",
        "password": "a long enough pass",
        "confirm": "a long enough pass",
        "locale": "en",
        "timezone": "UTC",
    }
    response = post(client, f"/register?next={link}", data)
    assert response.headers["Location"] == "/register/sent"
    assert client.get("/account").status_code == 302  # not signed in
    notices = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "registration_attempt")
    ).all()
    assert [m.recipient for m in notices] == ["colleague@example.org"]
    assert org_world["colleague"].name == "Carl Colleague"
    assert _members(org) == {org_world["owner"].id}
