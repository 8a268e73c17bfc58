"""Every access rule in one place. Each rule returns a plain bool."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, NoReturn

from flask import abort, g, request
from sqlalchemy import select

from grants.extensions import db

if TYPE_CHECKING:
    from grants.applications.models import Application, Attachment, Partner
    from grants.calls.models import Call, Funder
    from grants.decisions.models import Appeal, Decision
    from grants.organisations.models import Organisation
    from grants.reviews.models import Assignment

log = logging.getLogger("grants.access")


def _authenticated(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def is_admin(user: Any) -> bool:
    """Site administrator."""
    return _authenticated(user) and bool(user.is_admin)


def officer_funder_ids(user: Any) -> set[int]:
    """Funders the user is a programme officer of (looked up once per request)."""
    if not _authenticated(user):
        return set()
    cache: dict[int, set[int]] = g.setdefault("officer_funder_ids", {})
    if user.id not in cache:
        from grants.calls.models import FunderOfficer

        cache[user.id] = set(
            db.session.scalars(
                select(FunderOfficer.funder_id).where(FunderOfficer.user_id == user.id)
            )
        )
    return cache[user.id]


def is_officer(user: Any) -> bool:
    """Programme officer of at least one funder."""
    return bool(officer_funder_ids(user))


def is_officer_of(user: Any, funder: Funder) -> bool:
    """Programme officer of this funder."""
    return funder.id in officer_funder_ids(user)


def can_manage_funders(user: Any) -> bool:
    """Create funders and name their officers."""
    return is_admin(user)


def can_view_outbox(user: Any) -> bool:
    """Read the e-mail outbox (operators and the demo)."""
    return is_admin(user)


def can_retry_mail(user: Any) -> bool:
    """Put a failed e-mail back in the outbox queue (operators)."""
    return is_admin(user)


def can_view_audit_log(user: Any) -> bool:
    """Read the whole audit log and its verification."""
    return is_admin(user)


def can_create_call(user: Any, funder: Funder) -> bool:
    """Create a call for this funder."""
    return is_officer_of(user, funder)


def can_manage_call(user: Any, call: Call) -> bool:
    """Edit, translate and publish a call."""
    return call.funder_id in officer_funder_ids(user)


def can_view_call(user: Any, call: Call) -> bool:
    """Read a call's public page: anyone once published, its officers before."""
    return call.status == "published" or can_manage_call(user, call)


def can_use_officer_area(user: Any) -> bool:
    """Open the programme officer's dashboard."""
    return is_officer(user)


def can_manage_account(user: Any) -> bool:
    """Change one's own preferences and password."""
    return _authenticated(user)


def organisation_ids(user: Any) -> set[int]:
    """Organisations the user acts for (looked up once per request)."""
    if not _authenticated(user):
        return set()
    cache: dict[int, set[int]] = g.setdefault("organisation_ids", {})
    if user.id not in cache:
        from grants.organisations.models import OrganisationMember

        cache[user.id] = set(
            db.session.scalars(
                select(OrganisationMember.organisation_id).where(
                    OrganisationMember.user_id == user.id
                )
            )
        )
    return cache[user.id]


def forget_memberships() -> None:
    """Drop the per-request cache after memberships change."""
    g.pop("organisation_ids", None)


def can_manage_organisation(user: Any, organisation: Organisation) -> bool:
    """Edit an organisation's profile, invite colleagues, re-send and withdraw invitations:
    the people who act for it (a pending invitation counts for nothing)."""
    return organisation.id in organisation_ids(user)


def can_answer_invitation(user: Any, invited_email: str) -> bool:
    """Accept or decline an invitation (a colleague's or a partner's): only an account whose
    e-mail is the invited address, so an invitation cannot be used by whoever holds its link."""
    return _authenticated(user) and user.email.strip().lower() == invited_email.strip().lower()


def can_start_application(user: Any) -> bool:
    """Start an application (for one of one's organisations)."""
    return _authenticated(user)


def is_partner_in(user: Any, application: Application) -> bool:
    """The user acts for one of the application's partner organisations."""
    mine = organisation_ids(user)
    return any(p.organisation_id in mine for p in application.partners)


def can_view_application(user: Any, application: Application) -> bool:
    """The partnership always; the call's officers once it has been submitted."""
    if is_partner_in(user, application):
        return True
    return application.status != "draft" and application.call.funder_id in officer_funder_ids(user)


def can_edit_shared_sections(user: Any, application: Application) -> bool:
    """Title, summary, answers, mobility and attachments: any partner of the application."""
    return is_partner_in(user, application)


def can_edit_partner(user: Any, partner: Partner) -> bool:
    """A partner's own part (role, money, budget lines): only that partner."""
    return partner.organisation_id in organisation_ids(user)


def can_lead(user: Any, application: Application) -> bool:
    """Invite and remove partners, submit and withdraw: the lead partner."""
    return application.lead.organisation_id in organisation_ids(user)


def can_download_attachment(user: Any, attachment: Attachment) -> bool:
    """The partnership, after submission the call's officers, and assigned reviewers
    without a conflict."""
    if can_view_application(user, attachment.application):
        return True
    return _is_assigned_without_conflict(user, attachment.application_id)


def gets_blind_copy(user: Any, attachment: Attachment) -> bool:
    """On a blind call, whoever downloads as a reviewer (not as a partner or an officer of the
    call) receives a copy with a neutral name and without the PDF's document metadata."""
    return bool(attachment.application.call.blind) and not can_view_application(
        user, attachment.application
    )


def _is_assigned_without_conflict(user: Any, application_id: int) -> bool:
    if not _authenticated(user):
        return False
    from grants.reviews.models import Assignment, Conflict

    assigned = db.session.scalar(
        select(Assignment.id).where(
            Assignment.application_id == application_id, Assignment.reviewer_id == user.id
        )
    )
    conflicted = db.session.scalar(
        select(Conflict.id).where(
            Conflict.application_id == application_id, Conflict.reviewer_id == user.id
        )
    )
    return assigned is not None and conflicted is None


def panel_role(user: Any, call: Call) -> str | None:
    """ "chair", "reviewer" or None for the call's panel (active members only)."""
    if not _authenticated(user):
        return None
    from grants.reviews.models import PanelMember

    member = db.session.scalar(
        select(PanelMember).where(
            PanelMember.call_id == call.id,
            PanelMember.user_id == user.id,
            PanelMember.status == "active",
        )
    )
    if member is None:
        return None
    return "chair" if member.is_chair else "reviewer"


def can_manage_panel(user: Any, call: Call) -> bool:
    """Invite reviewers, record conflicts, run and change the assignment: officers, chair."""
    return can_manage_call(user, call) or panel_role(user, call) == "chair"


def can_name_chair(user: Any, call: Call) -> bool:
    """Name the panel's chair: the funder appoints it, so the call's officers only."""
    return can_manage_call(user, call)


def can_declare_conflicts(user: Any, call: Call) -> bool:
    """See titles and partner names of submitted applications to declare one's own
    conflicts: the panel (reviewers and chair) and the call's officers."""
    return panel_role(user, call) is not None or can_manage_call(user, call)


def can_review(user: Any, assignment: Assignment) -> bool:
    """The assigned reviewer, unless conflicted with the application."""
    return bool(
        _authenticated(user)
        and assignment.reviewer_id == user.id
        and _is_assigned_without_conflict(user, assignment.application_id)
    )


def can_use_reviewer_area(user: Any) -> bool:
    """The reviewer's workspace and profile: any signed-in user (invitations lead there)."""
    return _authenticated(user)


def is_panel_member(user: Any, call: Call) -> bool:
    """On the call's panel in any state (invited, even before joining, or active; reviewer
    or chair)."""
    if not _authenticated(user):
        return False
    from sqlalchemy import or_

    from grants.reviews.models import PanelMember

    return (
        db.session.scalar(
            select(PanelMember.id)
            .where(
                PanelMember.call_id == call.id,
                or_(PanelMember.user_id == user.id, PanelMember.email == user.email),
            )
            .limit(1)
        )
        is not None
    )


def is_conflicted_with(user: Any, application: Application) -> bool:
    """Acts for one of its partners, or has a recorded conflict with it."""
    if not _authenticated(user):
        return False
    if is_partner_in(user, application):
        return True
    from grants.reviews.models import Conflict

    return (
        db.session.scalar(
            select(Conflict.id).where(
                Conflict.application_id == application.id, Conflict.reviewer_id == user.id
            )
        )
        is not None
    )


def can_see_assessments(user: Any, application: Application) -> bool:
    """Scores, reviews, comments and consensus of one application: whoever manages the
    call's panel (its officers and chair), unless conflicted with the application.

    The one rule for conflicts of interest: every page and operation that shows or changes
    an application's assessment asks it (or ``assessment_hidden_ids`` for a list)."""
    return can_manage_panel(user, application.call) and not is_conflicted_with(user, application)


def assessment_hidden_ids(user: Any, call: Call) -> set[int]:
    """Applications of the call whose assessment the user must not see: those it acts for
    or has a recorded conflict with (``can_see_assessments`` for a whole list at once)."""
    return conflicted_application_ids(user, call)


def can_decide(user: Any, call: Call) -> bool:
    """Reduce amounts, draw lots, propose and approve decisions, decide appeals: the call's
    officers who are not on its panel."""
    return can_manage_call(user, call) and not is_panel_member(user, call)


def can_decide_on(user: Any, application: Application) -> bool:
    """A decision step for this application: as ``can_decide``, and not conflicted with it."""
    return can_decide(user, application.call) and not is_conflicted_with(user, application)


def can_approve(user: Any, decision: Decision) -> bool:
    """The second pair of eyes: another officer than the one who proposed it."""
    return (
        _authenticated(user)
        and decision.status == "proposed"
        and decision.proposed_by_id != user.id
        and can_decide_on(user, decision.application)
    )


def conflicted_application_ids(user: Any, call: Call) -> set[int]:
    """Applications of the call the user acts for or has a recorded conflict with (two
    queries, for pages that list many applications)."""
    if not _authenticated(user):
        return set()
    from grants.applications.models import Application, Partner
    from grants.reviews.models import Conflict

    ids = set(
        db.session.scalars(
            select(Partner.application_id)
            .join(Application, Application.id == Partner.application_id)
            .where(
                Application.call_id == call.id,
                Partner.organisation_id.in_(organisation_ids(user)),
            )
        )
    )
    ids |= set(
        db.session.scalars(
            select(Conflict.application_id).where(
                Conflict.call_id == call.id, Conflict.reviewer_id == user.id
            )
        )
    )
    return ids


def decidable(user: Any, call: Call, application_ids: list[int]) -> dict[int, bool]:
    """``can_decide_on`` for many applications of one call at once."""
    if not can_decide(user, call):
        return dict.fromkeys(application_ids, False)
    conflicted = conflicted_application_ids(user, call)
    return {i: i not in conflicted for i in application_ids}


def approvable(user: Any, call: Call, decisions: list[Decision]) -> dict[int, bool]:
    """``can_approve`` for many decisions of one call at once (by decision id)."""
    allowed = decidable(user, call, [d.application_id for d in decisions])
    return {
        d.id: allowed[d.application_id] and d.status == "proposed" and d.proposed_by_id != user.id
        for d in decisions
    }


def can_release_comments(user: Any, call: Call) -> bool:
    """Release reviewers' comments to the applicants, anonymised: the panel chair."""
    return panel_role(user, call) == "chair"


def can_release_comments_on(user: Any, application: Application) -> bool:
    """As ``can_release_comments``, and not conflicted with the application."""
    return can_release_comments(user, application.call) and can_see_assessments(user, application)


def can_see_decision(user: Any, application: Application) -> bool:
    """The partnership, once the call's decisions have been sent."""
    return application.call.decisions_released_at is not None and is_partner_in(user, application)


def can_appeal(user: Any, application: Application) -> bool:
    """The lead partner of a submitted application, once the decisions are sent (the
    operation checks the window and that a final decision exists)."""
    return (
        application.status == "submitted"
        and can_see_decision(user, application)
        and can_lead(user, application)
    )


def can_decide_appeal(user: Any, appeal: Appeal) -> bool:
    """Record an appeal's outcome: an officer who may decide on the application and took no
    part in the decision appealed (neither proposed nor approved it)."""
    if appeal.status != "lodged" or not can_decide_on(user, appeal.application):
        return False
    from grants.decisions.models import Decision

    took_part = db.session.scalar(
        select(Decision.id).where(
            Decision.application_id == appeal.application_id,
            (Decision.proposed_by_id == user.id) | (Decision.reviewed_by_id == user.id),
        )
    )
    return took_part is None


def require(allowed: bool, *, hide: bool = False) -> None:
    """Abort with 403 (or 404 when ``hide``: the object's existence is not revealed)."""
    if allowed is True:
        return
    deny(404 if hide else 403)


def deny(status: int = 403) -> NoReturn:
    """Log a refused access and abort."""
    from flask_login import current_user

    log.warning(
        "access refused: user=%s endpoint=%s path=%s status=%s",
        getattr(current_user, "id", None) if _authenticated(current_user) else "anonymous",
        request.endpoint,
        request.path,
        status,
    )
    abort(status)
