"""Ranking runs for officers and the panel chair."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import SelectField, SubmitField
from wtforms.validators import DataRequired

from grants.calls.models import Call
from grants.decisions import operations as ops
from grants.decisions.models import RankingRun
from grants.domain import ranking as rk
from grants.errors import OperationError
from grants.extensions import db
from grants.forms import choices
from grants.pagination import paginate
from grants.permissions import can_manage_panel, require

bp = Blueprint("decisions", __name__, url_prefix="/manage")

METHOD_LABELS: dict[str, Any] = {
    rk.RAW: _l("Mean of the reviews (or the consensus)"),
    rk.REVIEWER_ADJUSTED: _l("Adjusted for reviewer severity"),
    rk.EXPECTED_RANK: _l("Expected rank (Bayesian model)"),
}
VARIANT_LABELS: dict[str, Any] = {
    "no_equity_weight": _l("Without the equity weight"),
    "equal_weights": _l("With equal criterion weights"),
    "method_raw": METHOD_LABELS[rk.RAW],
    "method_reviewer_adjusted": METHOD_LABELS[rk.REVIEWER_ADJUSTED],
    "method_expected_rank": METHOD_LABELS[rk.EXPECTED_RANK],
}


class RunForm(FlaskForm):
    """Choose the method of a new ranking run."""

    method = SelectField(
        _l("Ranking method"), validators=[DataRequired()], choices=choices(METHOD_LABELS.items())
    )
    submit = SubmitField(_l("Rank the applications"))


def _call(call_id: int) -> Call:
    call = db.get_or_404(Call, call_id)
    require(can_manage_panel(current_user, call), hide=True)
    return call


@bp.route("/calls/<int:call_id>/ranking", methods=["GET", "POST"])
@login_required
def runs(call_id: int) -> Response | str:
    """The call's ranking runs; start a new one."""
    call = _call(call_id)
    form = RunForm()
    if form.validate_on_submit():
        try:
            run = ops.run_ranking(current_user, call, form.method.data or rk.RAW)
        except OperationError as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
        else:
            db.session.commit()
            flash(_("The ranking is computed and recorded in the audit log."), "success")
            return redirect(url_for("decisions.run", call_id=call.id, run_id=run.id))
    page = paginate(
        select(RankingRun).where(RankingRun.call_id == call.id).order_by(RankingRun.id.desc())
    )
    return render_template(
        "decisions/runs.html",
        call=call,
        form=form,
        page=page,
        method_label=lambda m: str(METHOD_LABELS.get(m, m)),
    )


@bp.route("/calls/<int:call_id>/ranking/<int:run_id>")
@login_required
def run(call_id: int, run_id: int) -> str:
    """One run: the ranked list, the funding line, the lottery group and the sensitivity."""
    call = _call(call_id)
    ranking = db.get_or_404(RankingRun, run_id)
    if ranking.call_id != call.id:
        abort(404)
    labels = ranking.inputs.get("labels", {})
    return render_template(
        "decisions/run.html",
        call=call,
        run=ranking,
        labels=labels,
        methods=rk.METHODS,
        method_label=lambda m: str(METHOD_LABELS.get(m, m)),
        variant_label=lambda v: str(VARIANT_LABELS.get(v, v)),
    )
