"""The programme officer's pages: calls, their texts, criteria and publication."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response

from grants.calls import operations as ops
from grants.calls.forms import (
    CallCreateForm,
    CallSettingsForm,
    CallTextsForm,
    ConfirmForm,
    PublishForm,
    criterion_form,
)
from grants.calls.models import Call, Criterion, Funder
from grants.domain.texts import missing_languages
from grants.domain.vocabulary import CONTENT_LANGUAGES
from grants.errors import OperationError
from grants.extensions import db
from grants.labels import PROBLEM_LABELS, label
from grants.pagination import paginate
from grants.permissions import (
    can_create_call,
    can_manage_call,
    can_use_officer_area,
    officer_funder_ids,
    require,
)

bp = Blueprint("calls", __name__, url_prefix="/manage")


def _load_call(call_id: int) -> Call:
    call = db.session.scalar(
        select(Call)
        .options(joinedload(Call.funder), selectinload(Call.criteria))
        .where(Call.id == call_id)
    )
    if call is None:
        abort(404)
    require(can_manage_call(current_user, call), hide=True)
    return call


def _settings(form: CallSettingsForm) -> dict[str, Any]:
    return {
        "reference_prefix": form.reference_prefix.data,
        "default_language": form.default_language.data,
        "timezone": form.timezone.data,
        "opens_at": form.aware(form.opens_at.data),
        "closes_at": form.aware(form.closes_at.data),
        "currency": form.currency.data,
        "budget_envelope": form.budget_envelope.data,
        "grant_min": form.grant_min.data,
        "grant_max": form.grant_max.data,
        "min_partners": form.min_partners.data,
        "min_countries": form.min_countries.data,
        "required_regions": sorted(form.required_regions.data or []),
        "artforms": list(form.artforms.data or []),
        "languages": sorted(form.languages.data or []),
        "score_min": form.score_min.data,
        "score_max": form.score_max.data,
        "score_step": Decimal(form.score_step.data or "0.5"),
        "reviews_per_application": form.reviews_per_application.data,
    }


def _field_error(form: Any, exc: OperationError) -> None:
    if exc.field and exc.field in form:
        form[exc.field].errors = [*form[exc.field].errors, str(exc.message)]
    else:
        flash(str(exc.message), "error")


@bp.route("/")
@login_required
def dashboard() -> str:
    """The calls of every funder the officer works for."""
    require(can_use_officer_area(current_user))
    funder_ids = officer_funder_ids(current_user)
    funders = db.session.scalars(
        select(Funder).where(Funder.id.in_(funder_ids)).order_by(Funder.name)
    ).all()
    query = (
        select(Call)
        .options(joinedload(Call.funder))
        .where(Call.funder_id.in_(funder_ids))
        .order_by(Call.closes_at.desc(), Call.id.desc())
    )
    return render_template("calls/dashboard.html", funders=funders, page=paginate(query))


@bp.route("/funders/<int:funder_id>/calls/new", methods=["GET", "POST"])
@login_required
def new_call(funder_id: int) -> Response | str:
    """Create a draft call."""
    funder = db.get_or_404(Funder, funder_id)
    require(can_create_call(current_user, funder), hide=True)
    form = CallCreateForm()
    if request.method == "GET":
        form.timezone.data = current_user.timezone
        form.default_language.data = current_user.locale
        form.currency.data = "EUR"
        form.artforms.data = []
    if form.validate_on_submit():
        try:
            call = ops.create_call(
                current_user,
                funder,
                title=form.title.data or "",
                summary=form.summary.data or "",
                **_settings(form),
            )
        except OperationError as exc:
            _field_error(form, exc)
        else:
            db.session.commit()
            flash(
                _("The call is created as a draft. Add its criteria, then publish it."), "success"
            )
            return redirect(url_for("calls.overview", call_id=call.id))
    return render_template("calls/new.html", form=form, funder=funder)


@bp.route("/calls/<int:call_id>")
@login_required
def overview(call_id: int) -> str:
    """Readiness, translations and criteria of one call."""
    call = _load_call(call_id)
    problems = [label(PROBLEM_LABELS, p) for p in ops.publication_check(call)]
    languages = call.content_languages
    missing = {
        field: missing_languages(getattr(call, field), languages)
        for field in ("title", "summary", "description")
    }
    return render_template(
        "calls/overview.html",
        call=call,
        problems=problems,
        missing=missing,
        publish_form=PublishForm(),
        confirm_form=ConfirmForm(),
        all_languages=sorted(CONTENT_LANGUAGES),
    )


@bp.route("/calls/<int:call_id>/settings", methods=["GET", "POST"])
@login_required
def settings(call_id: int) -> Response | str:
    """Edit every setting of the call."""
    call = _load_call(call_id)
    form = CallSettingsForm(obj=call)
    if request.method == "GET":
        zone = ZoneInfo(call.timezone)
        form.opens_at.data = call.opens_at.astimezone(zone).replace(tzinfo=None)
        form.closes_at.data = call.closes_at.astimezone(zone).replace(tzinfo=None)
        form.score_step.data = str(call.score_step.normalize())
    if form.validate_on_submit():
        try:
            ops.update_call_settings(current_user, call, **_settings(form))
        except OperationError as exc:
            db.session.rollback()
            _field_error(form, exc)
        else:
            db.session.commit()
            flash(_("The call's settings are saved."), "success")
            return redirect(url_for("calls.overview", call_id=call.id))
    return render_template("calls/settings.html", form=form, call=call)


@bp.route("/calls/<int:call_id>/texts/<lang>", methods=["GET", "POST"])
@login_required
def texts(call_id: int, lang: str) -> Response | str:
    """The call's title, summary and description in one language."""
    call = _load_call(call_id)
    if lang not in CONTENT_LANGUAGES:
        abort(404)
    form = CallTextsForm()
    if request.method == "GET":
        form.title.data = (call.title or {}).get(lang, "")
        form.summary.data = (call.summary or {}).get(lang, "")
        form.description.data = (call.description or {}).get(lang, "")
    if form.validate_on_submit():
        try:
            ops.set_call_texts(
                current_user,
                call,
                lang,
                title=form.title.data or "",
                summary=form.summary.data or "",
                description=form.description.data or "",
            )
        except OperationError as exc:
            db.session.rollback()
            _field_error(form, exc)
        else:
            db.session.commit()
            flash(_("The texts are saved."), "success")
            return redirect(url_for("calls.overview", call_id=call.id))
    return render_template("calls/texts.html", form=form, call=call, lang=lang)


@bp.route("/calls/<int:call_id>/translations")
@login_required
def add_translation(call_id: int) -> Response:
    """Go to the texts page of the language chosen in the "add a translation" list."""
    call = _load_call(call_id)
    lang = request.args.get("lang", "")
    if lang not in CONTENT_LANGUAGES:
        flash(_("Choose a language from the list."), "error")
        return redirect(url_for("calls.overview", call_id=call.id))
    return redirect(url_for("calls.texts", call_id=call.id, lang=lang))


def _criterion_values(form: Any, levels: list[str]) -> dict[str, Any]:
    return {
        "weight": form.weight.data,
        "threshold": form.threshold.data,
        "name": form.name.data or "",
        "description": form.description.data or "",
        "descriptors": {level: form[f"level_{level}"].data or "" for level in levels},
    }


@bp.route("/calls/<int:call_id>/criteria/new", methods=["GET", "POST"])
@login_required
def new_criterion(call_id: int) -> Response | str:
    """Add a criterion, written in the call's default language."""
    call = _load_call(call_id)
    levels = ops.score_levels(call)
    form = criterion_form(levels)
    lang = call.default_language
    if form.validate_on_submit():
        try:
            ops.add_criterion(current_user, call, language=lang, **_criterion_values(form, levels))
        except OperationError as exc:
            db.session.rollback()
            _field_error(form, exc)
        else:
            db.session.commit()
            flash(_("The criterion is added."), "success")
            return redirect(url_for("calls.overview", call_id=call.id))
    return render_template(
        "calls/criterion.html", form=form, call=call, criterion=None, levels=levels, lang=lang
    )


@bp.route("/calls/<int:call_id>/criteria/<int:criterion_id>/<lang>", methods=["GET", "POST"])
@login_required
def edit_criterion(call_id: int, criterion_id: int, lang: str) -> Response | str:
    """Change a criterion's weight and threshold, and its texts in one language."""
    call = _load_call(call_id)
    criterion = db.get_or_404(Criterion, criterion_id)
    if criterion.call_id != call.id or lang not in CONTENT_LANGUAGES:
        abort(404)
    levels = ops.score_levels(call)
    data = {
        "weight": criterion.weight,
        "threshold": criterion.threshold,
        "name": (criterion.name or {}).get(lang, ""),
        "description": (criterion.description or {}).get(lang, ""),
        **{f"level_{lv}": (criterion.descriptors or {}).get(lang, {}).get(lv, "") for lv in levels},
    }
    form = criterion_form(levels, data=data)
    if form.validate_on_submit():
        try:
            ops.update_criterion(
                current_user, criterion, language=lang, **_criterion_values(form, levels)
            )
        except OperationError as exc:
            db.session.rollback()
            _field_error(form, exc)
        else:
            db.session.commit()
            flash(_("The criterion is saved."), "success")
            return redirect(url_for("calls.overview", call_id=call.id))
    return render_template(
        "calls/criterion.html",
        form=form,
        call=call,
        criterion=criterion,
        levels=levels,
        lang=lang,
        delete_form=ConfirmForm(),
    )


@bp.route("/calls/<int:call_id>/criteria/<int:criterion_id>/delete", methods=["POST"])
@login_required
def delete_criterion(call_id: int, criterion_id: int) -> Response:
    """Remove a criterion from a draft call."""
    call = _load_call(call_id)
    criterion = db.get_or_404(Criterion, criterion_id)
    if criterion.call_id != call.id:
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            ops.remove_criterion(current_user, criterion)
        except OperationError as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
        else:
            db.session.commit()
            flash(_("The criterion is removed."), "success")
    return redirect(url_for("calls.overview", call_id=call.id))


@bp.route("/calls/<int:call_id>/publish", methods=["POST"])
@login_required
def publish(call_id: int) -> Response:
    """Publish the call when nothing stops it."""
    call = _load_call(call_id)
    form = PublishForm()
    if form.validate_on_submit():
        try:
            ops.publish_call(current_user, call)
        except OperationError as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
        else:
            db.session.commit()
            flash(_("The call is published."), "success")
    return redirect(url_for("calls.overview", call_id=call.id))
