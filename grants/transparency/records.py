"""Published records: what the public sees of a call's results, stored once, at publication.

The results page, the open data and the API read these records and nothing else of the live
rows, so a grantee who renames its organisation, an officer who edits the call's title or a
reviewer who withdraws consent to be named cannot change what was published. Files are
stored byte for byte and served with their SHA-256 as a strong ETag; the results page and the
CSV with translated column titles render from stored data in each reader's language.

The table refuses UPDATE and DELETE (a migration's triggers), and a call has at most one
record of each kind: a later event (an appeal decided after publication) is a new entry in
the call's public log, never an edit of what was published.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from grants.calls.models import Call
from grants.domain.audit_chain import canonical_json
from grants.domain.texts import LocalText, pick_text
from grants.errors import OperationError
from grants.extensions import db
from grants.transparency.export import csv_text, package
from grants.transparency.models import (
    API_RESULTS,
    API_STATISTICS,
    AWARDS_CSV,
    AWARDS_JSON,
    CALL,
    RESULTS,
    PublishedRecord,
)
from grants.transparency.results import Results, from_data, results_for, to_data

JSON = "application/json"
CSV = "text/csv"


def digest(body: bytes) -> str:
    """The SHA-256 of a body as served, 64 hex digits: the ETag of a record."""
    return hashlib.sha256(body).hexdigest()


def sha256(content: str) -> str:
    """The SHA-256 of a record's content as served (UTF-8), 64 hex digits."""
    return digest(content.encode("utf-8"))


def _money(value: Decimal) -> str:
    return format(value, "f")


def api_results(results: Results) -> dict[str, Any]:
    """The body of ``/api/calls/<id>/results``: method, funding line, funded, ranked."""
    run, draw = results.run, results.draw
    return {
        "call": {
            "id": results.call.id,
            "title": results.call.text("title", results.call.default_language).text,
        },
        "currency": results.call.currency,
        "budget": _money(results.call.budget_envelope),
        "method": run.method,
        "run": run.id,
        "seed": run.seed,
        "inputs_hash": run.inputs_hash,
        "line": run.line,
        "lottery": None
        if draw is None
        else {
            "group": list(run.lottery_group),
            "commitment": draw.seed_commitment,
            "seed": draw.seed,
            "order": list(draw.order),
        },
        "funded": [
            {
                "reference": f.reference,
                "title": f.title,
                "amount": _money(f.amount),
                "partners": [{"name": n, "country": c} for n, c in f.partners],
                "artforms": f.artforms,
            }
            for f in results.funded
        ],
        "ranking": [
            {
                "key": r.key,
                "title": r.name,
                "rank": r.rank,
                "passes": r.passes,
                "quality": _money(r.quality),
                "score": _money(r.score),
                "outcome": r.outcome,
                "criteria": {k: _money(v) for k, v in r.criteria.items()},
                "expected_rank": None if r.expected_rank is None else _money(r.expected_rank),
                "interval": None if r.interval is None else list(r.interval),
            }
            for r in results.ranked
        ],
    }


def api_statistics(results: Results) -> dict[str, Any]:
    """The body of ``/api/calls/<id>/statistics``: equity figures by tier and region."""

    def rows(figures: list[Any]) -> list[dict[str, Any]]:
        return [
            {
                "group": None if f.key is None else str(f.key),
                "partners": f.partners,
                "funded": f.funded,
                "success_rate": _money(f.success_rate.quantize(Decimal("0.0001"))),
                "awarded": _money(f.awarded),
            }
            for f in figures
        ]

    return {
        "by_tier": rows(results.by_tier),
        "by_region": rows(results.by_region),
        "mobility_index": None if results.mobility_index is None else str(results.mobility_index),
        "total_awarded": _money(results.total_awarded),
    }


@dataclass(frozen=True)
class PublishedCall:
    """A call as its results were published: what the list of results and the public log's
    header say of it."""

    id: int
    title: dict[str, str]
    default_language: str
    funder_name: str
    results_published_at: datetime

    def text(self, field: str, locale: str) -> LocalText:
        """The title in ``locale`` with fallback, as ``Call.text``."""
        assert field == "title"
        return pick_text(self.title, [locale, locale.split("_")[0]], self.default_language)


def call_data(results: Results) -> dict[str, Any]:
    """The ``call`` record: the call's titles and funder as published."""
    call = results.call
    return {
        "id": call.id,
        "title": call.title,
        "default_language": call.default_language,
        "funder_name": call.funder_name,
        "results_published_at": call.results_published_at.isoformat(),
    }


def published_call(record: PublishedRecord) -> PublishedCall:
    """The call of a ``call`` record."""
    data = json.loads(record.content)
    return PublishedCall(
        id=data["id"],
        title=data["title"],
        default_language=data["default_language"],
        funder_name=data["funder_name"],
        results_published_at=datetime.fromisoformat(data["results_published_at"]),
    )


def _store(call: Call, kind: str, media_type: str, content: str) -> PublishedRecord:
    record = PublishedRecord(
        call_id=call.id, kind=kind, media_type=media_type, content=content, sha256=sha256(content)
    )
    db.session.add(record)
    return record


def store_published_records(call: Call) -> list[PublishedRecord]:
    """Store what the public will see of the call's results, from the rows as they stand
    (no commit: the caller publishes in the same transaction)."""
    results = results_for(call)
    if results is None:
        raise OperationError(_l("No final decision comes from a ranking run."))
    records = [
        _store(call, RESULTS, JSON, canonical_json(to_data(results))),
        _store(call, CALL, JSON, canonical_json(call_data(results))),
        _store(call, API_RESULTS, JSON, canonical_json(api_results(results))),
        _store(call, API_STATISTICS, JSON, canonical_json(api_statistics(results))),
    ]
    if results.funded:  # a 360Giving package needs at least one grant
        data = package(call, results)
        records += [
            _store(call, AWARDS_JSON, JSON, canonical_json(data)),
            _store(call, AWARDS_CSV, CSV, csv_text(data, standard=True)),
        ]
    db.session.flush()
    return records


def stored(call_id: int, kind: str) -> PublishedRecord | None:
    """The call's published record of this kind, if any."""
    return db.session.scalar(
        select(PublishedRecord).where(
            PublishedRecord.call_id == call_id, PublishedRecord.kind == kind
        )
    )


def has_records(call_id: int) -> bool:
    """Whether the call's results are published with their records."""
    return (
        db.session.scalar(
            select(PublishedRecord.id).where(
                PublishedRecord.call_id == call_id, PublishedRecord.kind == RESULTS
            )
        )
        is not None
    )


def published_results(call_id: int) -> Results | None:
    """The results as published, or None while nothing is published."""
    record = stored(call_id, RESULTS)
    return None if record is None else from_data(json.loads(record.content))


def published_package(call_id: int) -> dict[str, Any] | None:
    """The 360Giving package as published, or None (nothing published, or nothing funded)."""
    record = stored(call_id, AWARDS_JSON)
    return None if record is None else dict(json.loads(record.content))


def store_missing_records() -> list[int]:
    """Calls whose results were published before records were stored get them now, from
    the rows as they stand (``flask grants seal``, once after upgrading). Their ids."""
    done = []
    for call in db.session.scalars(
        select(Call)
        .where(
            Call.results_published_at.is_not(None),
            ~select(PublishedRecord.id).where(PublishedRecord.call_id == Call.id).exists(),
        )
        .order_by(Call.id)
    ):
        store_published_records(call)
        done.append(call.id)
    return done
