"""Public pages."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import select, text
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response

from grants.auth.operations import set_locale
from grants.calls.models import Call
from grants.domain.workflow import CallStatus
from grants.extensions import db
from grants.pagination import paginate
from grants.permissions import can_view_call, require
from grants.types import utcnow
from grants.urls import safe_next

bp = Blueprint("public", __name__)


@bp.route("/")
def index() -> str:
    """Calls that are open or about to open, soonest deadline first."""
    query = (
        select(Call)
        .options(joinedload(Call.funder))
        .where(Call.status == CallStatus.PUBLISHED, Call.closes_at > utcnow())
        .order_by(Call.closes_at, Call.id)
    )
    return render_template("public/index.html", page=paginate(query))


@bp.route("/calls/<int:call_id>")
def call_detail(call_id: int) -> str:
    """A call's page in the reader's language, deadline in two time zones."""
    call = db.session.scalar(
        select(Call)
        .options(
            joinedload(Call.funder),
            selectinload(Call.criteria),
            selectinload(Call.tier_overrides),
        )
        .where(Call.id == call_id)
    )
    if call is None:
        require(False, hide=True)
    require(can_view_call(current_user, call), hide=True)
    return render_template("public/call.html", call=call)


@bp.route("/language", methods=["POST"])
def set_language() -> Response:
    """The language picker: saved on the account, or in the session when signed out."""
    lang = request.form.get("lang", "")
    target = safe_next(request.form.get("next"), url_for("public.index"))
    if lang not in current_app.config["LANGUAGES"]:
        return redirect(target)
    session["lang"] = lang
    if current_user.is_authenticated:
        set_locale(current_user, lang)
        db.session.commit()
    return redirect(target)


@bp.route("/health")
def health() -> tuple[str, int]:
    """Liveness and database check for load balancers."""
    db.session.execute(text("SELECT 1"))
    return "ok", 200
