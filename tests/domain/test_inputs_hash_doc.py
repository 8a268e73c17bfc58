"""docs/scoring.md §8 specifies the object behind a run's ``inputs_hash`` with a worked
example; this test reads the example from the doc itself, so doc and code cannot drift."""

from __future__ import annotations

import hashlib
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from grants.domain import publiclog as pl
from grants.domain import ranking as rk
from grants.domain.audit_chain import canonical_json

DOC = Path(__file__).resolve().parents[2] / "docs" / "scoring.md"


def block(name: str) -> str:
    """The fenced block that follows the marker ``<!-- inputs-hash-example:<name> -->``."""
    text = DOC.read_text(encoding="utf-8")
    match = re.search(
        rf"<!-- inputs-hash-example:{name} -->\n```[a-z]*\n(.*?)\n```", text, flags=re.S
    )
    assert match, f"docs/scoring.md has no {name} block"
    return match.group(1)


def number(text: str) -> str:
    """The doc's rule for numbers, written from the doc (not from the platform's code)."""
    value = Decimal(text)
    return format(value.normalize(), "f") if value else "0"


def object_from_doc_rules(data: dict[str, Any]) -> dict[str, Any]:
    """``H`` built field by field as the doc's table says."""
    inputs, parameters = data["inputs"], data["parameters"]

    def scores(s: dict[str, str]) -> dict[str, str]:
        return {c: number(v) for c, v in s.items()}

    applications = []
    for a in inputs["applications"]:
        item = {
            "key": a["key"],
            "reviews": {r: scores(s) for r, s in a["reviews"].items()},
            "consensus": None if a["consensus"] is None else scores(a["consensus"]),
            "multiplier": number(a["multiplier"]),
            "equity_index": number(a["equity_index"]),
            "countries": a["countries"],
            "requested": number(a["requested"]),
        }
        if a["amount"] is not None:
            item["amount"] = number(a["amount"])
        applications.append(item)
    compare = sorted(set(parameters.get("compare", rk.METHODS)) | {data["method"]})
    hashed: dict[str, Any] = {"compare": compare}
    if rk.REVIEWER_ADJUSTED in compare:
        hashed["min_reviews"] = parameters.get("min_reviews", 5)
    if rk.EXPECTED_RANK in compare:
        hashed["draws"] = parameters.get("draws", 2000)
        hashed["burn_in"] = parameters.get("burn_in", 500)
    scale = inputs["scale"]
    return {
        "applications": sorted(applications, key=lambda a: a["key"]),
        "criteria": sorted(
            (
                {
                    "key": c["key"],
                    "weight": number(c["weight"]),
                    "threshold": None if c["threshold"] is None else number(c["threshold"]),
                }
                for c in inputs["criteria"]
            ),
            key=lambda c: c["key"],
        ),
        "scale": [number(scale["minimum"]), number(scale["maximum"]), number(scale["step"])],
        "budget": number(parameters["budget"]),
        "method": data["method"],
        "seed": int(data["seed"]),
        "parameters": hashed,
    }


def test_the_docs_inputs_hash_example_is_what_the_code_computes():
    data = json.loads(block("input"))
    doc_bytes = block("bytes").encode("utf-8")
    doc_hash = block("sha256").strip()
    # The bytes shown are canonical JSON, and their SHA-256 is the hash shown.
    assert canonical_json(json.loads(doc_bytes)).encode("utf-8") == doc_bytes
    assert hashlib.sha256(doc_bytes).hexdigest() == doc_hash
    # Following the doc's table and number rule gives exactly those bytes.
    assert canonical_json(object_from_doc_rules(data)).encode("utf-8") == doc_bytes
    # The platform's ranking, fed the entry as the verifier reads it, gives that hash: the
    # bytes it hashes are the doc's (SHA-256 does not collide).
    run = pl._parse_run(0, {**data, "run": 1, "inputs_hash": doc_hash, **EMPTY_RESULT})
    result = rk.rank(
        run.items, run.criteria, run.scale, run.budget, method=run.method, seed=run.seed
    )
    assert result.inputs_hash == doc_hash


def test_the_number_rule_of_the_doc():
    for logged, written in (
        ("8500.00", "8500"),
        ("1.20", "1.2"),
        ("0.400", "0.4"),
        ("5.0", "5"),
        ("100000", "100000"),
        ("1E+2", "100"),
        ("2.5E-3", "0.0025"),
        ("0.00", "0"),
        ("-0", "0"),
        ("-1.50", "-1.5"),
    ):
        assert number(logged) == written
        assert rk._number(Decimal(logged)) == written
    doc = DOC.read_text(encoding="utf-8")
    for logged, written in (("8500.00", "8500"), ("1E+2", "100"), ("2.5E-3", "0.0025")):
        assert f'`"{logged}"` -> `"{written}"`' in doc


EMPTY_RESULT: dict[str, Any] = {
    "ranking": [],
    "funded": [],
    "line": 0,
    "lottery_group": [],
    "lottery_places": 0,
}
