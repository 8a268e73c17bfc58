"""One way to paginate every list."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, request
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select

from grants.extensions import db

MAX_PAGE = 1_000_000  # beyond it, the offset would overflow the database's integers


def paginate(query: Select[Any], per_page: int | None = None) -> Pagination:
    """Page ``?page=`` of ``query``; out-of-range pages are a 404."""
    page = request.args.get("page", 1, type=int) or 1
    if not 1 <= page <= MAX_PAGE:
        abort(404)
    return db.paginate(
        query,
        page=page,
        per_page=per_page or current_app.config["PAGE_SIZE"],
        max_per_page=100,
        error_out=True,
    )
