"""A call's public log: its JSON Lines format and an offline verifier.

The public log of a call is what anyone may download and check without the platform: a
header, the call's entries projected from the private audit log (reviewers under per-call
pseudonyms, applications under their references), and the signed tree heads of its
milestones. The file is UTF-8 with one canonical JSON object per line:

1. ``{"kind":"header","format":"grants-public-log/1","call_id":…,"title":…,
   "public_key":<64 hex>,"key_id":…,"generated_at":…}``;
2. the entries in index order, ``{"kind":"entry","index":…,"time":…,"action":…,
   "subject":…,"actor":…,"data":{…},"source":<64 hex>,"prev":<64 hex>,"hash":<64 hex>}``,
   where the *body* is the fields ``index``, ``time``, ``action``, ``subject``, ``actor``,
   ``data`` and ``source``, and ``hash = SHA-256(bytes(prev) || canonical_json(body))`` with
   ``prev`` the previous entry's hash (64 zeros for entry 0);
3. tree head lines anywhere after the entries they cover, ``{"kind":"tree_head",
   "tree_size":…,"root":…,"timestamp":…,"milestone":…,"call_id":…,"signature":…,
   "key_id":…}``, signed as in :mod:`grants.domain.merkle`; the leaf of an entry is the UTF-8
   canonical JSON of its body plus ``hash``.

:func:`verify` checks the chain, the tree heads and their signatures (once the results are
published, the last head must cover every entry) and then, the point of
it all, recomputes every ranking run from the review scores in the log, replays every lottery
and checks the published results against the approved decisions. It says in plain words what
holds and the first thing that does not. Everything here is pure: no Flask, no database.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Context, Decimal, InvalidOperation
from fractions import Fraction
from itertools import pairwise
from typing import Any

from grants.domain import merkle
from grants.domain import ranking as rk
from grants.domain import sampler as sp
from grants.domain.audit_chain import GENESIS_HASH, canonical_json

FORMAT = "grants-public-log/1"
BODY_FIELDS = ("index", "time", "action", "subject", "actor", "data", "source")
HEADER_FIELDS = ("format", "call_id", "title", "public_key", "key_id", "generated_at")
HEAD_FIELDS = ("tree_size", "root", "timestamp", "milestone", "call_id", "signature", "key_id")
RUN_OPTIONS = ("draws", "burn_in", "min_reviews")
# Once this entry is in a log, every entry after it must be covered by a signed tree head.
PUBLISHED_ACTION = "call.results_published"
# A hostile file must not make the verifier work for ever: bounds far beyond real calls.
MAX_SWEEPS = 100_000
MAX_DIGITS = 60
MAX_MAGNITUDE = 40

_HEX64 = re.compile(r"[0-9a-f]{64}")
_DIGITS = re.compile(r"[0-9]+")


# --- hashing and building ------------------------------------------------------------------


def entry_body(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of an entry that its hash covers."""
    return {name: entry[name] for name in BODY_FIELDS}


def entry_hash(prev: str, body: Mapping[str, Any]) -> str:
    """``SHA-256(bytes(prev) || canonical_json(body))`` as 64 lowercase hex digits.

    ``body`` may be a whole entry: only the body fields are hashed.
    """
    digest = hashlib.sha256(bytes.fromhex(prev))
    digest.update(canonical_json(entry_body(body)).encode("utf-8"))
    return digest.hexdigest()


def leaf_data(entry: Mapping[str, Any]) -> bytes:
    """The Merkle leaf of an entry: UTF-8 canonical JSON of its body plus its ``hash``."""
    return canonical_json({**entry_body(entry), "hash": entry["hash"]}).encode("utf-8")


def chain(bodies: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Entry lines for these bodies, in order: each with ``kind``, ``prev`` and ``hash``."""
    prev = GENESIS_HASH
    entries = []
    for body in bodies:
        fields = entry_body(body)
        digest = entry_hash(prev, fields)
        entries.append({"kind": "entry", **fields, "prev": prev, "hash": digest})
        prev = digest
    return entries


def tree_root(entries: Sequence[Mapping[str, Any]], tree_size: int) -> str:
    """The Merkle root, as hex, of the first ``tree_size`` entries."""
    if not 0 <= tree_size <= len(entries):
        raise ValueError(f"tree size {tree_size} is outside a log of {len(entries)} entries")
    hashes = [merkle.leaf_hash(leaf_data(e)) for e in entries[:tree_size]]
    return merkle.root_from_hashes(hashes).hex()


def make_header(call_id: int, title: str, public_key: bytes, generated_at: str) -> dict[str, Any]:
    """The header line of a call's public log, for the funder's raw Ed25519 public key."""
    return {
        "kind": "header",
        "format": FORMAT,
        "call_id": call_id,
        "title": title,
        "public_key": public_key.hex(),
        "key_id": merkle.key_id(public_key),
        "generated_at": generated_at,
    }


def sign_head(
    entries: Sequence[Mapping[str, Any]],
    tree_size: int,
    *,
    timestamp: str,
    milestone: str,
    call_id: int,
    private_key: bytes,
) -> dict[str, Any]:
    """A signed tree head line over the first ``tree_size`` entries."""
    head = merkle.TreeHead(tree_size, tree_root(entries, tree_size), timestamp, milestone, call_id)
    return {
        "kind": "tree_head",
        "tree_size": head.tree_size,
        "root": head.root,
        "timestamp": head.timestamp,
        "milestone": head.milestone,
        "call_id": head.call_id,
        "signature": merkle.sign_tree_head(head, private_key),
        "key_id": merkle.key_id(merkle.public_key(private_key)),
    }


def ranking_run_data(
    run: int,
    applications: Sequence[rk.ApplicationScores],
    criteria: Sequence[rk.CriterionSpec],
    scale: rk.Scale,
    budget: Decimal,
    result: rk.RankingResult,
    *,
    compare: Sequence[str] = rk.METHODS,
    draws: int | None = None,
    burn_in: int | None = None,
    min_reviews: int | None = None,
) -> dict[str, Any]:
    """The ``data`` of a ``ranking.run`` entry for a run computed by :func:`ranking.rank`.

    ``compare``, ``draws``, ``burn_in`` and ``min_reviews`` must be what was passed to
    ``rank``; the last three are logged only when given (``rank``'s defaults otherwise).
    """
    parameters: dict[str, Any] = {"budget": str(budget), "compare": list(compare)}
    for name, value in (("draws", draws), ("burn_in", burn_in), ("min_reviews", min_reviews)):
        if value is not None:
            parameters[name] = value
    if result.sampler is not None:
        parameters["sampler"] = result.sampler
    return {
        "run": run,
        "method": result.method,
        "seed": str(result.seed),
        "inputs_hash": result.inputs_hash,
        "parameters": parameters,
        "inputs": {
            "applications": [
                {
                    "key": a.key,
                    "reviews": {
                        r: {c: str(s) for c, s in scores.items()} for r, scores in a.reviews.items()
                    },
                    "consensus": None
                    if a.consensus is None
                    else {c: str(s) for c, s in a.consensus.items()},
                    "multiplier": str(a.multiplier),
                    "equity_index": str(a.equity_index),
                    "countries": a.countries,
                    "requested": str(a.requested),
                    "amount": None if a.amount is None else str(a.amount),
                }
                for a in applications
            ],
            "criteria": [
                {
                    "key": c.key,
                    "weight": str(c.weight),
                    "threshold": None if c.threshold is None else str(c.threshold),
                }
                for c in criteria
            ],
            "scale": {
                "minimum": str(scale.minimum),
                "maximum": str(scale.maximum),
                "step": str(scale.step),
            },
        },
        "ranking": [_ranking_row(result.method, a) for a in result.applications],
        "funded": list(result.funded),
        "line": result.line,
        "lottery_group": list(result.lottery_group),
        "lottery_places": result.lottery_places,
    }


def _ranking_row(method: str, a: rk.RankedApplication) -> dict[str, Any]:
    """A ranking row; an expected-rank run adds the expected rank and the 50% interval."""
    row: dict[str, Any] = {
        "key": a.key,
        "rank": a.rank,
        "passes": a.passes_thresholds,
        "funded": a.funded,
    }
    numbers = a.methods[method]
    if method == rk.EXPECTED_RANK and numbers.rank_interval is not None:
        row["expected_rank"] = str(numbers.expected_rank)
        row["interval"] = list(numbers.rank_interval)
    return row


# --- the file ------------------------------------------------------------------------------


@dataclass
class PublicLog:
    """A parsed public log: the header, the entries in file order, the tree heads in file
    order. Each is the line's JSON object as it stands, ``kind`` included."""

    header: dict[str, Any]
    entries: list[dict[str, Any]] = field(default_factory=list)
    heads: list[dict[str, Any]] = field(default_factory=list)


def dumps(
    header: Mapping[str, Any],
    entries: Sequence[Mapping[str, Any]],
    heads: Sequence[Mapping[str, Any]],
) -> str:
    """The JSON Lines text: the header, then the entries, each tree head right after the
    last entry it covers (heads keep their order)."""
    lines = [canonical_json({**header, "kind": "header"})]
    written = 0
    for head in heads:
        size = head.get("tree_size")
        upto = size if isinstance(size, int) and not isinstance(size, bool) else len(entries)
        while written < min(upto, len(entries)):
            lines.append(canonical_json({**entries[written], "kind": "entry"}))
            written += 1
        lines.append(canonical_json({**head, "kind": "tree_head"}))
    lines.extend(canonical_json({**e, "kind": "entry"}) for e in entries[written:])
    return "".join(line + "\n" for line in lines)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_hex64(value: object) -> bool:
    return isinstance(value, str) and _HEX64.fullmatch(value) is not None


def _shape_problem(obj: Mapping[str, Any]) -> str | None:
    """What is wrong with the fields of one line, or None."""
    kind = obj.get("kind")
    if kind == "header":
        names: tuple[str, ...] = HEADER_FIELDS
    elif kind == "entry":
        names = (*BODY_FIELDS, "prev", "hash")
    elif kind == "tree_head":
        names = HEAD_FIELDS
    else:
        return f"unknown kind {kind!r} (expected header, entry or tree_head)"
    for name in names:
        if name not in obj:
            return f"the {kind} has no field {name!r}"
    ints = {"header": ("call_id",), "entry": ("index",), "tree_head": ("tree_size",)}[kind]
    hexes = {"header": ("public_key",), "entry": ("source", "prev", "hash"), "tree_head": ()}[kind]
    for name in names:
        value = obj[name]
        if name in ints:
            if not _is_int(value) or value < 0:
                return f"the {kind}'s {name!r} must be a whole number, 0 or more"
        elif name in hexes:
            if not _is_hex64(value):
                return f"the {kind}'s {name!r} must be 64 lowercase hex digits"
        elif name == "data":
            if not isinstance(value, dict):
                return "the entry's 'data' must be an object"
        elif name == "call_id":  # of a tree head
            if value is not None and not _is_int(value):
                return "the tree_head's 'call_id' must be a whole number or null"
        elif not isinstance(value, str):
            return f"the {kind}'s {name!r} must be a string"
    return None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"the key {key!r} appears twice in one object")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def loads(text: str) -> PublicLog:
    """Parse a public log; ValueError naming the line for malformed JSON or missing fields.

    Only the shape is checked here; whether the log holds is for :func:`verify`.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    header: dict[str, Any] | None = None
    log = PublicLog(header={})
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
        except RecursionError:
            raise ValueError(f"line {number}: nested too deeply") from None
        except ValueError as exc:
            raise ValueError(f"line {number}: not valid JSON ({exc})") from None
        if not isinstance(obj, dict):
            raise ValueError(f"line {number}: not a JSON object")
        problem = _shape_problem(obj)
        if problem is not None:
            raise ValueError(f"line {number}: {problem}")
        if header is None:
            if obj["kind"] != "header":
                raise ValueError(f"line {number}: the first line must be the header")
            header = obj
            log.header = obj
        elif obj["kind"] == "header":
            raise ValueError(f"line {number}: a second header")
        elif obj["kind"] == "entry":
            log.entries.append(obj)
        else:
            log.heads.append(obj)
    if header is None:
        raise ValueError("line 1: the file is empty; a public log starts with its header")
    return log


# --- the report ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One check: whether it holds, a short code, and what it means in plain words."""

    ok: bool
    code: str
    message: str
    # False when the log lacks what the check needs: it holds (nothing contradicts it) but
    # proves nothing, and the report says so.
    checkable: bool = True


@dataclass
class Report:
    """The findings of :func:`verify`, in the order they were checked."""

    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every check holds."""
        return bool(self.findings) and all(f.ok for f in self.findings)

    @property
    def first_failure(self) -> Finding | None:
        """The first check that does not hold, if any."""
        return next((f for f in self.findings if not f.ok), None)

    def checks(self) -> list[str]:
        """One line per kind of check, in the order first made: how many items were checked,
        how many passed, failed, and could not be checked from this file."""
        counts: dict[str, list[int]] = {}
        for f in self.findings:
            row = counts.setdefault(f.code, [0, 0, 0, 0])
            row[0] += 1
            if not f.ok:
                row[2] += 1
            elif not f.checkable:
                row[3] += 1
            else:
                row[1] += 1
        return [
            f"{code}: {total} checked, {passed} passed, {failed} failed, {unknown} not checkable"
            for code, (total, passed, failed, unknown) in counts.items()
        ]

    def summary(self) -> str:
        """One closing sentence."""
        total = len(self.findings)
        first = self.first_failure
        if first is None:
            unknown = sum(not f.checkable for f in self.findings)
            if unknown:
                return (
                    f"The public log holds: all {total} checks passed, {unknown} of them "
                    "marked ? because the file lacks what they need (they found nothing "
                    "wrong and prove nothing)."
                )
            return f"The public log holds: all {total} checks passed."
        failed = sum(not f.ok for f in self.findings)
        return (
            f"The public log does NOT hold: {failed} of {total} checks failed. "
            f"The first problem: {first.message}"
        )


# --- reading entry data --------------------------------------------------------------------


class _Unreadable(Exception):
    """A field of an entry's data is missing or of the wrong type."""


def _field(data: Mapping[str, Any], name: str) -> Any:
    if name not in data:
        raise _Unreadable(f"it has no {name!r}")
    return data[name]


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise _Unreadable(f"{what} must be a string")
    return value


def _int(value: Any, what: str) -> int:
    if not _is_int(value):
        raise _Unreadable(f"{what} must be a whole number")
    result: int = value
    return result


def _obj(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Unreadable(f"{what} must be an object")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise _Unreadable(f"{what} must be a list")
    return value


def _keys(value: Any, what: str) -> list[str]:
    return [_str(v, what) for v in _list(value, what)]


def _dec(value: Any, what: str) -> Decimal:
    if not isinstance(value, str):
        raise _Unreadable(f"{what} must be a decimal number written as a string")
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise _Unreadable(f"{what} ({value!r}) is not a number") from None
    if not result.is_finite():
        raise _Unreadable(f"{what} ({value!r}) is not a finite number")
    if result and not -MAX_MAGNITUDE <= result.adjusted() <= MAX_MAGNITUDE:
        raise _Unreadable(f"{what} ({value!r}) is out of range")
    if len(result.as_tuple().digits) > MAX_DIGITS:
        raise _Unreadable(f"{what} ({value!r}) has too many digits")
    return result


def _scores(value: Any, what: str) -> dict[str, Decimal]:
    return {_str(c, what): _dec(s, f"{what} {c}") for c, s in _obj(value, what).items()}


def _seed(value: Any, what: str) -> int:
    text = _str(value, what)
    if not _DIGITS.fullmatch(text) or len(text) > MAX_DIGITS:
        raise _Unreadable(f"{what} must be decimal digits (at most {MAX_DIGITS})")
    return int(text)


@dataclass(frozen=True)
class _RankRow:
    rank: int
    passes: bool
    funded: bool
    # Logged for expected-rank runs only.
    expected_rank: Decimal | None = None
    interval: tuple[int, int] | None = None


@dataclass
class _Run:
    """What a ``ranking.run`` entry says."""

    number: int
    index: int
    method: str
    seed: int
    inputs_hash: str
    budget: Decimal
    sampler: str | None
    compare: list[str]
    options: dict[str, int]
    items: list[rk.ApplicationScores]
    criteria: list[rk.CriterionSpec]
    scale: rk.Scale
    ranking: dict[str, _RankRow]
    funded: list[str]
    line: int
    group: list[str]
    places: int

    @property
    def amounts(self) -> dict[str, Decimal]:
        return {a.key: a.funding_amount for a in self.items}


def _parse_run(index: int, data: Mapping[str, Any]) -> _Run:
    parameters = _obj(_field(data, "parameters"), "parameters")
    inputs = _obj(_field(data, "inputs"), "inputs")
    items = []
    for raw in _list(_field(inputs, "applications"), "inputs.applications"):
        a = _obj(raw, "an input application")
        key = _str(_field(a, "key"), "an application key")
        what = f"the inputs of {key}"
        reviews = {
            _str(r, f"{what}: a reviewer"): _scores(s, f"{what}: the scores of {r}")
            for r, s in _obj(_field(a, "reviews"), f"{what}: reviews").items()
        }
        consensus_raw = _field(a, "consensus")
        amount_raw = a.get("amount")
        try:
            items.append(
                rk.ApplicationScores(
                    key=key,
                    reviews=reviews,
                    consensus=None
                    if consensus_raw is None
                    else _scores(consensus_raw, f"{what}: consensus"),
                    multiplier=_dec(_field(a, "multiplier"), f"{what}: multiplier"),
                    equity_index=_dec(_field(a, "equity_index"), f"{what}: equity index"),
                    countries=_int(_field(a, "countries"), f"{what}: countries"),
                    requested=_dec(_field(a, "requested"), f"{what}: requested"),
                    amount=None if amount_raw is None else _dec(amount_raw, f"{what}: amount"),
                )
            )
        except ValueError as exc:
            raise _Unreadable(str(exc)) from None
    criteria = []
    for raw in _list(_field(inputs, "criteria"), "inputs.criteria"):
        c = _obj(raw, "a criterion")
        key = _str(_field(c, "key"), "a criterion key")
        threshold = _field(c, "threshold")
        try:
            criteria.append(
                rk.CriterionSpec(
                    key=key,
                    weight=_dec(_field(c, "weight"), f"the weight of {key}"),
                    threshold=None
                    if threshold is None
                    else _dec(threshold, f"the threshold of {key}"),
                )
            )
        except ValueError as exc:
            raise _Unreadable(str(exc)) from None
    s = _obj(_field(inputs, "scale"), "inputs.scale")
    try:
        scale = rk.Scale(
            minimum=_dec(_field(s, "minimum"), "the scale minimum"),
            maximum=_dec(_field(s, "maximum"), "the scale maximum"),
            step=_dec(_field(s, "step"), "the scale step"),
        )
    except ValueError as exc:
        raise _Unreadable(str(exc)) from None
    ranking: dict[str, _RankRow] = {}
    for raw in _list(_field(data, "ranking"), "ranking"):
        row = _obj(raw, "a ranking row")
        key = _str(_field(row, "key"), "a ranking key")
        if key in ranking:
            raise _Unreadable(f"{key} appears twice in the ranking")
        passes, funded = _field(row, "passes"), _field(row, "funded")
        if not isinstance(passes, bool) or not isinstance(funded, bool):
            raise _Unreadable(f"the ranking row of {key} needs true/false for passes and funded")
        expected: Decimal | None = None
        interval: tuple[int, int] | None = None
        if "expected_rank" in row or "interval" in row:
            expected = _dec(_field(row, "expected_rank"), f"the expected rank of {key}")
            bounds = _list(_field(row, "interval"), f"the interval of {key}")
            if len(bounds) != 2:
                raise _Unreadable(f"the interval of {key} needs two ranks")
            interval = (
                _int(bounds[0], f"the interval of {key}"),
                _int(bounds[1], f"the interval of {key}"),
            )
        ranking[key] = _RankRow(
            _int(_field(row, "rank"), f"the rank of {key}"), passes, funded, expected, interval
        )
    options = {
        name: _int(parameters[name], f"parameters.{name}")
        for name in RUN_OPTIONS
        if name in parameters
    }
    if options.get("draws", 0) + options.get("burn_in", 0) > MAX_SWEEPS:
        raise _Unreadable(f"draws and burn_in add up to more than {MAX_SWEEPS}")
    inputs_hash = _str(_field(data, "inputs_hash"), "inputs_hash")
    return _Run(
        number=_int(_field(data, "run"), "run"),
        index=index,
        method=_str(_field(data, "method"), "method"),
        seed=_seed(_field(data, "seed"), "seed"),
        inputs_hash=inputs_hash,
        budget=_dec(_field(parameters, "budget"), "the budget"),
        sampler=None
        if parameters.get("sampler") is None
        else _str(parameters["sampler"], "parameters.sampler"),
        compare=_keys(parameters.get("compare", list(rk.METHODS)), "parameters.compare"),
        options=options,
        items=items,
        criteria=criteria,
        scale=scale,
        ranking=ranking,
        funded=_keys(_field(data, "funded"), "funded"),
        line=_int(_field(data, "line"), "line"),
        group=_keys(_field(data, "lottery_group"), "lottery_group"),
        places=_int(_field(data, "lottery_places"), "lottery_places"),
    )


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _entries(count: int) -> str:
    return "1 entry" if count == 1 else f"{count} entries"


def _names(keys: Sequence[str]) -> str:
    return ", ".join(keys) if keys else "none"


def _first_difference(logged: Mapping[str, Decimal], used: Mapping[str, Decimal]) -> str | None:
    """The first criterion whose score differs, in words, or None when all agree."""
    for c in sorted(set(logged) | set(used)):
        if c not in used:
            return f"{c}: logged {logged[c]}, not used"
        if c not in logged:
            return f"{c}: used {used[c]}, not logged"
        if logged[c] != used[c]:
            return f"{c}: logged {logged[c]}, used {used[c]}"
    return None


# --- the verifier --------------------------------------------------------------------------


@dataclass
class _Commit:
    index: int
    method: str
    commitment: str
    used: bool = False


@dataclass
class _LotteryCommit:
    index: int
    commitment: str
    group: list[str]
    places: int


@dataclass
class _State:
    """What the log says so far, walking it from the start."""

    # application -> reviewer -> (scores, entry index)
    reviews: dict[str, dict[str, tuple[dict[str, Decimal], int]]] = field(default_factory=dict)
    conflicts: dict[tuple[str, str], int] = field(default_factory=dict)
    consensus: dict[str, tuple[dict[str, Decimal], int]] = field(default_factory=dict)
    withdrawn: dict[str, int] = field(default_factory=dict)
    seed_commits: list[_Commit] = field(default_factory=list)
    runs: dict[int, _Run] = field(default_factory=dict)
    lottery_commits: dict[int, list[_LotteryCommit]] = field(default_factory=dict)
    drawn: dict[int, tuple[int, list[str]]] = field(default_factory=dict)
    decisions: dict[str, tuple[str, Decimal, int]] = field(default_factory=dict)


class _Verifier:
    def __init__(self, log: PublicLog, trusted_key: bytes | None) -> None:
        self.log = log
        self.trusted_key = trusted_key
        self.report = Report()
        self.key = b""

    def add(self, ok: bool, code: str, message: str) -> None:
        self.report.findings.append(Finding(ok, code, message))

    def run(self) -> Report:
        if not self.check_format():
            return self.report
        self.check_chain()
        self.check_heads()
        self.check_key()
        self.check_content()
        self.report.findings.extend(documented_checks(self.log))
        return self.report

    # -- header and format --

    def check_format(self) -> bool:
        log = self.log
        lines = [("the header", log.header, "header")]
        lines += [(f"entry line {i + 1}", e, "entry") for i, e in enumerate(log.entries)]
        lines += [(f"tree head {i + 1}", h, "tree_head") for i, h in enumerate(log.heads)]
        for where, obj, kind in lines:
            problem = _shape_problem({**obj, "kind": kind})
            if problem is not None:
                self.add(False, "format", f"The file is malformed: in {where}, {problem}.")
                return False
        header = log.header
        if header["format"] != FORMAT:
            self.add(
                False,
                "format",
                f"The file is in the format {header['format']!r}; this verifier reads {FORMAT}.",
            )
            return False
        self.key = bytes.fromhex(header["public_key"])
        expected_id = merkle.key_id(self.key)
        if header["key_id"] != expected_id:
            self.add(
                False,
                "format",
                f"The header names the key id {header['key_id']}, but its public key has the "
                f"key id {expected_id}: the header has been altered.",
            )
            return True
        self.add(
            True,
            "format",
            f"The file is a public log ({FORMAT}) of call {header['call_id']}, "
            f"“{header['title']}”, generated at {header['generated_at']}: "
            f"{_entries(len(log.entries))} and {len(log.heads)} signed tree "
            f"head{'' if len(log.heads) == 1 else 's'}.",
        )
        return True

    # -- the hash chain --

    def check_chain(self) -> None:
        prev = GENESIS_HASH
        entries = self.log.entries
        for position, entry in enumerate(entries):
            problem = None
            if entry["index"] != position:
                problem = (
                    f"The chain breaks at entry {position}: the entry in its place is numbered "
                    f"{entry['index']}, so entries have been removed, inserted or reordered."
                )
            elif entry["prev"] != prev:
                problem = (
                    f"The chain breaks at entry {position}: it does not link to the entry "
                    "before it, so an earlier entry has been removed, inserted or replaced."
                )
            elif entry_hash(prev, entry) != entry["hash"]:
                problem = f"Entry {position} has been altered: its hash does not match its content."
            if problem is not None:
                if position:
                    held = (
                        "Entry 0 is"
                        if position == 1
                        else f"The first {position} entries (0 to {position - 1}) are"
                    )
                    self.add(True, "chain", f"{held} intact in the chain.")
                self.add(False, "chain", problem)
                return
            prev = entry["hash"]
        self.add(
            True,
            "chain",
            f"The chain of {_entries(len(entries))} is intact: each entry matches its hash and "
            "links to the one before.",
        )

    # -- signed tree heads --

    def check_heads(self) -> None:
        entries = self.log.entries
        leaves: list[bytes] | None = None
        roots: dict[int, str] = {}
        previous_size: int | None = None
        call_id = self.log.header["call_id"]
        key_id = self.log.header["key_id"]
        for number, head in enumerate(self.log.heads, start=1):
            size = head["tree_size"]
            name = f"Tree head {number} (milestone '{head['milestone']}', {_entries(size)})"
            problem = None
            try:
                tree_head = merkle.TreeHead(
                    size, head["root"], head["timestamp"], head["milestone"], head["call_id"]
                )
            except ValueError as exc:
                self.add(False, "tree_head", f"{name} is malformed: {exc}.")
                previous_size = size
                continue
            if head["key_id"] != key_id:
                problem = (
                    f"{name} names the key {head['key_id']}, not the funder's key {key_id} "
                    "of this file."
                )
            elif not merkle.verify_tree_head(tree_head, head["signature"], self.key):
                problem = (
                    f"{name} has a signature that does not verify with the funder's key: the "
                    "head has been altered or was signed with another key."
                )
            elif head["call_id"] != call_id:
                problem = f"{name} belongs to call {head['call_id']}, not to call {call_id}."
            elif size > len(entries):
                problem = (
                    f"{name} covers {_entries(size)}, but the file holds only {len(entries)}: "
                    "entries it vouched for are missing."
                )
            else:
                if size not in roots:
                    if leaves is None:
                        leaves = [merkle.leaf_hash(leaf_data(e)) for e in entries]
                    roots[size] = merkle.root_from_hashes(leaves[:size]).hex()
                if roots[size] != head["root"]:
                    span = f"entries 0 to {size - 1}" if size > 1 else _entries(size)
                    problem = (
                        f"{name} does not match the entries: the root of {span} differs from "
                        "the signed root, so entries it covers have been changed, removed or "
                        "reordered."
                    )
                elif previous_size is not None and size < previous_size:
                    problem = (
                        f"{name} covers fewer entries than the tree head before it "
                        f"({previous_size}): the log went backwards."
                    )
            previous_size = size
            if problem is None:
                self.add(
                    True,
                    "tree_head",
                    f"{name} is signed by the funder's key and its root matches the entries.",
                )
            else:
                self.add(False, "tree_head", problem)
        covered = max((h["tree_size"] for h in self.log.heads), default=0)
        if entries and not self.log.heads:
            self.add(
                False,
                "tree_head",
                "The file holds no signed tree head: nothing in it is vouched for by the "
                "funder's key.",
            )
        elif covered < len(entries):
            last = len(entries) - 1
            span = f"Entry {last} comes" if covered == last else f"Entries {covered} to {last} come"
            them = "it" if covered == last else "them"
            published = next((e["index"] for e in entries if e["action"] == PUBLISHED_ACTION), None)
            if published is None:
                self.add(
                    True,
                    "tree_head",
                    f"{span} after the last signed tree head: the chain links {them}, but the "
                    f"funder's key does not vouch for {them} yet.",
                )
            else:
                unsigned = len(entries) - covered
                these = "this entry" if unsigned == 1 else "these entries"
                self.add(
                    False,
                    "tree_head",
                    f"{span} after the last signed tree head, in the log of a call whose "
                    f"results are published (entry {published}): {_entries(unsigned)} "
                    f"{'is' if unsigned == 1 else 'are'} not covered by any signature. Once the "
                    "results are published, the platform signs a new tree head with every "
                    f"entry it adds, so {these} could have been added or changed by anyone "
                    "after the last signature.",
                )

    # -- the funder's key --

    def check_key(self) -> None:
        key_id = self.log.header["key_id"]
        if self.trusted_key is None:
            self.add(
                True,
                "key",
                f"The funder's public key (key id {key_id}) was taken from the file itself; "
                f"compare it with the key the funder publishes on its site: "
                f"{self.key.hex()}.",
            )
        elif self.trusted_key != self.key:
            try:
                trusted_id = merkle.key_id(self.trusted_key)
            except ValueError:
                trusted_id = "(not a valid Ed25519 public key)"
            self.add(
                False,
                "key",
                f"The file is signed with the key {key_id}, not with the funder's key you gave "
                f"({trusted_id}): its tree heads do not come from the funder.",
            )
        else:
            self.add(
                True,
                "key",
                f"The file's key (key id {key_id}) is the funder's key you gave.",
            )

    # -- the content: ranking runs, lotteries, results --

    def check_content(self) -> None:
        state = _State()
        data_findings: list[Finding] = []
        run_findings: list[Finding] = []
        lottery_findings: list[Finding] = []
        result_findings: list[Finding] = []
        for entry in self.log.entries:
            index, action, data = entry["index"], entry["action"], entry["data"]
            try:
                if action == "ranking.run":
                    run_findings.extend(_check_run(index, data, state))
                elif action == "lottery.drawn":
                    lottery_findings.append(_check_draw(index, data, state))
                elif action == "call.results_published":
                    result_findings.extend(_check_results(index, data, state))
                else:
                    _track(index, action, data, state)
            except _Unreadable as exc:
                data_findings.append(
                    Finding(False, "data", f"Entry {index} ({action}) cannot be read: {exc}.")
                )
            except (ValueError, ArithmeticError) as exc:
                data_findings.append(
                    Finding(False, "data", f"Entry {index} ({action}) cannot be checked: {exc}.")
                )
        self.report.findings.extend(data_findings)
        if not state.runs and not run_findings:
            self.add(True, "run", "The log holds no ranking run to recompute.")
        self.report.findings.extend(run_findings + lottery_findings + result_findings)


def _track(index: int, action: str, data: Mapping[str, Any], state: _State) -> None:
    """Follow the entries that decide what a ranking run must use."""
    if action == "review.submitted":
        app = _str(_field(data, "application"), "application")
        reviewer = _str(_field(data, "reviewer"), "reviewer")
        _int(_field(data, "version"), "version")
        scores = _scores(_field(data, "scores"), "scores")
        if (app, reviewer) not in state.conflicts:
            state.reviews.setdefault(app, {})[reviewer] = (scores, index)
    elif action == "panel.conflict_recorded":
        app = _str(_field(data, "application"), "application")
        reviewer = _str(_field(data, "reviewer"), "reviewer")
        state.conflicts.setdefault((app, reviewer), index)
        state.reviews.get(app, {}).pop(reviewer, None)
    elif action == "panel.assignment_removed":
        app = _str(_field(data, "application"), "application")
        reviewer = _str(_field(data, "reviewer"), "reviewer")
        state.reviews.get(app, {}).pop(reviewer, None)
    elif action == "panel.consensus_recorded":
        app = _str(_field(data, "application"), "application")
        state.consensus[app] = (_scores(_field(data, "scores"), "scores"), index)
    elif action == "application.withdrawn":
        app = _str(_field(data, "application"), "application")
        state.withdrawn.setdefault(app, index)
    elif action == "ranking.seed_committed":
        commitment = _str(_field(data, "commitment"), "commitment")
        method = _str(_field(data, "method"), "method")
        state.seed_commits.append(_Commit(index, method, commitment))
    elif action == "lottery.seed_committed":
        run = _int(_field(data, "run"), "run")
        state.lottery_commits.setdefault(run, []).append(
            _LotteryCommit(
                index,
                _str(_field(data, "commitment"), "commitment"),
                _keys(_field(data, "group"), "group"),
                _int(_field(data, "places"), "places"),
            )
        )
    elif action == "decision.approved":
        app = _str(_field(data, "application"), "application")
        outcome = _str(_field(data, "outcome"), "outcome")
        state.decisions[app] = (outcome, _dec(_field(data, "amount"), "amount"), index)


def _check_run(index: int, data: Mapping[str, Any], state: _State) -> list[Finding]:
    try:
        run = _parse_run(index, data)
    except _Unreadable as exc:
        return [Finding(False, "run", f"The ranking run in entry {index} cannot be read: {exc}.")]
    name = f"Ranking run {run.number} (entry {index})"
    if run.number in state.runs:
        return [
            Finding(
                False,
                "run",
                f"{name} repeats the number of the ranking run in entry "
                f"{state.runs[run.number].index}.",
            )
        ]
    state.runs[run.number] = run
    findings = [_check_run_seed(name, run, state), _check_run_inputs(name, run, state)]
    if run.method == rk.EXPECTED_RANK:
        findings.append(_check_expected_numbers(name, run))
    return [*findings, *_check_run_result(name, run)]


def _check_expected_numbers(name: str, run: _Run) -> Finding:
    """From the logged expected ranks and intervals alone (no sampler): the order, the
    funding line and the lottery group follow from them as docs/scoring.md §4a says."""

    def fail(message: str) -> Finding:
        return Finding(False, "run.expected_rank", f"{name}: {message}")

    amounts = run.amounts
    inputs = {a.key: a for a in run.items}
    if set(run.ranking) != set(inputs):
        return fail("the logged ranking does not list exactly the run's input applications.")
    rows = sorted(run.ranking.items(), key=lambda item: item[1].rank)
    n = len(rows)
    if [row.rank for _, row in rows] != list(range(1, n + 1)):
        return fail(f"the logged ranks are not 1 to {n}, each once.")
    numbers: list[tuple[str, _RankRow, Decimal, tuple[int, int]]] = []
    for key, row in rows:
        if row.expected_rank is None or row.interval is None:
            return fail(f"the log does not give the expected rank and interval of {key}.")
        passes = rk.passes_thresholds(rk.criterion_scores(inputs[key], run.criteria), run.criteria)
        if row.passes != passes:
            said = "passes" if row.passes else "fails"
            return fail(f"the log says {key} {said} the thresholds, but its scores say otherwise.")
        numbers.append((key, row, row.expected_rank, row.interval))
    passing = sum(row.passes for _, row, _, _ in numbers)
    if any(row.passes != (row.rank <= passing) for _, row, _, _ in numbers):
        return fail("an application that fails a threshold is ranked above one that passes.")
    places_in_part = {True: (1, passing), False: (passing + 1, n)}
    for passes in (True, False):
        first, last = places_in_part[passes]
        part = [item for item in numbers if item[1].passes == passes]
        for key, _, expected, (low, high) in part:
            if not (first <= low <= high <= last and first <= expected <= last):
                return fail(
                    f"the expected rank {expected} or the interval {low} to {high} of {key} "
                    f"lies outside ranks {first} to {last}, where every draw ranks it."
                )
        # Every draw ranks the part first..last once each: the means add up to their sum.
        total = sum((Fraction(item[2]) for item in part), Fraction(0))
        exact = Fraction((first + last) * len(part), 2)
        tolerance = Fraction(len(part) + 1, 10 ** (27 - len(str(n))))
        if abs(total - exact) > tolerance:
            return fail(
                f"the expected ranks of ranks {first} to {last} add up to {float(total)}, "
                f"not to {exact}, as ranks drawn {first} to {last} must."
            )
        for (key, _, expected, _), (after, _, later, _) in pairwise(part):
            if later < expected:
                return fail(
                    f"{key} (expected rank {expected}) is ranked above {after} (expected "
                    f"rank {later}): the order does not follow the expected ranks."
                )
    context = Context(prec=28)
    remaining = run.budget
    funded: list[str] = []
    line = 0
    for key, row, _, _ in numbers:
        if not row.passes or amounts[key] > remaining:
            break
        remaining = context.subtract(remaining, amounts[key])
        funded.append(key)
        line = row.rank
    flags = sorted(key for key, row, _, _ in numbers if row.funded)
    if sorted(run.funded) != sorted(funded) or flags != sorted(funded) or run.line != line:
        return fail(
            f"walking the logged order with the budget funds {_names(funded)} (line after rank "
            f"{line}), but the log says {_names(run.funded)} (line after rank {run.line})."
        )
    group = [key for key, row, _, (low, high) in numbers if row.passes and low <= line < high]
    places = sum(key in funded for key in group)
    if places in (0, len(group)):
        group, places = [], 0
    if sorted(run.group) != sorted(group) or run.places != places:
        return fail(
            f"the logged intervals put {_names(group)} in the lottery group for "
            f"{_count(places, 'place')}, but the log says {_names(run.group)} for "
            f"{_count(run.places, 'place')}."
        )
    return Finding(
        True,
        "run.expected_rank",
        f"{name}: from the logged expected ranks and 50% intervals alone, the order, the "
        f"funding line after rank {line} and the lottery group ({_names(group)}) follow.",
    )


def _check_run_seed(name: str, run: _Run, state: _State) -> Finding:
    commitment = rk.seed_commitment(run.seed)
    unused = [c for c in state.seed_commits if not c.used]
    match = next((c for c in unused if c.commitment == commitment), None)
    if match is None:
        if unused:
            return Finding(
                False,
                "run.seed",
                f"{name}: its seed does not match the commitment logged in entry "
                f"{unused[-1].index}: the seed was changed after it was committed.",
            )
        return Finding(
            False, "run.seed", f"{name}: no commitment to its seed was logged before the run."
        )
    match.used = True
    if match.method != run.method:
        return Finding(
            False,
            "run.seed",
            f"{name}: the seed committed in entry {match.index} was for the method "
            f"{match.method}, but the run used {run.method}.",
        )
    return Finding(
        True,
        "run.seed",
        f"{name}: its seed was committed in entry {match.index}, before the run (the SHA-256 "
        "of the seed matches).",
    )


def _check_run_inputs(name: str, run: _Run, state: _State) -> Finding:
    """The reviews and consensus scores the run used are those the log holds before it."""
    used_keys = {a.key for a in run.items}
    reviews = 0
    consensus = 0
    for a in sorted(run.items, key=lambda item: item.key):
        if a.key in state.withdrawn:
            return Finding(
                False,
                "run.inputs",
                f"{name}: {a.key} was withdrawn in entry {state.withdrawn[a.key]}, but the run "
                "ranked it.",
            )
        logged = state.reviews.get(a.key, {})
        for reviewer in sorted(a.reviews):
            conflict = state.conflicts.get((a.key, reviewer))
            if conflict is not None:
                return Finding(
                    False,
                    "run.inputs",
                    f"{name}: the run used scores by {reviewer} for {a.key}, although a "
                    f"conflict of interest between them was recorded in entry {conflict}.",
                )
            if reviewer not in logged:
                return Finding(
                    False,
                    "run.inputs",
                    f"{name}: the run used scores by {reviewer} for {a.key}, but no review of "
                    f"{a.key} by {reviewer} counts in the log before the run.",
                )
            scores, at = logged[reviewer]
            difference = _first_difference(scores, a.reviews[reviewer])
            if difference is not None:
                return Finding(
                    False,
                    "run.inputs",
                    f"{name}: the review scores logged for {a.key} by {reviewer} (entry {at}) "
                    f"differ from the scores the run used ({difference}).",
                )
            reviews += 1
        left_out = sorted(set(logged) - set(a.reviews))
        if left_out:
            reviewer = left_out[0]
            return Finding(
                False,
                "run.inputs",
                f"{name}: the review of {a.key} by {reviewer} (entry {logged[reviewer][1]}) "
                "counts, but the run left it out of its inputs.",
            )
        logged_consensus = state.consensus.get(a.key)
        if a.consensus is not None and logged_consensus is None:
            return Finding(
                False,
                "run.inputs",
                f"{name}: the run used consensus scores for {a.key}, but the log holds no "
                "consensus for it before the run.",
            )
        if logged_consensus is not None:
            scores, at = logged_consensus
            if a.consensus is None:
                return Finding(
                    False,
                    "run.inputs",
                    f"{name}: the consensus recorded for {a.key} (entry {at}) is missing from "
                    "the run's inputs.",
                )
            difference = _first_difference(scores, a.consensus)
            if difference is not None:
                return Finding(
                    False,
                    "run.inputs",
                    f"{name}: the consensus scores logged for {a.key} (entry {at}) differ "
                    f"from those the run used ({difference}).",
                )
            consensus += 1
    scored = {k for k, v in state.reviews.items() if v} | set(state.consensus)
    left_out = sorted(scored - used_keys - set(state.withdrawn))
    if left_out:
        return Finding(
            False,
            "run.inputs",
            f"{name}: the log holds review or consensus scores for {left_out[0]}, which was "
            "not withdrawn, but the run left it out.",
        )
    return Finding(
        True,
        "run.inputs",
        f"{name}: the {_count(reviews, 'review')} and {_count(consensus, 'consensus record')} "
        f"it used for {_count(len(run.items), 'application')} are exactly those in the log "
        "before it.",
    )


def _check_run_result(name: str, run: _Run) -> list[Finding]:
    """Recompute the run from its inputs: the hash, then the ranking and the funding line."""
    replayable = run.method != rk.EXPECTED_RANK or run.sampler == sp.SAMPLER
    try:
        result = rk.rank(
            run.items,
            run.criteria,
            run.scale,
            run.budget,
            method=run.method,
            seed=run.seed,
            compare=run.compare,
            **run.options,
        )
    except (ValueError, ArithmeticError) as exc:
        return [Finding(False, "run.ranking", f"{name}: its inputs cannot be ranked: {exc}.")]
    if result.inputs_hash != run.inputs_hash:
        hash_finding = Finding(
            False,
            "run.inputs_hash",
            f"{name}: its inputs hash to {result.inputs_hash}, not to the logged "
            f"{run.inputs_hash}: the inputs or parameters were changed after the run.",
        )
    else:
        hash_finding = Finding(
            True, "run.inputs_hash", f"{name}: its inputs hash to the logged inputs hash."
        )
    if not replayable:
        return [
            hash_finding,
            Finding(
                False,
                "run.sampler",
                f"{name}: it names the sampler {run.sampler or '(none)'}, not "
                f"{sp.SAMPLER}, which this verifier implements: its expected ranks cannot be "
                "replayed, only checked against each other.",
            ),
        ]
    return [hash_finding, _compare_ranking(name, run, result)]


def _compare_ranking(name: str, run: _Run, result: rk.RankingResult) -> Finding:
    def fail(message: str) -> Finding:
        return Finding(False, "run.ranking", f"{name}: {message}")

    recomputed = {a.key: a for a in result.applications}
    unknown = sorted(set(run.ranking) - set(recomputed))
    if unknown:
        return fail(f"the logged ranking lists {unknown[0]}, which is not among the run's inputs.")
    for a in result.applications:
        row = run.ranking.get(a.key)
        if row is None:
            return fail(f"the logged ranking leaves out {a.key}, which the run ranked.")
        if row.rank != a.rank:
            return fail(
                f"recomputing the ranking from its inputs puts {a.key} at rank {a.rank}, "
                f"but the log says rank {row.rank}."
            )
        if row.passes != a.passes_thresholds:
            said = "passes" if row.passes else "fails"
            return fail(
                f"the log says {a.key} {said} the thresholds, but recomputing says it does not."
            )
        if row.funded != a.funded:
            said = "funded" if row.funded else "not funded"
            return fail(
                f"the log marks {a.key} as {said}, but recomputing the funding line says otherwise."
            )
        if run.method == rk.EXPECTED_RANK:
            numbers = a.methods[rk.EXPECTED_RANK]
            if row.expected_rank != numbers.expected_rank or row.interval != numbers.rank_interval:
                logged = (
                    "none"
                    if row.interval is None
                    else f"{row.expected_rank}, {row.interval[0]} to {row.interval[1]}"
                )
                assert numbers.rank_interval is not None
                return fail(
                    f"replaying the sampler gives {a.key} the expected rank "
                    f"{numbers.expected_rank} and the interval {numbers.rank_interval[0]} to "
                    f"{numbers.rank_interval[1]}, but the log says {logged}."
                )
    if sorted(run.funded) != sorted(result.funded):
        return fail(
            f"the logged funded applications ({_names(sorted(run.funded))}) differ from the "
            f"recomputed ones ({_names(sorted(result.funded))})."
        )
    if run.line != result.line:
        return fail(
            f"the log puts the funding line after rank {run.line}, recomputing puts it after "
            f"rank {result.line}."
        )
    if sorted(run.group) != sorted(result.lottery_group) or run.places != result.lottery_places:
        return fail(
            f"the logged lottery group ({_names(sorted(run.group))}, {run.places} places) "
            f"differs from the recomputed one ({_names(sorted(result.lottery_group))}, "
            f"{result.lottery_places} places)."
        )
    lottery = (
        f", lottery group {_names(list(result.lottery_group))} for "
        f"{_count(result.lottery_places, 'place')}"
        if result.lottery_group
        else ", no lottery"
    )
    return Finding(
        True,
        "run.ranking",
        f"{name}: recomputing it (method {run.method}) from its inputs gives exactly the "
        f"logged ranking of {_count(len(result.applications), 'application')}"
        + (
            f" (its expected ranks and 50% intervals replayed with the sampler {sp.SAMPLER})"
            if run.method == rk.EXPECTED_RANK
            else ""
        )
        + ", funding line after rank "
        f"{result.line}, funded {_names(list(result.funded))}{lottery}.",
    )


def _check_draw(index: int, data: Mapping[str, Any], state: _State) -> Finding:
    number = _int(_field(data, "run"), "run")
    seed = _seed(_field(data, "seed"), "seed")
    order = _keys(_field(data, "order"), "order")
    funded = _keys(_field(data, "funded"), "funded")
    name = f"The lottery of ranking run {number} (entry {index})"

    def fail(message: str) -> Finding:
        return Finding(False, "lottery", f"{name}: {message}")

    earlier = state.drawn.get(number)
    state.drawn.setdefault(number, (index, funded))
    if earlier is not None:
        return fail(f"the lots of this run were already drawn in entry {earlier[0]}.")
    run = state.runs.get(number)
    if run is None:
        return fail("the log holds no such ranking run before it.")
    commits = state.lottery_commits.get(number, [])
    if not commits:
        return fail("no seed was committed for it before the draw.")
    if len(commits) > 1:
        return fail(
            "its seed was committed more than once (entries "
            f"{', '.join(str(c.index) for c in commits)})."
        )
    commit = commits[0]
    if rk.seed_commitment(seed) != commit.commitment:
        return fail(
            f"the revealed seed does not match the commitment logged in entry {commit.index}: "
            "the seed was changed after it was committed."
        )
    if sorted(commit.group) != sorted(run.group) or commit.places != run.places:
        return fail(
            f"the group committed in entry {commit.index} ({_names(sorted(commit.group))}, "
            f"{commit.places} places) is not the run's lottery group "
            f"({_names(sorted(run.group))}, {run.places} places)."
        )
    try:
        drawn = rk.draw_lottery(run.group, run.places, seed)
    except ValueError as exc:
        return fail(f"it cannot be replayed: {exc}.")
    if order != list(drawn.order):
        return fail(
            f"the logged order ({_names(order)}) is not the order the seed gives "
            f"({_names(list(drawn.order))})."
        )
    try:
        settled = rk.settle_lottery(run.funded, run.group, run.amounts, run.budget, drawn.order)
    except (ValueError, KeyError) as exc:
        return fail(f"its funding cannot be settled from the run: {exc}.")
    if sorted(funded) != sorted(settled.funded):
        return fail(
            f"the logged funded applications ({_names(sorted(funded))}) are not those the drawn "
            f"order funds ({_names(sorted(settled.funded))})."
        )
    return Finding(
        True,
        "lottery",
        f"{name}: the revealed seed matches the commitment in entry {commit.index}, replaying "
        f"the draw gives the logged order ({_names(order)}), and it funds "
        f"{_names(list(settled.funded))}.",
    )


def _check_results(index: int, data: Mapping[str, Any], state: _State) -> list[Finding]:
    """The published results against the approved decisions (they must agree exactly) and
    against the ranking run they name (where they differ, the difference is disclosed)."""
    number = _int(_field(data, "run"), "run")
    published = _keys(_field(data, "funded"), "funded")
    awards = {
        _str(k, "an award key"): _dec(v, f"the award of {k}")
        for k, v in _obj(_field(data, "awards"), "awards").items()
    }
    name = f"The results published in entry {index}"

    def fail(message: str) -> list[Finding]:
        return [Finding(False, "results", f"{name}: {message}")]

    run = state.runs.get(number)
    if run is None:
        return fail(f"they refer to ranking run {number}, which the log does not hold before.")
    drawn = state.drawn.get(number)
    if drawn is not None:
        expected, source = drawn[1], f"ranking run {number} after its lottery"
    elif run.group:
        return fail(f"ranking run {number} has a lottery group, but its lots were never drawn.")
    else:
        expected, source = run.funded, f"ranking run {number}"
    if len(set(published)) != len(published):
        return fail("an application is listed as funded more than once.")
    approved = {k: v for k, v in state.decisions.items() if v[0] == "funded"}
    for key in sorted(set(published) - set(approved)):
        return fail(f"{key} is published as funded, but no approved decision funds it.")
    for key in sorted(set(approved) - set(published)):
        return fail(
            f"{key} is funded by the decision approved in entry {approved[key][2]}, but not "
            "published as funded."
        )
    for key in sorted(awards):
        decision = state.decisions.get(key)
        if decision is None:
            return fail(f"{key} is awarded {awards[key]}, but no approved decision funds it.")
        outcome, amount, at = decision
        if outcome != "funded":
            return fail(
                f"{key} is awarded {awards[key]}, but the decision approved in entry {at} is "
                f"{outcome}."
            )
        if amount != awards[key]:
            return fail(
                f"{key} is awarded {awards[key]}, but the decision approved in entry {at} "
                f"grants {amount}."
            )
    for key, (outcome, _amount, at) in sorted(state.decisions.items()):
        if outcome == "funded" and key not in awards:
            return fail(
                f"the awards leave out {key}, funded by the decision approved in entry {at}."
            )
    findings = [
        Finding(
            True,
            "results",
            f"{name} match the approved decisions: {len(published)} funded, each of the "
            f"{len(awards)} awards with the amount its decision grants.",
        )
    ]
    gained = sorted(set(published) - set(expected))
    lost = sorted(set(expected) - set(published))
    if not gained and not lost:
        findings.append(
            Finding(True, "results.run", f"The funded applications are those of {source}.")
        )
    else:
        parts = []
        if gained:
            parts.append(f"{_names(gained)} funded although {source} does not fund them")
        if lost:
            parts.append(f"{_names(lost)} funded by {source} but not by the decisions")
        findings.append(
            Finding(
                True,
                "results.run",
                "The approved decisions depart from the ranking, openly: "
                + "; ".join(parts)
                + ". Each decision was proposed by one officer and approved by another.",
            )
        )
    return findings


def verify(log: PublicLog, *, trusted_key: bytes | None = None) -> Report:
    """Check a public log offline and say what holds and the first thing that does not.

    In order: the header and format; the hash chain (up to its first break); every tree
    head (the funder's signature, its key id, its size, its root recomputed from the entries,
    sizes never decreasing) and, once the results are published, a last head that covers
    every entry; the funder's key against ``trusted_key`` when given; then every
    ranking run recomputed from the review scores in the log, every lottery replayed, and the
    published results against the runs and the approved decisions.
    """
    return _Verifier(log, trusted_key).run()


# --- the documented invariants (docs/audit.md, "What the verifier checks") -----------------
#
# These checks walk the log once more, on their own state, so that they stay apart from the
# recomputation above. Where the log lacks a field a check needs, the check says "not
# checkable" and names the field, rather than passing in silence.

# The actions whose unreadable data the walk above already reports.
_READ_ABOVE = frozenset(
    {
        "review.submitted",
        "panel.conflict_recorded",
        "panel.assignment_removed",
        "decision.approved",
        "ranking.run",
        "call.results_published",
    }
)
FUNDED = "funded"


@dataclass
class _Facts:
    """What the log has said so far, for the documented invariants."""

    requested: dict[str, Decimal] = field(default_factory=dict)
    envelope: tuple[Decimal, int] | None = None
    criteria: dict[str, tuple[Decimal, Decimal | None]] = field(default_factory=dict)
    criterion_entries: int = 0
    criterion_without_id: int | None = None
    assigned: dict[tuple[str, str], int] = field(default_factory=dict)
    confirmation_without_pairs: int | None = None
    conflicts: dict[tuple[str, str], int] = field(default_factory=dict)
    versions: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    runs: dict[int, _Run] = field(default_factory=dict)
    last_run: _Run | None = None
    decided_after: _Run | None = None
    # application -> (outcome, amount, entry index) of its latest approved decision
    decisions: dict[str, tuple[str, Decimal, int]] = field(default_factory=dict)
    published_run: int | None = None


def header_note(header: Mapping[str, Any]) -> Finding:
    """What the header's fields are worth: no signature covers the title or the time."""
    return Finding(
        True,
        "header",
        f"Note: the header's title (“{header.get('title')}”) and generated_at "
        f"({header.get('generated_at')}) are covered by no signature: they are labels, not "
        "evidence. The call id is checked against the signed tree heads and the key against "
        "the key you give with --public-key; everything else this report says rests on the "
        "entries and the signed heads alone.",
        checkable=False,
    )


def documented_checks(log: PublicLog) -> list[Finding]:
    """The invariants docs/audit.md promises beyond the recomputation: decisions within the
    request, the budget and the thresholds; runs' criteria and budget as logged; review
    versions that increase; every score from an assigned pair that is not conflicted."""
    findings = [header_note(log.header)]
    facts = _Facts()
    for entry in log.entries:
        index, action, data = entry["index"], entry["action"], entry["data"]
        try:
            findings.extend(_documented_step(index, action, data, facts))
        except _Unreadable as exc:
            if action not in _READ_ABOVE:
                findings.append(
                    Finding(False, "data", f"Entry {index} ({action}) cannot be read: {exc}.")
                )
        except (ValueError, ArithmeticError) as exc:
            findings.append(
                Finding(False, "data", f"Entry {index} ({action}) cannot be checked: {exc}.")
            )
    findings.extend(_check_budget_total(facts))
    return findings


def _pair_of(data: Mapping[str, Any], what: str) -> tuple[str, str]:
    return (
        _str(_field(data, "application"), f"{what}: application"),
        _str(_field(data, "reviewer"), f"{what}: reviewer"),
    )


def _new_value(value: Any, what: str) -> Decimal | None:
    """A logged value, or the ``new`` of an ``{"old", "new"}`` change; None stays None."""
    if isinstance(value, dict):
        value = _field(value, "new")
    return None if value is None else _dec(value, what)


def _documented_step(
    index: int, action: str, data: Mapping[str, Any], facts: _Facts
) -> list[Finding]:
    """Take in one entry; the findings of the checks it is the occasion for."""
    if action in (
        "application.submitted",
        "application.amount_reduced",
        "application.amount_restored",
    ):
        if data.get("requested") is not None:
            app = _str(_field(data, "application"), "application")
            facts.requested[app] = _dec(data["requested"], "requested")
    elif action.startswith("call.criterion_"):
        facts.criterion_entries += 1
        if "criterion" not in data:
            if facts.criterion_without_id is None:
                facts.criterion_without_id = index
            return []
        key = _str(_field(data, "criterion"), "criterion")
        if action == "call.criterion_removed":
            facts.criteria.pop(key, None)
        elif action == "call.criterion_added":
            weight = _new_value(_field(data, "weight"), "weight")
            if weight is None:
                raise _Unreadable("the weight must not be null")
            facts.criteria[key] = (weight, _new_value(_field(data, "threshold"), "threshold"))
        elif key in facts.criteria:
            weight, threshold = facts.criteria[key]
            if "weight" in data:
                changed = _new_value(data["weight"], "weight")
                weight = weight if changed is None else changed
            if "threshold" in data:
                threshold = _new_value(data["threshold"], "threshold")
            facts.criteria[key] = (weight, threshold)
    elif action.startswith("call.") and action != PUBLISHED_ACTION:
        _call_facts(index, data, facts)
    elif action == "panel.assignments_confirmed":
        if "added" not in data:
            if facts.confirmation_without_pairs is None:
                facts.confirmation_without_pairs = index
            return []
        for raw in _list(data["added"], "added"):
            facts.assigned[_pair_of(_obj(raw, "a pair"), "a pair")] = index
        for raw in _list(data.get("removed", []), "removed"):
            facts.assigned.pop(_pair_of(_obj(raw, "a pair"), "a pair"), None)
    elif action == "panel.assignment_added":
        facts.assigned[_pair_of(data, "the pair")] = index
    elif action == "panel.assignment_removed":
        pair = _pair_of(data, "the pair")
        facts.assigned.pop(pair, None)
        # A pair assigned again is a new assignment: its reviews number from 1 again.
        facts.versions.pop(pair, None)
    elif action == "panel.conflict_recorded":
        facts.conflicts.setdefault(_pair_of(data, "the pair"), index)
    elif action == "review.submitted":
        return [_check_version(index, data, facts)]
    elif action == "ranking.run":
        run = _parse_run(index, data)
        if run.number in facts.runs:
            return []  # reported above
        facts.runs[run.number] = run
        facts.last_run = run
        name = f"Ranking run {run.number} (entry {index})"
        return [
            _check_run_criteria(name, run, facts),
            _check_run_budget(name, run, facts),
            _check_run_pairs(name, run, facts),
        ]
    elif action == "decision.approved":
        return _check_decision(index, data, facts)
    elif action == "call.results_published":
        facts.published_run = _int(_field(data, "run"), "run")
    return []


def _call_facts(index: int, data: Mapping[str, Any], facts: _Facts) -> None:
    """The budget envelope and the criteria a ``call.*`` entry states: ``budget_envelope``
    (a value, or ``{"old", "new"}``) at the top or in ``settings``, and ``criteria`` (the
    whole list, as ``call.published`` gives it)."""
    settings = data.get("settings")
    for source in (data, settings if isinstance(settings, dict) else {}):
        if "budget_envelope" in source:
            envelope = _new_value(source["budget_envelope"], "budget_envelope")
            if envelope is not None:
                facts.envelope = (envelope, index)
    if "criteria" in data:
        criteria: dict[str, tuple[Decimal, Decimal | None]] = {}
        for raw in _list(data["criteria"], "criteria"):
            c = _obj(raw, "a criterion")
            facts.criterion_entries += 1
            if "criterion" not in c:
                if facts.criterion_without_id is None:
                    facts.criterion_without_id = index
                return
            weight = _new_value(_field(c, "weight"), "weight")
            if weight is None:
                raise _Unreadable("a criterion's weight must not be null")
            criteria[_str(c["criterion"], "criterion")] = (
                weight,
                _new_value(_field(c, "threshold"), "threshold"),
            )
        facts.criteria = criteria


def _check_version(index: int, data: Mapping[str, Any], facts: _Facts) -> Finding:
    pair = _pair_of(data, "the review")
    version = _int(_field(data, "version"), "version")
    name = f"The review of {pair[0]} by {pair[1]} in entry {index}"
    earlier = facts.versions.get(pair)
    facts.versions[pair] = (version, index)
    if version < 1:
        return Finding(
            False, "review.version", f"{name} has version {version}; versions start at 1."
        )
    if earlier is not None and version <= earlier[0]:
        return Finding(
            False,
            "review.version",
            f"{name} has version {version}, but the pair's review in entry {earlier[1]} already "
            f"had version {earlier[0]}: versions must increase, so a version was replaced or "
            "repeated.",
        )
    after = "" if earlier is None else f" after version {earlier[0]} (entry {earlier[1]})"
    return Finding(True, "review.version", f"{name} is version {version}{after}.")


def _check_run_criteria(name: str, run: _Run, facts: _Facts) -> Finding:
    """The run's criteria (ids, weights, thresholds) are those the call.criterion_* entries
    before it define."""
    if facts.criterion_without_id is not None:
        return Finding(
            True,
            "run.criteria",
            f"{name}: its criteria are not checkable against the log: field absent: the "
            f"criterion entry {facts.criterion_without_id} does not carry the criterion's id "
            "('criterion').",
            checkable=False,
        )
    if not facts.criterion_entries:
        return Finding(
            True,
            "run.criteria",
            f"{name}: its criteria are not checkable: the log holds no call.criterion_* entry "
            "before it.",
            checkable=False,
        )

    def fail(message: str) -> Finding:
        return Finding(False, "run.criteria", f"{name}: {message}")

    used = {c.key: c for c in run.criteria}
    for key in sorted(set(used) | set(facts.criteria)):
        if key not in facts.criteria:
            return fail(f"it uses the criterion {key}, which no logged criterion defines.")
        if key not in used:
            return fail(f"it leaves out the logged criterion {key}.")
        weight, threshold = facts.criteria[key]
        if used[key].weight != weight:
            return fail(
                f"it weights the criterion {key} {used[key].weight}, but the log says {weight}."
            )
        if used[key].threshold != threshold:
            return fail(
                f"it gives the criterion {key} the threshold {used[key].threshold}, but the log "
                f"says {threshold}."
            )
    return Finding(
        True,
        "run.criteria",
        f"{name}: its {_count(len(used), 'criterion')} (ids, weights, thresholds) are those "
        "the log defines before it.",
    )


def _check_run_budget(name: str, run: _Run, facts: _Facts) -> Finding:
    if facts.envelope is None:
        return Finding(
            True,
            "run.budget",
            f"{name}: its budget ({run.budget}) is not checkable: field absent: no entry "
            "before it logs the call's budget envelope ('budget_envelope').",
            checkable=False,
        )
    envelope, at = facts.envelope
    if run.budget != envelope:
        return Finding(
            False,
            "run.budget",
            f"{name}: it ranked within a budget of {run.budget}, but the budget envelope "
            f"logged in entry {at} is {envelope}.",
        )
    return Finding(
        True,
        "run.budget",
        f"{name}: its budget {run.budget} is the envelope logged in entry {at}.",
    )


def _check_run_pairs(name: str, run: _Run, facts: _Facts) -> Finding:
    """Every score the run uses comes from a pair assigned before it and not conflicted."""
    checked = 0
    unknown: list[tuple[str, str]] = []
    for a in sorted(run.items, key=lambda item: item.key):
        for reviewer in sorted(a.reviews):
            pair = (a.key, reviewer)
            if pair in facts.conflicts:
                return Finding(
                    False,
                    "run.assigned",
                    f"{name}: it used scores by {reviewer} for {a.key}, who has a conflict "
                    f"of interest with it (entry {facts.conflicts[pair]}).",
                )
            if pair in facts.assigned:
                checked += 1
            elif facts.confirmation_without_pairs is not None:
                unknown.append(pair)
            else:
                return Finding(
                    False,
                    "run.assigned",
                    f"{name}: it used scores by {reviewer} for {a.key}, but the log assigns "
                    f"{reviewer} to {a.key} nowhere before it.",
                )
    if unknown:
        return Finding(
            True,
            "run.assigned",
            f"{name}: {_count(len(unknown), 'reviewer pair')} it used "
            f"({unknown[0][1]} for {unknown[0][0]} first) not checkable: field absent: the "
            f"confirmation of assignments in entry {facts.confirmation_without_pairs} does not "
            "list the pairs it assigned ('added').",
            checkable=False,
        )
    return Finding(
        True,
        "run.assigned",
        f"{name}: each of the {_count(checked, 'reviewer pair')} whose scores it used was "
        "assigned before it, and none has a conflict of interest.",
    )


def _check_decision(index: int, data: Mapping[str, Any], facts: _Facts) -> list[Finding]:
    app = _str(_field(data, "application"), "application")
    outcome = _str(_field(data, "outcome"), "outcome")
    amount = _dec(_field(data, "amount"), "amount")
    facts.decisions[app] = (outcome, amount, index)
    name = f"The decision on {app} approved in entry {index}"
    # The run the decision follows: the last before it that ranks the application.
    ranking = (r for r in reversed(facts.runs.values()) if app in r.ranking)
    run = next(ranking, facts.last_run)
    if outcome != FUNDED:
        if amount != 0:
            return [
                Finding(
                    False,
                    "decision.amount",
                    f"{name} is {outcome}, yet grants {amount}: only a funded decision "
                    "grants an amount.",
                )
            ]
        return [Finding(True, "decision.amount", f"{name} is {outcome}, with no amount.")]
    facts.decided_after = run
    findings = []
    requested = facts.requested.get(app)
    source = "the amount requested"
    if requested is None and run is not None:
        item = next((a for a in run.items if a.key == app), None)
        if item is not None:
            requested, source = item.requested, f"the request in ranking run {run.number}"
    if not amount > 0:
        findings.append(
            Finding(False, "decision.amount", f"{name} funds it with {amount}, not above zero.")
        )
    elif requested is None:
        findings.append(
            Finding(
                True,
                "decision.amount",
                f"{name} grants {amount}; not checkable against the request: field absent: no "
                "entry before it gives the amount requested ('requested').",
                checkable=False,
            )
        )
    elif amount > requested:
        findings.append(
            Finding(
                False,
                "decision.amount",
                f"{name} grants {amount}, more than {source} ({requested}).",
            )
        )
    else:
        findings.append(
            Finding(
                True,
                "decision.amount",
                f"{name} grants {amount}: above zero and at most {source} ({requested}).",
            )
        )
    if run is None:
        findings.append(
            Finding(
                False,
                "decision.threshold",
                f"{name} funds it, but no ranking run comes before the decision.",
            )
        )
    elif app not in run.ranking:
        findings.append(
            Finding(
                False,
                "decision.threshold",
                f"{name} funds it, but no ranking run before it ranks it.",
            )
        )
    elif not run.ranking[app].passes:
        findings.append(
            Finding(
                False,
                "decision.threshold",
                f"{name} funds it, but it fails a threshold in ranking run {run.number}, the "
                "last before it that ranks it: an application that fails a threshold is never "
                "funded.",
            )
        )
    else:
        findings.append(
            Finding(
                True,
                "decision.threshold",
                f"{name} funds it, and it passes every threshold in ranking run {run.number}.",
            )
        )
    return findings


def _check_budget_total(facts: _Facts) -> list[Finding]:
    """The funded amounts of the approved decisions fit the budget of the run the decisions
    follow and the budget envelope last logged."""
    funded = {k: v for k, v in facts.decisions.items() if v[0] == FUNDED}
    if not funded:
        return []
    total = sum((amount for _o, amount, _at in funded.values()), Decimal(0))
    verb = "grants" if len(funded) == 1 else "grant"
    what = f"The {_count(len(funded), 'funded decision')} {verb} {total} in all"
    run = facts.runs.get(facts.published_run) if facts.published_run is not None else None
    run = run or facts.decided_after
    findings = []
    if run is None:
        findings.append(
            Finding(False, "decision.budget", f"{what}, but no ranking run precedes them.")
        )
    elif total > run.budget:
        findings.append(
            Finding(
                False,
                "decision.budget",
                f"{what}, more than the budget of {run.budget} of ranking run {run.number}, "
                "which the decisions follow.",
            )
        )
    else:
        findings.append(
            Finding(
                True,
                "decision.budget",
                f"{what}, within the budget of {run.budget} of ranking run {run.number}.",
            )
        )
    if facts.envelope is None:
        findings.append(
            Finding(
                True,
                "decision.budget",
                f"{what}; not checkable against the budget envelope: field absent: no entry "
                "logs it ('budget_envelope').",
                checkable=False,
            )
        )
    elif total > facts.envelope[0]:
        findings.append(
            Finding(
                False,
                "decision.budget",
                f"{what}, more than the budget envelope of {facts.envelope[0]} logged in "
                f"entry {facts.envelope[1]}.",
            )
        )
    else:
        findings.append(
            Finding(
                True,
                "decision.budget",
                f"{what}, within the budget envelope of {facts.envelope[0]} logged in entry "
                f"{facts.envelope[1]}.",
            )
        )
    return findings
