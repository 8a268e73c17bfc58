"""The public log of a call: its format, and the offline verifier against honest and
tampered logs, including an insider who holds the signing key."""

import copy
import hashlib
import json
import re
import subprocess
import sys
from dataclasses import dataclass, field, replace
from decimal import Decimal as D
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grants.domain import publiclog as pl
from grants.domain import ranking as rk
from grants.domain.audit_chain import GENESIS_HASH, canonical_json
from grants.domain.merkle import (
    EMPTY_ROOT,
    TreeHead,
    key_id,
    leaf_hash,
    public_key,
    root,
    sign_tree_head,
)
from tests.conftest import child_env

ROOT = Path(__file__).resolve().parents[2]
SECRET = hashlib.sha256(b"publiclog tests: the funder's signing key").digest()
PUBLIC = public_key(SECRET)
OTHER_SECRET = hashlib.sha256(b"publiclog tests: somebody else's key").digest()
OTHER_PUBLIC = public_key(OTHER_SECRET)
CALL_ID = 7
R1, R2, R3 = "R-1a2b3c4d", "R-5e6f7a8b", "R-9c0d1e2f"
REVIEWERS = (R1, R2, R3)
APPS = tuple(f"AECF-2026-{i:04d}" for i in range(1, 7))
A1, A2, A3, A4, A5, A6 = APPS
WITHDRAWN = "AECF-2026-0007"
CRITERIA = [
    rk.CriterionSpec("artistic", D(3), D("2.5")),
    rk.CriterionSpec("partnership", D(2)),
]
SCALE = rk.Scale()
BUDGET = D("100000")
REQUESTED = {A1: D("30000"), A2: D("30000"), A3: D("30000"), A4: D("25000")}
REQUESTED |= {A5: D("30000"), A6: D("35000")}
BASE = {A1: ("4", "3.5"), A2: ("4", "4"), A3: ("3.5", "4")}
BASE |= {A4: ("4", "3"), A5: ("3.5", "3.5"), A6: ("2", "3")}
LOTTERY_SEED = 271828182845904523536028747135266249775

unhurried = settings(deadline=None, max_examples=20)


def first_scores(app: str, n: int, j: int) -> dict[str, str]:
    artistic, partnership = BASE[app]
    return {
        "artistic": str(D(artistic) + D("0.5") * ((n + j) % 3 - 1)),
        "partnership": str(D(partnership) + D("0.5") * ((n * j) % 3 - 1)),
    }


# --- building a realistic log ---------------------------------------------------------------


@dataclass
class Built:
    """An honest log's bodies, where its heads go, and the entries tests tamper with."""

    bodies: list[dict[str, Any]]
    heads: list[tuple[int, str, str]]  # tree size, timestamp, milestone
    at: dict[str, int] = field(default_factory=dict)
    items: dict[int, list[rk.ApplicationScores]] = field(default_factory=dict)
    options: dict[int, dict[str, int]] = field(default_factory=dict)


def inputs_from(
    reviews: dict[tuple[str, str], dict[str, str]], consensus: dict[str, dict[str, str]]
) -> list[rk.ApplicationScores]:
    """The ranking inputs, reconstructed by hand (independently of the verifier)."""
    items = []
    for n, app in enumerate(APPS, start=1):
        items.append(
            rk.ApplicationScores(
                key=app,
                reviews={
                    r: {c: D(s) for c, s in scores.items()}
                    for (a, r), scores in sorted(reviews.items())
                    if a == app
                },
                consensus=None
                if app not in consensus
                else {c: D(s) for c, s in consensus[app].items()},
                multiplier=D("1.1") if n % 2 else D(1),
                equity_index=D("0.3") + D("0.1") * n,
                countries=2 + n % 2,
                requested=REQUESTED[app],
                amount=D("20000") if app == A4 else None,
            )
        )
    return items


@cache
def built() -> Built:
    log = Built(bodies=[], heads=[])
    clock = iter(range(10_000))

    def add(action: str, data: dict[str, Any], subject: str = "call:7", actor: str = "officer"):
        minute = next(clock)
        log.bodies.append(
            {
                "index": len(log.bodies),
                "time": f"2026-03-01T{minute // 60:02d}:{minute % 60:02d}:00+00:00",
                "action": action,
                "subject": subject,
                "actor": actor,
                "data": data,
                "source": hashlib.sha256(f"private {minute}".encode()).hexdigest(),
            }
        )
        return len(log.bodies) - 1

    def milestone(name: str) -> None:
        size = len(log.bodies)
        log.heads.append((size, f"2026-06-{1 + len(log.heads):02d}T12:00:00Z", name))

    add("call.published", {"title": {"old": None, "new": "Été des échanges"}})
    milestone("call_published")
    for app in (*APPS, WITHDRAWN):
        add("application.submitted", {"reference": app, "partners": 3}, subject=app, actor="lead")
    add("application.withdrawn", {"application": WITHDRAWN}, subject=WITHDRAWN, actor="lead")
    milestone("call_closed")

    reviews: dict[tuple[str, str], dict[str, str]] = {}
    for app in APPS:
        for reviewer in REVIEWERS:
            add("panel.assignment_added", {"application": app, "reviewer": reviewer})
    for n, app in enumerate(APPS, start=1):
        for j, reviewer in enumerate(REVIEWERS):
            scores = first_scores(app, n, j)
            index = add(
                "review.submitted",
                {"application": app, "reviewer": reviewer, "version": 1, "scores": scores},
                subject=app,
                actor=reviewer,
            )
            log.at[f"review {app} {reviewer}"] = index
            reviews[app, reviewer] = scores
    for app, reviewer, scores in (
        (A1, R2, {"artistic": "4.5", "partnership": "4"}),
        (A3, R1, {"artistic": "3", "partnership": "3.5"}),
    ):
        index = add(
            "review.submitted",
            {"application": app, "reviewer": reviewer, "version": 2, "scores": scores},
            subject=app,
            actor=reviewer,
        )
        log.at[f"review {app} {reviewer}"] = index
        reviews[app, reviewer] = scores
    # R3 turns out to have a conflict with A4: that review never counts again.
    log.at["conflict"] = add(
        "panel.conflict_recorded",
        {"application": A4, "reviewer": R3, "source": "declared", "reason": "former colleague"},
    )
    add("panel.assignment_removed", {"application": A4, "reviewer": R3})
    conflicted = reviews.pop((A4, R3))
    # R2's assignment to A6 is removed and given again; the new review counts.
    add("panel.assignment_removed", {"application": A6, "reviewer": R2})
    del reviews[A6, R2]
    add("panel.assignment_added", {"application": A6, "reviewer": R2})
    scores = {"artistic": "2.5", "partnership": "3.5"}
    log.at[f"review {A6} {R2}"] = add(
        "review.submitted",
        {"application": A6, "reviewer": R2, "version": 1, "scores": scores},
        subject=A6,
        actor=R2,
    )
    reviews[A6, R2] = scores
    consensus = {A2: {"artistic": "4.5", "partnership": "4"}}
    log.at["consensus"] = add(
        "panel.consensus_recorded", {"application": A2, "scores": consensus[A2]}, subject=A2
    )
    milestone("reviews_complete")
    assert conflicted  # the conflicted pair had scored before the conflict came to light

    items = inputs_from(reviews, consensus)
    runs: dict[int, rk.RankingResult] = {}
    # Run 1 uses rank's defaults; run 2 logs smaller draws, which the verifier passes on.
    plan: tuple[tuple[int, str, dict[str, int]], ...] = (
        (1, rk.RAW, {}),
        (2, rk.EXPECTED_RANK, {"draws": 400, "burn_in": 100, "min_reviews": 3}),
    )
    for number, method, options in plan:
        seed = 20260101 + number
        result = rk.rank(items, CRITERIA, SCALE, BUDGET, method=method, seed=seed, **options)
        while method == rk.EXPECTED_RANK and not result.lottery_group:
            seed += 1
            result = rk.rank(items, CRITERIA, SCALE, BUDGET, method=method, seed=seed, **options)
        log.at[f"commit {number}"] = add(
            "ranking.seed_committed", {"method": method, "commitment": rk.seed_commitment(seed)}
        )
        data = pl.ranking_run_data(number, items, CRITERIA, SCALE, BUDGET, result, **options)
        log.at[f"run {number}"] = add("ranking.run", data)
        log.items[number] = items
        log.options[number] = options
        runs[number] = result
        milestone("ranking_run")
    result = runs[2]
    assert result.lottery_group, "the fixture needs a lottery"

    draw = rk.draw_lottery(result.lottery_group, result.lottery_places, LOTTERY_SEED)
    amounts = {a.key: a.funding_amount for a in items}
    settled = rk.settle_lottery(result.funded, result.lottery_group, amounts, BUDGET, draw.order)
    log.at["lottery commit"] = add(
        "lottery.seed_committed",
        {
            "run": 2,
            "commitment": rk.seed_commitment(LOTTERY_SEED),
            "group": list(result.lottery_group),
            "places": result.lottery_places,
        },
    )
    milestone("lottery_seed_committed")
    log.at["lottery"] = add(
        "lottery.drawn",
        {
            "run": 2,
            "seed": str(LOTTERY_SEED),
            "order": list(draw.order),
            "funded": list(settled.funded),
        },
    )
    awards = {}
    for app in APPS:
        if app in settled.funded:
            outcome, amount = "funded", amounts[app]
            awards[app] = str(amount)
        else:
            outcome, amount = "reserve", D(0)
        add("decision.proposed", {"application": app, "outcome": outcome}, subject=app)
        log.at[f"decision {app}"] = add(
            "decision.approved",
            {"application": app, "outcome": outcome, "amount": str(amount)},
            subject=app,
        )
    milestone("decisions_approved")
    log.at["results"] = add(
        "call.results_published",
        {"run": 2, "funded": sorted(settled.funded), "awards": awards},
    )
    milestone("results_published")
    # After publication the platform signs a new head with every entry it adds.
    add("appeal.lodged", {"application": A5})
    milestone("after_publication")
    return log


def sign(
    bodies: list[dict[str, Any]],
    heads: list[tuple[int, str, str]],
    secret: bytes = SECRET,
) -> pl.PublicLog:
    """Chain the bodies and sign every head: what the platform (or an insider) publishes."""
    entries = pl.chain(bodies)
    header = pl.make_header(CALL_ID, "Été des échanges 2026", public_key(secret), "2026-07-01")
    signed = [
        pl.sign_head(
            entries, size, timestamp=stamp, milestone=name, call_id=CALL_ID, private_key=secret
        )
        for size, stamp, name in heads
    ]
    return pl.loads(pl.dumps(header, entries, signed))


@cache
def honest_text() -> str:
    log = sign(built().bodies, built().heads)
    return pl.dumps(log.header, log.entries, log.heads)


def honest() -> pl.PublicLog:
    return pl.loads(honest_text())


def insider(edit) -> pl.PublicLog:
    """Edit the bodies, then re-chain and re-sign every head with the funder's own key."""
    bodies = copy.deepcopy(built().bodies)
    edit(bodies)
    return sign(bodies, built().heads)


def outsider(edit) -> pl.PublicLog:
    """Edit the file as it stands, without the key; the result goes through the file form."""
    log = honest()
    edit(log)
    return pl.loads(pl.dumps(log.header, log.entries, log.heads))


def first_failure(log: pl.PublicLog, **kwargs: Any) -> pl.Finding:
    report = pl.verify(log, **kwargs)
    assert not report.ok
    failure = report.first_failure
    assert failure is not None and not failure.ok
    return failure


def names_entry(message: str, index: int) -> bool:
    return re.search(rf"\bentry {index}\b", message, re.IGNORECASE) is not None


def rerun(bodies: list[dict[str, Any]], number: int, items: list[rk.ApplicationScores]) -> None:
    """An insider recomputes run ``number`` consistently from other inputs."""
    data = bodies[built().at[f"run {number}"]]["data"]
    options = built().options[number]
    result = rk.rank(
        items, CRITERIA, SCALE, BUDGET, method=data["method"], seed=int(data["seed"]), **options
    )
    data.update(pl.ranking_run_data(number, items, CRITERIA, SCALE, BUDGET, result, **options))


# --- hashing and the format -----------------------------------------------------------------


def test_entry_hash_follows_the_spec():
    body = {
        "index": 0,
        "time": "t",
        "action": "a",
        "subject": "s",
        "actor": "x",
        "data": {"é": "1"},
        "source": "ab" * 32,
    }
    text = (
        '{"action":"a","actor":"x","data":{"é":"1"},"index":0,'
        '"source":"' + "ab" * 32 + '","subject":"s","time":"t"}'
    )
    expected = hashlib.sha256(bytes(32) + text.encode("utf-8")).hexdigest()
    assert pl.entry_hash(GENESIS_HASH, body) == expected
    entries = pl.chain([body, {**body, "index": 1}])
    assert entries[0]["prev"] == GENESIS_HASH and entries[0]["hash"] == expected
    assert entries[1]["prev"] == expected and entries[0]["kind"] == "entry"
    leaf = text.replace('"index"', f'"hash":"{expected}","index"')
    assert pl.leaf_data(entries[0]) == leaf.encode("utf-8")
    # only the body is hashed: extra fields do not matter
    assert pl.entry_hash(GENESIS_HASH, entries[0]) == expected


def test_tree_root_and_signed_head():
    entries = pl.chain(built().bodies[:5])
    assert pl.tree_root(entries, 0) == EMPTY_ROOT.hex()
    assert pl.tree_root(entries, 5) == root([pl.leaf_data(e) for e in entries]).hex()
    head = pl.sign_head(
        entries, 3, timestamp="2026-06-01T12:00:00Z", milestone="m", call_id=7, private_key=SECRET
    )
    tree_head = TreeHead(3, pl.tree_root(entries, 3), "2026-06-01T12:00:00Z", "m", 7)
    assert head["signature"] == sign_tree_head(tree_head, SECRET)
    assert head["key_id"] == key_id(PUBLIC)
    assert leaf_hash(pl.leaf_data(entries[0])).hex() == pl.tree_root(entries, 1)


def test_every_line_is_canonical_json_and_heads_follow_their_entries():
    lines = honest_text().splitlines()
    assert honest_text().endswith("\n")
    kinds = []
    seen = 0
    for line in lines:
        obj = json.loads(line)
        assert canonical_json(obj) == line
        kinds.append(obj["kind"])
        if obj["kind"] == "entry":
            seen += 1
        elif obj["kind"] == "tree_head":
            assert obj["tree_size"] == seen
    assert kinds[0] == "header" and kinds.count("header") == 1
    assert kinds.count("tree_head") == len(built().heads)


def test_round_trip():
    log = honest()
    again = pl.loads(pl.dumps(log.header, log.entries, log.heads))
    assert again == log
    assert len(log.entries) == len(built().bodies)
    assert log.header["public_key"] == PUBLIC.hex()


def malformed_cases() -> list[tuple[str, str]]:
    lines = honest_text().splitlines()
    header, first = lines[0], lines[1]
    entry = json.loads(first)
    no_hash = {k: v for k, v in entry.items() if k != "hash"}
    upper = {**entry, "hash": entry["hash"].upper()}
    return [
        ("", r"line 1: the file is empty"),
        ("\n".join([header, first, lines[2][:-3]]), r"line 3: not valid JSON"),
        ("\n".join([header, canonical_json(no_hash)]), r"line 2: the entry has no field 'hash'"),
        ("\n\n" + first, r"line 3: the first line must be the header"),
        (header + "\n" + first[:-1] + ',"index":3}', r"line 2: .*appears twice"),
        (
            "\n".join([header, canonical_json(upper)]),
            r"line 2: the entry's 'hash' must be 64 lowercase hex digits",
        ),
        (header + '\n{"kind":"comment"}', r"line 2: unknown kind 'comment'"),
        ("\n".join([header, first, header]), r"line 3: a second header"),
        (header + "\n[1]", r"line 2: not a JSON object"),
        (header + '\n{"kind":"entry","x":NaN}', r"line 2: not valid JSON .*NaN"),
    ]


def test_loads_names_the_line_of_a_malformed_file():
    for text, pattern in malformed_cases():
        with pytest.raises(ValueError, match=pattern):
            pl.loads(text)


# --- the honest log -------------------------------------------------------------------------


def test_the_honest_log_verifies():
    log = honest()
    report = pl.verify(log, trusted_key=PUBLIC)
    assert report.ok, report.summary()
    assert all(f.ok for f in report.findings)
    codes = [f.code for f in report.findings]
    assert codes[:2] == ["format", "chain"]
    assert codes.count("tree_head") == len(built().heads)  # the last covers every entry
    assert codes.count("run.seed") == codes.count("run.inputs") == 2
    assert codes.count("run.inputs_hash") == codes.count("run.ranking") == 2
    assert codes.count("lottery") == 1 and codes.count("results") == 1
    messages = [f.message for f in report.findings]
    assert f"The chain of {len(log.entries)} entries is intact" in messages[1]
    assert any("is signed by the funder's key and its root matches" in m for m in messages)
    assert not any("after the last signed tree head" in m for m in messages)
    assert report.summary().startswith("The public log holds")


def test_without_a_trusted_key_the_report_says_where_the_key_came_from():
    report = pl.verify(honest())
    assert report.ok
    key = next(f for f in report.findings if f.code == "key")
    assert "taken from the file" in key.message and PUBLIC.hex() in key.message


def test_the_run_inputs_leave_out_the_conflicted_and_removed_reviews():
    items = {a.key: a for a in built().items[1]}
    assert R3 not in items[A4].reviews
    assert items[A6].reviews[R2] == {"artistic": D("2.5"), "partnership": D("3.5")}
    assert items[A1].reviews[R2] == {"artistic": D("4.5"), "partnership": D("4")}


# --- tampering without the key --------------------------------------------------------------


@unhurried
@given(st.data())
def test_altering_any_entry_is_named(data):
    log = honest()
    index = data.draw(st.integers(0, len(log.entries) - 1), label="entry")
    value = data.draw(st.one_of(st.text(max_size=5), st.integers()), label="value")

    def edit(log):
        log.entries[index]["data"]["tampered"] = value

    failure = first_failure(outsider(edit))
    assert failure.code == "chain"
    assert (
        failure.message == f"Entry {index} has been altered: its hash does not match its content."
    )


@unhurried
@given(st.data())
def test_deleting_an_entry_is_named(data):
    count = len(honest().entries)
    index = data.draw(st.integers(0, count - 2), label="entry")
    failure = first_failure(outsider(lambda log: log.entries.pop(index)))
    assert failure.code == "chain"
    assert names_entry(failure.message, index)


def test_deleting_the_last_signed_entry_breaks_a_tree_head():
    heads = built().heads
    last_signed = heads[-1][0] - 1

    def edit(log):
        del log.entries[last_signed:]

    failure = first_failure(outsider(edit))
    assert failure.code == "tree_head"
    assert failure.message.startswith(f"Tree head {len(heads)} (milestone 'after_publication'")
    assert "holds only" in failure.message


def test_before_publication_entries_after_the_last_head_are_noted_as_not_yet_signed():
    # Before the results are published, entries come between milestones: the chain links
    # them, and the report says which entries no head vouches for yet.
    results = built().at["results"]
    bodies = built().bodies[: results + 1]
    heads = [h for h in built().heads if h[0] <= results]  # the decisions' head, not later
    bodies[results] = {**bodies[results], "action": "decisions.released", "data": {}}
    assert max(size for size, _, _ in heads) == results
    report = pl.verify(sign(bodies, heads))
    assert report.ok, report.summary()
    notes = [f.message for f in report.findings if "after the last" in f.message]
    assert notes == [
        f"Entry {results} comes after the last signed tree head: the chain links it, but "
        "the funder's key does not vouch for it yet."
    ]
    # The same log with the results published in that entry is refused.
    bodies[results] = built().bodies[results]
    failure = first_failure(sign(bodies, heads))
    assert failure.code == "tree_head" and "not covered by any signature" in failure.message


def appended(log: pl.PublicLog, count: int = 1) -> pl.PublicLog:
    """Someone without the key appends entries to a published log, chaining them correctly."""
    entries = [pl.entry_body(e) for e in log.entries]
    for n in range(count):
        entries.append(
            {
                "index": len(entries),
                "time": f"2026-07-0{2 + n}T09:00:00+00:00",
                "action": "appeal.decided",
                "subject": f"application:{A5}",
                "actor": "officer",
                "data": {"application": A5, "outcome": "upheld"},
                "source": hashlib.sha256(f"forged {n}".encode()).hexdigest(),
            }
        )
    return pl.loads(pl.dumps(log.header, pl.chain(entries), log.heads))


def test_a_published_log_whose_last_entries_no_head_covers_fails():
    log = honest()
    count = len(log.entries)
    assert max(h["tree_size"] for h in log.heads) == count  # the honest log is all signed
    forged = appended(log)
    assert [e["hash"] for e in forged.entries[:count]] == [e["hash"] for e in log.entries]
    report = pl.verify(forged, trusted_key=PUBLIC)
    assert not report.ok
    chain = next(f for f in report.findings if f.code == "chain")
    assert chain.ok  # the hash chain alone does not catch it
    failure = report.first_failure
    assert failure is not None and failure.code == "tree_head"
    assert failure.message == (
        f"Entry {count} comes after the last signed tree head, in the log of a call whose "
        f"results are published (entry {built().at['results']}): 1 entry is not covered by "
        "any signature. Once the results are published, the platform signs a new tree head "
        "with every entry it adds, so this entry could have been added or changed by anyone "
        "after the last signature."
    )
    several = first_failure(appended(log, 3))
    assert several.message.startswith(
        f"Entries {count} to {count + 2} come after the last signed tree head"
    )
    assert "3 entries are not covered by any signature" in several.message
    assert "these entries could have been added or changed by anyone" in several.message


def test_a_published_log_missing_its_last_head_fails():
    # Dropping the head that covers the latest entries leaves them unsigned: refused too.
    def edit(log):
        log.heads.pop()

    failure = first_failure(outsider(edit))
    assert failure.code == "tree_head"
    assert "1 entry is not covered by any signature" in failure.message


@unhurried
@given(st.data())
def test_swapping_two_entries_is_named(data):
    count = len(honest().entries)
    i = data.draw(st.integers(0, count - 2), label="i")
    j = data.draw(st.integers(i + 1, count - 1), label="j")

    def edit(log):
        log.entries[i], log.entries[j] = log.entries[j], log.entries[i]

    failure = first_failure(outsider(edit))
    assert failure.code == "chain"
    assert names_entry(failure.message, i)


@unhurried
@given(st.data())
def test_altering_a_tree_head_is_named(data):
    heads = honest().heads
    k = data.draw(st.integers(0, len(heads) - 1), label="head")
    what = data.draw(st.sampled_from(["root", "size up", "size down", "milestone", "time"]))

    def edit(log):
        head = log.heads[k]
        if what == "root":
            head["root"] = hashlib.sha256(head["root"].encode()).hexdigest()
        elif what == "size up":
            head["tree_size"] += 1
        elif what == "size down":
            head["tree_size"] = max(0, head["tree_size"] - 1)
            if head["tree_size"] == heads[k]["tree_size"]:
                head["tree_size"] = 1
        elif what == "milestone":
            head["milestone"] = "call_closed_early"
        else:
            head["timestamp"] = "2027-01-01T00:00:00Z"

    failure = first_failure(outsider(edit))
    assert failure.code == "tree_head"
    assert failure.message.startswith(f"Tree head {k + 1} (")
    assert "does not verify with the funder's key" in failure.message


def test_a_head_signed_with_another_key_is_named():
    def edit(log):
        log.heads[2] = pl.sign_head(
            log.entries,
            log.heads[2]["tree_size"],
            timestamp=log.heads[2]["timestamp"],
            milestone=log.heads[2]["milestone"],
            call_id=CALL_ID,
            private_key=OTHER_SECRET,
        )

    failure = first_failure(outsider(edit))
    assert failure.message.startswith("Tree head 3 (") and key_id(OTHER_PUBLIC) in failure.message

    def disguised(log):
        edit(log)
        log.heads[2]["key_id"] = log.header["key_id"]

    failure = first_failure(outsider(disguised))
    assert failure.message.startswith("Tree head 3 (")
    assert "does not verify with the funder's key" in failure.message


def test_heads_going_backwards_are_named():
    log = honest()
    log.heads[3], log.heads[4] = log.heads[4], log.heads[3]
    failure = first_failure(log)
    assert failure.message.startswith("Tree head 5 (") and "went backwards" in failure.message


def test_a_header_key_that_does_not_match_its_key_id():
    failure = first_failure(outsider(lambda log: log.header.update(public_key=OTHER_PUBLIC.hex())))
    assert failure.code == "format" and "header has been altered" in failure.message


def test_a_log_re_signed_with_another_key_fails_only_against_the_trusted_key():
    forged = sign(copy.deepcopy(built().bodies), built().heads, OTHER_SECRET)
    assert pl.verify(forged).ok  # self-consistent: only the funder's published key tells
    failure = first_failure(forged, trusted_key=PUBLIC)
    assert failure.code == "key"
    assert key_id(OTHER_PUBLIC) in failure.message and key_id(PUBLIC) in failure.message
    failure = first_failure(honest(), trusted_key=OTHER_PUBLIC)
    assert failure.code == "key"


def test_an_unknown_format_stops_the_check():
    log = honest()
    log.header["format"] = "grants-public-log/2"
    report = pl.verify(log)
    assert not report.ok and len(report.findings) == 1
    assert "grants-public-log/2" in report.findings[0].message


def test_a_log_without_heads_is_not_vouched_for():
    log = honest()
    log.heads = []
    failure = first_failure(log)
    assert failure.code == "tree_head" and "no signed tree head" in failure.message


# --- an insider with the key: the ranking recomputation catches it --------------------------


def test_insider_changing_a_review_score_is_caught_by_the_inputs():
    index = built().at[f"review {A1} {R1}"]

    def edit(bodies):
        bodies[index]["data"]["scores"]["artistic"] = "1"

    log = insider(edit)
    assert pl.verify(log).findings[1].ok  # the chain holds: it was rebuilt
    failure = first_failure(log, trusted_key=PUBLIC)
    assert failure.code == "run.inputs"
    assert failure.message.startswith(f"Ranking run 1 (entry {built().at['run 1']}): ")
    assert f"logged for {A1} by {R1} (entry {index}) differ" in failure.message
    assert "artistic: logged 1, used" in failure.message


def test_insider_changing_scores_and_inputs_is_caught_by_the_inputs_hash():
    index = built().at[f"review {A1} {R1}"]

    def edit(bodies):
        bodies[index]["data"]["scores"]["artistic"] = "1"
        for number in (1, 2):
            run = bodies[built().at[f"run {number}"]]["data"]
            app = next(a for a in run["inputs"]["applications"] if a["key"] == A1)
            app["reviews"][R1]["artistic"] = "1"

    failure = first_failure(insider(edit), trusted_key=PUBLIC)
    assert failure.code == "run.inputs_hash"
    assert (
        failure.message.startswith("Ranking run 1 (") and "changed after the run" in failure.message
    )


def test_insider_changing_scores_inputs_and_hash_is_caught_by_the_ranking():
    index = built().at[f"review {A1} {R1}"]
    new = {"artistic": "0", "partnership": "0"}

    def edit(bodies):
        bodies[index]["data"]["scores"] = dict(new)
        for number in (1, 2):
            run = bodies[built().at[f"run {number}"]]["data"]
            items = [
                replace(a, reviews={**a.reviews, R1: {c: D(s) for c, s in new.items()}})
                if a.key == A1
                else a
                for a in built().items[number]
            ]
            app = next(a for a in run["inputs"]["applications"] if a["key"] == A1)
            app["reviews"][R1] = dict(new)
            options = built().options[number]
            result = rk.rank(
                items,
                CRITERIA,
                SCALE,
                BUDGET,
                method=run["method"],
                seed=int(run["seed"]),
                **options,
            )
            run["inputs_hash"] = result.inputs_hash  # but the ranking stays as published

    log = insider(edit)
    failure = first_failure(log, trusted_key=PUBLIC)
    assert failure.code == "run.ranking"
    assert failure.message.startswith("Ranking run 1 (")
    assert re.search(r"puts AECF-2026-\d{4} at rank \d, but the log says rank \d", failure.message)
    findings = pl.verify(log).findings
    assert all(f.ok for f in findings if f.code in {"run.inputs", "run.inputs_hash"})


def test_insider_counting_a_conflicted_review_is_caught():
    conflicted = first_scores(A4, 4, 2)

    def edit(bodies):
        for number in (1, 2):
            items = [
                replace(a, reviews={**a.reviews, R3: {c: D(s) for c, s in conflicted.items()}})
                if a.key == A4
                else a
                for a in built().items[number]
            ]
            rerun(bodies, number, items)

    failure = first_failure(insider(edit), trusted_key=PUBLIC)
    assert failure.code == "run.inputs"
    assert f"used scores by {R3} for {A4}" in failure.message
    assert f"conflict of interest between them was recorded in entry {built().at['conflict']}" in (
        failure.message
    )


def test_insider_leaving_out_a_review_is_caught():
    def edit(bodies):
        items = [
            replace(a, reviews={r: s for r, s in a.reviews.items() if r != R2})
            if a.key == A5
            else a
            for a in built().items[1]
        ]
        rerun(bodies, 1, items)

    failure = first_failure(insider(edit), trusted_key=PUBLIC)
    assert failure.code == "run.inputs"
    index = built().at[f"review {A5} {R2}"]
    assert f"the review of {A5} by {R2} (entry {index}) counts, but the run left it out" in (
        failure.message
    )


def test_insider_leaving_out_an_application_or_ranking_a_withdrawn_one_is_caught():
    def drop(bodies):
        rerun(bodies, 1, [a for a in built().items[1] if a.key != A6])

    failure = first_failure(insider(drop), trusted_key=PUBLIC)
    assert failure.code == "run.inputs" and f"for {A6}, which was not withdrawn" in failure.message

    def add_withdrawn(bodies):
        extra = replace(built().items[1][0], key=WITHDRAWN)
        rerun(bodies, 1, [*built().items[1], extra])

    failure = first_failure(insider(add_withdrawn), trusted_key=PUBLIC)
    assert failure.code == "run.inputs" and f"{WITHDRAWN} was withdrawn in entry" in failure.message


def test_insider_changing_the_consensus_is_caught():
    def edit(bodies):
        bodies[built().at["consensus"]]["data"]["scores"]["artistic"] = "5"

    failure = first_failure(insider(edit), trusted_key=PUBLIC)
    assert failure.code == "run.inputs"
    assert f"consensus scores logged for {A2} (entry {built().at['consensus']}) differ" in (
        failure.message
    )


def test_insider_changing_the_logged_ranking_is_caught():
    def edit(bodies):
        rows = bodies[built().at["run 2"]]["data"]["ranking"]
        rows[0]["rank"], rows[1]["rank"] = rows[1]["rank"], rows[0]["rank"]

    failed = failures(insider(edit))
    # Caught from the logged expected ranks alone, and by replaying the sampler.
    assert failed["run.expected_rank"].startswith("Ranking run 2 (")
    assert "the order does not follow the expected ranks" in failed["run.expected_rank"]
    assert failed["run.ranking"].startswith("Ranking run 2 (")
    assert "at rank 1, but the log says rank 2" in failed["run.ranking"]


def failures(log: pl.PublicLog, **kwargs: Any) -> dict[str, str]:
    """The message of each failed check, by code (the first of each code)."""
    report = pl.verify(log, trusted_key=PUBLIC, **kwargs)
    failed: dict[str, str] = {}
    for finding in report.findings:
        if not finding.ok:
            failed.setdefault(finding.code, finding.message)
    return failed


def run2_rows(bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return bodies[built().at["run 2"]]["data"]["ranking"]


def test_expected_rank_run_logs_its_sampler_expected_ranks_and_intervals():
    """The honest log's expected-rank run carries the sampler version and, per application,
    the expected rank and interval; both checks pass and say what they checked."""
    data = built().bodies[built().at["run 2"]]["data"]
    assert data["parameters"]["sampler"] == "grants-shake256-gibbs/1"
    for row in data["ranking"]:
        assert D(row["expected_rank"]) >= 1
        assert 1 <= row["interval"][0] <= row["interval"][1] <= len(data["ranking"])
    raw_rows = built().bodies[built().at["run 1"]]["data"]["ranking"]
    assert all("expected_rank" not in row for row in raw_rows)
    report = pl.verify(honest(), trusted_key=PUBLIC)
    passed = {f.code: f.message for f in report.findings if f.ok and "run 2" in f.message}
    assert "from the logged expected ranks and 50% intervals alone" in passed["run.expected_rank"]
    assert "replayed with the sampler grants-shake256-gibbs/1" in passed["run.ranking"]


def test_insider_altering_an_expected_rank_is_caught():
    """Any change to an expected rank breaks the replay; this one (+0.5) also breaks the sum
    that the ranks of every draw fix, so a verifier without a sampler sees it too."""

    def edit(bodies):
        row = run2_rows(bodies)[2]
        row["expected_rank"] = str(D(row["expected_rank"]) + D("0.5"))

    failed = failures(insider(edit))
    assert "add up to" in failed["run.expected_rank"]
    assert "replaying the sampler gives" in failed["run.ranking"]


def test_insider_altering_an_interval_is_caught():
    """Widening an interval over the line changes the lottery group: caught from the logged
    numbers; any change (even one that leaves the group alone) is caught by the replay."""
    rows = run2_rows(built().bodies)
    line = built().bodies[built().at["run 2"]]["data"]["line"]
    group = built().bodies[built().at["run 2"]]["data"]["lottery_group"]
    target = next(r for r in rows if r["passes"] and r["key"] not in group and r["funded"])
    position = rows.index(target)

    def widen(bodies):
        run2_rows(bodies)[position]["interval"] = [1, line + 1]

    failed = failures(insider(widen))
    assert "the logged intervals put" in failed["run.expected_rank"]
    assert "replaying the sampler gives" in failed["run.ranking"]

    low, high = target["interval"]
    assert high <= line  # above the line: a change that keeps it there leaves the group alone
    changed = [low - 1, high] if low > 1 else [low, high + 1]
    assert changed[1] <= line

    def nudge(bodies):
        run2_rows(bodies)[position]["interval"] = changed

    failed = failures(insider(nudge))
    assert "run.expected_rank" not in failed
    assert "replaying the sampler gives" in failed["run.ranking"]


def test_insider_reordering_the_ranking_with_its_numbers_is_caught_by_the_replay():
    """Swapping two applications together with their expected ranks and intervals keeps the
    logged numbers consistent, but replaying the sampler shows it."""

    def edit(bodies):
        rows = run2_rows(bodies)
        group = bodies[built().at["run 2"]]["data"]["lottery_group"]
        # Ranks 2 and 3: both funded, both in the lottery group, so nothing else changes.
        assert rows[1]["funded"] and rows[2]["funded"]
        assert rows[1]["key"] in group and rows[2]["key"] in group
        rows[1]["key"], rows[2]["key"] = rows[2]["key"], rows[1]["key"]

    failed = failures(insider(edit))
    assert "run.expected_rank" not in failed
    assert failed["run.ranking"].startswith("Ranking run 2 (")


def test_a_verifier_without_the_sampler_still_checks_the_logged_numbers():
    """A run naming another sampler cannot be replayed: said plainly, and the order, line and
    lottery group are still checked from the logged expected ranks and intervals."""

    def other_sampler(bodies):
        bodies[built().at["run 2"]]["data"]["parameters"]["sampler"] = "someone-else/9"

    report = pl.verify(insider(other_sampler), trusted_key=PUBLIC)
    failed = {f.code: f.message for f in report.findings if not f.ok}
    assert set(failed) == {"run.sampler"}
    assert "someone-else/9" in failed["run.sampler"]
    assert any(f.ok and f.code == "run.expected_rank" for f in report.findings)

    def other_sampler_and_reordered(bodies):
        other_sampler(bodies)
        rows = run2_rows(bodies)
        rows[0]["rank"], rows[1]["rank"] = rows[1]["rank"], rows[0]["rank"]

    failed = failures(insider(other_sampler_and_reordered))
    assert "the order does not follow the expected ranks" in failed["run.expected_rank"]


def test_expected_rank_run_without_its_numbers_is_not_verified():
    """An expected-rank run whose ranking lacks the expected ranks (the old format) fails
    both checks: nothing in the log shows where its order comes from."""

    def strip(bodies):
        for row in run2_rows(bodies):
            del row["expected_rank"], row["interval"]

    failed = failures(insider(strip))
    assert "does not give the expected rank and interval" in failed["run.expected_rank"]
    assert "but the log says none" in failed["run.ranking"]


def test_insider_changing_the_runs_funded_list_is_caught():
    def edit(bodies):
        data = bodies[built().at["run 1"]]["data"]
        outsider_key = next(r["key"] for r in data["ranking"] if not r["funded"])
        data["funded"] = [*data["funded"][:-1], outsider_key]

    failure = first_failure(insider(edit), trusted_key=PUBLIC)
    assert failure.code == "run.ranking" and failure.message.startswith("Ranking run 1 (")
    assert "funded applications" in failure.message


def test_insider_changing_the_published_results_is_caught():
    results = built().at["results"]
    unfunded = next(a for a in APPS if a not in built().bodies[results]["data"]["funded"])

    def swap_funded(bodies):
        data = bodies[results]["data"]
        data["funded"] = sorted([*data["funded"][1:], unfunded])

    failure = first_failure(insider(swap_funded), trusted_key=PUBLIC)
    assert failure.code == "results"
    assert f"{unfunded} is published as funded, but no approved decision funds it" in (
        failure.message
    )

    def raise_award(bodies):
        awards = bodies[results]["data"]["awards"]
        key = sorted(awards)[0]
        awards[key] = str(D(awards[key]) + 1000)

    failure = first_failure(insider(raise_award), trusted_key=PUBLIC)
    assert failure.code == "results" and "but the decision approved in entry" in failure.message

    def hide_award(bodies):
        awards = bodies[results]["data"]["awards"]
        del awards[sorted(awards)[0]]

    failure = first_failure(insider(hide_award), trusted_key=PUBLIC)
    assert failure.code == "results" and "the awards leave out" in failure.message


def test_insider_tampering_with_the_lottery_is_caught():
    at = built().at["lottery"]

    def reverse(bodies):
        bodies[at]["data"]["order"].reverse()

    failure = first_failure(insider(reverse), trusted_key=PUBLIC)
    assert failure.code == "lottery"
    assert failure.message.startswith(f"The lottery of ranking run 2 (entry {at}): ")
    assert "is not the order the seed gives" in failure.message

    def other_seed(bodies):
        data = bodies[at]["data"]
        group = bodies[built().at["run 2"]]["data"]["lottery_group"]
        seed = LOTTERY_SEED + 1
        data["seed"] = str(seed)
        data["order"] = list(rk.draw_lottery(group, 1, seed).order)

    failure = first_failure(insider(other_seed), trusted_key=PUBLIC)
    assert failure.code == "lottery"
    commit = built().at["lottery commit"]
    assert f"does not match the commitment logged in entry {commit}" in failure.message

    def other_funded(bodies):
        data = bodies[at]["data"]
        group = bodies[built().at["run 2"]]["data"]["lottery_group"]
        loser = next(k for k in group if k not in data["funded"])
        data["funded"] = [*(k for k in data["funded"] if k not in group), loser]

    failure = first_failure(insider(other_funded), trusted_key=PUBLIC)
    assert failure.code == "lottery" and "are not those the drawn order funds" in failure.message


def test_a_run_seed_that_does_not_match_its_commitment_is_caught():
    def edit(bodies):
        bodies[built().at["commit 1"]]["data"]["commitment"] = rk.seed_commitment(1)

    failure = first_failure(insider(edit), trusted_key=PUBLIC)
    assert failure.code == "run.seed" and failure.message.startswith("Ranking run 1 (")
    assert f"commitment logged in entry {built().at['commit 1']}" in failure.message


def test_unreadable_data_is_reported_not_raised():
    def edit(bodies):
        bodies[built().at["run 2"]]["data"]["parameters"]["budget"] = 100000

    failure = first_failure(insider(edit))
    assert failure.code == "run"
    assert "cannot be read: the budget must be a decimal number" in failure.message

    def review(bodies):
        bodies[built().at[f"review {A2} {R3}"]]["data"]["scores"] = ["4"]

    failure = first_failure(insider(review))
    assert failure.code == "data" and names_entry(failure.message, built().at[f"review {A2} {R3}"])


# --- the command line -----------------------------------------------------------------------


def run_cli(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    code = (
        "import runpy, sys\n"
        "sys.argv = ['grants.verify', *sys.argv[1:]]\n"
        "try:\n"
        "    runpy.run_module('grants.verify', run_name='__main__', alter_sys=True)\n"
        "    status = 0\n"
        "except SystemExit as exc:\n"
        "    status = exc.code\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in {'flask', 'sqlalchemy'})\n"
        "print('IMPORTED:' + ','.join(bad))\n"
        "sys.exit(status)\n"
    )
    env = child_env(PYTHONIOENCODING="utf-8")
    return subprocess.run(
        [sys.executable, "-c", code, str(path), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        env=env,
        check=False,
    )


def test_cli_on_an_honest_and_a_tampered_file(tmp_path):
    honest_file = tmp_path / "call-7.jsonl"
    honest_file.write_text(honest_text(), encoding="utf-8")
    result = run_cli(honest_file, "--public-key", PUBLIC.hex())
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "IMPORTED:"
    assert lines[0].startswith("✓ The file is a public log")
    assert not any(line.startswith("✗") for line in lines)
    assert "The public log holds: all" in result.stdout

    log = honest()
    log.entries[12]["data"]["tampered"] = True
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_text(pl.dumps(log.header, log.entries, log.heads), encoding="utf-8")
    result = run_cli(tampered)
    assert result.returncode == 1
    assert "✗ Entry 12 has been altered" in result.stdout
    assert "The public log does NOT hold" in result.stdout
    assert result.stdout.splitlines()[-1] == "IMPORTED:"

    result = run_cli(honest_file, "--public-key", OTHER_PUBLIC.hex())
    assert result.returncode == 1 and "✗ The file is signed with the key" in result.stdout

    forged = appended(honest())
    unsigned = tmp_path / "unsigned.jsonl"
    unsigned.write_text(pl.dumps(forged.header, forged.entries, forged.heads), encoding="utf-8")
    result = run_cli(unsigned, "--public-key", PUBLIC.hex())
    assert result.returncode == 1
    assert "✓ The chain of" in result.stdout  # every link holds, yet:
    assert "1 entry is not covered by any signature" in result.stdout
    assert "could have been added or changed by anyone after the last signature" in result.stdout

    broken = tmp_path / "broken.jsonl"
    broken.write_text(honest_text()[:-40], encoding="utf-8")
    result = run_cli(broken)
    assert result.returncode == 1 and "not a well-formed public log: line" in result.stdout

    result = run_cli(honest_file, "--public-key", "xyz")
    assert result.returncode == 2 and "hex" in result.stderr


def test_a_hostile_file_cannot_make_the_verifier_work_for_ever():
    def huge_draws(bodies):
        bodies[built().at["run 2"]]["data"]["parameters"]["draws"] = 10**9

    failure = first_failure(insider(huge_draws))
    assert failure.code == "run" and "add up to more than" in failure.message

    def huge_score(bodies):
        bodies[built().at[f"review {A2} {R3}"]]["data"]["scores"]["artistic"] = "1e999999999"

    failure = first_failure(insider(huge_score))
    assert failure.code == "data" and "out of range" in failure.message

    def huge_seed(bodies):
        bodies[built().at["lottery"]]["data"]["seed"] = "9" * 5000

    failure = first_failure(insider(huge_seed))
    assert failure.code == "data" and "at most 60" in failure.message
    with pytest.raises(ValueError, match="line 2: nested too deeply"):
        pl.loads(honest_text().splitlines()[0] + "\n" + "[" * 100_000 + "]" * 100_000)


def test_the_run_parameters_are_logged_and_passed_on():
    parameters = built().bodies[built().at["run 2"]]["data"]["parameters"]
    assert parameters == {
        "budget": "100000",
        "compare": list(rk.METHODS),
        "draws": 400,
        "burn_in": 100,
        "min_reviews": 3,
        "sampler": "grants-shake256-gibbs/1",
    }
    # Run 1 is raw, but computed the expected-rank method side by side: its sampler too.
    assert built().bodies[built().at["run 1"]]["data"]["parameters"] == {
        "budget": "100000",
        "compare": list(rk.METHODS),
        "sampler": "grants-shake256-gibbs/1",
    }

    def drop_draws(bodies):  # the run is then recomputed with 2000 draws: another hash
        del bodies[built().at["run 2"]]["data"]["parameters"]["draws"]

    failure = first_failure(insider(drop_draws))
    assert failure.code == "run.inputs_hash" and failure.message.startswith("Ranking run 2 (")


def test_decisions_that_depart_from_the_ranking_are_disclosed_not_hidden():
    """Officers may decide otherwise than the run (four eyes, with reasons): the log still
    verifies, and the verifier names every departure."""
    results = built().at["results"]
    funded = sorted(built().bodies[results]["data"]["funded"])
    dropped = funded[0]

    def decide_otherwise(bodies):
        decision = bodies[built().at[f"decision {dropped}"]]["data"]
        decision["outcome"], decision["amount"] = "reserve", "0"
        data = bodies[results]["data"]
        data["funded"] = funded[1:]
        del data["awards"][dropped]

    report = pl.verify(insider(decide_otherwise), trusted_key=PUBLIC)
    assert report.ok, report.first_failure
    disclosed = [f for f in report.findings if f.code == "results.run"]
    assert len(disclosed) == 1 and "depart from the ranking" in disclosed[0].message
    assert f"{dropped} funded by ranking run 2" in disclosed[0].message
