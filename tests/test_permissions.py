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
    }.get(name, ())
    with app.test_request_context():
        for role, expected in zip(roles, TABLE[rule], strict=True):
            result = func(roles[role], *args)
            assert result is expected, (rule, role, result)
