"""The programme officer's pages: calls, texts, criteria, questions, rates, publication."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response

from grants import i18n
from grants.applications.models import Application, Partner
from grants.calls import operations as ops
from grants.calls.forms import (
    TIER_LABELS,
    CallCreateForm,
    CallSettingsForm,
    CallTextsForm,
    ConfirmForm,
    EquityPolicyForm,
    ExchangeRateForm,
    PublishForm,
    QuestionForm,
    TierOverrideForm,
    criterion_form,
)
from grants.calls.models import Call, CallQuestion, Criterion, ExchangeRate, Funder
from grants.calls.statistics import equity_statistics
from grants.domain.countries import countries
from grants.domain.texts import missing_languages
from grants.domain.vocabulary import CONTENT_LANGUAGES
from grants.errors import OperationError
from grants.extensions import db
from grants.forms import field_error
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
        "required_attachments": form.required_attachments.data or 0,
        "review_deadline": form.aware(form.review_deadline.data)
        if form.review_deadline.data
        else None,
        "blind": bool(form.blind.data),
        "reviews_visible_after_submit": bool(form.reviews_visible_after_submit.data),
        "disagreement_threshold": form.disagreement_threshold.data
        if form.disagreement_threshold.data is not None
        else Decimal("1.5"),
        "appeal_days": form.appeal_days.data if form.appeal_days.data is not None else 14,
        "results_pseudonymous": bool(form.results_pseudonymous.data),
    }


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
            field_error(form, exc)
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
    submitted = db.session.scalar(
        select(func.count(Application.id)).where(
            Application.call_id == call.id, Application.status == "submitted"
        )
    )
    return render_template(
        "calls/overview.html",
        call=call,
        problems=problems,
        missing=missing,
        publish_form=PublishForm(),
        confirm_form=ConfirmForm(),
        all_languages=sorted(CONTENT_LANGUAGES),
        submitted_count=submitted or 0,
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
        if call.review_deadline:
            form.review_deadline.data = call.review_deadline.astimezone(zone).replace(tzinfo=None)
        form.score_step.data = str(call.score_step.normalize())
        exponent = Decimal(1).scaleb(-i18n.currency_precision(call.currency))
        for money in (form.budget_envelope, form.grant_min, form.grant_max):
            money.data = money.data.quantize(exponent)
    if form.validate_on_submit():
        try:
            ops.update_call_settings(current_user, call, **_settings(form))
        except OperationError as exc:
            db.session.rollback()
            field_error(form, exc)
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
            field_error(form, exc)
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
            field_error(form, exc)
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
            field_error(form, exc)
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


def _question_values(form: QuestionForm) -> dict[str, Any]:
    return {
        "text": form.text.data or "",
        "guidance": form.guidance.data or "",
        "required": bool(form.required.data),
        "max_words": form.max_words.data,
    }


def _load_question(call: Call, question_id: int) -> CallQuestion:
    question = db.get_or_404(CallQuestion, question_id)
    if question.call_id != call.id:
        abort(404)
    return question


@bp.route("/calls/<int:call_id>/questions/new", methods=["GET", "POST"])
@login_required
def new_question(call_id: int) -> Response | str:
    """Add a question for applicants, written in the call's default language."""
    call = _load_call(call_id)
    form = QuestionForm()
    lang = call.default_language
    if form.validate_on_submit():
        try:
            ops.add_question(current_user, call, language=lang, **_question_values(form))
        except OperationError as exc:
            db.session.rollback()
            field_error(form, exc)
        else:
            db.session.commit()
            flash(_("The question is added."), "success")
            return redirect(url_for("calls.overview", call_id=call.id))
    return render_template("calls/question.html", form=form, call=call, question=None, lang=lang)


@bp.route("/calls/<int:call_id>/questions/<int:question_id>/<lang>", methods=["GET", "POST"])
@login_required
def edit_question(call_id: int, question_id: int, lang: str) -> Response | str:
    """Change whether a question must be answered, its word limit and its texts in one language."""
    call = _load_call(call_id)
    question = _load_question(call, question_id)
    if lang not in CONTENT_LANGUAGES:
        abort(404)
    form = QuestionForm(
        data={
            "text": (question.text or {}).get(lang, ""),
            "guidance": (question.guidance or {}).get(lang, ""),
            "required": question.required,
            "max_words": question.max_words,
        }
    )
    if form.validate_on_submit():
        try:
            ops.update_question(current_user, question, language=lang, **_question_values(form))
        except OperationError as exc:
            db.session.rollback()
            field_error(form, exc)
        else:
            db.session.commit()
            flash(_("The question is saved."), "success")
            return redirect(url_for("calls.overview", call_id=call.id))
    return render_template(
        "calls/question.html",
        form=form,
        call=call,
        question=question,
        lang=lang,
        delete_form=ConfirmForm(),
    )


@bp.route("/calls/<int:call_id>/questions/<int:question_id>/delete", methods=["POST"])
@login_required
def delete_question(call_id: int, question_id: int) -> Response:
    """Remove a question from a draft call."""
    call = _load_call(call_id)
    question = _load_question(call, question_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            ops.remove_question(current_user, question)
        except OperationError as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
        else:
            db.session.commit()
            flash(_("The question is removed."), "success")
    return redirect(url_for("calls.overview", call_id=call.id))


@bp.route("/calls/<int:call_id>/rates", methods=["GET", "POST"])
@login_required
def rates(call_id: int) -> Response | str:
    """The call's fixed exchange rates, with a form to add or change one."""
    call = _load_call(call_id)
    form = ExchangeRateForm(call.currency)
    if request.method == "GET":
        # "Change" links prefill the form with the rate they stand beside.
        chosen = request.args.get("currency", "")
        current = next((r for r in call.exchange_rates if r.currency == chosen), None)
        if current is not None:
            form.currency.data = current.currency
            form.rate.data = Decimal(format(current.rate.normalize(), "f"))
            form.source.data = current.source
    if form.validate_on_submit():
        try:
            ops.set_exchange_rate(
                current_user,
                call,
                currency=form.currency.data or "",
                rate=form.rate.data,
                source=form.source.data or "",
            )
        except OperationError as exc:
            db.session.rollback()
            field_error(form, exc)
        else:
            db.session.commit()
            flash(_("The exchange rate is saved."), "success")
            return redirect(url_for("calls.rates", call_id=call.id))
    query = (
        select(ExchangeRate).where(ExchangeRate.call_id == call.id).order_by(ExchangeRate.currency)
    )
    return render_template(
        "calls/rates.html",
        form=form,
        call=call,
        page=paginate(query),
        remove_form=ConfirmForm(),
        exact_number=i18n.format_exact_number,
        currency_name=i18n.currency_name,
    )


@bp.route("/calls/<int:call_id>/rates/<currency>/remove", methods=["POST"])
@login_required
def remove_rate(call_id: int, currency: str) -> Response:
    """Take a currency off the call's fixed rates."""
    call = _load_call(call_id)
    rate = db.session.scalar(
        select(ExchangeRate).where(
            ExchangeRate.call_id == call.id, ExchangeRate.currency == currency
        )
    )
    if rate is None:
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        ops.remove_exchange_rate(current_user, rate)
        db.session.commit()
        flash(_("The exchange rate is removed."), "success")
    return redirect(url_for("calls.rates", call_id=call.id))


@bp.route("/calls/<int:call_id>/applications")
@login_required
def submitted_applications(call_id: int) -> str:
    """The call's submitted and withdrawn applications."""
    call = _load_call(call_id)
    query = (
        select(Application)
        .options(selectinload(Application.partners).joinedload(Partner.organisation))
        .where(
            Application.call_id == call.id,
            Application.status.in_(("submitted", "withdrawn")),
        )
        .order_by(Application.reference, Application.id)
    )
    return render_template(
        "calls/applications.html",
        call=call,
        page=paginate(query),
        # The application pages belong to another package; link them once they exist.
        can_link=("applications.view" in current_app.view_functions),
    )


def _load_with_overrides(call_id: int) -> Call:
    call = _load_call(call_id)
    call.tier_overrides  # noqa: B018 - loaded now, in one query, for the page and the policy
    return call


@bp.route("/calls/<int:call_id>/equity", methods=["GET", "POST"])
@login_required
def equity(call_id: int) -> Response | str:
    """The call's equity policy: weight, capacity weights, funding-rate limits, tier overrides."""
    call = _load_with_overrides(call_id)
    form = EquityPolicyForm()
    if request.method == "GET":
        form.equity_weight.data = Decimal(call.equity_weight)
        for tier in range(4):
            form[f"capacity_{tier}"].data = Decimal(call.capacity_weights[tier])
            form[f"rate_{tier}"].data = Decimal(call.max_funding_rates[tier])
    if form.validate_on_submit():
        try:
            ops.update_equity_policy(
                current_user,
                call,
                equity_weight=form.equity_weight.data,
                capacity=form.capacities(),
                max_funding_rates=form.rates(),
            )
        except OperationError as exc:
            db.session.rollback()
            field_error(form, exc)
        else:
            db.session.commit()
            flash(
                _("The equity policy is saved. Every application's equity panel now uses it."),
                "success",
            )
            return redirect(url_for("calls.equity", call_id=call.id))
    return _equity_page(call, form, TierOverrideForm())


def _equity_page(call: Call, form: EquityPolicyForm, override_form: TierOverrideForm) -> str:
    policy = call.equity_policy()
    unclassified = sorted(
        (code for code in countries() if policy.tier_of(code) is None),
        key=lambda code: i18n.sort_key(i18n.country_name(code)),
    )
    return render_template(
        "calls/equity.html",
        call=call,
        form=form,
        override_form=override_form,
        policy=policy,
        unclassified=unclassified,
        tier_labels=TIER_LABELS,
        confirm_form=ConfirmForm(),
    )


@bp.route("/calls/<int:call_id>/equity/tiers", methods=["POST"])
@login_required
def set_tier(call_id: int) -> Response | str:
    """Treat a country as another tier in this call, with a reason."""
    call = _load_with_overrides(call_id)
    override_form = TierOverrideForm()
    if override_form.validate_on_submit():
        try:
            ops.set_tier_override(
                current_user,
                call,
                country=override_form.country.data or "",
                tier=int(override_form.tier.data or 0),
                reason=override_form.reason.data or "",
            )
        except OperationError as exc:
            db.session.rollback()
            field_error(override_form, exc)
        else:
            db.session.commit()
            flash(
                _(
                    "The tier of %(country)s is set for this call.",
                    country=i18n.country_name(override_form.country.data),
                ),
                "success",
            )
            return redirect(url_for("calls.equity", call_id=call.id))
    form = EquityPolicyForm(
        formdata=None,
        data={
            "equity_weight": Decimal(call.equity_weight),
            **{f"capacity_{t}": Decimal(call.capacity_weights[t]) for t in range(4)},
            **{f"rate_{t}": Decimal(call.max_funding_rates[t]) for t in range(4)},
        },
    )
    return _equity_page(call, form, override_form)


@bp.route("/calls/<int:call_id>/equity/tiers/<country>/remove", methods=["POST"])
@login_required
def remove_tier(call_id: int, country: str) -> Response:
    """Go back to the World Bank tier of a country."""
    call = _load_with_overrides(call_id)
    override = next((o for o in call.tier_overrides if o.country == country), None)
    if override is None:
        abort(404)
    if ConfirmForm().validate_on_submit():
        ops.remove_tier_override(current_user, override)
        db.session.commit()
        flash(
            _("%(country)s is back to its World Bank tier.", country=i18n.country_name(country)),
            "success",
        )
    return redirect(url_for("calls.equity", call_id=call.id))


@bp.route("/calls/<int:call_id>/statistics")
@login_required
def statistics(call_id: int) -> str:
    """Submitted applications by tier combination, money by tier, Asia-Europe mobility."""
    call = _load_with_overrides(call_id)
    applications = db.session.scalars(
        select(Application)
        .options(
            selectinload(Application.partners).joinedload(Partner.organisation),
            selectinload(Application.flows),
        )
        .where(Application.call_id == call.id, Application.status == "submitted")
    ).all()
    return render_template(
        "calls/statistics.html", call=call, stats=equity_statistics(call, applications)
    )
