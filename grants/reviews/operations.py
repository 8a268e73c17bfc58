"""Panel, conflict, assignment and review operations: audited, never committing."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from grants.applications.models import Application, Partner
from grants.audit.operations import record
from grants.auth.models import User
from grants.auth.operations import normalise_email
from grants.calls.models import Call, FunderOfficer
from grants.domain import assignment as solver
from grants.domain.countries import region_of
from grants.errors import OperationError
from grants.extensions import db
from grants.locking import lock
from grants.mail.operations import queue_mail
from grants.organisations.models import OrganisationMember
from grants.permissions import is_conflicted_with
from grants.reviews.models import (
    CONFLICT_REASONS,
    Assignment,
    Conflict,
    Consensus,
    PanelMember,
    Review,
    ReviewerProfile,
)
from grants.transparency.operations import seal, seal_once
from grants.types import utcnow
from grants.urls import external_url

RECOMMENDATIONS = ("fund", "reserve", "reject")


# --- panel --------------------------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="panel-invitation")


def panel_token(member: PanelMember) -> str:
    """A signed link to join the panel; a new invitation changes the nonce."""
    return _serializer().dumps({"id": member.id, "n": member.nonce})


def invite_reviewer(
    actor: User, call: Call, *, email: str, locale: str, is_chair: bool, max_load: int
) -> PanelMember:
    """Invite a reviewer (or the chair) to the call's panel by e-mail."""
    email = normalise_email(email)
    if (
        db.session.scalar(
            select(PanelMember.id).where(PanelMember.call_id == call.id, PanelMember.email == email)
        )
        is not None
    ):
        raise OperationError(_l("This address is already on the panel."), "email")
    member = PanelMember(
        call=call,
        email=email,
        is_chair=False,
        max_load=max_load,
        nonce=secrets.token_hex(16),
        invited_by_id=actor.id,
    )
    db.session.add(member)
    db.session.flush()
    if is_chair:
        set_chair(actor, member)
    record(
        actor,
        "panel.reviewer_invited",
        call,
        {"member_id": member.id, "chair": is_chair, "max_load": max_load},
        call_id=call.id,
    )
    queue_mail(
        email,
        "panel_invitation",
        locale,
        _l("Invitation to review for %(call)s", call=call.text("title", locale).text),
        call_title=call.text("title", locale).text,
        chair=is_chair,
        link=external_url("reviews.join", token=panel_token(member)),
    )
    return member


def member_from_token(token: str) -> PanelMember:
    """The panel invitation a link stands for."""
    try:
        payload = _serializer().loads(token, max_age=60 * 24 * 3600)
    except SignatureExpired as exc:
        raise OperationError(
            _l("This invitation has expired. Ask the programme officer for a new one.")
        ) from exc
    except BadSignature as exc:
        raise OperationError(_l("This invitation link is not valid.")) from exc
    member = db.session.get(PanelMember, payload.get("id"))
    if member is None or member.nonce != payload.get("n"):
        raise OperationError(_l("This invitation link is not valid."))
    return member


def join_panel(actor: User, member: PanelMember) -> None:
    """Accept a panel invitation with the signed-in account."""
    if member.user_id is not None and member.user_id != actor.id:
        raise OperationError(_l("Another account has already accepted this invitation."))
    clash = db.session.scalar(
        select(PanelMember.id).where(
            PanelMember.call_id == member.call_id,
            PanelMember.user_id == actor.id,
            PanelMember.id != member.id,
        )
    )
    if clash is not None:
        raise OperationError(_l("You are already on this call's panel."))
    member.user_id = actor.id
    member.status = "active"
    record(
        actor,
        "panel.reviewer_joined",
        member.call,
        {"member_id": member.id},
        call_id=member.call_id,
    )


def set_chair(actor: User, member: PanelMember) -> None:
    """Name the chair of the panel (one per call)."""
    for other in db.session.scalars(
        select(PanelMember).where(PanelMember.call_id == member.call_id, PanelMember.is_chair)
    ):
        other.is_chair = False
    member.is_chair = True
    record(
        actor, "panel.chair_named", member.call, {"member_id": member.id}, call_id=member.call_id
    )


def save_profile(
    actor: User,
    *,
    country: str | None,
    expertise: dict[str, int],
    languages: list[str],
    affiliations: list[str],
) -> ReviewerProfile:
    """The reviewer's own profile: expertise per artform, languages read, country, ties."""
    if any(level not in (1, 2, 3) for level in expertise.values()):
        raise OperationError(_l("Expertise levels are 1, 2 or 3."))
    profile = db.session.scalar(select(ReviewerProfile).where(ReviewerProfile.user_id == actor.id))
    if profile is None:
        profile = ReviewerProfile(user_id=actor.id)
        db.session.add(profile)
    profile.country = country or None
    profile.expertise = dict(sorted(expertise.items()))
    profile.languages = sorted(set(languages))
    profile.affiliations = [a.strip() for a in affiliations if a.strip()]
    profile.updated_at = utcnow()
    db.session.flush()
    record(
        actor,
        "panel.profile_saved",
        actor,
        {
            "expertise": profile.expertise,
            "languages": profile.languages,
            "country": profile.country,
            "affiliations": len(profile.affiliations),
        },
    )
    return profile


def active_members(call: Call) -> list[PanelMember]:
    """Panel members who have joined, with their users."""
    return list(
        db.session.scalars(
            select(PanelMember)
            .where(PanelMember.call_id == call.id, PanelMember.status == "active")
            .order_by(PanelMember.id)
        )
    )


def profiles_for(user_ids: Iterable[int]) -> dict[int, ReviewerProfile]:
    """Reviewer profiles by user id."""
    ids = list(user_ids)
    return {
        p.user_id: p
        for p in db.session.scalars(select(ReviewerProfile).where(ReviewerProfile.user_id.in_(ids)))
    }


def submitted_applications(call: Call) -> list[Application]:
    """The call's submitted applications with partners, organisations and answers."""
    from sqlalchemy.orm import selectinload

    return list(
        db.session.scalars(
            select(Application)
            .options(
                selectinload(Application.partners).joinedload(Partner.organisation),
                selectinload(Application.answers),
            )
            .where(Application.call_id == call.id, Application.status == "submitted")
            .order_by(Application.reference)
        )
    )


# --- conflicts --------------------------------------------------------------------------------


def conflicted_pairs(call: Call) -> set[tuple[int, int]]:
    """(application id, reviewer user id) of every recorded conflict of the call."""
    return set(
        db.session.execute(
            select(Conflict.application_id, Conflict.reviewer_id).where(Conflict.call_id == call.id)
        ).tuples()
    )


def has_conflict(reviewer_id: int, application_id: int) -> bool:
    """True when the reviewer is conflicted with the application."""
    return (
        db.session.scalar(
            select(Conflict.id).where(
                Conflict.reviewer_id == reviewer_id, Conflict.application_id == application_id
            )
        )
        is not None
    )


def _automatic_reason(
    user: User, profile: ReviewerProfile | None, application: Application, memberships: set[int]
) -> str | None:
    partner_orgs = {p.organisation_id for p in application.partners}
    if partner_orgs & memberships:
        return "employer"
    names = {p.organisation.name.casefold() for p in application.partners}
    if profile and any(a.casefold() in names for a in profile.affiliations):
        return "employer"
    texts = " ".join(
        [
            application.title,
            application.summary,
            *(a.text for a in application.answers),
            *(a.translation for a in application.answers),
            *(p.role for p in application.partners),
        ]
    ).casefold()
    if user.name.strip() and user.name.casefold() in texts:
        return "named"
    return None


def detect_conflicts(actor: User | str, call: Call) -> list[Conflict]:
    """Record the automatic conflicts: a reviewer or officer of the call affiliated with a
    partner organisation (member, or named among their affiliations), or named in the
    application."""
    members = [m for m in active_members(call) if m.user_id]
    users = {m.user_id: m.user for m in members}
    # Conflicts bind the call's officers too: they see scores and take the decisions.
    for officer in db.session.scalars(
        select(User)
        .join(FunderOfficer, FunderOfficer.user_id == User.id)
        .where(FunderOfficer.funder_id == call.funder_id)
    ):
        users.setdefault(officer.id, officer)
    profiles = profiles_for(users)
    memberships: dict[int, set[int]] = {uid: set() for uid in users}
    for user_id, org_id in db.session.execute(
        select(OrganisationMember.user_id, OrganisationMember.organisation_id).where(
            OrganisationMember.user_id.in_(list(users))
        )
    ).tuples():
        memberships[user_id].add(org_id)
    existing = conflicted_pairs(call)
    found = []
    for application in submitted_applications(call):
        for user_id, user in users.items():
            if user is None or (application.id, user_id) in existing:
                continue
            reason = _automatic_reason(
                user, profiles.get(user_id), application, memberships[user_id]
            )
            if reason:
                found.append(
                    _add_conflict(actor, call, application, user_id, "automatic", reason, "")
                )
    return found


def _add_conflict(
    actor: User | str,
    call: Call,
    application: Application,
    reviewer_id: int,
    source: str,
    reason: str,
    note: str,
) -> Conflict:
    conflict = Conflict(
        call_id=call.id,
        application_id=application.id,
        reviewer_id=reviewer_id,
        source=source,
        reason=reason,
        note=note.strip(),
        created_by_id=None if isinstance(actor, str) else actor.id,
    )
    db.session.add(conflict)
    db.session.flush()
    # The reviewer appears by id only; the public log (later) uses per-call pseudonyms.
    record(
        actor,
        "panel.conflict_recorded",
        call,
        {
            "application_id": application.id,
            "reviewer_id": reviewer_id,
            "source": source,
            "reason": reason,
        },
        call_id=call.id,
    )
    for assignment in db.session.scalars(
        select(Assignment).where(
            Assignment.application_id == application.id, Assignment.reviewer_id == reviewer_id
        )
    ):
        if assignment.reviews:
            # Nothing a reviewer wrote is deleted: the review stays, set aside. Every reader of
            # reviews (ranking, consensus, feedback, progress) leaves out conflicted pairs.
            record(
                actor,
                "review.set_aside",
                assignment,
                {
                    "application_id": application.id,
                    "reviewer_id": reviewer_id,
                    "conflict_id": conflict.id,
                    "reason": "conflict",
                    "versions": [r.version for r in assignment.reviews],
                    "submitted": [r.version for r in assignment.reviews if r.status == "submitted"],
                },
                call_id=call.id,
            )
            continue
        record(
            actor,
            "panel.assignment_removed",
            call,
            {"application_id": application.id, "reviewer_id": reviewer_id, "reason": "conflict"},
            call_id=call.id,
        )
        db.session.delete(assignment)
    return conflict


def _refuse_if_conflicted(actor: User | str, application: Application) -> None:
    """An actor conflicted with the application changes nothing of its assessment."""
    if isinstance(actor, User) and is_conflicted_with(actor, application):
        raise OperationError(
            _l("You have a conflict of interest with this application: you cannot act on it.")
        )


def declare_conflict(actor: User, application: Application, *, reason: str, note: str) -> Conflict:
    """A reviewer declares a conflict with a submitted application."""
    if reason not in CONFLICT_REASONS:
        raise OperationError(_l("Choose a reason from the list."), "reason")
    if has_conflict(actor.id, application.id):
        raise OperationError(_l("A conflict with this application is already recorded."))
    return _add_conflict(actor, application.call, application, actor.id, "declared", reason, note)


def add_conflict(
    actor: User, application: Application, reviewer_id: int, *, reason: str, note: str
) -> Conflict:
    """The chair or an officer records a conflict for a reviewer."""
    if reason not in CONFLICT_REASONS:
        raise OperationError(_l("Choose a reason from the list."), "reason")
    _refuse_if_conflicted(actor, application)
    if has_conflict(reviewer_id, application.id):
        raise OperationError(_l("A conflict with this application is already recorded."))
    return _add_conflict(actor, application.call, application, reviewer_id, "added", reason, note)


# --- assignment ---------------------------------------------------------------------------


def solver_input(
    call: Call,
) -> tuple[list[solver.ApplicationNeeds], list[solver.Reviewer], set[tuple[str, str]]]:
    """The call's submitted applications, active reviewers and conflicts as plain values."""
    applications = submitted_applications(call)
    members = [m for m in active_members(call) if m.user_id]
    profiles = profiles_for(m.user_id for m in members if m.user_id)
    needs = []
    for application in applications:
        languages = {a.language for a in application.answers if a.text.strip()}
        if application.summary_language:
            languages.add(application.summary_language)
        regions = {region_of(p.organisation.country) for p in application.partners}
        needs.append(
            solver.ApplicationNeeds(
                key=str(application.id),
                artforms=frozenset(application.artforms),
                languages=frozenset(languages),
                regions=frozenset(r for r in regions if r),
            )
        )
    reviewers = []
    for member in members:
        profile = profiles.get(member.user_id or 0)
        reviewers.append(
            solver.Reviewer(
                key=str(member.user_id),
                expertise=dict(profile.expertise) if profile else {},
                languages=frozenset(profile.languages) if profile else frozenset(),
                region=region_of(profile.country) if profile and profile.country else None,
                max_load=member.max_load,
            )
        )
    conflicts = {(str(r), str(a)) for a, r in conflicted_pairs(call)}
    return needs, reviewers, conflicts


def preview_assignment(call: Call, seed: int = 0) -> solver.AssignmentResult:
    """What the solver proposes now; nothing is stored."""
    needs, reviewers, conflicts = solver_input(call)
    return solver.assign(needs, reviewers, conflicts, call.reviews_per_application, seed=seed)


def confirm_assignment(actor: User | str, call: Call, seed: int = 0) -> solver.AssignmentResult:
    """Store the solver's pairs (replacing solver pairs without a started review)."""
    lock(call)  # one confirmation at a time: the second replaces the first's pairs
    result = preview_assignment(call, seed)
    if call.phase() == "closed":
        seal_once(call, "closed")
    keep = set()
    dropped = set()
    for assignment in db.session.scalars(select(Assignment).where(Assignment.call_id == call.id)):
        if assignment.source == "solver" and not assignment.reviews:
            dropped.add((assignment.application_id, assignment.reviewer_id))
            db.session.delete(assignment)
        else:
            keep.add((assignment.application_id, assignment.reviewer_id))
    db.session.flush()
    created = 0
    written = set()
    for app_key, reviewer_key in result.pairs:
        pair = (int(app_key), int(reviewer_key))
        if pair in keep:
            continue
        written.add(pair)
        db.session.add(
            Assignment(
                call_id=call.id,
                application_id=pair[0],
                reviewer_id=pair[1],
                source="solver",
                created_by_id=None if isinstance(actor, str) else actor.id,
            )
        )
        created += 1
    db.session.flush()
    record(
        actor,
        "panel.assignments_confirmed",
        call,
        {
            "seed": seed,
            "pairs": len(result.pairs),
            "created": created,
            "unmet": sum(len(v) for v in result.unmet.values()),
            "solver": result.solver,
            # The pairs that exist now and did not before, and the reverse: the public log
            # follows every assignment pair from these (docs/audit.md).
            "added_pairs": sorted(written - dropped),
            "removed_pairs": sorted(dropped - written),
        },
        call_id=call.id,
    )
    seal(call, "assignments_confirmed")
    return result


def add_assignment(
    actor: User, application: Application, reviewer_id: int, reason: str
) -> Assignment:
    """The chair adds a pair by hand, with a reason; hard rules still hold."""
    if not reason.strip():
        raise OperationError(_l("Say why this pair is added."), "reason")
    _refuse_if_conflicted(actor, application)
    if has_conflict(reviewer_id, application.id):
        raise OperationError(_l("This reviewer has a conflict with the application."))
    exists = db.session.scalar(
        select(Assignment.id).where(
            Assignment.application_id == application.id, Assignment.reviewer_id == reviewer_id
        )
    )
    if exists is not None:
        raise OperationError(_l("This reviewer is already assigned to the application."))
    assignment = Assignment(
        call_id=application.call_id,
        application_id=application.id,
        reviewer_id=reviewer_id,
        source="manual",
        reason=reason.strip(),
        created_by_id=actor.id,
    )
    db.session.add(assignment)
    db.session.flush()
    record(
        actor,
        "panel.assignment_added",
        application.call,
        {"application_id": application.id, "reviewer_id": reviewer_id, "reason": reason.strip()},
        call_id=application.call_id,
    )
    return assignment


def remove_assignment(actor: User, assignment: Assignment, reason: str) -> None:
    """The chair removes a pair, with a reason."""
    if not reason.strip():
        raise OperationError(_l("Say why this pair is removed."), "reason")
    _refuse_if_conflicted(actor, assignment.application)
    if any(r.status == "submitted" for r in assignment.reviews):
        raise OperationError(_l("A submitted review cannot be removed."))
    record(
        actor,
        "panel.assignment_removed",
        assignment.application.call,
        {
            "application_id": assignment.application_id,
            "reviewer_id": assignment.reviewer_id,
            "reason": reason.strip(),
        },
        call_id=assignment.call_id,
    )
    db.session.delete(assignment)
    db.session.flush()


# --- reviews ------------------------------------------------------------------------------


def _valid_score(call: Call, raw: str) -> Decimal:
    try:
        score = Decimal(raw)
    except InvalidOperation as exc:
        raise OperationError(_l("Choose a score on the call's scale.")) from exc
    steps = (score - call.score_min) / call.score_step
    if not call.score_min <= score <= call.score_max or steps != steps.to_integral_value():
        raise OperationError(_l("Choose a score on the call's scale."))
    return score


def save_review(
    actor: User,
    assignment: Assignment,
    *,
    scores: dict[str, str],
    comments: dict[str, str],
    recommendation: str | None,
    confidence: int | None,
    submit: bool,
    amendment_reason: str = "",
) -> Review:
    """Save a draft (incomplete is fine) or submit (complete, then locked).

    After submission, a change is a new version with a reason; both stay visible.
    """
    lock(assignment)  # a double click saves one version, not two
    if has_conflict(actor.id, assignment.application_id) or assignment.reviewer_id != actor.id:
        raise OperationError(_l("You cannot review this application."))
    call = assignment.application.call
    if call.decisions_released_at is not None:
        raise OperationError(
            _l("The decisions of this call have been sent: its reviews can no longer change.")
        )
    criteria = {str(c.id) for c in call.criteria}
    clean_scores = {
        k: str(_valid_score(call, v))
        for k, v in scores.items()
        if k in criteria and v not in ("", None)
    }
    if recommendation not in (None, "", *RECOMMENDATIONS):
        raise OperationError(_l("Choose a recommendation from the list."), "recommendation")
    current = assignment.current_review
    if current is None or current.status == "submitted":
        if current is not None and not amendment_reason.strip():
            raise OperationError(_l("Say why you amend a submitted review."), "amendment_reason")
        review = Review(
            assignment=assignment,
            version=(current.version + 1) if current else 1,
            amendment_reason=amendment_reason.strip(),
        )
        db.session.add(review)
    else:
        review = current
    review.scores = clean_scores
    review.comments = {k: v.strip() for k, v in comments.items() if k in criteria and v.strip()}
    review.recommendation = recommendation or None
    review.confidence = confidence
    review.updated_at = utcnow()
    if submit:
        missing = criteria - set(clean_scores)
        if missing or not review.recommendation or review.confidence is None:
            raise OperationError(
                _l(
                    "Give a score for every criterion, a recommendation and "
                    "your confidence before submitting; your draft is kept."
                )
            )
        review.status = "submitted"
        review.submitted_at = utcnow()
    db.session.flush()
    action = "review.submitted" if submit else "review.draft_saved"
    data: dict[str, Any] = {"assignment_id": assignment.id, "version": review.version}
    if submit:
        data.update(review.as_dict())
    record(actor, action, assignment.application.call, data, call_id=call.id)
    return review


# --- the chair's board -------------------------------------------------------------------------


def score_spread(call: Call, reviews: list[Review]) -> Decimal | None:
    """The largest gap between two submitted scores on one criterion (None if < 2 reviews)."""
    spreads = []
    for criterion in call.criteria:
        scores = [
            Decimal(r.scores[str(criterion.id)]) for r in reviews if str(criterion.id) in r.scores
        ]
        if len(scores) > 1:
            spreads.append(max(scores) - min(scores))
    return max(spreads) if spreads else None


def send_reminders(actor: User, call: Call) -> int:
    """E-mail every reviewer with reviews still to submit; returns how many were sent."""
    pending: dict[int, int] = {}
    for assignment in db.session.scalars(select(Assignment).where(Assignment.call_id == call.id)):
        current = assignment.current_review
        if (current is None or current.status != "submitted") and not has_conflict(
            assignment.reviewer_id, assignment.application_id
        ):
            pending[assignment.reviewer_id] = pending.get(assignment.reviewer_id, 0) + 1
    for reviewer_id, count in pending.items():
        user = db.session.get(User, reviewer_id)
        if user is None:
            continue
        queue_mail(
            user.email,
            "review_reminder",
            user.locale,
            _l("Reviews waiting for you: %(call)s", call=call.text("title", user.locale).text),
            user=user,
            count=count,
            call_title=call.text("title", user.locale).text,
            deadline=call.review_deadline,
            link=external_url("reviews.workspace"),
        )
    record(actor, "panel.reminders_sent", call, {"reviewers": len(pending)}, call_id=call.id)
    return len(pending)


def save_consensus(
    actor: User,
    application: Application,
    *,
    scores: dict[str, str],
    justification: str,
    majority: str,
    minority: str,
) -> Consensus:
    """The chair records the panel's agreed scores; the ranking uses them where they exist."""
    lock(application)
    call = application.call
    _refuse_if_conflicted(actor, application)
    if call.decisions_released_at is not None:
        raise OperationError(
            _l(
                "The decisions of this call have been sent: its consensus scores can no "
                "longer change."
            )
        )
    criteria = {str(c.id) for c in call.criteria}
    clean = {k: str(_valid_score(call, v)) for k, v in scores.items() if k in criteria and v}
    if set(clean) != criteria:
        raise OperationError(_l("Give an agreed score for every criterion."))
    if not justification.strip():
        raise OperationError(_l("Explain how the panel reached these scores."), "justification")
    consensus = db.session.scalar(
        select(Consensus).where(Consensus.application_id == application.id)
    )
    old = dict(consensus.scores) if consensus else None
    texts = (justification.strip(), majority.strip(), minority.strip())
    if consensus is not None and (
        consensus.scores,
        consensus.justification,
        consensus.majority_view,
        consensus.minority_view,
    ) == (clean, *texts):
        return consensus  # recorded as it stands (a second click): nothing new to log
    if consensus is None:
        consensus = Consensus(
            application_id=application.id, call_id=call.id, recorded_by_id=actor.id
        )
        db.session.add(consensus)
    consensus.scores = clean
    consensus.justification = justification.strip()
    consensus.majority_view = majority.strip()
    consensus.minority_view = minority.strip()
    consensus.recorded_by_id = actor.id
    consensus.updated_at = utcnow()
    db.session.flush()
    record(
        actor,
        "panel.consensus_recorded",
        call,
        {"application_id": application.id, "old": old, "new": clean},
        call_id=call.id,
    )
    return consensus
