"""The audit hash chain, tested without an app or a database."""

import hashlib
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from grants.domain.audit_chain import (
    GENESIS_HASH,
    canonical_json,
    entry_hash,
    normalise,
    verify_chain,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)


def build(datas):
    """A valid chain holding one entry per data dict."""
    entries, prev = [], GENESIS_HASH
    for seq, data in enumerate(datas, start=1):
        entry = {
            "seq": seq,
            "created_at": f"2026-01-01T00:00:{seq % 60:02d}+00:00",
            "actor": "user:1",
            "action": "test.act",
            "subject_type": "things",
            "subject_id": str(seq),
            "data": normalise(data),
        }
        entry["prev_hash"] = prev
        entry["hash"] = prev = entry_hash(prev, entry)
        entries.append(entry)
    return entries


def test_canonical_json_is_sorted_compact_and_utf8():
    """Keys sorted, no spaces, non-ASCII kept, decimals as strings."""
    assert canonical_json({"b": 1, "a": "日本", "c": Decimal("1.50")}) == (
        '{"a":"日本","b":1,"c":"1.50"}'
    )


def test_entry_hash_follows_the_documented_formula():
    """hash = sha256(prev_hash bytes || canonical JSON of the hashed fields)."""
    entry = build([{"x": 1}])[0]
    body = {
        k: entry[k]
        for k in ("seq", "created_at", "actor", "action", "subject_type", "subject_id", "data")
    }
    expected = hashlib.sha256(bytes(32) + canonical_json(body).encode()).hexdigest()
    assert entry["hash"] == expected


@given(st.lists(st.dictionaries(st.text(max_size=5), json_values, max_size=3), max_size=8))
def test_a_built_chain_verifies(datas):
    """Any chain built by the rules verifies in full."""
    report = verify_chain(build(datas))
    assert report.ok is True
    assert report.checked == len(datas)


@given(
    st.lists(st.dictionaries(st.text(max_size=5), json_values, max_size=3), min_size=2, max_size=6),
    st.data(),
)
def test_any_tampering_is_found_at_the_right_entry(datas, data):
    """Changing, deleting or swapping an entry breaks the chain at that entry."""
    chain = build(datas)
    index = data.draw(st.integers(0, len(chain) - 1))
    kind = data.draw(st.sampled_from(["edit", "delete", "swap"]))
    if kind == "edit":
        chain[index] = {**chain[index], "data": {"tampered": True, **chain[index]["data"]}}
        expected = chain[index]["seq"]
    elif kind == "delete":
        del chain[index]
        if index == len(chain):  # deleting the last entry leaves a valid, shorter chain
            assert verify_chain(chain).ok is True
            return
        expected = chain[index]["seq"]
    else:
        other = (index + 1) % len(chain)
        chain[index], chain[other] = chain[other], chain[index]
        expected = chain[min(index, other)]["seq"]
    report = verify_chain(chain)
    assert report.ok is False
    assert report.broken_seq == expected


def test_relinked_forgery_is_found():
    """Rewriting an entry and recomputing its own hash still breaks the next link."""
    chain = build([{"a": 1}, {"b": 2}, {"c": 3}])
    forged = {**chain[1], "data": {"b": 999}}
    forged["hash"] = entry_hash(forged["prev_hash"], forged)
    chain[1] = forged
    report = verify_chain(chain)
    assert (report.ok, report.broken_seq) == (False, 3)
    assert report.problem == "does not link to the previous entry"
