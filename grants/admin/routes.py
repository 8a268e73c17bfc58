"""Administration: funders and their officers, the e-mail outbox, the audit log."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from grants.actions import confirmed_action
from grants.audit.models import AuditEntry
from grants.audit.verify import verify_stored_chain
from grants.auth.models import User
from grants.calls import operations as ops
from grants.calls.forms import AddOfficerForm, ConfirmForm, FunderForm
from grants.calls.models import Funder, FunderOfficer
from grants.errors import OperationError
from grants.extensions import db
from grants.labels import AUDIT_ACTION_LABELS, SUBJECT_LABELS, label
from grants.mail.models import OutboxMessage
from grants.mail.operations import retry_message
from grants.pagination import paginate
from grants.permissions import (
    can_manage_funders,
    can_retry_mail,
    can_view_audit_log,
    can_view_outbox,
    require,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/")
@login_required
def funders() -> str:
    """Every funder with its number of officers."""
    require(can_manage_funders(current_user))
    page = paginate(select(Funder).order_by(Funder.name))
    counts = dict(
        db.session.execute(
            select(FunderOfficer.funder_id, func.count())
            .where(FunderOfficer.funder_id.in_([f.id for f in page.items]))
            .group_by(FunderOfficer.funder_id)
        )
        .tuples()
        .all()
    )
    return render_template("admin/funders.html", page=page, counts=counts)


@bp.route("/funders/new", methods=["GET", "POST"])
@login_required
def new_funder() -> Response | str:
    """Create a funder organisation."""
    require(can_manage_funders(current_user))
    form = FunderForm()
    if form.validate_on_submit():
        try:
            funder = ops.create_funder(
                current_user,
                name=form.name.data or "",
                country=form.country.data or "",
                website=form.website.data,
            )
        except OperationError as exc:
            form.name.errors.append(str(exc.message))
        else:
            db.session.commit()
            flash(_("The funder is created. Now name its programme officers."), "success")
            return redirect(url_for("admin.funder", funder_id=funder.id))
    return render_template("admin/funder_form.html", form=form, funder=None)


@bp.route("/funders/<int:funder_id>", methods=["GET", "POST"])
@login_required
def funder(funder_id: int) -> Response | str:
    """Edit a funder and manage its officers."""
    require(can_manage_funders(current_user))
    funder = db.session.scalar(
        select(Funder)
        .options(joinedload(Funder.officers).joinedload(FunderOfficer.user))
        .where(Funder.id == funder_id)
    )
    if funder is None:
        abort(404)
    form = FunderForm(obj=funder)
    if form.validate_on_submit():
        try:
            ops.update_funder(
                current_user,
                funder,
                name=form.name.data or "",
                country=form.country.data or "",
                website=form.website.data,
            )
        except OperationError as exc:
            db.session.rollback()
            form.name.errors.append(str(exc.message))
        else:
            db.session.commit()
            flash(_("The funder is saved."), "success")
            return redirect(url_for("admin.funder", funder_id=funder.id))
    return render_template(
        "admin/funder_form.html",
        form=form,
        funder=funder,
        officer_form=AddOfficerForm(),
        remove_form=ConfirmForm(),
    )


@bp.route("/funders/<int:funder_id>/officers", methods=["POST"])
@login_required
def add_officer(funder_id: int) -> Response | str:
    """Name a programme officer."""
    require(can_manage_funders(current_user))
    funder = db.get_or_404(Funder, funder_id)
    form = AddOfficerForm()
    if form.validate_on_submit():
        try:
            ops.add_officer(current_user, funder, form.email.data or "")
        except OperationError as exc:
            form.email.errors.append(str(exc.message))
        else:
            db.session.commit()
            flash(_("The officer is added."), "success")
            return redirect(url_for("admin.funder", funder_id=funder.id))
    return render_template(
        "admin/funder_form.html",
        form=FunderForm(obj=funder),
        funder=funder,
        officer_form=form,
        remove_form=ConfirmForm(),
    )


@bp.route("/funders/<int:funder_id>/officers/<int:officer_id>/remove", methods=["POST"])
@login_required
def remove_officer(funder_id: int, officer_id: int) -> Response:
    """Take an officer off a funder."""
    require(can_manage_funders(current_user))
    officer = db.get_or_404(FunderOfficer, officer_id)
    if officer.funder_id != funder_id:
        abort(404)
    if ConfirmForm().validate_on_submit():
        ops.remove_officer(current_user, officer)
        db.session.commit()
        flash(_("The officer is removed."), "success")
    return redirect(url_for("admin.funder", funder_id=funder_id))


@bp.route("/outbox")
@login_required
def outbox() -> str:
    """E-mail waiting, sent and failed (in development: every message written)."""
    require(can_view_outbox(current_user))
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    return render_template(
        "admin/outbox.html",
        page=paginate(query),
        retry_form=ConfirmForm(),
        may_retry=can_retry_mail(current_user),
    )


@bp.route("/outbox/<int:message_id>/retry", methods=["POST"])
@login_required
def retry_mail(message_id: int) -> Response:
    """Send a failed e-mail again: back in the queue with a fresh set of tries."""
    require(can_retry_mail(current_user))
    message = db.get_or_404(OutboxMessage, message_id)
    done, _result = confirmed_action(lambda: retry_message(current_user, message))
    if done:
        flash(_("The e-mail is back in the queue: the mail worker sends it next."), "success")
    return redirect(url_for("admin.outbox", _anchor=f"mail-{message_id}"))


@bp.route("/audit")
@login_required
def audit() -> str:
    """The audit log, newest first, with the result of verifying the whole chain."""
    require(can_view_audit_log(current_user))
    query = select(AuditEntry).order_by(AuditEntry.seq.desc())
    report = verify_stored_chain() if request.args.get("verify") else None
    page = paginate(query)
    actor_ids = {e.actor_id for e in page.items if e.actor_id}
    names = dict(
        db.session.execute(select(User.id, User.name).where(User.id.in_(actor_ids))).tuples().all()
    )
    return render_template(
        "admin/audit.html",
        page=page,
        report=report,
        names=names,
        action_label=lambda code: label(AUDIT_ACTION_LABELS, code),
        subject_label=lambda code: label(SUBJECT_LABELS, code),
    )
