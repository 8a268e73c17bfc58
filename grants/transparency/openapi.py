"""The OpenAPI 3.1 document of the public, read-only JSON API."""

from __future__ import annotations

from typing import Any

HEX64 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
DECIMAL = {"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$"}
ERROR = {
    "description": "The error, in plain words.",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["error"],
                "properties": {"error": {"type": "string"}},
            }
        }
    },
}
MAX_INT = 2**31 - 1
CALL_ID = {
    "name": "call_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_INT},
}


def _query(name: str, minimum: int, description: str, maximum: int = MAX_INT) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": True,
        "description": description,
        "schema": {"type": "integer", "minimum": minimum, "maximum": maximum},
    }


def _ok(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _get(summary: str, schema: dict[str, Any], *, params: list[Any] | None = None,
         errors: tuple[str, ...] = ("404",)) -> dict[str, Any]:  # fmt: skip
    responses = {"200": _ok(schema, summary)}
    for code in errors:
        responses[code] = ERROR
    return {"get": {"summary": summary, "parameters": params or [], "responses": responses}}


def _stored(operation: dict[str, Any]) -> dict[str, Any]:
    """A published record: stored at publication, never changed, served with its SHA-256 as
    a strong ETag; ``If-None-Match`` with that ETag gets 304 Not Modified."""
    operation["get"]["description"] = (
        "Stored when the results were published and never changed afterwards. The response "
        "carries the SHA-256 of its body as a strong ETag and Cache-Control: public, "
        "max-age=300."
    )
    operation["get"]["parameters"] = [
        *operation["get"]["parameters"],
        {"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"}},
    ]
    operation["get"]["responses"]["304"] = {
        "description": "Not modified: the ETag given in If-None-Match is the record's."
    }
    return operation


TREE_HEAD = {
    "type": "object",
    "required": ["tree_size", "root", "timestamp", "milestone", "call_id", "signature", "key_id"],
    "properties": {
        "tree_size": {"type": "integer", "minimum": 0},
        "root": HEX64,
        "timestamp": {"type": "string"},
        "milestone": {"type": "string"},
        "call_id": {"type": "integer"},
        "signature": {"type": "string", "pattern": "^[0-9a-f]{128}$"},
        "key_id": {"type": "string"},
    },
}
FIGURES = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["group", "partners", "funded", "success_rate", "awarded"],
        "properties": {
            "group": {"type": ["string", "null"]},
            "partners": {"type": "integer"},
            "funded": {"type": "integer"},
            "success_rate": DECIMAL,
            "awarded": DECIMAL,
        },
    },
}


def openapi_document() -> dict[str, Any]:
    """The API as OpenAPI 3.1."""
    index = _query("index", 0, "The entry's index in the public log (from 0).")
    size = _query("tree_size", 1, "The size of a signed tree head of the call.")
    first = _query("first", 1, "The size of the earlier signed tree head.")
    second = _query("second", 1, "The size of the later signed tree head.")
    page = {
        **_query("page", 1, "The page, from 1.", maximum=1_000_000),
        "required": False,
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "grants public API",
            "version": "1",
            "description": "Read-only: open calls, published results and statistics, and the "
            "signed tree heads and proofs of each call's public log (docs/audit.md).",
        },
        "paths": {
            "/api/public-key": _get(
                "The Ed25519 public key that signs tree heads",
                {
                    "type": "object",
                    "required": ["public_key", "key_id"],
                    "properties": {"public_key": HEX64, "key_id": {"type": "string"}},
                },
                errors=(),
            ),
            "/api/calls": _get(
                "Calls open for applications",
                {
                    "type": "object",
                    "required": ["page", "pages", "total", "calls"],
                    "properties": {
                        "page": {"type": "integer"},
                        "pages": {"type": "integer"},
                        "total": {"type": "integer"},
                        "calls": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["id", "title", "funder", "closes_at", "currency"],
                                "properties": {
                                    "id": {"type": "integer"},
                                    "title": {"type": "string"},
                                    "funder": {"type": "string"},
                                    "opens_at": {"type": "string"},
                                    "closes_at": {"type": "string"},
                                    "currency": {"type": "string"},
                                    "budget": DECIMAL,
                                    "url": {"type": "string"},
                                },
                            },
                        },
                    },
                },
                params=[page],
            ),
            "/api/calls/{call_id}/results": _stored(
                _get(
                    "A published call's results",
                    {
                        "type": "object",
                        "required": ["call", "method", "run", "seed", "line", "funded", "ranking"],
                        "properties": {
                            "call": {"type": "object"},
                            "currency": {"type": "string"},
                            "budget": DECIMAL,
                            "method": {"type": "string"},
                            "run": {"type": "integer"},
                            "seed": {"type": "string"},
                            "inputs_hash": HEX64,
                            "line": {"type": "integer"},
                            "lottery": {"type": ["object", "null"]},
                            "funded": {"type": "array", "items": {"type": "object"}},
                            "ranking": {"type": "array", "items": {"type": "object"}},
                        },
                    },
                    params=[CALL_ID],
                )
            ),
            "/api/calls/{call_id}/statistics": _stored(
                _get(
                    "A published call's equity figures",
                    {
                        "type": "object",
                        "required": ["by_tier", "by_region", "mobility_index", "total_awarded"],
                        "properties": {
                            "by_tier": FIGURES,
                            "by_region": FIGURES,
                            "mobility_index": {"type": ["string", "null"]},
                            "total_awarded": DECIMAL,
                        },
                    },
                    params=[CALL_ID],
                )
            ),
            "/api/calls/{call_id}/tree-heads": _get(
                "The signed tree heads of a call's public log",
                {
                    "type": "object",
                    "required": ["public_key", "tree_heads"],
                    "properties": {
                        "public_key": HEX64,
                        "tree_heads": {"type": "array", "items": TREE_HEAD},
                    },
                },
                params=[CALL_ID],
            ),
            "/api/calls/{call_id}/proofs/inclusion": _get(
                "The inclusion proof of one entry",
                {
                    "type": "object",
                    "required": ["index", "tree_size", "leaf_hash", "root", "proof"],
                    "properties": {
                        "index": {"type": "integer"},
                        "tree_size": {"type": "integer"},
                        "leaf_hash": HEX64,
                        "root": HEX64,
                        "proof": {"type": "array", "items": HEX64},
                    },
                },
                params=[CALL_ID, index, size],
                errors=("400", "404"),
            ),
            "/api/calls/{call_id}/proofs/consistency": _get(
                "The consistency proof between two tree heads",
                {
                    "type": "object",
                    "required": ["first", "second", "first_root", "second_root", "proof"],
                    "properties": {
                        "first": {"type": "integer"},
                        "second": {"type": "integer"},
                        "first_root": HEX64,
                        "second_root": HEX64,
                        "proof": {"type": "array", "items": HEX64},
                    },
                },
                params=[CALL_ID, first, second],
                errors=("400", "404"),
            ),
            "/api/openapi.json": _get("This document", {"type": "object"}, errors=()),
        },
    }
