"""Access rules return plain booleans, for every role."""

from __future__ import annotations

import pytest
from flask_login import AnonymousUserMixin

from grants import permissions as p


@pytest.fixture
def roles(world):
    """The five roles of the access tests."""
    return {
        "anonymous": AnonymousUserMixin(),
        "applicant": world["applicant"],
        "stranger": world["stranger"],
        "officer": world["officer"],
        "admin": world["admin"],
    }


#                      anonymous applicant stranger officer admin
TABLE = {
    "can_manage_funders": (False, False, False, False, True),
    "can_view_outbox": (False, False, False, False, True),
    "can_retry_mail": (False, False, False, False, True),
    "can_view_audit_log": (False, False, False, False, True),
    "can_use_officer_area": (False, False, True, True, False),
    "can_manage_account": (False, True, True, True, True),
    "can_create_call": (False, False, False, True, False),
    "can_manage_call": (False, False, False, True, False),
    "can_view_call:published": (True, True, True, True, True),
    "can_view_call:draft": (False, False, False, True, False),
    # An invitation sent to the applicant's address, typed in another case.
    "can_answer_invitation": (False, True, False, False, False),
}


@pytest.mark.parametrize("rule", TABLE)
def test_rules_answer_true_or_false_per_role(app, world, roles, rule):
    """Each rule gives exactly True or False, as the table says."""
    name, _, variant = rule.partition(":")
    func = getattr(p, name)
    args = {
        "can_create_call": (world["funder"],),
        "can_manage_call": (world["call"],),
        "can_view_call": (world["draft"] if variant == "draft" else world["call"],),
        "can_answer_invitation": (" Applicant@Example.org",),
    }.get(name, ())
    with app.test_request_context():
        for role, expected in zip(roles, TABLE[rule], strict=True):
            result = func(roles[role], *args)
            assert result is expected, (rule, role, result)


def test_a_pending_colleague_invitation_gives_no_membership_an_accepted_one_does(app, world):
    """``organisation_ids`` (every membership-based right) counts accepted memberships only."""
    from grants.extensions import db
    from grants.organisations import operations as org_ops
    from tests.test_applications import make_org

    org = make_org(world["applicant"], "Applicant Org", "JP")
    invitation = org_ops.invite_member(
        world["applicant"], org, email=world["stranger"].email, locale="en"
    )
    db.session.commit()
    with app.test_request_context():
        assert org.id not in p.organisation_ids(world["stranger"])
        assert p.can_manage_organisation(world["stranger"], org) is False
    org_ops.accept_member_invitation(world["stranger"], invitation)
    db.session.commit()
    with app.test_request_context():
        assert org.id in p.organisation_ids(world["stranger"])
        assert p.can_manage_organisation(world["stranger"], org) is True
