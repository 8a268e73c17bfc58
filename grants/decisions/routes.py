"""Ranking runs, the lottery, reduced amounts, four-eyes decisions and appeals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response

from grants.actions import confirmed_action
from grants.applications.models import Application, Partner
from grants.calls.forms import ConfirmForm
from grants.calls.models import Call
from grants.decisions import operations as ops
from grants.decisions.forms import (
    AmountForm,
    AppealOutcomeForm,
    ProposeForm,
    ReturnForm,
    RunForm,
)
from grants.decisions.models import APPROVED, Appeal, Decision, RankingRun
from grants.domain import ranking as rk
from grants.errors import OperationError
from grants.extensions import db
from grants.forms import field_error
from grants.labels import RANKING_METHOD_LABELS, label
from grants.pagination import paginate
from grants.permissions import (
    approvable,
    assessment_hidden_ids,
    can_approve,
    can_decide,
    can_decide_appeal,
    can_decide_on,
    can_manage_panel,
    can_see_assessments,
    decidable,
    require,
)

bp = Blueprint("decisions", __name__, url_prefix="/manage")

VARIANT_LABELS: dict[str, Any] = {
    "no_equity_weight": _l("Without the equity weight"),
    "equal_weights": _l("With equal criterion weights"),
    **{f"method_{m}": text for m, text in RANKING_METHOD_LABELS.items()},
}


def _call(call_id: int) -> Call:
    call = db.get_or_404(Call, call_id)
    require(can_manage_panel(current_user, call), hide=True)
    return call


def _deciding_call(call_id: int) -> Call:
    call = db.get_or_404(Call, call_id)
    require(can_decide(current_user, call), hide=True)
    return call


def _run(call: Call, run_id: int) -> RankingRun:
    ranking = db.get_or_404(RankingRun, run_id)
    if ranking.call_id != call.id:
        abort(404)
    return ranking


def _application(call: Call, application_id: int) -> Application:
    application = db.get_or_404(Application, application_id)
    if application.call_id != call.id or application.status != "submitted":
        abort(404)
    return application


# --- ranking runs and the lottery ----------------------------------------------------------


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
        can_decide=can_decide(current_user, call),
    )


@bp.route("/calls/<int:call_id>/ranking/<int:run_id>")
@login_required
def run(call_id: int, run_id: int) -> str:
    """One run: the ranked list, the funding line, the lottery and the sensitivity."""
    call = _call(call_id)
    ranking = _run(call, run_id)
    hidden_ids = assessment_hidden_ids(current_user, call)
    hidden = set(
        db.session.scalars(select(Application.reference).where(Application.id.in_(hidden_ids)))
    )
    return render_template(
        "decisions/run.html",
        hidden=hidden,
        call=call,
        run=ranking,
        labels={k: f"{k} · {t}" for k, t in ranking.inputs.get("labels", {}).items()},
        methods=rk.METHODS,
        funded=set(ops.funded_by(ranking)),
        can_decide=can_decide(current_user, call),
        confirm_form=ConfirmForm(),
        variant_label=lambda v: label(VARIANT_LABELS, v),
    )


@bp.route("/calls/<int:call_id>/ranking/<int:run_id>/lottery/commit", methods=["POST"])
@login_required
def commit_seed(call_id: int, run_id: int) -> Response:
    """Step 1 of the lottery: commit the hash of a fresh seed to the audit log."""
    call = _deciding_call(call_id)
    ranking = _run(call, run_id)
    done, _draw = confirmed_action(lambda: ops.commit_lottery_seed(current_user, ranking))
    if done:
        flash(
            _("The seed's hash is in the audit log. Draw the lots when you are ready."), "success"
        )
    return redirect(url_for("decisions.run", call_id=call.id, run_id=ranking.id) + "#lottery")


@bp.route("/calls/<int:call_id>/ranking/<int:run_id>/lottery/draw", methods=["POST"])
@login_required
def draw(call_id: int, run_id: int) -> Response:
    """Step 2: reveal the seed and draw the lots."""
    call = _deciding_call(call_id)
    ranking = _run(call, run_id)
    done, _draw = confirmed_action(lambda: ops.draw_lots(current_user, ranking))
    if done:
        flash(_("The lots are drawn and the seed is revealed in the audit log."), "success")
    return redirect(url_for("decisions.run", call_id=call.id, run_id=ranking.id) + "#lottery")


# --- reduced amounts ------------------------------------------------------------------------


@bp.route("/calls/<int:call_id>/amounts")
@login_required
def amounts(call_id: int) -> str:
    """Submitted applications with the amount the funding line counts for each."""
    call = _deciding_call(call_id)
    page = paginate(
        select(Application)
        .options(selectinload(Application.partners))
        .where(Application.call_id == call.id, Application.status == "submitted")
        .order_by(Application.reference)
    )
    allowed = decidable(current_user, call, [a.id for a in page.items])
    rows = [
        {"application": a, "requested": ops.requested_amount(a), "allowed": allowed[a.id]}
        for a in page.items
    ]
    return render_template("decisions/amounts.html", call=call, page=page, rows=rows)


@bp.route("/calls/<int:call_id>/amounts/<int:application_id>", methods=["GET", "POST"])
@login_required
def amount(call_id: int, application_id: int) -> Response | str:
    """Reduce (or restore) the amount the funding line counts for one application."""
    call = _deciding_call(call_id)
    application = _application(call, application_id)
    require(can_decide_on(current_user, application))
    form = AmountForm(
        prefix=f"a{application.id}",
        data={"amount": application.reduced_amount, "reason": application.reduction_reason},
    )
    if form.validate_on_submit():
        try:
            ops.reduce_amount(current_user, application, form.amount.data, form.reason.data or "")
        except OperationError as exc:
            db.session.rollback()
            field_error(form, exc)
        else:
            db.session.commit()
            flash(_("The amount is saved and recorded in the audit log."), "success")
            return redirect(url_for("decisions.amounts", call_id=call.id))
    return render_template(
        "decisions/amount.html",
        call=call,
        application=application,
        requested=ops.requested_amount(application),
        form=form,
    )


# --- four-eyes decisions -------------------------------------------------------------------


def _proposal_rows(
    call: Call, ranking: RankingRun
) -> tuple[list[Application], list[Application], dict[int, Decision]]:
    """Applications the officer may propose for (rank order, then the unranked), those
    left to another officer, and the existing decisions."""
    applications = db.session.scalars(
        select(Application)
        .options(selectinload(Application.partners).joinedload(Partner.organisation))
        .where(Application.call_id == call.id, Application.status == "submitted")
        .order_by(Application.reference)
    ).all()
    existing = {
        d.application_id: d
        for d in db.session.scalars(select(Decision).where(Decision.call_id == call.id))
    }
    ranks = {a["key"]: a["rank"] for a in ranking.result.get("applications", [])}
    ordered = sorted(
        applications, key=lambda a: (a.reference not in ranks, ranks.get(a.reference, 0))
    )
    allowed = decidable(current_user, call, [a.id for a in ordered])
    mine, others = [], []
    for application in ordered:
        decision = existing.get(application.id)
        if decision is not None and decision.status == APPROVED:
            continue
        (mine if allowed[application.id] else others).append(application)
    return mine, others, existing


@bp.route("/calls/<int:call_id>/ranking/<int:run_id>/propose", methods=["GET", "POST"])
@login_required
def propose(call_id: int, run_id: int) -> Response | str:
    """Propose outcomes from a ranking run; another officer approves them."""
    call = _deciding_call(call_id)
    ranking = _run(call, run_id)
    mine, others, existing = _proposal_rows(call, ranking)
    defaults = ops.default_proposals(ranking, mine)
    if request.method == "GET":
        data = []
        for application in mine:
            current = existing.get(application.id)
            suggestion = defaults[application.id]
            source = current if current is not None else suggestion
            data.append(
                {
                    "application_id": str(application.id),
                    "outcome": source.outcome,
                    "amount": source.amount if source.outcome == "funded" else None,
                    "reason": source.reason,
                }
            )
        form = ProposeForm(data={"rows": data})
    else:
        form = ProposeForm()
    by_id = {str(a.id): a for a in mine}
    rows = list(zip(form.rows, mine, strict=False))
    if form.validate_on_submit():
        posted = [entry.form.application_id.data for entry in form.rows]
        if posted != [str(a.id) for a in mine]:
            flash(_("The list of applications changed while you worked; check it again."), "error")
            return redirect(url_for("decisions.propose", call_id=call.id, run_id=ranking.id))
        proposals = [
            ops.Proposal(
                application=by_id[entry.form.application_id.data],
                outcome=entry.form.outcome.data,
                amount=entry.form.amount.data or Decimal(0),
                reason=entry.form.reason.data or "",
            )
            for entry in form.rows
        ]
        try:
            count = ops.propose_decisions(current_user, call, ranking, proposals)
        except OperationError as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
        else:
            db.session.commit()
            flash(
                ngettext(
                    "%(num)d decision is proposed; another officer must approve it.",
                    "%(num)d decisions are proposed; another officer must approve them.",
                    count,
                ),
                "success",
            )
            return redirect(url_for("decisions.decisions", call_id=call.id))
    return render_template(
        "decisions/propose.html",
        call=call,
        run=ranking,
        form=form,
        rows=rows,
        others=others,
        existing=existing,
        requested={a.id: ops.requested_amount(a) for a in mine},
        ranks={a["key"]: a for a in ranking.result.get("applications", [])},
    )


@bp.route("/calls/<int:call_id>/decisions")
@login_required
def decisions(call_id: int) -> str:
    """Every decision of the call with its state; approve, send back, send to applicants."""
    call = _deciding_call(call_id)
    page = paginate(
        select(Decision)
        .options(
            joinedload(Decision.application),
            joinedload(Decision.proposed_by),
            joinedload(Decision.reviewed_by),
        )
        .where(Decision.call_id == call.id)
        .join(Decision.application)
        .order_by(Application.reference)
    )
    totals = dict(
        db.session.execute(
            select(Decision.status, func.count())
            .where(Decision.call_id == call.id)
            .group_by(Decision.status)
        )
        .tuples()
        .all()
    )
    funded_total = db.session.scalar(
        select(func.coalesce(func.sum(Decision.amount), 0)).where(
            Decision.call_id == call.id, Decision.outcome == "funded"
        )
    )
    return render_template(
        "decisions/decisions.html",
        call=call,
        page=page,
        totals=totals,
        funded_total=Decimal(funded_total or 0),
        undecided=len(ops.undecided(call)),
        latest_run=db.session.scalar(
            select(RankingRun)
            .where(RankingRun.call_id == call.id)
            .order_by(RankingRun.id.desc())
            .limit(1)
        ),
        may_approve=approvable(current_user, call, list(page.items)),
        confirm_form=ConfirmForm(),
        return_form=ReturnForm(),
    )


def _decision(call: Call, decision_id: int) -> Decision:
    decision = db.get_or_404(Decision, decision_id)
    if decision.call_id != call.id:
        abort(404)
    return decision


@bp.route("/calls/<int:call_id>/decisions/<int:decision_id>/approve", methods=["POST"])
@login_required
def approve(call_id: int, decision_id: int) -> Response:
    """The second officer approves a proposed decision."""
    call = _deciding_call(call_id)
    decision = _decision(call, decision_id)
    require(can_approve(current_user, decision))
    done, _result = confirmed_action(lambda: ops.approve_decision(current_user, decision))
    if done:
        flash(_("The decision is approved and final."), "success")
    return redirect(url_for("decisions.decisions", call_id=call.id))


@bp.route("/calls/<int:call_id>/decisions/<int:decision_id>/return", methods=["POST"])
@login_required
def send_back(call_id: int, decision_id: int) -> Response:
    """The second officer sends a proposal back with a note."""
    call = _deciding_call(call_id)
    decision = _decision(call, decision_id)
    require(can_approve(current_user, decision))
    form = ReturnForm()
    if form.validate_on_submit():
        try:
            ops.return_decision(current_user, decision, form.note.data or "")
        except OperationError as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
        else:
            db.session.commit()
            flash(_("The proposal is sent back to the officer who made it."), "success")
    else:
        flash(_("Say why the proposal goes back."), "error")
    return redirect(url_for("decisions.decisions", call_id=call.id))


@bp.route("/calls/<int:call_id>/decisions/release", methods=["POST"])
@login_required
def release(call_id: int) -> Response:
    """Send the final decisions to every partner; the appeal window opens."""
    call = _deciding_call(call_id)
    done, count = confirmed_action(lambda: ops.release_decisions(current_user, call))
    if done:
        flash(
            ngettext(
                "%(num)d decision was sent to the applicants.",
                "%(num)d decisions were sent to the applicants.",
                count,
            ),
            "success",
        )
    return redirect(url_for("decisions.decisions", call_id=call.id))


@bp.route("/calls/<int:call_id>/decisions/publish", methods=["POST"])
@login_required
def publish(call_id: int) -> Response:
    """Publish the results: the public page, the open data and the public log."""
    call = _deciding_call(call_id)
    done, _result = confirmed_action(lambda: ops.publish_results(current_user, call))
    if done:
        flash(_("The results are published and the public log is signed."), "success")
        return redirect(url_for("transparency.results", call_id=call.id))
    return redirect(url_for("decisions.decisions", call_id=call.id))


# --- appeals -------------------------------------------------------------------------------


@bp.route("/calls/<int:call_id>/appeals")
@login_required
def appeals(call_id: int) -> str:
    """The call's appeals, open ones first."""
    call = _deciding_call(call_id)
    page = paginate(
        select(Appeal)
        .options(joinedload(Appeal.application), joinedload(Appeal.lodged_by))
        .where(Appeal.call_id == call.id)
        .order_by((Appeal.status != "lodged"), Appeal.lodged_at)
    )
    return render_template(
        "decisions/appeals.html",
        call=call,
        page=page,
        may_decide=_appeals_decidable(list(page.items), call),
    )


def _appeals_decidable(appeals: list[Appeal], call: Call) -> dict[int, bool]:
    """Per appeal of a page: still lodged, and the officer may decide on its application."""
    allowed = decidable(current_user, call, [a.application_id for a in appeals])
    return {a.id: a.status == "lodged" and allowed[a.application_id] for a in appeals}


@bp.route("/calls/<int:call_id>/appeals/<int:appeal_id>", methods=["GET", "POST"])
@login_required
def appeal(call_id: int, appeal_id: int) -> Response | str:
    """One appeal: its grounds, the decision appealed, and the outcome form."""
    call = _deciding_call(call_id)
    item = db.get_or_404(Appeal, appeal_id)
    if item.call_id != call.id:
        abort(404)
    require(can_see_assessments(current_user, item.application), hide=True)
    allowed = can_decide_appeal(current_user, item)
    form = AppealOutcomeForm()
    if request.method == "POST":
        require(allowed)
        if form.validate_on_submit():
            try:
                ops.decide_appeal(current_user, item, form.outcome.data, form.note.data or "")
            except OperationError as exc:
                db.session.rollback()
                flash(str(exc.message), "error")
            else:
                db.session.commit()
                flash(_("The outcome is recorded and the lead partner is told."), "success")
                return redirect(url_for("decisions.appeals", call_id=call.id))
    decision = db.session.scalar(
        select(Decision).where(Decision.application_id == item.application_id)
    )
    return render_template(
        "decisions/appeal.html",
        call=call,
        appeal=item,
        decision=decision,
        form=form,
        allowed=allowed,
    )
