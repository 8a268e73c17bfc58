"""Ranking runs: inputs from the reviews, a committed seed, stored, audited, reproducible."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from grants.audit.models import AuditEntry
from grants.auth.models import User
from grants.decisions import operations as ops
from grants.decisions.models import RankingRun
from grants.extensions import db
from grants.reviews import operations as review_ops
from grants.transparency.keys import pseudonym
from tests.conftest import login, post
from tests.test_applications import setup  # noqa: F401 - the fixture
from tests.test_equity_policy import submit_complete
from tests.test_reviews import reviewer, submit_review


def reviewed(s):
    """The fixture's application submitted and reviewed by three reviewers."""
    app = submit_complete(s)
    for n, score in enumerate(("3", "4", "4.5")):
        user = reviewer(s, f"rank{n}@example.org")
        submit_review(user, review_ops.add_assignment(s["officer"], app, user.id, "Test"), score)
    db.session.commit()
    return app


def test_a_run_commits_the_seed_first_and_is_reproducible(client, setup):  # noqa: F811
    """The audit log holds the seed's hash before the run; replaying gives the same result."""
    app = reviewed(setup)
    login(client, setup["officer"])
    response = post(client, f"/manage/calls/{setup['call'].id}/ranking", {"method": "raw"})
    run = db.session.scalars(select(RankingRun)).one()
    assert response.headers["Location"] == f"/manage/calls/{setup['call'].id}/ranking/{run.id}"
    entries = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action.in_(["ranking.seed_committed", "ranking.run"]))
        .order_by(AuditEntry.seq)
    ).all()
    assert [e.action for e in entries] == ["ranking.seed_committed", "ranking.run"]
    assert entries[0].data["commitment"] == run.seed_commitment
    assert hashlib.sha256(run.seed.encode()).hexdigest() == run.seed_commitment
    assert entries[1].data["inputs_hash"] == run.inputs_hash
    replayed = ops.replay(run)
    assert replayed.inputs_hash == run.inputs_hash
    assert [a.key for a in replayed.applications] == [a["key"] for a in run.result["applications"]]
    assert list(replayed.funded) == run.result["funded"] == [app.reference]
    page = client.get(f"/manage/calls/{setup['call'].id}/ranking/{run.id}").get_data(as_text=True)
    assert app.reference in page and "Sensitivity" in page


def test_conflicted_reviews_are_left_out_of_the_ranking(setup):  # noqa: F811
    """A review by a reviewer later found conflicted does not count."""
    app = reviewed(setup)
    items, _criteria, _scale, _labels = ops.ranking_inputs(setup["call"])
    assert len(items[0].reviews) == 3
    user = db.session.scalars(select(User).where(User.email == "rank0@example.org")).one()
    conflicted = pseudonym(setup["call"].id, user.id)
    assert conflicted in items[0].reviews  # reviewers appear under their pseudonyms
    review_ops.add_conflict(setup["officer"], app, user.id, reason="personal", note="")
    db.session.commit()
    items, _criteria, _scale, _labels = ops.ranking_inputs(setup["call"])
    assert conflicted not in items[0].reviews and len(items[0].reviews) == 2


def test_nothing_to_rank_is_said_plainly(client, setup):  # noqa: F811
    """Without any submitted review the run is refused with the reason."""
    login(client, setup["officer"])
    page = post(
        client,
        f"/manage/calls/{setup['call'].id}/ranking",
        {"method": "raw"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "No submitted application has a submitted review" in page
    assert db.session.scalars(select(RankingRun)).all() == []
