"""Expert panels: invitations, profiles, coverage, conflicts, assignment and reviews."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from grants.audit.models import AuditEntry
from grants.extensions import db
from grants.mail.models import OutboxMessage
from grants.reviews import operations as ops
from grants.reviews.models import Assignment, Conflict, PanelMember, Review
from tests.conftest import login, make_user, post
from tests.test_applications import setup  # noqa: F401 - the fixture
from tests.test_equity_policy import submit_complete


def join(client, user, member):
    """The invited user accepts the panel invitation through the page."""
    login(client, user)
    return post(client, f"/panel/join/{ops.panel_token(member)}")


def reviewer(
    s,
    email,
    *,
    languages=("en",),
    expertise=None,
    country="FR",
    max_load=5,
):
    """An active panel member with a profile."""
    user = make_user(email, name=email.split("@")[0].title())
    member = ops.invite_reviewer(
        s["officer"], s["call"], email=email, locale="en", is_chair=False, max_load=max_load
    )
    ops.join_panel(user, member)
    ops.save_profile(
        user,
        country=country,
        expertise=expertise or {"theatre": 3},
        languages=list(languages),
        affiliations=[],
    )
    db.session.commit()
    return user


def test_invitation_join_and_profile(client, setup):  # noqa: F811
    """An officer invites by e-mail; the reviewer joins and fills the profile."""
    login(client, setup["officer"])
    post(
        client,
        f"/manage/calls/{setup['call'].id}/panel/invite",
        {"email": "rev@example.org", "locale": "fr", "max_load": "4", "is_chair": "y"},
    )
    member = db.session.scalars(select(PanelMember)).one()
    assert member.is_chair is True and member.max_load == 4
    mail = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "panel_invitation")
    ).one()
    assert mail.locale == "fr" and "/panel/join/" in mail.body
    user = make_user("rev@example.org", name="Rita Reviewer")
    response = join(client, user, member)
    assert response.headers["Location"] == "/reviewer/profile"
    post(
        client,
        "/reviewer/profile",
        {
            "country": "TH",
            "languages": ["th", "en"],
            "affiliations": "Bangkok Arts Centre",
            "level_theatre": "3",
            "level_dance": "1",
        },
    )
    profile = ops.profiles_for([user.id])[user.id]
    assert profile.expertise == {"dance": 1, "theatre": 3}
    assert profile.languages == ["en", "th"] and profile.country == "TH"
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)).all()
    assert {
        "panel.reviewer_invited",
        "panel.chair_named",
        "panel.reviewer_joined",
        "panel.profile_saved",
    } <= set(actions)


def test_panel_page_names_every_gap(client, setup):  # noqa: F811
    """An application partly written in Thai with no Thai reader is named as a gap."""
    app = submit_complete(setup)
    app.summary_language = "th"
    db.session.commit()
    reviewer(setup, "r1@example.org", languages=("en",), expertise={"dance": 3})
    login(client, setup["officer"])
    page = client.get(f"/manage/calls/{setup['call'].id}/panel").get_data(as_text=True)
    assert "1 application is written in Thai; no reviewer reads Thai." in page
    assert "no reviewer is an expert in it" in page  # theatre
    assert "no reviewer comes from there" in page  # Asia


def test_automatic_and_declared_conflicts_hide_the_application(client, setup):  # noqa: F811
    """A reviewer acting for a partner organisation is conflicted; a declared conflict too."""
    app = submit_complete(setup)
    insider = reviewer(setup, "insider@example.org")
    from grants.organisations.models import OrganisationMember

    db.session.add(OrganisationMember(organisation_id=setup["lead_org"].id, user_id=insider.id))
    outsider = reviewer(setup, "fair@example.org")
    found = ops.detect_conflicts(setup["officer"], setup["call"])
    db.session.commit()
    assert [(c.reviewer_id, c.source, c.reason) for c in found] == [
        (insider.id, "automatic", "employer")
    ]
    login(client, outsider)
    response = post(
        client,
        f"/reviewer/calls/{setup['call'].id}/conflicts",
        {"application": str(app.id), "reason": "collaborator", "note": "Toured 2025"},
    )
    assert response.status_code == 302
    conflict = db.session.scalars(select(Conflict).where(Conflict.reviewer_id == outsider.id)).one()
    assert (conflict.source, conflict.reason) == ("declared", "collaborator")
    # Neither can be given the application, even by hand, and neither can open it.
    result = ops.confirm_assignment(setup["officer"], setup["call"])
    db.session.commit()
    assert all(r not in (str(insider.id), str(outsider.id)) for _, r in result.pairs)
    with pytest.raises(ops.OperationError, match="conflict"):
        ops.add_assignment(setup["officer"], app, insider.id, "By hand")
    recorded = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "panel.conflict_recorded")
    ).all()
    assert len(recorded) == 2


def test_a_pending_colleague_creates_no_conflict_and_an_accepted_one_does(setup):  # noqa: F811
    """An applicant cannot remove a reviewer by inviting them as a colleague: the invitation
    counts for nothing until the reviewer accepts it."""
    from grants.organisations import operations as org_ops

    app = submit_complete(setup)
    target = reviewer(setup, "disliked@example.org")
    invitation = org_ops.invite_member(
        setup["lead"], setup["lead_org"], email="disliked@example.org", locale="en"
    )
    db.session.commit()
    assert ops.detect_conflicts(setup["officer"], setup["call"]) == []
    db.session.commit()
    org_ops.accept_member_invitation(target, invitation)
    found = ops.detect_conflicts(setup["officer"], setup["call"])
    db.session.commit()
    assert [(c.reviewer_id, c.application_id, c.source, c.reason) for c in found] == [
        (target.id, app.id, "automatic", "employer")
    ]


def test_a_conflicted_reviewer_gets_404_on_every_url_of_the_application(client, setup):  # noqa: F811
    """Conflict recorded after assignment: the review and the documents disappear."""
    app = submit_complete(setup)
    rev = reviewer(setup, "late@example.org")
    assignment = ops.add_assignment(setup["officer"], app, rev.id, "Needed a fourth reader")
    db.session.commit()
    login(client, rev)
    assert client.get(f"/reviewer/assignments/{assignment.id}").status_code == 200
    ops.add_conflict(setup["officer"], app, rev.id, reason="personal", note="")
    db.session.commit()
    for path in [f"/reviewer/assignments/{assignment.id}", f"/applications/{app.id}"]:
        assert client.get(path).status_code == 404, path
    assert "Rivers" not in client.get("/reviewer/").get_data(as_text=True)


def test_assignment_preview_then_confirm(client, setup):  # noqa: F811
    """The chair previews (nothing stored), then confirms the same seed; audited."""
    submit_complete(setup)
    for n in range(3):
        reviewer(setup, f"p{n}@example.org", languages=("en",), country="JP" if n else "CZ")
    login(client, setup["officer"])
    url = f"/manage/calls/{setup['call'].id}/panel"
    page = client.get(f"{url}?preview=1&seed=7").get_data(as_text=True)
    assert "Proposal: 3 pairs" in page
    assert db.session.scalars(select(Assignment)).all() == []
    post(client, f"{url}/assign", {"seed": "7"})
    assert len(db.session.scalars(select(Assignment)).all()) == 3
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "panel.assignments_confirmed")
    ).one()
    assert entry.data["seed"] == 7 and entry.data["pairs"] == 3


def test_review_draft_submit_and_amendment(client, setup):  # noqa: F811
    """Drafts keep partial work; submission needs everything and locks; amending versions."""
    app = submit_complete(setup)
    rev = reviewer(setup, "judge@example.org")
    assignment = ops.add_assignment(setup["officer"], app, rev.id, "Test")
    db.session.commit()
    criterion = setup["call"].criteria[0]
    login(client, rev)
    url = f"/reviewer/assignments/{assignment.id}"
    page = client.get(url).get_data(as_text=True)
    assert "What will you make?" in page or "Tokyo Theatre Lab" in page
    post(client, url, {f"comment_{criterion.id}": "Strong idea", "save": "1"})
    draft = assignment.current_review
    assert (draft.status, draft.comments) == ("draft", {str(criterion.id): "Strong idea"})
    refused = post(
        client,
        url,
        {f"comment_{criterion.id}": "Strong idea", "submit": "1"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Give a score for every criterion" in refused
    bad = post(
        client,
        url,
        {
            f"score_{criterion.id}": "4.25",
            "recommendation": "fund",
            "confidence": "3",
            "submit": "1",
        },
    )
    assert bad.status_code == 200  # 4.25 is not on the scale: the form says so
    post(
        client,
        url,
        {
            f"score_{criterion.id}": "4.5",
            f"comment_{criterion.id}": "Strong",
            "recommendation": "fund",
            "confidence": "3",
            "submit": "1",
        },
    )
    db.session.refresh(assignment)
    first = assignment.current_review
    assert (first.status, first.scores) == ("submitted", {str(criterion.id): "4.5"})
    no_reason = post(
        client,
        url,
        {f"score_{criterion.id}": "3", "recommendation": "fund", "confidence": "3", "submit": "1"},
        follow_redirects=True,
    )
    assert "Say why you amend" in no_reason.get_data(as_text=True)
    post(
        client,
        url,
        {
            f"score_{criterion.id}": "3",
            "recommendation": "reserve",
            "confidence": "3",
            "amendment_reason": "Read the budget again",
            "submit": "1",
        },
    )
    versions = db.session.scalars(
        select(Review).where(Review.assignment_id == assignment.id).order_by(Review.version)
    ).all()
    assert [(v.version, v.status, v.scores[str(criterion.id)]) for v in versions] == [
        (1, "submitted", "4.5"),
        (2, "submitted", "3"),
    ]
    assert versions[1].amendment_reason == "Read the budget again"


def test_a_blind_call_shows_no_partner_name_to_reviewers(client, setup):  # noqa: F811
    """Scan the reviewer's pages for every partner and organisation name."""
    app = submit_complete(setup)
    setup["call"].blind = True
    rev = reviewer(setup, "blind@example.org")
    assignment = ops.add_assignment(setup["officer"], app, rev.id, "Test")
    db.session.commit()
    login(client, rev)
    names = [p.organisation.name for p in app.partners]
    for path in [
        "/reviewer/",
        f"/reviewer/assignments/{assignment.id}",
        f"/reviewer/calls/{setup['call'].id}/conflicts",
    ]:
        page = client.get(path).get_data(as_text=True)
        for name in names:
            assert name not in page, (path, name)
    assert re.search(
        r"Partner 1", client.get(f"/reviewer/assignments/{assignment.id}").get_data(as_text=True)
    )


def test_workspace_query_count_is_constant(client, setup, count_queries):  # noqa: F811
    """The workspace costs the same with one or several assignments."""
    app = submit_complete(setup)
    rev = reviewer(setup, "busy@example.org")
    ops.add_assignment(setup["officer"], app, rev.id, "Test")
    db.session.commit()
    login(client, rev)
    with count_queries() as one:
        client.get("/reviewer/")
    other = make_user("other-lead@example.org")
    from grants.applications import operations as app_ops
    from tests.test_applications import make_org

    for n in range(3):
        extra = app_ops.start_application(other, setup["call"], make_org(other, f"Org {n}", "FR"))
        extra.status, extra.reference = "submitted", f"X-{n}"
        db.session.flush()
        ops.add_assignment(setup["officer"], extra, rev.id, "Test")
    db.session.commit()
    with count_queries() as four:
        client.get("/reviewer/")
    assert four.count == one.count


def submit_review(user, assignment, score):
    """A complete review with the same score on every criterion."""
    call = assignment.application.call
    ops.save_review(
        user,
        assignment,
        scores={str(c.id): score for c in call.criteria},
        comments={},
        recommendation="fund",
        confidence=2,
        submit=True,
    )


def test_progress_board_flags_disagreement_and_records_consensus(client, setup):  # noqa: F811
    """Scores 1 and 4.5 differ by more than 1.5: flagged; the chair records a consensus."""
    app = submit_complete(setup)
    first, second = reviewer(setup, "a@example.org"), reviewer(setup, "b@example.org")
    late = reviewer(setup, "c@example.org")
    for user, score in ((first, "1"), (second, "4.5")):
        submit_review(user, ops.add_assignment(setup["officer"], app, user.id, "Test"), score)
    ops.add_assignment(setup["officer"], app, late.id, "Test")
    db.session.commit()
    login(client, setup["officer"])
    board = client.get(f"/manage/calls/{setup['call'].id}/panel/progress").get_data(as_text=True)
    assert "disagreement" in board and "3.5" in board
    response = post(client, f"/manage/calls/{setup['call'].id}/panel/reminders")
    assert response.status_code == 302
    reminders = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "review_reminder")
    ).all()
    assert [m.recipient for m in reminders] == ["c@example.org"]
    url = f"/manage/calls/{setup['call'].id}/panel/consensus/{app.id}"
    criterion = setup["call"].criteria[0]
    page = post(
        client,
        url,
        {f"score_{criterion.id}": "3", "justification": "", "majority": "", "minority": ""},
    ).get_data(as_text=True)
    assert 'id="justification-error"' in page
    post(
        client,
        url,
        {
            f"score_{criterion.id}": "3",
            "justification": "Discussed on 3 May",
            "majority": "Strong partnership",
            "minority": "Budget thin",
        },
    )
    from grants.reviews.models import Consensus

    consensus = db.session.scalars(select(Consensus)).one()
    assert consensus.scores == {str(criterion.id): "3"}
    assert consensus.minority_view == "Budget thin"


def test_progress_board_query_count_is_constant(client, setup, count_queries):  # noqa: F811
    """One reviewer or three: the board costs the same."""
    app = submit_complete(setup)
    first = reviewer(setup, "q1@example.org")
    submit_review(first, ops.add_assignment(setup["officer"], app, first.id, "Test"), "3")
    db.session.commit()
    login(client, setup["officer"])
    url = f"/manage/calls/{setup['call'].id}/panel/progress"
    with count_queries() as few:
        client.get(url)
    for n in range(2):
        user = reviewer(setup, f"q{n + 2}@example.org")
        submit_review(user, ops.add_assignment(setup["officer"], app, user.id, "Test"), "4")
    db.session.commit()
    with count_queries() as more:
        client.get(url)
    assert more.count == few.count


def test_assign_command_previews_and_stores(app, setup):  # noqa: F811
    """``flask grants assign CALL`` with a progress bar; --preview stores nothing."""
    submit_complete(setup)
    for n in range(3):
        reviewer(setup, f"cli{n}@example.org")
    runner = app.test_cli_runner()
    preview = runner.invoke(args=["grants", "assign", str(setup["call"].id), "--preview"])
    assert preview.exit_code == 0, preview.output
    assert "3 pairs" in preview.output and "nothing stored" in preview.output
    assert db.session.scalars(select(Assignment)).all() == []
    stored = runner.invoke(args=["grants", "assign", str(setup["call"].id), "--seed", "3"])
    assert stored.exit_code == 0, stored.output
    assert len(db.session.scalars(select(Assignment)).all()) == 3


def test_an_unassigned_panel_member_gets_404_on_the_application(client, setup):  # noqa: F811
    """Being on the panel is not enough: only the assignment opens an application."""
    app = submit_complete(setup)
    assigned, other = reviewer(setup, "in@example.org"), reviewer(setup, "out@example.org")
    assignment = ops.add_assignment(setup["officer"], app, assigned.id, "Test")
    db.session.commit()
    login(client, other)
    attachment_free = [
        f"/reviewer/assignments/{assignment.id}",
        f"/applications/{app.id}",
        f"/applications/{app.id}/general",
    ]
    for path in attachment_free:
        assert client.get(path).status_code == 404, path


def test_the_chair_sees_every_version_of_an_amended_review(client, setup):  # noqa: F811
    """Version 1 and its amendment both appear on the consensus page."""
    app = submit_complete(setup)
    rev = reviewer(setup, "amend@example.org")
    assignment = ops.add_assignment(setup["officer"], app, rev.id, "Test")
    submit_review(rev, assignment, "2")
    call = setup["call"]
    ops.save_review(
        rev,
        assignment,
        scores={str(c.id): "4" for c in call.criteria},
        comments={},
        recommendation="fund",
        confidence=2,
        submit=True,
        amendment_reason="Misread the budget",
    )
    db.session.commit()
    login(client, setup["officer"])
    page = client.get(f"/manage/calls/{call.id}/panel/consensus/{app.id}").get_data(as_text=True)
    assert "Version 1, submitted" in page


def test_panel_shows_what_the_confirmed_pairs_do_not_meet(client, setup):  # noqa: F811
    """After a hand-made change, the page still names the unmet requirements."""
    app = submit_complete(setup)
    only = reviewer(setup, "solo@example.org", expertise={"dance": 1}, country="FR")
    ops.add_assignment(setup["officer"], app, only.id, "Only one available")
    db.session.commit()
    login(client, setup["officer"])
    page = client.get(f"/manage/calls/{setup['call'].id}/panel").get_data(as_text=True)
    assert "Requirements the confirmed pairs do not meet" in page
    assert "Not enough reviewers" in page
