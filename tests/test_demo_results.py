"""The demo's second call: taken through the whole process, its results published."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import func, select

from grants import demo
from grants.applications.models import Application
from grants.auth.models import User
from grants.calls.models import Call
from grants.decisions.models import APPROVED, Appeal, Decision
from grants.domain import publiclog
from grants.extensions import db
from grants.reviews.models import Assignment
from grants.transparency import keys
from tests.conftest import login


def test_demo_publishes_the_results_of_a_second_call(app: Flask, client: FlaskClient) -> None:
    assert demo.load_demo() is True
    call = demo.demo_results_call()
    assert call is not None
    assert call.results_published_at is not None
    assert call.decisions_released_at is not None
    assert call.phase() == "closed"

    # The open call and the draft of the demo are still there, as the browser tests need them.
    open_call = demo.demo_call()
    assert open_call is not None and open_call.phase() == "open"
    assert open_call.funder_id == call.funder_id
    assert db.session.scalar(select(Call.id).where(Call.reference_prefix == "AEHD"))
    assert (
        db.session.scalar(
            select(func.count()).select_from(Application).where(Application.call_id == open_call.id)
        )
        == 4
    )

    submitted = db.session.scalars(
        select(Application).where(Application.call_id == call.id, Application.status == "submitted")
    ).all()
    assert len(submitted) == len(demo.TOURS)
    decisions = {
        d.application_id: d
        for d in db.session.scalars(select(Decision).where(Decision.call_id == call.id))
    }
    assert set(decisions) == {a.id for a in submitted}
    assert all(d.status == APPROVED for d in decisions.values())
    assert all(d.proposed_by_id != d.reviewed_by_id for d in decisions.values())
    funded = [d for d in decisions.values() if d.outcome == "funded"]
    assert funded and len(funded) < len(submitted)  # there is a funding line
    assert sum((d.amount for d in funded), Decimal(0)) <= call.budget_envelope
    titles = {d.application.title for d in funded}

    appeals = db.session.scalars(select(Appeal).where(Appeal.call_id == call.id)).all()
    assert len(appeals) == 1 and appeals[0].status == "lodged"
    assert decisions[appeals[0].application_id].outcome != "funded"

    # The public pages, open data and log.
    page = client.get(f"/calls/{call.id}/results")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert any(title in html for title in titles)
    awards = client.get(f"/calls/{call.id}/awards.json")
    assert awards.status_code == 200
    assert len(json.loads(awards.get_data(as_text=True))["grants"]) == len(funded)
    assert client.get(f"/calls/{call.id}/awards.csv").status_code == 200
    log = client.get(f"/calls/{call.id}/log.jsonl")
    assert log.status_code == 200
    report = publiclog.verify(
        publiclog.loads(log.get_data(as_text=True)), trusted_key=keys.public_key()
    )
    assert report.ok, report.summary()
    codes = {f.code for f in report.findings}
    assert {"run.ranking", "run.expected_rank", "results"} <= codes
    # The expected-rank run carries its sampler and, per application, the numbers from which
    # a verifier without a sampler checks the order, the line and the lottery group.
    parsed = publiclog.loads(log.get_data(as_text=True))
    (run_entry,) = [e for e in parsed.entries if e["action"] == "ranking.run"]
    assert run_entry["data"]["method"] == "expected_rank"
    assert run_entry["data"]["parameters"]["sampler"] == "grants-shake256-gibbs/1"
    rows = run_entry["data"]["ranking"]
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    for row in rows:
        assert Decimal(row["expected_rank"]) >= 1
        assert 1 <= row["interval"][0] <= row["interval"][1] <= len(rows)

    # An applicant whose comments were released sees the decision and the feedback.
    contested = {t.title for t in demo.TOURS if t.contested}
    shown = next(d for d in funded if d.application.title not in contested)
    lead = shown.application.lead.contact
    login(client, lead, demo.DEMO_PASSWORD)
    view = client.get(f"/applications/{shown.application_id}")
    assert view.status_code == 200
    text = view.get_data(as_text=True)
    assert 'id="decision"' in text
    released = [
        comment
        for assignment in db.session.scalars(
            select(Assignment).where(
                Assignment.application_id == shown.application_id, Assignment.comments_released
            )
        )
        if assignment.current_review is not None
        for comment in assignment.current_review.comments.values()
    ]
    assert released and all(str(escape(comment)) in text for comment in released)

    # The officers' decisions and appeals pages.
    officer_client = app.test_client()
    officer = db.session.scalar(select(User).where(User.email == "officer@demo.example.org"))
    login(officer_client, officer, demo.DEMO_PASSWORD)
    for path in [
        f"/manage/calls/{call.id}/decisions",
        f"/manage/calls/{call.id}/appeals",
        f"/manage/calls/{call.id}/appeals/{appeals[0].id}",
    ]:
        response = officer_client.get(path)
        assert response.status_code == 200, path

    # Loading again changes nothing.
    assert demo.load_demo() is False


@pytest.mark.parametrize("env_name", ["production", "staging", ""])
def test_demo_command_refuses_outside_development_and_testing(app: Flask, env_name: str) -> None:
    """`flask grants demo` stops with a clear message and a non-zero exit, writing nothing."""
    saved = app.config["ENV_NAME"]
    app.config["ENV_NAME"] = env_name
    try:
        result = app.test_cli_runner().invoke(args=["grants", "demo"])
    finally:
        app.config["ENV_NAME"] = saved
    assert result.exit_code != 0
    assert "Refusing to load demo data" in result.output
    assert "--yes-this-is-not-production" in result.output
    assert demo.demo_call() is None
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_demo_command_runs_in_development_or_when_told_it_is_not_production(
    app: Flask,
) -> None:
    """Development (what `make run` uses) loads it; elsewhere only with the explicit flag."""
    saved = app.config["ENV_NAME"]
    try:
        app.config["ENV_NAME"] = "development"
        result = app.test_cli_runner().invoke(args=["grants", "demo"])
        assert result.exit_code == 0, result.output
        assert "Demo data loaded." in result.output
        app.config["ENV_NAME"] = "production"
        result = app.test_cli_runner().invoke(
            args=["grants", "demo", "--yes-this-is-not-production"]
        )
        assert result.exit_code == 0, result.output
        assert "Demo data already present." in result.output
    finally:
        app.config["ENV_NAME"] = saved
    assert demo.demo_call() is not None


def test_demo_command_runs_under_testing(app: Flask) -> None:
    """The test suite's own environment may load it too."""
    assert app.config["ENV_NAME"] == "testing"
    result = app.test_cli_runner().invoke(args=["grants", "demo"])
    assert result.exit_code == 0, result.output


def test_make_run_loads_the_demo_in_development() -> None:
    """`make run` sets GRANTS_ENV=development for the demo step, so it keeps working."""
    from grants.config import PROJECT_ROOT

    makefile = (PROJECT_ROOT / "Makefile").read_text()
    assert "GRANTS_ENV=development $(FLASK) grants demo" in makefile
