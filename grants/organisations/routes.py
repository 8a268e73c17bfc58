"""Organisation profiles: mine, new, edit, colleagues and their invitations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response

from grants.auth.operations import ADDRESS_PROOFS
from grants.errors import OperationError
from grants.extensions import db
from grants.forms import field_error
from grants.organisations import operations as ops
from grants.organisations.forms import (
    AddMemberForm,
    AnswerInvitationForm,
    ButtonForm,
    OrganisationForm,
)
from grants.organisations.models import (
    InvitationStatus,
    Organisation,
    OrganisationInvitation,
    OrganisationMember,
)
from grants.pagination import paginate
from grants.permissions import (
    can_answer_invitation,
    can_manage_organisation,
    can_start_application,
    require,
)
from grants.urls import safe_next

bp = Blueprint("organisations", __name__, url_prefix="/organisations")


def _values(form: OrganisationForm) -> dict[str, str | None]:
    return {name: form[name].data for name in ops.FIELDS}


@bp.route("/")
@login_required
def mine() -> str:
    """The organisations I act for."""
    require(can_start_application(current_user))
    query = (
        select(Organisation)
        .join(OrganisationMember)
        .where(OrganisationMember.user_id == current_user.id)
        .order_by(Organisation.name)
    )
    waiting = db.session.scalars(
        select(OrganisationInvitation)
        .options(
            joinedload(OrganisationInvitation.organisation),
            joinedload(OrganisationInvitation.invited_by),
        )
        .where(
            OrganisationInvitation.email == current_user.email,
            OrganisationInvitation.status == InvitationStatus.PENDING,
        )
        .order_by(OrganisationInvitation.sent_at.desc())
        .limit(50)
    ).all()
    return render_template("organisations/mine.html", page=paginate(query), waiting=waiting)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> Response | str:
    """Create an organisation profile; ``next`` returns to where I came from."""
    require(can_start_application(current_user))
    form = OrganisationForm()
    if form.validate_on_submit():
        organisation = ops.create_organisation(current_user, **_values(form))
        db.session.commit()
        flash(_("%(name)s is created. You act for it.", name=organisation.name), "success")
        fallback = url_for("organisations.edit", organisation_id=organisation.id)
        return redirect(safe_next(request.args.get("next"), fallback))
    return render_template("organisations/form.html", form=form, organisation=None)


@bp.route("/<int:organisation_id>", methods=["GET", "POST"])
@login_required
def edit(organisation_id: int) -> Response | str:
    """Edit the profile and see who acts for the organisation."""
    organisation = db.session.scalar(
        select(Organisation)
        .options(
            selectinload(Organisation.members).joinedload(OrganisationMember.user),
            selectinload(Organisation.invitations),
        )
        .where(Organisation.id == organisation_id)
    )
    if organisation is None:
        abort(404)
    require(can_manage_organisation(current_user, organisation), hide=True)
    form = OrganisationForm(obj=organisation)
    if form.validate_on_submit():
        ops.update_organisation(current_user, organisation, **_values(form))
        db.session.commit()
        flash(_("The organisation is saved."), "success")
        return redirect(url_for("organisations.edit", organisation_id=organisation.id))
    return _edit_page(form, organisation, _member_form())


def _member_form(*, submitted: bool = False) -> AddMemberForm:
    """The invite-a-colleague form: the posted one, or an empty one in my language."""
    if submitted:
        return AddMemberForm()
    form = AddMemberForm(formdata=None)
    form.locale.data = current_user.locale
    return form


def _edit_page(
    form: OrganisationForm, organisation: Organisation, member_form: AddMemberForm
) -> str:
    return render_template(
        "organisations/form.html",
        form=form,
        organisation=organisation,
        member_form=member_form,
        pending=ops.pending_member_invitations(organisation),
        button_form_=ButtonForm(),
    )


@bp.route("/<int:organisation_id>/members", methods=["POST"])
@login_required
def add_member(organisation_id: int) -> Response | str:
    """Invite a colleague by e-mail; the page answers the same whether or not the address
    has an account."""
    organisation = db.get_or_404(Organisation, organisation_id)
    require(can_manage_organisation(current_user, organisation), hide=True)
    member_form = _member_form(submitted=True)
    if member_form.validate_on_submit():
        try:
            invitation = ops.invite_member(
                current_user,
                organisation,
                email=member_form.email.data or "",
                locale=member_form.locale.data or "en",
            )
        except OperationError as exc:
            db.session.rollback()
            field_error(member_form, exc)
        else:
            db.session.commit()
            flash(_("An invitation was sent to %(email)s.", email=invitation.email), "success")
            return redirect(
                url_for("organisations.edit", organisation_id=organisation.id) + "#members-h"
            )
    return _edit_page(OrganisationForm(obj=organisation), organisation, member_form)


def _member_invitation(organisation_id: int, invitation_id: int) -> OrganisationInvitation:
    organisation = db.get_or_404(Organisation, organisation_id)
    require(can_manage_organisation(current_user, organisation), hide=True)
    invitation = db.session.get(OrganisationInvitation, invitation_id)
    if invitation is None or invitation.organisation_id != organisation.id:
        abort(404)
    return invitation


def _button(operation: Callable[[], Any], done: str) -> None:
    """Run a one-button action: commit and say so, or roll back and say why."""
    if not ButtonForm().validate_on_submit():
        return
    try:
        operation()
    except OperationError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return
    db.session.commit()
    flash(done, "success")


@bp.route("/<int:organisation_id>/invitations/<int:invitation_id>/resend", methods=["POST"])
@login_required
def resend_invitation(organisation_id: int, invitation_id: int) -> Response:
    """Send a colleague invitation again with a new link."""
    invitation = _member_invitation(organisation_id, invitation_id)
    _button(
        lambda: ops.resend_member_invitation(current_user, invitation),
        _("The invitation is sent again; the earlier link no longer works."),
    )
    return redirect(url_for("organisations.edit", organisation_id=organisation_id) + "#members-h")


@bp.route("/<int:organisation_id>/invitations/<int:invitation_id>/revoke", methods=["POST"])
@login_required
def revoke_invitation(organisation_id: int, invitation_id: int) -> Response:
    """Withdraw a colleague invitation."""
    invitation = _member_invitation(organisation_id, invitation_id)
    _button(
        lambda: ops.revoke_member_invitation(current_user, invitation),
        _("The invitation is withdrawn."),
    )
    return redirect(url_for("organisations.edit", organisation_id=organisation_id) + "#members-h")


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@login_required
def invitation(token: str) -> Response | str | tuple[str, int]:
    """The invited person accepts (or declines) to act for the organisation."""
    try:
        invite = ops.member_invitation_from_token(token)
    except OperationError as exc:
        return render_template(
            "organisations/invitation_invalid.html", message=str(exc.message)
        ), 404
    if not can_answer_invitation(current_user, invite.email):
        return render_template(
            "organisations/invitation_invalid.html", message=str(ops.WRONG_ADDRESS)
        ), 403
    form = AnswerInvitationForm()
    if form.validate_on_submit():
        accepting = bool(form.accept.data)
        try:
            if accepting:
                ops.accept_member_invitation(current_user, invite)
            else:
                ops.decline_member_invitation(current_user, invite)
        except OperationError as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
        else:
            db.session.commit()
            organisation = invite.organisation
            if accepting:
                flash(_("You now act for %(name)s.", name=organisation.name), "success")
                return redirect(url_for("organisations.edit", organisation_id=organisation.id))
            flash(
                _("You declined the invitation to act for %(name)s.", name=organisation.name),
                "info",
            )
            return redirect(url_for("organisations.mine"))
    return render_template("organisations/invitation.html", invitation=invite, form=form)


def _invited_address(token: str) -> str | None:
    """The address a colleague invitation link was sent to, while the link is valid."""
    try:
        return ops.member_invitation_from_token(token).email
    except OperationError:
        return None


# Registering through this link with the invited address proves that address.
ADDRESS_PROOFS["organisations.invitation"] = _invited_address
