"""The call's equity policy as officers set it and as applicants and the public see it."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from grants.applications import operations as ops
from grants.audit.models import AuditEntry
from grants.extensions import db
from tests.conftest import login, make_user, post
from tests.test_applications import make_org, setup  # noqa: F401 - the fixture


def policy_form(**overrides):
    """The equity policy form with the defaults."""
    data = {
        "equity_weight": "0.10",
        "capacity_0": "1.0",
        "capacity_1": "0.6",
        "capacity_2": "0.35",
        "capacity_3": "0.2",
        "rate_0": "0.70",
        "rate_1": "0.80",
        "rate_2": "0.90",
        "rate_3": "1.00",
    }
    data.update(overrides)
    return data


def last_entry(action):
    """The newest audit entry of one action."""
    return db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq.desc())
    ).first()


def test_officer_changes_the_policy_with_old_and_new_values_audited(client, world):
    """Weight and a funding rate change; the audit entry keeps both values."""
    login(client, world["officer"])
    url = f"/manage/calls/{world['call'].id}/equity"
    response = post(client, url, policy_form(equity_weight="0.2", rate_2="0.95"))
    assert response.status_code == 302, response.get_data(as_text=True)
    entry = last_entry("call.equity_policy_changed")
    assert entry.data["equity_weight"] == {"old": "0.1", "new": "0.2"}
    assert entry.data["max_funding_rates"]["new"] == ["0.7", "0.8", "0.95", "1"]
    assert world["call"].equity_policy().equity_weight == Decimal("0.2")


def test_policy_numbers_out_of_range_are_refused_beside_the_field(client, world):
    """The weight stays within 0 and 0.25; a rate above 1 is refused."""
    login(client, world["officer"])
    url = f"/manage/calls/{world['call'].id}/equity"
    page = post(client, url, policy_form(equity_weight="0.3", rate_3="1.5")).get_data(as_text=True)
    assert 'id="equity_weight-error"' in page and 'id="rate_3-error"' in page
    assert 'value="0.3"' in page  # what was typed stays
    assert world["call"].equity_weight == Decimal("0.10")


def test_tier_override_needs_a_reason_and_is_audited(client, world):
    """Setting Ethiopia's tier records old (none) and new, with the reason."""
    login(client, world["officer"])
    url = f"/manage/calls/{world['call'].id}/equity/tiers"
    page = post(client, url, {"country": "ET", "tier": "3", "reason": ""}).get_data(as_text=True)
    assert 'id="reason-error"' in page
    post(client, url, {"country": "ET", "tier": "3", "reason": "Low income until FY2025"})
    entry = last_entry("call.tier_override_set")
    assert entry.data == {
        "country": "ET",
        "old": None,
        "new": 3,
        "default": None,
        "reason": "Low income until FY2025",
    }
    assert world["call"].equity_policy().tier_of("ET") == 3
    post(client, f"/manage/calls/{world['call'].id}/equity/tiers/ET/remove")
    assert last_entry("call.tier_override_removed").data == {"country": "ET", "old": 3, "new": None}
    db.session.expire_all()
    assert world["call"].equity_policy().tier_of("ET") is None


def test_call_page_explains_the_policy_in_the_readers_language(client, world):
    """The public page shows the tiers, percentages and overrides."""
    from grants.calls import operations as call_ops

    call_ops.set_tier_override(
        world["officer"], world["call"], country="TH", tier=2, reason="Regional disparities"
    )
    db.session.commit()
    english = client.get(f"/calls/{world['call'].id}?lang=en").get_data(as_text=True)
    assert "Fair to partners with fewer resources" in english
    assert "70%" in english and "100%" in english
    assert "Regional disparities" in english
    french = client.get(f"/calls/{world['call'].id}?lang=fr").get_data(as_text=True)
    assert "70\u00a0%" in french  # French puts a space before the percent sign


def test_panel_and_checklist_block_a_grant_above_the_maximum_rate(client, setup):  # noqa: F811
    """A Japanese lead asking 90% of its costs is told what to fix."""
    app, lead = setup["application"], setup["application"].lead
    ops.update_partner(
        setup["lead"],
        lead,
        version=lead.version,
        role="Lead",
        currency="EUR",
        grant_requested=Decimal(9000),
        contribution_cash=Decimal(1000),
        contribution_in_kind=Decimal(0),
    )
    db.session.commit()
    failing = [c.item.value for c in ops.eligibility(app) if not c.ok]
    assert "funding_rates" in failing
    login(client, setup["lead"])
    page = client.get(f"/applications/{app.id}").get_data(as_text=True)
    assert "covers more of its costs than the call allows" in page
    assert "Equity panel" in page and "above the maximum" in page
    assert "90%" in page and "70%" in page


def test_an_unclassified_country_blocks_until_an_officer_sets_a_tier(setup):  # noqa: F811
    """A partner from Ethiopia (no FY2026 group) needs an explicit tier."""
    from grants.calls import operations as call_ops

    addis = make_org(setup["partner"], "Addis Theatre", "ET")
    invitation = ops.invite_partner(
        setup["lead"], setup["application"], email="partner@example.org", locale="en", message=""
    )
    ops.accept_invitation(setup["partner"], invitation, addis)
    db.session.commit()
    checks = {c.item.value: c for c in ops.eligibility(setup["application"])}
    assert checks["tiers"].ok is False and "Addis Theatre" in checks["tiers"].params["partners"]
    call_ops.set_tier_override(
        setup["officer"], setup["call"], country="ET", tier=3, reason="Low income until FY2025"
    )
    db.session.commit()
    checks = {c.item.value: c for c in ops.eligibility(setup["application"])}
    assert checks["tiers"].ok is True


def test_a_policy_change_recomputes_every_panel(setup):  # noqa: F811
    """The multiplier follows the call's equity weight."""
    app = setup["application"]
    thai = make_org(make_user("th@example.org"), "Chiang Mai Dance", "MM")
    invitation = ops.invite_partner(
        setup["lead"], app, email="th@example.org", locale="en", message=""
    )
    from grants.auth.models import User

    user = db.session.scalar(select(User).where(User.email == "th@example.org"))
    partner = ops.accept_invitation(user, invitation, thai)
    ops.update_partner(
        user,
        partner,
        version=partner.version,
        role="",
        currency="EUR",
        grant_requested=Decimal(9000),
        contribution_cash=Decimal(1000),
        contribution_in_kind=Decimal(0),
    )
    db.session.commit()
    before = ops.equity_assessment(app)
    assert before.equity_index > 0
    from grants.calls import operations as call_ops

    call_ops.update_equity_policy(
        setup["officer"],
        setup["call"],
        equity_weight=Decimal(0),
        capacity=[Decimal("1"), Decimal("0.6"), Decimal("0.35"), Decimal("0.2")],
        max_funding_rates=[Decimal("0.7"), Decimal("0.8"), Decimal("0.9"), Decimal("1")],
    )
    db.session.commit()
    assert ops.equity_assessment(app).ranking_multiplier == 1
    assert before.ranking_multiplier > 1


def submit_complete(setup):  # noqa: F811
    """Complete, sign and submit the fixture's application (Japan + Czechia)."""
    from tests.test_applications import complete

    partner = complete(setup)
    app = setup["application"]
    ops.add_flow(
        setup["lead"],
        app,
        from_country="JP",
        to_country="CZ",
        people=4,
        days=10,
        purpose="Residency",
    )
    ops.add_flow(
        setup["partner"],
        app,
        from_country="CZ",
        to_country="JP",
        people=2,
        days=10,
        purpose="Residency",
    )
    ops.sign_off(setup["lead"], app.lead)
    ops.sign_off(setup["partner"], partner)
    ops.submit_application(setup["lead"], app)
    db.session.commit()
    return app


def test_statistics_chart_tiers_money_and_mobility(client, setup, count_queries):  # noqa: F811
    """Accessible SVG charts with the same numbers in tables, at a constant query count."""
    submit_complete(setup)
    login(client, setup["officer"])
    url = f"/manage/calls/{setup['call'].id}/statistics"
    page = client.get(url).get_data(as_text=True)
    assert '<svg role="img" aria-labelledby="combinations-title combinations-desc"' in page
    assert '<title id="money-title">' in page
    assert "tier 0 + tier 0" in page  # Japan and Czechia are both high income
    assert "€8,500.00" in page  # the grant requested: 5,000 + 3,500
    assert "Directional index: 0.333" in page  # 40 person-days out, 20 back
    with count_queries() as counter:
        client.get(url)
    # user, session, officer funders, call + criteria + questions + overrides, applications,
    # partners with organisations, flows: no query per application or partner.
    assert counter.count == 9
