"""Panel pages (officers and chair) and the reviewer's workspace."""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response

from grants import i18n
from grants.applications.models import Application, Partner
from grants.applications.operations import equity_assessment
from grants.calls.forms import ConfirmForm
from grants.calls.models import Call
from grants.decisions import operations as decision_ops
from grants.decisions.forms import ReleaseForm
from grants.domain import assignment as solver
from grants.errors import OperationError
from grants.extensions import db
from grants.forms import choices
from grants.labels import ARTFORM_LABELS, label
from grants.permissions import (
    assessment_hidden_ids,
    can_declare_conflicts,
    can_manage_panel,
    can_name_chair,
    can_release_comments,
    can_release_comments_on,
    can_review,
    can_see_assessments,
    can_use_reviewer_area,
    require,
)
from grants.reviews import operations as ops
from grants.reviews.forms import (
    CONFLICT_REASON_LABELS,
    AddConflictForm,
    AssignForm,
    DeclareConflictForm,
    InviteReviewerForm,
    PairForm,
    RemovePairForm,
    consensus_form,
    profile_form,
    review_form,
)
from grants.reviews.models import Assignment, Conflict, Consensus, PanelMember, ReviewerProfile
from grants.types import utcnow

bp = Blueprint("reviews", __name__)
log = logging.getLogger(__name__)


def _call_for_panel(call_id: int) -> Call:
    call = db.get_or_404(Call, call_id)
    require(can_manage_panel(current_user, call), hide=True)
    return call


def _coverage(
    call: Call, members: list[PanelMember], profiles: dict[int, ReviewerProfile]
) -> dict[str, Any]:
    """Artforms, languages and regions of the submitted applications against the panel."""
    applications = ops.submitted_applications(call)
    needs, reviewers, _conflicts = ops.solver_input(call)
    artform_need = Counter(a for n in needs for a in n.artforms)
    language_need = Counter(lang for n in needs for lang in n.languages)
    region_need = Counter(r for n in needs for r in n.regions)
    experts = Counter(a for r in reviewers for a, level in r.expertise.items() if level == 3)
    readers = Counter(lang for r in reviewers for lang in r.languages)
    from_region = Counter(r.region for r in reviewers if r.region)
    gaps = []
    for artform, count in sorted(artform_need.items()):
        if not experts[artform]:
            gaps.append(
                ngettext(
                    "%(num)d application is in %(artform)s; no reviewer is an expert in it.",
                    "%(num)d applications are in %(artform)s; no reviewer is an expert in it.",
                    count,
                    artform=label(ARTFORM_LABELS, artform),
                )
            )
    for language, count in sorted(language_need.items()):
        if not readers[language]:
            gaps.append(
                ngettext(
                    "%(num)d application is written in %(language)s; no reviewer reads "
                    "%(language)s.",
                    "%(num)d applications are written in %(language)s; no reviewer reads "
                    "%(language)s.",
                    count,
                    language=i18n.language_name(language),
                )
            )
    for region, count in sorted(region_need.items()):
        if not from_region[region]:
            gaps.append(
                ngettext(
                    "%(num)d application has a partner in %(region)s; no reviewer comes "
                    "from there.",
                    "%(num)d applications have a partner in %(region)s; no reviewer comes "
                    "from there.",
                    count,
                    region=i18n.country_name(region),
                )
            )
    demand = len(applications) * call.reviews_per_application
    capacity = sum(m.max_load for m in members if m.status == "active")
    if capacity < demand:
        gaps.append(
            _(
                "The panel can review %(capacity)d times, but %(demand)d reviews are needed.",
                capacity=capacity,
                demand=demand,
            )
        )
    return {
        "applications": len(applications),
        "artforms": sorted(artform_need.items()),
        "experts": experts,
        "languages": sorted(language_need.items()),
        "readers": readers,
        "regions": sorted(region_need.items()),
        "from_region": from_region,
        "gaps": gaps,
        "demand": demand,
        "capacity": capacity,
    }


@bp.route("/manage/calls/<int:call_id>/panel")
@login_required
def panel(call_id: int) -> str:
    """Panel members, coverage and gaps, conflicts and the assignment."""
    call = _call_for_panel(call_id)
    members = list(
        db.session.scalars(
            select(PanelMember)
            .options(joinedload(PanelMember.user))
            .where(PanelMember.call_id == call.id)
            .order_by(PanelMember.id)
        )
    )
    profiles = ops.profiles_for(m.user_id for m in members if m.user_id)
    conflicts = db.session.scalars(
        select(Conflict)
        .options(joinedload(Conflict.application), joinedload(Conflict.reviewer))
        .where(Conflict.call_id == call.id)
        .order_by(Conflict.id)
    ).all()
    assignments = db.session.scalars(
        select(Assignment)
        .options(
            joinedload(Assignment.application),
            joinedload(Assignment.reviewer),
            selectinload(Assignment.reviews),
        )
        .where(Assignment.call_id == call.id)
        .order_by(Assignment.application_id, Assignment.reviewer_id)
    ).all()
    # Who reviews an application stays hidden from a viewer conflicted with it.
    hidden = assessment_hidden_ids(current_user, call)
    current_unmet: Any = {}
    if assignments:
        needs, reviewers_in, conflicts_in = ops.solver_input(call)
        known_apps = {n.key for n in needs}
        known_reviewers = {r.key for r in reviewers_in}
        # Pairs of withdrawn applications or departed reviewers are not the solver's concern.
        pairs = [
            (str(a.application_id), str(a.reviewer_id))
            for a in assignments
            if str(a.application_id) in known_apps and str(a.reviewer_id) in known_reviewers
        ]
        try:
            current_unmet = solver.report(
                needs, reviewers_in, conflicts_in, call.reviews_per_application, pairs
            )
        except ValueError:
            # A pair made by hand that the profiles no longer support (e.g. languages).
            log.warning("assignment of call %s breaks a hard rule", call.id, exc_info=True)
    preview = None
    seed = request.args.get("seed", 0, type=int)
    if request.args.get("preview"):
        preview = ops.preview_assignment(call, seed)
    applications = ops.submitted_applications(call)
    add_conflict = _with_pair_choices(AddConflictForm(), call, applications, members)
    pair = _with_pair_choices(PairForm(), call, applications, members)
    assign = AssignForm(data={"seed": seed})
    return render_template(
        "reviews/panel.html",
        call=call,
        members=members,
        profiles=profiles,
        coverage=_coverage(call, members, profiles),
        conflicts=conflicts,
        set_aside={(c.application_id, c.reviewer_id) for c in conflicts},
        assignments=[a for a in assignments if a.application_id not in hidden],
        hidden=hidden,
        current_unmet=current_unmet,
        preview=preview,
        seed=seed,
        names={str(m.user_id): m.user.name for m in members if m.user},
        titles={str(a.id): f"{a.reference} · {a.title}" for a in applications},
        invite_form=InviteReviewerForm(),
        add_conflict_form=add_conflict,
        pair_form=pair,
        assign_form=assign,
        remove_form=RemovePairForm(),
        confirm_form=ConfirmForm(),
        reason_label=lambda code: label(CONFLICT_REASON_LABELS, code),
        artform_label=lambda code: label(ARTFORM_LABELS, code),
    )


def _with_pair_choices(
    form: Any,
    call: Call,
    applications: list[Application] | None = None,
    members: list[PanelMember] | None = None,
) -> Any:
    """Offer the call's submitted applications and active reviewers in an
    application/reviewer form (recording a conflict, adding a pair)."""
    applications = ops.submitted_applications(call) if applications is None else applications
    members = ops.active_members(call) if members is None else members
    form.application.choices = choices(
        (str(a.id), f"{a.reference} · {a.title}") for a in applications
    )
    form.reviewer.choices = choices(
        (str(m.user_id), m.user.name) for m in members if m.user and m.status == "active"
    )
    return form


def _back(call: Call, anchor: str = "") -> Response:
    return redirect(url_for("reviews.panel", call_id=call.id) + anchor)


def _flash_error(form: Any, exc: OperationError | None = None) -> None:
    if exc is not None:
        flash(str(exc.message), "error")
    for field, errors in form.errors.items():
        if field != "csrf_token":
            flash(f"{form[field].label.text}: {' '.join(errors)}", "error")


@bp.route("/manage/calls/<int:call_id>/panel/invite", methods=["POST"])
@login_required
def invite(call_id: int) -> Response:
    """Invite a reviewer or the chair by e-mail."""
    call = _call_for_panel(call_id)
    form = InviteReviewerForm()
    if form.validate_on_submit():
        try:
            ops.invite_reviewer(
                current_user,
                call,
                email=form.email.data or "",
                locale=form.locale.data or "en",
                is_chair=form.is_chair.data,
                max_load=form.max_load.data or 0,
            )
        except OperationError as exc:
            db.session.rollback()
            _flash_error(form, exc)
        else:
            db.session.commit()
            flash(_("The invitation is sent to %(email)s.", email=form.email.data), "success")
    else:
        _flash_error(form)
    return _back(call, "#members")


@bp.route("/manage/calls/<int:call_id>/panel/<int:member_id>/chair", methods=["POST"])
@login_required
def make_chair(call_id: int, member_id: int) -> Response:
    """Name this member the chair."""
    call = _call_for_panel(call_id)
    require(can_name_chair(current_user, call))
    member = db.get_or_404(PanelMember, member_id)
    if member.call_id != call.id:
        abort(404)
    if ConfirmForm().validate_on_submit():
        ops.set_chair(current_user, member)
        db.session.commit()
        flash(_("The chair is named."), "success")
    return _back(call, "#members")


@bp.route("/manage/calls/<int:call_id>/panel/conflicts/detect", methods=["POST"])
@login_required
def detect_conflicts(call_id: int) -> Response:
    """Record the automatic conflicts of every reviewer with every submitted application."""
    call = _call_for_panel(call_id)
    if ConfirmForm().validate_on_submit():
        found = ops.detect_conflicts(current_user, call)
        db.session.commit()
        flash(
            ngettext("%(num)d new conflict found.", "%(num)d new conflicts found.", len(found)),
            "success",
        )
    return _back(call, "#conflicts")


@bp.route("/manage/calls/<int:call_id>/panel/conflicts", methods=["POST"])
@login_required
def add_conflict(call_id: int) -> Response:
    """The chair or an officer records a conflict."""
    call = _call_for_panel(call_id)
    form = AddConflictForm()
    _with_pair_choices(form, call)
    if form.validate_on_submit():
        application = db.get_or_404(Application, int(form.application.data))
        try:
            ops.add_conflict(
                current_user,
                application,
                int(form.reviewer.data),
                reason=form.reason.data or "",
                note=form.note.data or "",
            )
        except OperationError as exc:
            db.session.rollback()
            _flash_error(form, exc)
        else:
            db.session.commit()
            flash(_("The conflict is recorded."), "success")
    else:
        _flash_error(form)
    return _back(call, "#conflicts")


@bp.route("/manage/calls/<int:call_id>/panel/assign", methods=["POST"])
@login_required
def confirm_assignment(call_id: int) -> Response:
    """Store the previewed assignment (same seed, same result)."""
    call = _call_for_panel(call_id)
    form = AssignForm()
    if form.validate_on_submit():
        result = ops.confirm_assignment(current_user, call, form.seed.data or 0)
        db.session.commit()
        flash(
            ngettext(
                "The assignment is confirmed: %(num)d pair.",
                "The assignment is confirmed: %(num)d pairs.",
                len(result.pairs),
            ),
            "success",
        )
    return _back(call, "#assignments")


@bp.route("/manage/calls/<int:call_id>/panel/pairs", methods=["POST"])
@login_required
def add_pair(call_id: int) -> Response:
    """Add a pair by hand, with a reason."""
    call = _call_for_panel(call_id)
    form = PairForm()
    _with_pair_choices(form, call)
    if form.validate_on_submit():
        application = db.get_or_404(Application, int(form.application.data))
        try:
            ops.add_assignment(
                current_user, application, int(form.reviewer.data), form.reason.data or ""
            )
        except OperationError as exc:
            db.session.rollback()
            _flash_error(form, exc)
        else:
            db.session.commit()
            flash(_("The pair is added."), "success")
    else:
        _flash_error(form)
    return _back(call, "#assignments")


@bp.route("/manage/calls/<int:call_id>/panel/pairs/<int:assignment_id>/remove", methods=["POST"])
@login_required
def remove_pair(call_id: int, assignment_id: int) -> Response:
    """Remove a pair, with a reason."""
    call = _call_for_panel(call_id)
    assignment = db.get_or_404(Assignment, assignment_id)
    if assignment.call_id != call.id:
        abort(404)
    form = RemovePairForm()
    if form.validate_on_submit():
        try:
            ops.remove_assignment(current_user, assignment, form.reason.data or "")
        except OperationError as exc:
            db.session.rollback()
            _flash_error(form, exc)
        else:
            db.session.commit()
            flash(_("The pair is removed."), "success")
    else:
        _flash_error(form)
    return _back(call, "#assignments")


# --- reviewers -------------------------------------------------------------------------------


@bp.route("/panel/join/<token>", methods=["GET", "POST"])
@login_required
def join(token: str) -> Response | str:
    """Accept an invitation to a panel."""
    try:
        member = ops.member_from_token(token)
    except OperationError as exc:
        return render_template(
            "applications/invitation_invalid.html", message=str(exc.message)
        ), 404
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            ops.join_panel(current_user, member)
        except OperationError as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
        else:
            db.session.commit()
            flash(_("You are on the panel. Complete your reviewer profile."), "success")
            return redirect(url_for("reviews.profile"))
    return render_template("reviews/join.html", member=member, form=form)


@bp.route("/reviewer/profile", methods=["GET", "POST"])
@login_required
def profile() -> Response | str:
    """Expertise per artform, languages read, country and affiliations."""
    require(can_use_reviewer_area(current_user))
    from grants.domain.vocabulary import ARTFORMS

    existing = db.session.scalar(
        select(ReviewerProfile).where(ReviewerProfile.user_id == current_user.id)
    )
    data = {}
    if existing and request.method == "GET":
        data = {
            "country": existing.country or "",
            "languages": existing.languages,
            "affiliations": "\n".join(existing.affiliations),
            **{f"level_{a}": str(existing.expertise.get(a, 0)) for a in ARTFORMS},
        }
    form = profile_form(list(ARTFORMS), data=data)
    if form.validate_on_submit():
        expertise = {
            a: int(form[f"level_{a}"].data)
            for a in ARTFORMS
            if form[f"level_{a}"].data not in ("0", None, "")
        }
        try:
            ops.save_profile(
                current_user,
                country=form.country.data or None,
                expertise=expertise,
                languages=list(form.languages.data or []),
                affiliations=(form.affiliations.data or "").splitlines(),
            )
        except OperationError as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
        else:
            db.session.commit()
            flash(_("Your reviewer profile is saved."), "success")
            return redirect(url_for("reviews.workspace"))
    return render_template("reviews/profile.html", form=form, artforms=list(ARTFORMS))


@bp.route("/reviewer/")
@login_required
def workspace() -> str:
    """My panels and my assignments with their progress and deadlines."""
    require(can_use_reviewer_area(current_user))
    members = db.session.scalars(
        select(PanelMember)
        .options(joinedload(PanelMember.call))
        .where(PanelMember.user_id == current_user.id, PanelMember.status == "active")
    ).all()
    conflicted = set(
        db.session.scalars(
            select(Conflict.application_id).where(Conflict.reviewer_id == current_user.id)
        )
    )
    assignments = [
        a
        for a in db.session.scalars(
            select(Assignment)
            .options(
                joinedload(Assignment.application).joinedload(Application.call),
                selectinload(Assignment.reviews),
            )
            .where(Assignment.reviewer_id == current_user.id)
            .order_by(Assignment.call_id, Assignment.id)
        )
        if a.application_id not in conflicted
    ]
    return render_template("reviews/workspace.html", members=members, assignments=assignments)


@bp.route("/reviewer/calls/<int:call_id>/conflicts", methods=["GET", "POST"])
@login_required
def conflicts(call_id: int) -> Response | str:
    """Titles and partner names of submitted applications, to declare conflicts."""
    call = db.get_or_404(Call, call_id)
    require(can_declare_conflicts(current_user, call), hide=True)
    applications = ops.submitted_applications(call)
    mine = {
        c.application_id: c
        for c in db.session.scalars(
            select(Conflict).where(
                Conflict.call_id == call.id, Conflict.reviewer_id == current_user.id
            )
        )
    }
    form = DeclareConflictForm()
    if request.method == "POST":
        application = next(
            (a for a in applications if str(a.id) == request.form.get("application")), None
        )
        if application is None:
            abort(404)
        if form.validate_on_submit():
            try:
                ops.declare_conflict(
                    current_user,
                    application,
                    reason=form.reason.data or "",
                    note=form.note.data or "",
                )
            except OperationError as exc:
                db.session.rollback()
                flash(str(exc.message), "error")
            else:
                db.session.commit()
                flash(
                    _(
                        "Your conflict with %(reference)s is recorded. You will not see this "
                        "application.",
                        reference=application.reference,
                    ),
                    "success",
                )
                return redirect(url_for("reviews.conflicts", call_id=call.id))
    return render_template(
        "reviews/conflicts.html",
        call=call,
        applications=applications,
        mine=mine,
        form=form,
        reason_label=lambda code: label(CONFLICT_REASON_LABELS, code),
    )


def _assignment(assignment_id: int) -> Assignment:
    assignment = db.session.scalar(
        select(Assignment)
        .options(
            joinedload(Assignment.application)
            .joinedload(Application.call)
            .selectinload(Call.criteria),
            joinedload(Assignment.application)
            .selectinload(Application.partners)
            .joinedload(Partner.organisation),
            selectinload(Assignment.reviews),
        )
        .where(Assignment.id == assignment_id)
    )
    if assignment is None:
        abort(404)
    require(can_review(current_user, assignment), hide=True)
    return assignment


def _keep_as_draft(assignment: Assignment, form: Any, call: Call) -> None:
    """A refused submission is still saved as a draft, so nothing typed is lost."""
    try:
        ops.save_review(
            current_user,
            assignment,
            scores={str(c.id): form[f"score_{c.id}"].data for c in call.criteria},
            comments={str(c.id): form[f"comment_{c.id}"].data or "" for c in call.criteria},
            recommendation=form.recommendation.data or None,
            confidence=int(form.confidence.data) if form.confidence.data else None,
            submit=False,
            amendment_reason=form.amendment_reason.data or "",
        )
    except OperationError:
        db.session.rollback()  # the form below still shows everything typed
    else:
        db.session.commit()


@bp.route("/reviewer/assignments/<int:assignment_id>", methods=["GET", "POST"])
@login_required
def review(assignment_id: int) -> Response | str:
    """Read the application and score it on the call's criteria."""
    assignment = _assignment(assignment_id)
    application = assignment.application
    call = application.call
    current = assignment.current_review
    data: dict[str, Any] = {}
    if current is not None:
        data = {
            "recommendation": current.recommendation or "",
            "confidence": str(current.confidence or ""),
            **{f"score_{k}": v for k, v in current.scores.items()},
            **{f"comment_{k}": v for k, v in current.comments.items()},
        }
    form = review_form(call, data=data if request.method == "GET" else None)
    if form.validate_on_submit():
        submit = bool(form.submit.data)
        try:
            ops.save_review(
                current_user,
                assignment,
                scores={str(c.id): form[f"score_{c.id}"].data for c in call.criteria},
                comments={str(c.id): form[f"comment_{c.id}"].data or "" for c in call.criteria},
                recommendation=form.recommendation.data or None,
                confidence=int(form.confidence.data) if form.confidence.data else None,
                submit=submit,
                amendment_reason=form.amendment_reason.data or "",
            )
        except OperationError as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
            if submit:
                _keep_as_draft(assignment, form, call)
        else:
            db.session.commit()
            flash(
                _("Your review is submitted.") if submit else _("Your draft is saved."), "success"
            )
            return redirect(url_for("reviews.review", assignment_id=assignment.id))
    others = []
    submitted = current is not None and current.status == "submitted"
    if submitted and call.reviews_visible_after_submit:
        others = [
            a
            for a in db.session.scalars(
                select(Assignment)
                .options(selectinload(Assignment.reviews))
                .where(Assignment.application_id == application.id, Assignment.id != assignment.id)
            )
            if a.current_review
            and a.current_review.status == "submitted"
            and not ops.has_conflict(a.reviewer_id, application.id)
        ]
    return render_template(
        "reviews/review.html",
        assignment=assignment,
        application=application,
        call=call,
        form=form,
        current=current,
        versions=assignment.reviews,
        others=others,
        equity=equity_assessment(application),
        reads=_languages_read(current_user.id),
    )


def _languages_read(user_id: int) -> list[str]:
    """The languages a reviewer reads, from their profile (none known: an empty list)."""
    profile = db.session.scalar(select(ReviewerProfile).where(ReviewerProfile.user_id == user_id))
    return list(profile.languages or []) if profile is not None else []


@bp.route("/manage/calls/<int:call_id>/panel/progress")
@login_required
def progress(call_id: int) -> str:
    """Reviews due, late and submitted; disagreement flags; consensus records."""
    call = _call_for_panel(call_id)
    assignments = db.session.scalars(
        select(Assignment)
        .options(
            joinedload(Assignment.reviewer),
            joinedload(Assignment.application),
            selectinload(Assignment.reviews),
        )
        .where(Assignment.call_id == call.id)
    ).all()
    conflicted = ops.conflicted_pairs(call)
    hidden = assessment_hidden_ids(current_user, call)
    set_aside = sum(
        1
        for a in assignments
        if (a.application_id, a.reviewer_id) in conflicted
        and a.reviews
        and a.application_id not in hidden
    )
    assignments = [a for a in assignments if (a.application_id, a.reviewer_id) not in conflicted]
    late = call.review_deadline is not None and call.review_deadline < utcnow()
    reviewers: dict[int, dict[str, Any]] = {}
    applications: dict[int, dict[str, Any]] = {}
    for a in assignments:
        current = a.current_review
        done = current is not None and current.status == "submitted"
        row = reviewers.setdefault(
            a.reviewer_id, {"name": a.reviewer.name, "assigned": 0, "submitted": 0, "drafts": 0}
        )
        row["assigned"] += 1
        row["submitted"] += done
        row["drafts"] += current is not None and not done
        if a.application_id in hidden:
            continue  # the viewer's own conflict: no scores, no disagreement, no consensus
        app_row = applications.setdefault(
            a.application_id, {"application": a.application, "reviews": [], "due": 0}
        )
        if done:
            app_row["reviews"].append(current)
        else:
            app_row["due"] += 1
    consensus = {
        c.application_id: c
        for c in db.session.scalars(select(Consensus).where(Consensus.call_id == call.id))
        if c.application_id not in hidden
    }
    for row in applications.values():
        row["spread"] = ops.score_spread(call, row["reviews"])
        row["disagreement"] = row["spread"] is not None and row["spread"] > (
            call.disagreement_threshold
        )
    return render_template(
        "reviews/progress.html",
        call=call,
        late=late,
        reviewers=sorted(reviewers.values(), key=lambda r: r["name"]),
        applications=sorted(applications.values(), key=lambda r: r["application"].reference or ""),
        consensus=consensus,
        hidden=len(hidden),
        set_aside=set_aside,
        confirm_form=ConfirmForm(),
    )


@bp.route("/manage/calls/<int:call_id>/panel/reminders", methods=["POST"])
@login_required
def reminders(call_id: int) -> Response:
    """E-mail every reviewer with unfinished reviews."""
    call = _call_for_panel(call_id)
    if ConfirmForm().validate_on_submit():
        count = ops.send_reminders(current_user, call)
        db.session.commit()
        if count:
            flash(
                ngettext(
                    "A reminder was sent to %(num)d reviewer.",
                    "Reminders were sent to %(num)d reviewers.",
                    count,
                ),
                "success",
            )
        else:
            flash(_("No reviewer has unfinished reviews; no reminder was sent."), "info")
    return redirect(url_for("reviews.progress", call_id=call.id))


@bp.route(
    "/manage/calls/<int:call_id>/panel/consensus/<int:application_id>", methods=["GET", "POST"]
)
@login_required
def consensus(call_id: int, application_id: int) -> Response | str:
    """The chair records the panel's agreed scores for one application."""
    call = _call_for_panel(call_id)
    application = db.get_or_404(Application, application_id)
    if application.call_id != call.id or application.status != "submitted":
        abort(404)
    require(can_see_assessments(current_user, application), hide=True)
    existing = db.session.scalar(
        select(Consensus).where(Consensus.application_id == application.id)
    )
    data = None
    if existing and request.method == "GET":
        data = {
            "justification": existing.justification,
            "majority": existing.majority_view,
            "minority": existing.minority_view,
            **{f"score_{k}": v for k, v in existing.scores.items()},
        }
    form = consensus_form(call, data=data)
    if form.validate_on_submit():
        try:
            ops.save_consensus(
                current_user,
                application,
                scores={str(c.id): form[f"score_{c.id}"].data for c in call.criteria},
                justification=form.justification.data or "",
                majority=form.majority.data or "",
                minority=form.minority.data or "",
            )
        except OperationError as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
        else:
            db.session.commit()
            flash(_("The consensus is recorded."), "success")
            return redirect(url_for("reviews.progress", call_id=call.id))
    every = list(
        db.session.scalars(
            select(Assignment)
            .options(selectinload(Assignment.reviews), joinedload(Assignment.reviewer))
            .where(Assignment.application_id == application.id)
        )
    )
    conflicts = {
        c.reviewer_id: c
        for c in db.session.scalars(
            select(Conflict)
            .options(joinedload(Conflict.created_by))
            .where(Conflict.application_id == application.id)
        )
    }
    assigned = [a for a in every if a.reviewer_id not in conflicts]
    # Reviews of a reviewer found conflicted later: kept, shown as set aside, never counted.
    set_aside = [
        (a, conflicts[a.reviewer_id]) for a in every if a.reviewer_id in conflicts and a.reviews
    ]
    reviews = [
        a.current_review
        for a in assigned
        if a.current_review and a.current_review.status == "submitted"
    ]
    # Amended reviews: every submitted version stays visible to the chair.
    history = [v for a in assigned for v in a.reviews[:-1] if v.status == "submitted"]
    return render_template(
        "reviews/consensus.html",
        call=call,
        application=application,
        form=form,
        reviews=reviews,
        history=history,
        set_aside=set_aside,
        reason_label=lambda code: label(CONFLICT_REASON_LABELS, code),
        can_release=can_release_comments(current_user, call),
        release_form=ReleaseForm(),
    )


@bp.route(
    "/manage/calls/<int:call_id>/panel/consensus/<int:application_id>/comments/<int:assignment_id>",
    methods=["POST"],
)
@login_required
def release_comments(call_id: int, application_id: int, assignment_id: int) -> Response:
    """The chair releases a review's comments to the applicants (anonymised), or withholds
    them again."""
    call = _call_for_panel(call_id)
    require(can_release_comments(current_user, call))
    assignment = db.get_or_404(Assignment, assignment_id)
    if assignment.call_id != call.id or assignment.application_id != application_id:
        abort(404)
    require(can_release_comments_on(current_user, assignment.application))
    form = ReleaseForm()
    if form.validate_on_submit():
        try:
            decision_ops.set_comments_released(current_user, assignment, form.wanted())
        except OperationError as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
        else:
            db.session.commit()
            flash(
                _("The comments are released to the applicants, without the reviewer's name.")
                if form.wanted()
                else _("The comments are withheld from the applicants."),
                "success",
            )
    return redirect(
        url_for("reviews.consensus", call_id=call.id, application_id=application_id) + "#comments"
    )
