"""Organisation profiles: mine, new, edit, colleagues."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from grants.errors import OperationError
from grants.extensions import db
from grants.organisations import operations as ops
from grants.organisations.forms import AddMemberForm, OrganisationForm
from grants.organisations.models import Organisation, OrganisationMember
from grants.pagination import paginate
from grants.permissions import can_manage_organisation, can_start_application, require
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
    return render_template("organisations/mine.html", page=paginate(query))


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
        .options(selectinload(Organisation.members).joinedload(OrganisationMember.user))
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
    return render_template(
        "organisations/form.html", form=form, organisation=organisation, member_form=AddMemberForm()
    )


@bp.route("/<int:organisation_id>/members", methods=["POST"])
@login_required
def add_member(organisation_id: int) -> Response | str:
    """Let a colleague with an account act for the organisation."""
    organisation = db.get_or_404(Organisation, organisation_id)
    require(can_manage_organisation(current_user, organisation), hide=True)
    member_form = AddMemberForm()
    if member_form.validate_on_submit():
        try:
            ops.add_member(current_user, organisation, member_form.email.data or "")
        except OperationError as exc:
            db.session.rollback()
            member_form.email.errors.append(str(exc.message))
        else:
            db.session.commit()
            flash(_("Your colleague can now act for %(name)s.", name=organisation.name), "success")
            return redirect(url_for("organisations.edit", organisation_id=organisation.id))
    return render_template(
        "organisations/form.html",
        form=OrganisationForm(obj=organisation),
        organisation=organisation,
        member_form=member_form,
    )
