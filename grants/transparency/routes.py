"""Public results, the public log and its proofs, open data, and the read-only JSON API."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from grants.calls.models import Call
from grants.domain.audit_chain import canonical_json
from grants.domain.workflow import CallStatus
from grants.extensions import db
from grants.pagination import paginate
from grants.transparency import keys, records
from grants.transparency import operations as ops
from grants.transparency.export import csv_text
from grants.transparency.models import (
    API_RESULTS,
    API_STATISTICS,
    AWARDS_CSV,
    AWARDS_JSON,
    CALL,
    PublicEntry,
    PublishedRecord,
    TreeHead,
)
from grants.transparency.openapi import openapi_document
from grants.types import utcnow

bp = Blueprint("transparency", __name__)
api = Blueprint("api", __name__, url_prefix="/api")


def _published_call(call_id: int) -> Call:
    """A call open to the public (published); 404 otherwise."""
    call = db.session.scalar(
        select(Call).options(joinedload(Call.funder)).where(Call.id == call_id)
    )
    if call is None or call.status != CallStatus.PUBLISHED:
        abort(404)
    return call


# Published records are the same for every reader: any cache may keep them a few minutes,
# then ask again with the ETag (a 304 costs nothing).
PUBLIC_CACHE = "public, max-age=300"
PRIVATE_CACHE = "private, max-age=300"


def _record_response(
    body: Any,
    etag: str,
    mimetype: str,
    *,
    filename: str | None = None,
    cache: str = PUBLIC_CACHE,
    vary: str | None = None,
) -> Response:
    """A published record with a strong ETag; ``If-None-Match`` with it gets a 304."""
    if cache == PUBLIC_CACHE and current_app.session_interface.should_set_cookie(
        current_app, session
    ):
        # The response will set the reader's session cookie (a signed-in session is renewed
        # on every request): a shared cache must never keep it.
        cache = PRIVATE_CACHE
    if request.if_none_match.contains(etag):
        response = Response(status=304)  # the body (a stream, maybe) is never produced
    else:
        response = Response(body, mimetype=mimetype)
        if filename:
            response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.set_etag(etag)
    response.headers["Cache-Control"] = cache
    if vary:
        response.headers["Vary"] = vary
    return response


def _stored_response(call_id: int, kind: str, *, filename: str | None = None) -> Response:
    """A published record served byte for byte, its SHA-256 as the ETag; 404 if none."""
    _published_call(call_id)
    record = records.stored(call_id, kind)
    if record is None:
        abort(404)
    return _record_response(
        record.content.encode("utf-8"), record.sha256, record.media_type, filename=filename
    )


# --- pages ---------------------------------------------------------------------------------


@bp.route("/calls/<int:call_id>/results")
def results(call_id: int) -> str:
    """The published decisions: funded projects, scores, method, panel, equity figures, as
    they stood at publication (rendered in the reader's language from the stored data)."""
    call = _published_call(call_id)
    data = records.published_results(call.id)
    if data is None:
        abort(404)
    return render_template(
        "transparency/results.html",
        call=data.call,
        results=data,
        heads=ops.tree_heads(call),
        public_key=keys.public_key().hex(),
    )


@bp.route("/results")
def published() -> str:
    """Calls whose results are published, newest first, named as they were published."""
    page = paginate(
        select(PublishedRecord)
        .join(Call, Call.id == PublishedRecord.call_id)
        .where(Call.status == CallStatus.PUBLISHED, PublishedRecord.kind == CALL)
        .order_by(Call.results_published_at.desc(), Call.id)
    )
    cards = [records.published_call(record) for record in page.items]
    return render_template("transparency/published.html", page=page, cards=cards)


@bp.route("/transparency")
def verify_guide() -> str:
    """How anyone can check a call's published log, with the site's public key."""
    return render_template(
        "transparency/verify.html", public_key=keys.public_key().hex(), key_id=keys.key_id()
    )


@bp.route("/calls/<int:call_id>/log.jsonl")
def log_download(call_id: int) -> Response:
    """The public log with its signed tree heads, as JSON Lines (after publication). Its
    header is the one stored at publication and it always ends with a signed tree head."""
    call = _published_call(call_id)
    if not records.has_records(call.id):
        abort(404)

    def lines() -> Iterator[str]:
        for line in ops.export_lines(call):
            yield canonical_json(line) + "\n"

    return _record_response(
        stream_with_context(lines()),
        ops.export_etag(call),
        "application/jsonl",
        filename=f"call-{call.id}-log.jsonl",
    )


@bp.route("/calls/<int:call_id>/awards.json")
def awards_json(call_id: int) -> Response:
    """The awards as a 360Giving 1.4 data package, as published."""
    return _stored_response(call_id, AWARDS_JSON)


@bp.route("/calls/<int:call_id>/awards.csv")
def awards_csv(call_id: int) -> Response:
    """The awards as CSV (column titles in the reader's language, or with ``?titles=360giving``
    the standard's, as published; formulas neutralised)."""
    standard = request.args.get("titles") == "360giving"
    name = f"call-{call_id}-awards{'-360giving' if standard else ''}.csv"
    if standard:
        return _stored_response(call_id, AWARDS_CSV, filename=name)
    _published_call(call_id)
    package = records.published_package(call_id)
    if package is None:
        abort(404)
    # Rendered from the stored package: the titles follow the reader's language (hence a
    # private cache, varying with the language), the cells are those published.
    body = csv_text(package).encode("utf-8")
    return _record_response(
        body,
        records.digest(body),
        "text/csv",
        filename=name,
        cache=PRIVATE_CACHE,
        vary="Accept-Language, Cookie",
    )


# --- JSON API ------------------------------------------------------------------------------


def _money(value: Decimal) -> str:
    return format(value, "f")


def _head(head: TreeHead) -> dict[str, Any]:
    return {k: v for k, v in head.line().items() if k != "kind"}


def _int_arg(name: str) -> int:
    raw = request.args.get(name, "")
    try:
        value = int(raw)
    except ValueError:
        abort(400, description=f"{name} must be an integer")
    if not 0 <= value < 2**31:
        abort(400, description=f"{name} must be between 0 and 2147483647")
    return value


@api.route("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3 description of this API."""
    return jsonify(openapi_document())


@api.route("/public-key")
def public_key() -> Response:
    """The Ed25519 public key that signs every tree head."""
    return jsonify({"public_key": keys.public_key().hex(), "key_id": keys.key_id()})


@api.route("/calls")
def calls() -> Response:
    """Calls open for applications now, soonest deadline first, a page at a time."""
    now = utcnow()
    page = paginate(
        select(Call)
        .options(joinedload(Call.funder))
        .where(Call.status == CallStatus.PUBLISHED, Call.opens_at <= now, Call.closes_at > now)
        .order_by(Call.closes_at, Call.id)
    )
    return jsonify(
        {
            "page": page.page,
            "pages": page.pages,
            "total": page.total,
            "calls": [
                {
                    "id": c.id,
                    "title": c.text("title", c.default_language).text,
                    "funder": c.funder.name,
                    "opens_at": c.opens_at.isoformat(),
                    "closes_at": c.closes_at.isoformat(),
                    "currency": c.currency,
                    "budget": _money(c.budget_envelope),
                    "url": url_for("public.call_detail", call_id=c.id, _external=False),
                }
                for c in page.items
            ],
        }
    )


@api.route("/calls/<int:call_id>/results")
def api_results(call_id: int) -> Response:
    """A published call's results: method, funding line, funded projects, ranked scores."""
    return _stored_response(call_id, API_RESULTS)


@api.route("/calls/<int:call_id>/statistics")
def api_statistics(call_id: int) -> Response:
    """A published call's equity figures by income tier and by region."""
    return _stored_response(call_id, API_STATISTICS)


@api.route("/calls/<int:call_id>/tree-heads")
def api_tree_heads(call_id: int) -> Response:
    """The signed tree heads of a call's public log."""
    call = _published_call(call_id)
    return jsonify(
        {
            "public_key": keys.public_key().hex(),
            "tree_heads": [_head(h) for h in ops.tree_heads(call)],
        }
    )


def _head_of_size(call: Call, size: int) -> TreeHead:
    head = db.session.scalar(
        select(TreeHead)
        .where(TreeHead.call_id == call.id, TreeHead.tree_size == size)
        .order_by(TreeHead.id)
        .limit(1)
    )
    if head is None:
        abort(404)
    return head


@api.route("/calls/<int:call_id>/proofs/inclusion")
def api_inclusion(call_id: int) -> Response:
    """The inclusion proof of entry ``index`` in the tree of the head of ``tree_size``."""
    call = _published_call(call_id)
    index, size = _int_arg("index"), _int_arg("tree_size")
    head = _head_of_size(call, size)
    if index >= head.tree_size:
        abort(404)  # no such entry in that tree
    leaf = db.session.scalar(
        select(PublicEntry.leaf_hash).where(
            PublicEntry.call_id == call.id, PublicEntry.index == index
        )
    )
    return jsonify(
        {
            "index": index,
            "tree_size": head.tree_size,
            "leaf_hash": leaf,
            "root": head.root,
            "proof": ops.inclusion(call, index, head),
        }
    )


@api.route("/calls/<int:call_id>/proofs/consistency")
def api_consistency(call_id: int) -> Response:
    """The consistency proof between the tree heads of sizes ``first`` and ``second``."""
    call = _published_call(call_id)
    first, second = _int_arg("first"), _int_arg("second")
    if not 0 < first <= second:
        abort(404)  # no proof leads from a larger tree to a smaller one
    old, new = _head_of_size(call, first), _head_of_size(call, second)
    return jsonify(
        {
            "first": first,
            "second": second,
            "first_root": old.root,
            "second_root": new.root,
            "proof": ops.consistency(call, old, new),
        }
    )
