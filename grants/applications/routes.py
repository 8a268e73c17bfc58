"""The applicant's pages: dashboard, the application and each of its sections."""

from __future__ import annotations

from io import BytesIO
from typing import Any, BinaryIO
from urllib.parse import quote

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response

from grants.actions import confirmed_action
from grants.applications import operations as ops
from grants.applications.forms import (
    AcceptForm,
    AnswerForm,
    AttachmentForm,
    BudgetForm,
    FlowForm,
    GeneralForm,
    InviteForm,
    PartnerForm,
    StartForm,
)
from grants.applications.models import (
    Application,
    Attachment,
    Invitation,
    MobilityFlow,
    Partner,
)
from grants.auth.operations import ADDRESS_PROOFS
from grants.calls.forms import ConfirmForm
from grants.calls.models import Call, CallQuestion
from grants.decisions import operations as decision_ops
from grants.decisions.feedback import feedback_for
from grants.decisions.forms import AppealForm
from grants.domain.eligibility import Item
from grants.errors import OperationError
from grants.extensions import db
from grants.forms import choices
from grants.labels import checklist_text
from grants.organisations.models import Organisation
from grants.organisations.operations import my_organisations
from grants.pagination import paginate
from grants.pdf import PdfError, ascii_pdf_name, bounded, safe_pdf_name, without_metadata
from grants.permissions import (
    can_answer_invitation,
    can_appeal,
    can_download_attachment,
    can_edit_partner,
    can_edit_shared_sections,
    can_lead,
    can_see_decision,
    can_start_application,
    can_view_application,
    gets_blind_copy,
    organisation_ids,
    require,
)
from grants.storage import get_storage
from grants.transparency.operations import application_proofs

bp = Blueprint("applications", __name__)

EMPTY_BUDGET_ROWS = 3


def _load(application_id: int) -> Application:
    application = db.session.scalar(
        select(Application)
        .options(
            joinedload(Application.call).selectinload(Call.questions),
            joinedload(Application.call).selectinload(Call.exchange_rates),
            joinedload(Application.call).selectinload(Call.tier_overrides),
            selectinload(Application.partners).joinedload(Partner.organisation),
            selectinload(Application.partners).selectinload(Partner.budget_lines),
            selectinload(Application.partners).joinedload(Partner.contact),
            selectinload(Application.answers),
            selectinload(Application.flows),
            selectinload(Application.attachments),
            selectinload(Application.invitations),
        )
        .where(Application.id == application_id)
    )
    if application is None:
        abort(404)
    require(can_view_application(current_user, application), hide=True)
    return application


def _partner(application: Application, partner_id: int) -> Partner:
    partner = next((p for p in application.partners if p.id == partner_id), None)
    if partner is None:
        abort(404)
    return partner


def _report(outcome: ops.Outcome, message: str) -> None:
    flash(message, "success")
    if outcome.signoffs_cleared:
        flash(
            _(
                "The application changed, so every partner's sign-off was cleared. Each "
                "partner needs to sign again."
            ),
            "warning",
        )


def _field_error(form: Any, exc: OperationError) -> None:
    if exc.field and exc.field in form:
        form[exc.field].errors = [*form[exc.field].errors, str(exc.message)]
    else:
        flash(str(exc.message), "error")


def _save_section(form: Any, operation: Any) -> tuple[ops.Outcome | None, Any]:
    """Save a versioned section: (outcome, None) once committed; (None, conflict) when
    someone saved it meanwhile (the form keeps what was typed and takes the new version);
    (None, None) when refused (the reason is shown beside its field)."""
    try:
        outcome = operation()
    except ops.EditConflict as exc:
        db.session.rollback()
        form.version.data = str(exc.version)
        return None, exc
    except OperationError as exc:
        db.session.rollback()
        _field_error(form, exc)
        return None, None
    db.session.commit()
    return outcome, None


def _back(application: Application, anchor: str = "") -> Response:
    return redirect(url_for("applications.view", application_id=application.id) + anchor)


# --- dashboard and start ----------------------------------------------------------------------


@bp.route("/applications/")
@login_required
def dashboard() -> str:
    """My applications and the invitations waiting for me."""
    mine = organisation_ids(current_user)
    query = (
        select(Application)
        .where(Application.partners.any(Partner.organisation_id.in_(mine)))
        .options(
            joinedload(Application.call).selectinload(Call.questions),
            joinedload(Application.call).selectinload(Call.tier_overrides),
            selectinload(Application.partners).joinedload(Partner.organisation),
            selectinload(Application.partners).selectinload(Partner.budget_lines),
            selectinload(Application.answers),
            selectinload(Application.attachments),
            selectinload(Application.invitations),
        )
        .order_by(Application.updated_at.desc(), Application.id.desc())
    )
    page = paginate(query)
    missing = {
        a.id: [checklist_text(c, a) for c in ops.eligibility(a) if not c.ok] for a in page.items
    }
    invitations = db.session.scalars(
        select(Invitation)
        .options(joinedload(Invitation.application).joinedload(Application.call))
        .where(Invitation.email == current_user.email, Invitation.status == "pending")
        .order_by(Invitation.sent_at.desc())
        .limit(50)
    ).all()
    return render_template(
        "applications/dashboard.html",
        page=page,
        missing=missing,
        invitations=invitations,
        organisations=my_organisations(current_user),
    )


@bp.route("/calls/<int:call_id>/apply", methods=["GET", "POST"])
@login_required
def start(call_id: int) -> Response | str:
    """Start an application to an open call as lead for one of my organisations."""
    require(can_start_application(current_user))
    call = db.get_or_404(Call, call_id)
    if call.status != "published":
        abort(404)
    organisations = my_organisations(current_user)
    form = StartForm()
    form.organisation.choices = choices((str(o.id), o.name) for o in organisations)
    if organisations and form.validate_on_submit():
        organisation = db.session.get(Organisation, int(form.organisation.data))
        try:
            application = ops.start_application(current_user, call, organisation)
        except OperationError as exc:
            _field_error(form, exc)
        else:
            db.session.commit()
            flash(
                _("Your application is started. Invite your partners and fill each section."),
                "success",
            )
            return _back(application)
    return render_template(
        "applications/start.html", call=call, form=form, organisations=organisations
    )


# --- the application page -------------------------------------------------------------------


@bp.route("/applications/<int:application_id>")
@login_required
def view(application_id: int) -> str:
    """Every section, the live checklist, partners, sign-offs and actions; the decision
    and its feedback once the call's decisions are sent."""
    return _render_view(_load(application_id))


def _render_view(application: Application, appeal_form: AppealForm | None = None) -> str:
    feedback = feedback_for(application) if can_see_decision(current_user, application) else None
    if (
        appeal_form is None
        and feedback is not None
        and feedback.appeal is None
        and can_appeal(current_user, application)
    ):
        appeal_form = AppealForm()
    # Proofs of the application's public entries, once the decisions are sent: before that
    # they would show the partnership the steps of a review still under way.
    proof_head, proofs = (
        application_proofs(application.call, application.reference)
        if application.reference
        and application.status != "draft"
        and application.call.decisions_released_at is not None
        else (None, [])
    )
    equity = ops.equity_assessment(application)
    checks = ops.eligibility(application, equity)
    return render_template(
        "applications/view.html",
        application=application,
        call=application.call,
        equity=equity,
        checks=[(c, checklist_text(c, application)) for c in checks],
        blocking_without_signatures=[c for c in checks if not c.ok and c.item != Item.SIGNED],
        can_submit=all(c.ok for c in checks),
        mine=organisation_ids(current_user),
        is_lead=can_lead(current_user, application),
        can_edit=can_edit_shared_sections(current_user, application),
        editable=application.status == "draft" and application.call.phase() == "open",
        invite_form=InviteForm(),
        flow_form=FlowForm(),
        attachment_form=AttachmentForm(),
        confirm_form=ConfirmForm(),
        seen=ops.seen_token(application),
        feedback=feedback,
        appeal_form=appeal_form if can_appeal(current_user, application) else None,
        proof_head=proof_head,
        proofs=proofs,
    )


def _editable_or_back(application: Application) -> Response | None:
    try:
        ops.require_editable(application)
    except OperationError as exc:
        flash(str(exc.message), "error")
        return _back(application)
    return None


@bp.route("/applications/<int:application_id>/general", methods=["GET", "POST"])
@login_required
def general(application_id: int) -> Response | str:
    """Title, summary, artforms and languages."""
    application = _load(application_id)
    require(can_edit_shared_sections(current_user, application), hide=True)
    if (refused := _editable_or_back(application)) is not None:
        return refused
    form = GeneralForm(obj=application if request.method == "GET" else None)
    form.setup(application.call)
    conflict = None
    if request.method == "GET":
        form.version.data = str(application.version)
        form.summary_language.data = application.summary_language or ""
    if form.validate_on_submit():
        outcome, conflict = _save_section(
            form,
            lambda: ops.update_general(
                current_user,
                application,
                version=form.version_number(),
                title=form.title.data or "",
                summary=form.summary.data or "",
                summary_language=form.summary_language.data or None,
                artforms=list(form.artforms.data or []),
                languages=list(form.languages.data or []),
            ),
        )
        if outcome is not None:
            _report(outcome, _("The project section is saved."))
            return _back(application, "#general")
    return render_template(
        "applications/general.html", application=application, form=form, conflict=conflict
    )


@bp.route("/applications/<int:application_id>/answers/<int:question_id>", methods=["GET", "POST"])
@login_required
def answer(application_id: int, question_id: int) -> Response | str:
    """The answer to one of the call's questions."""
    application = _load(application_id)
    require(can_edit_shared_sections(current_user, application), hide=True)
    question = db.get_or_404(CallQuestion, question_id)
    if question.call_id != application.call_id:
        abort(404)
    if (refused := _editable_or_back(application)) is not None:
        return refused
    existing = application.answer_to(question.id)
    form = AnswerForm().setup(application.call)
    conflict = None
    if request.method == "GET":
        form.version.data = str(existing.version if existing else 0)
        form.text.data = existing.text if existing else ""
        form.language.data = (
            existing.language
            if existing
            else application.summary_language or application.call.languages[0]
        )
        form.translation.data = existing.translation if existing else ""
        form.translation_language.data = (existing.translation_language or "") if existing else ""
    if form.validate_on_submit():
        outcome, conflict = _save_section(
            form,
            lambda: ops.save_answer(
                current_user,
                application,
                question,
                version=form.version_number(),
                text=form.text.data or "",
                language=form.language.data or "",
                translation=form.translation.data or "",
                translation_language=form.translation_language.data or None,
            ),
        )
        if outcome is not None:
            _report(outcome, _("Your answer is saved."))
            return _back(application, f"#question-{question.id}")
    return render_template(
        "applications/answer.html",
        application=application,
        question=question,
        form=form,
        conflict=conflict,
    )


@bp.route("/applications/<int:application_id>/partners/<int:partner_id>", methods=["GET", "POST"])
@login_required
def partner(application_id: int, partner_id: int) -> Response | str:
    """A partner's role and money: only that partner edits it."""
    application = _load(application_id)
    member = _partner(application, partner_id)
    require(can_edit_partner(current_user, member), hide=True)
    if (refused := _editable_or_back(application)) is not None:
        return refused
    form = PartnerForm(obj=member if request.method == "GET" else None).setup(application.call)
    conflict = None
    if request.method == "GET":
        form.version.data = str(member.version)
    if form.validate_on_submit():
        outcome, conflict = _save_section(
            form,
            lambda: ops.update_partner(
                current_user,
                member,
                version=form.version_number(),
                role=form.role.data or "",
                currency=form.currency.data or "",
                grant_requested=form.grant_requested.data,
                contribution_cash=form.contribution_cash.data,
                contribution_in_kind=form.contribution_in_kind.data,
            ),
        )
        if outcome is not None:
            _report(outcome, _("Your part of the application is saved."))
            return _back(application, f"#partner-{member.id}")
    return render_template(
        "applications/partner.html",
        application=application,
        partner=member,
        form=form,
        conflict=conflict,
    )


@bp.route(
    "/applications/<int:application_id>/partners/<int:partner_id>/budget", methods=["GET", "POST"]
)
@login_required
def budget(application_id: int, partner_id: int) -> Response | str:
    """A partner's budget lines, which must add up to its part."""
    application = _load(application_id)
    member = _partner(application, partner_id)
    require(can_edit_partner(current_user, member), hide=True)
    if (refused := _editable_or_back(application)) is not None:
        return refused
    if request.method == "GET":
        rows = [
            {"category": line.category, "description": line.description, "amount": line.amount}
            for line in member.budget_lines
        ]
        rows += [{}] * EMPTY_BUDGET_ROWS
        form = BudgetForm(data={"lines": rows, "version": str(member.version)})
    else:
        form = BudgetForm()
    form.setup(member.currency)
    conflict = None
    if form.validate_on_submit():
        outcome, conflict = _save_section(
            form,
            lambda: ops.set_budget_lines(
                current_user, member, version=form.version_number(), lines=form.filled_lines()
            ),
        )
        if outcome is not None:
            _report(outcome, _("The budget is saved."))
            if request.form.get("more_rows"):
                return redirect(
                    url_for(
                        "applications.budget", application_id=application.id, partner_id=member.id
                    )
                )
            return _back(application, f"#partner-{member.id}")
    return render_template(
        "applications/budget.html",
        application=application,
        partner=member,
        form=form,
        conflict=conflict,
    )


@bp.route("/applications/<int:application_id>/partners/<int:partner_id>/remove", methods=["POST"])
@login_required
def remove_partner(application_id: int, partner_id: int) -> Response:
    """The lead removes a partner."""
    application = _load(application_id)
    member = _partner(application, partner_id)
    require(can_lead(current_user, application), hide=True)
    done, outcome = confirmed_action(lambda: ops.remove_partner(current_user, member))
    if done:
        _report(outcome, _("The partner is removed from the application."))
    return _back(application, "#partners")


@bp.route("/applications/<int:application_id>/partners/<int:partner_id>/sign", methods=["POST"])
@login_required
def sign(application_id: int, partner_id: int) -> Response:
    """A partner confirms the final version."""
    application = _load(application_id)
    member = _partner(application, partner_id)
    require(can_edit_partner(current_user, member), hide=True)
    seen = request.form.get("seen", "")  # the version the partner read (view.html)
    done, _result = confirmed_action(lambda: ops.sign_off(current_user, member, seen))
    if done:
        flash(
            _("You have signed the application for %(name)s.", name=member.organisation.name),
            "success",
        )
    return _back(application, "#signoff")


# --- mobility and attachments ----------------------------------------------------------------


@bp.route("/applications/<int:application_id>/flows", methods=["POST"])
@login_required
def add_flow(application_id: int) -> Response | str:
    """Add a journey."""
    application = _load(application_id)
    require(can_edit_shared_sections(current_user, application), hide=True)
    form = FlowForm()
    if form.validate_on_submit():
        try:
            outcome = ops.add_flow(
                current_user,
                application,
                from_country=form.from_country.data or "",
                to_country=form.to_country.data or "",
                people=form.people.data or 0,
                days=form.days.data or 0,
                purpose=form.purpose.data or "",
            )
        except OperationError as exc:
            db.session.rollback()
            _field_error(form, exc)
        else:
            db.session.commit()
            _report(outcome, _("The journey is added."))
            return _back(application, "#mobility")
    # Show the form again with what was typed and what is wrong.
    return render_template("applications/flow.html", application=application, form=form)


@bp.route("/applications/<int:application_id>/flows/<int:flow_id>/delete", methods=["POST"])
@login_required
def delete_flow(application_id: int, flow_id: int) -> Response:
    """Remove a journey."""
    application = _load(application_id)
    require(can_edit_shared_sections(current_user, application), hide=True)
    flow = db.get_or_404(MobilityFlow, flow_id)
    if flow.application_id != application.id:
        abort(404)
    done, outcome = confirmed_action(lambda: ops.remove_flow(current_user, flow))
    if done:
        _report(outcome, _("The journey is removed."))
    return _back(application, "#mobility")


@bp.route("/applications/<int:application_id>/attachments", methods=["POST"])
@login_required
def upload(application_id: int) -> Response | str:
    """Upload a PDF; a refused file leaves everything else as it was."""
    application = _load(application_id)
    require(can_edit_shared_sections(current_user, application), hide=True)
    form = AttachmentForm()
    if form.validate_on_submit():
        storage = form.file.data
        data = storage.read(current_app.config["UPLOAD_MAX_BYTES"] + 1)
        try:
            attachment, outcome = ops.add_attachment(
                current_user, application, storage.filename or "", data
            )
        except OperationError as exc:
            db.session.rollback()
            _field_error(form, exc)
        else:
            db.session.commit()
            _report(outcome, _("The document is uploaded as %(name)s.", name=attachment.label))
            return _back(application, "#attachments")
    return render_template("applications/upload.html", application=application, form=form)


@bp.route("/applications/<int:application_id>/attachments/<int:attachment_id>")
@login_required
def download(application_id: int, attachment_id: int) -> Response | tuple[str, int]:
    """Serve an attachment as a download, never inline.

    Partners and officers get the file exactly as uploaded. A reviewer on a blind call gets a
    copy named after the reference and without the PDF's document metadata; the stored file
    is never changed.
    """
    attachment = db.get_or_404(Attachment, attachment_id)
    if attachment.application_id != application_id:
        abort(404)
    require(can_download_attachment(current_user, attachment), hide=True)
    body: BinaryIO
    if gets_blind_copy(current_user, attachment):
        with get_storage().open(attachment.storage_key) as handle:
            original = handle.read()
        try:
            body = BytesIO(
                bounded(
                    without_metadata,
                    original,
                    seconds=current_app.config["UPLOAD_PARSE_SECONDS"],
                )
            )
        except PdfError as exc:
            # Only files stored before uploads were checked this way can fail here; never
            # send the original instead, it may name its authors.
            current_app.logger.warning(
                "Attachment %s not served on a blind call: %s", attachment.id, exc
            )
            return render_template(
                "errors/error.html",
                code=409,
                message=_(
                    "This document cannot be prepared for blind review, so it is not shown. "
                    "Ask the programme officer of the call for a copy."
                ),
            ), 409
        application = attachment.application
        name = safe_pdf_name(
            f"{application.reference or application.id}-document-{attachment.number}"
        )
    else:
        body = get_storage().open(attachment.storage_key)
        name = attachment.file_name
    response = send_file(
        body, mimetype="application/pdf", as_attachment=True, download_name=name, max_age=0
    )
    if not name.isascii():
        # RFC 6266: filename* carries the UTF-8 name, filename a readable ASCII fallback
        # (Werkzeug's own fallback drops every non-Latin letter and can leave just ".pdf").
        response.headers.set(
            "Content-Disposition",
            "attachment",
            filename=ascii_pdf_name(name),
            **{"filename*": "UTF-8''" + quote(name, safe="!#$&+-.^_`|~")},
        )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route(
    "/applications/<int:application_id>/attachments/<int:attachment_id>/delete", methods=["POST"]
)
@login_required
def delete_attachment(application_id: int, attachment_id: int) -> Response:
    """Remove an attachment."""
    application = _load(application_id)
    require(can_edit_shared_sections(current_user, application), hide=True)
    attachment = next((a for a in application.attachments if a.id == attachment_id), None)
    if attachment is None:
        abort(404)
    key = attachment.storage_key
    done, outcome = confirmed_action(lambda: ops.remove_attachment(current_user, attachment))
    if done:
        get_storage().delete(key)  # only once the removal is committed
        _report(outcome, _("The document is removed."))
    return _back(application, "#attachments")


# --- invitations --------------------------------------------------------------------------


@bp.route("/applications/<int:application_id>/invitations", methods=["POST"])
@login_required
def invite(application_id: int) -> Response | str:
    """The lead invites a partner organisation by e-mail."""
    application = _load(application_id)
    require(can_lead(current_user, application), hide=True)
    form = InviteForm()
    if form.validate_on_submit():
        try:
            ops.invite_partner(
                current_user,
                application,
                email=form.email.data or "",
                locale=form.locale.data or "en",
                message=form.message.data or "",
            )
        except OperationError as exc:
            db.session.rollback()
            _field_error(form, exc)
        else:
            db.session.commit()
            flash(_("The invitation is sent to %(email)s.", email=form.email.data), "success")
            return _back(application, "#partners")
    return render_template("applications/invite.html", application=application, form=form)


def _invitation_action(application_id: int, invitation_id: int) -> tuple[Application, Invitation]:
    application = _load(application_id)
    require(can_lead(current_user, application), hide=True)
    invitation = next((i for i in application.invitations if i.id == invitation_id), None)
    if invitation is None:
        abort(404)
    return application, invitation


@bp.route(
    "/applications/<int:application_id>/invitations/<int:invitation_id>/resend", methods=["POST"]
)
@login_required
def resend_invitation(application_id: int, invitation_id: int) -> Response:
    """Send the invitation again with a new link."""
    application, invitation = _invitation_action(application_id, invitation_id)
    done, _result = confirmed_action(lambda: ops.resend_invitation(current_user, invitation))
    if done:
        flash(_("The invitation is sent again; the earlier link no longer works."), "success")
    return _back(application, "#partners")


@bp.route(
    "/applications/<int:application_id>/invitations/<int:invitation_id>/revoke", methods=["POST"]
)
@login_required
def revoke_invitation(application_id: int, invitation_id: int) -> Response:
    """Withdraw an invitation."""
    application, invitation = _invitation_action(application_id, invitation_id)
    done, _result = confirmed_action(lambda: ops.revoke_invitation(current_user, invitation))
    if done:
        flash(_("The invitation is withdrawn."), "success")
    return _back(application, "#partners")


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@login_required
def invitation(token: str) -> Response | str | tuple[str, int]:
    """Accept an invitation for one of my organisations (or create one first)."""
    try:
        invite = ops.invitation_from_token(token)
    except OperationError as exc:
        return render_template(
            "applications/invitation_invalid.html", message=str(exc.message)
        ), 404
    if not can_answer_invitation(current_user, invite.email):
        return render_template(
            "applications/invitation_invalid.html", message=str(ops.WRONG_ADDRESS)
        ), 403
    application = invite.application
    organisations = [
        o
        for o in my_organisations(current_user)
        if all(p.organisation_id != o.id for p in application.partners)
    ]
    form = AcceptForm()
    form.organisation.choices = choices((str(o.id), o.name) for o in organisations)
    if organisations and form.validate_on_submit():
        organisation = db.session.get(Organisation, int(form.organisation.data))
        try:
            joined = ops.accept_invitation(current_user, invite, organisation)
        except OperationError as exc:
            db.session.rollback()
            _field_error(form, exc)
        else:
            db.session.commit()
            flash(
                _("You have joined the partnership. Fill in your part and your budget."), "success"
            )
            return redirect(
                url_for("applications.partner", application_id=application.id, partner_id=joined.id)
            )
    return render_template(
        "applications/invitation.html",
        invitation=invite,
        application=application,
        form=form,
        organisations=organisations,
        token=token,
    )


def _invited_address(token: str) -> str | None:
    """The address a partner invitation link was sent to, while the link is valid."""
    try:
        return ops.invitation_from_token(token).email
    except OperationError:
        return None


# Registering through this link with the invited address proves that address.
ADDRESS_PROOFS["applications.invitation"] = _invited_address


# --- submission -------------------------------------------------------------------------------


@bp.route("/applications/<int:application_id>/submit", methods=["POST"])
@login_required
def submit(application_id: int) -> Response:
    """The lead submits when every item passes and every partner has signed."""
    application = _load(application_id)
    require(can_lead(current_user, application), hide=True)
    done, reference = confirmed_action(lambda: ops.submit_application(current_user, application))
    if done:
        flash(
            _(
                "Your application is submitted. Its reference is %(reference)s; every "
                "partner receives a receipt by e-mail.",
                reference=reference,
            ),
            "success",
        )
    return _back(application)


@bp.route("/applications/<int:application_id>/appeal", methods=["POST"])
@login_required
def appeal(application_id: int) -> Response | str:
    """The lead appeals against the decision on procedural grounds, within the window."""
    application = _load(application_id)
    require(can_appeal(current_user, application), hide=True)
    form = AppealForm()
    if form.validate_on_submit():
        try:
            decision_ops.lodge_appeal(current_user, application, form.grounds.data or "")
        except OperationError as exc:
            db.session.rollback()
            if exc.field == "grounds":
                form.grounds.errors = [*form.grounds.errors, str(exc.message)]
            else:
                flash(str(exc.message), "error")
                return _back(application)
        else:
            db.session.commit()
            flash(
                _("Your appeal is lodged; the call's officers will tell you the outcome."),
                "success",
            )
            return _back(application)
    return _render_view(application, form)


@bp.route("/applications/<int:application_id>/withdraw", methods=["POST"])
@login_required
def withdraw(application_id: int) -> Response:
    """The lead withdraws a submitted application before the deadline."""
    application = _load(application_id)
    require(can_lead(current_user, application), hide=True)
    done, _result = confirmed_action(lambda: ops.withdraw_application(current_user, application))
    if done:
        flash(_("The application is withdrawn."), "success")
    return _back(application)
