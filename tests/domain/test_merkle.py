"""The Merkle tree, its proofs and signed tree heads, tested without an app or a database.

The expected values come from a second, deliberately naive implementation written straight
from the RFC 9162 definitions (recursion with list slices), and from published test vectors.
"""

import dataclasses
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grants.domain.audit_chain import GENESIS_HASH, entry_hash
from grants.domain.merkle import (
    EMPTY_ROOT,
    TreeHead,
    consistency_proof,
    generate_private_key,
    inclusion_proof,
    key_id,
    leaf_bytes,
    leaf_hash,
    node_hash,
    public_key,
    root,
    root_from_hashes,
    sign_tree_head,
    tree_head_message,
    verify_consistency,
    verify_inclusion,
    verify_tree_head,
)

# --- The naive reference: the RFC's recursive definitions, transcribed literally ----------


def naive_split(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def naive_mth(leaves):
    """MTH(D[n]) from leaves' raw bytes (RFC 9162 §2.1.1)."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = naive_split(n)
    return hashlib.sha256(b"\x01" + naive_mth(leaves[:k]) + naive_mth(leaves[k:])).digest()


def naive_mth_of_hashes(hashes):
    """MTH where the leaf hashes are already known."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = naive_split(len(hashes))
    left, right = naive_mth_of_hashes(hashes[:k]), naive_mth_of_hashes(hashes[k:])
    return hashlib.sha256(b"\x01" + left + right).digest()


def naive_path(m, hashes):
    """PATH(m, D[n]) (RFC 9162 §2.1.3.1)."""
    n = len(hashes)
    if n <= 1:
        return []
    k = naive_split(n)
    if m < k:
        return [*naive_path(m, hashes[:k]), naive_mth_of_hashes(hashes[k:])]
    return [*naive_path(m - k, hashes[k:]), naive_mth_of_hashes(hashes[:k])]


def naive_directions(m, n):
    """Which side each PATH(m, D[n]) sibling sits on, leaf first: the proof's 'shape'."""
    if n <= 1:
        return []
    k = naive_split(n)
    if m < k:
        return [*naive_directions(m, k), "right"]
    return [*naive_directions(m - k, n - k), "left"]


def naive_subproof(m, hashes, whole):
    """SUBPROOF(m, D[n], b) (RFC 9162 §2.1.4.1)."""
    n = len(hashes)
    if m == n:
        return [] if whole else [naive_mth_of_hashes(hashes)]
    k = naive_split(n)
    if m <= k:
        return [*naive_subproof(m, hashes[:k], whole), naive_mth_of_hashes(hashes[k:])]
    return [*naive_subproof(m - k, hashes[k:], False), naive_mth_of_hashes(hashes[:k])]


def flip(value):
    """The same bytes with the last bit of the first byte changed."""
    return bytes([value[0] ^ 1]) + value[1:]


def make_leaves(n, salt):
    """n distinct leaves."""
    return [salt + i.to_bytes(2, "big") for i in range(n)]


# --- Known values ---------------------------------------------------------------------------

# Leaves and roots from certificate-transparency's merkle tree tests (RFC 6962 trees).
CT_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
ABC_ROOT = "36642e73c2540ab121e3a6bf9545b0a24982cd830eb13d3cd19de3ce6c021ec1"


def test_empty_tree_root_is_sha256_of_nothing():
    """MTH({}) = SHA-256("")."""
    expected = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert root([]).hex() == expected
    assert root_from_hashes([]).hex() == expected
    assert EMPTY_ROOT.hex() == expected


def test_hash_rules_use_the_rfc_prefixes():
    """Leaves are prefixed with 0x00, interior nodes with 0x01."""
    assert leaf_hash(b"a") == hashlib.sha256(b"\x00a").digest()
    assert (
        node_hash(b"L" * 32, b"R" * 32) == hashlib.sha256(b"\x01" + b"L" * 32 + b"R" * 32).digest()
    )
    assert root([b"a"]) == leaf_hash(b"a")


def test_root_of_a_b_c():
    """The example from the issue, checked against the naive definition too."""
    value = root([b"a", b"b", b"c"]).hex()
    assert value == ABC_ROOT
    assert value == naive_mth([b"a", b"b", b"c"]).hex()
    assert value.startswith("36642e73c2540ab1")
    assert value.endswith("6c021ec1")
    ab = node_hash(leaf_hash(b"a"), leaf_hash(b"b"))
    assert value == node_hash(ab, leaf_hash(b"c")).hex()


@pytest.mark.parametrize("size", range(1, 9))
def test_certificate_transparency_roots(size):
    """The published roots of each prefix of the eight CT test leaves."""
    assert naive_mth(CT_LEAVES[:size]).hex() == CT_ROOTS[size - 1]
    assert root(CT_LEAVES[:size]).hex() == CT_ROOTS[size - 1]


def test_certificate_transparency_proofs():
    """Published inclusion and consistency proofs over the eight CT test leaves."""
    hashes = [leaf_hash(leaf) for leaf in CT_LEAVES]
    path0 = [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ]
    assert [p.hex() for p in inclusion_proof(hashes, 0)] == path0
    assert [p.hex() for p in consistency_proof(hashes, 1)] == path0
    assert [p.hex() for p in consistency_proof(hashes, 6)] == [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ]
    assert [p.hex() for p in consistency_proof(hashes, 4)] == [path0[2]]
    assert consistency_proof(hashes, 8) == []
    new_root = bytes.fromhex(CT_ROOTS[7])
    assert verify_inclusion(hashes[0], 0, 8, inclusion_proof(hashes, 0), new_root)
    for old in range(1, 9):
        old_root = bytes.fromhex(CT_ROOTS[old - 1])
        assert verify_consistency(old, 8, old_root, new_root, consistency_proof(hashes, old))


def test_a_large_tree_matches_the_naive_definition():
    """Iterative hashing agrees with the recursion on a tree of uneven size."""
    leaves = make_leaves(5003, b"big")
    hashes = [leaf_hash(leaf) for leaf in leaves]
    expected = naive_mth(leaves)
    assert root(leaves) == expected
    assert root_from_hashes(hashes) == expected
    assert verify_inclusion(hashes[4999], 4999, 5003, inclusion_proof(hashes, 4999), expected)
    old_root = naive_mth(leaves[:4097])
    assert verify_consistency(4097, 5003, old_root, expected, consistency_proof(hashes, 4097))


# --- Leaves from audit entries --------------------------------------------------------------


def test_leaf_bytes_of_an_entry():
    """Canonical JSON of the hashed fields plus the chain hash; other fields left out."""
    entry = {
        "seq": 1,
        "created_at": "2026-11-22T10:00:00+00:00",
        "actor": "cli",
        "action": "call.published",
        "subject_type": "calls",
        "subject_id": "7",
        "data": {"title": {"old": None, "new": "Été"}},
        "prev_hash": GENESIS_HASH,
        "id": 99,
    }
    entry["hash"] = entry_hash(GENESIS_HASH, entry)
    expected = (
        '{"action":"call.published","actor":"cli","created_at":"2026-11-22T10:00:00+00:00",'
        '"data":{"title":{"new":"Été","old":null}},"hash":"' + entry["hash"] + '",'
        '"seq":1,"subject_id":"7","subject_type":"calls"}'
    ).encode()
    assert leaf_bytes(entry) == expected
    assert leaf_bytes({**entry, "hash": "1" * 64}) != expected
    assert leaf_bytes({**entry, "actor": "user:1"}) != expected


# --- Properties over random trees -----------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(min_size=32, max_size=32), max_size=300))
def test_root_from_hashes_agrees_with_the_naive_definition(hashes):
    """Iterative MTH = recursive MTH for any leaf hashes."""
    assert root_from_hashes(hashes) == naive_mth_of_hashes(hashes)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 300), st.binary(max_size=4), st.data())
def test_every_inclusion_proof_verifies_and_only_for_its_own_leaf(n, salt, data):
    """Each PATH verifies; another leaf, index or root fails."""
    hashes = [leaf_hash(leaf) for leaf in make_leaves(n, salt)]
    tree_root = root_from_hashes(hashes)
    assert tree_root == naive_mth(make_leaves(n, salt))
    shift = data.draw(st.integers(1, max(1, n - 1)))  # another index: (index + shift) % n
    for index in range(n):
        proof = inclusion_proof(hashes, index)
        assert proof == naive_path(index, hashes)
        assert verify_inclusion(hashes[index], index, n, proof, tree_root)
        assert not verify_inclusion(leaf_hash(b"other"), index, n, proof, tree_root)
        assert not verify_inclusion(hashes[index], index, n, proof, flip(tree_root))
        if n > 1:
            other = (index + shift) % n
            assert not verify_inclusion(hashes[index], other, n, proof, tree_root)
            assert not verify_inclusion(hashes[other], other, n, proof, tree_root)
        if proof:
            at = index % len(proof)
            tampered = [*proof[:at], flip(proof[at]), *proof[at + 1 :]]
            assert not verify_inclusion(hashes[index], index, n, tampered, tree_root)
            assert not verify_inclusion(hashes[index], index, n, proof[:-1], tree_root)
        assert not verify_inclusion(hashes[index], index, n, [*proof, tree_root], tree_root)
        assert not verify_inclusion(hashes[index], index, n, proof, tree_root[:-1])
        assert not verify_inclusion(hashes[index], n, n, proof, tree_root)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 300), st.binary(max_size=4), st.data())
def test_an_inclusion_proof_fails_for_any_size_of_a_different_shape(n, salt, data):
    """A wrong tree size fails unless it gives the proof exactly the same shape.

    Sizes with the same shape (e.g. leaf 0 in trees of 3 and of 4) compute the same hash
    from the same proof; that is inherent in RFC 9162, which is why a verifier takes the
    size and the root together from one signed tree head.
    """
    hashes = [leaf_hash(leaf) for leaf in make_leaves(n, salt)]
    tree_root = root_from_hashes(hashes)
    index = data.draw(st.integers(0, n - 1))
    proof = inclusion_proof(hashes, index)
    shape = naive_directions(index, n)
    for size in range(1, 2 * n + 2):
        same_shape = index < size and naive_directions(index, size) == shape
        assert verify_inclusion(hashes[index], index, size, proof, tree_root) == same_shape


def test_same_shape_sizes_are_the_only_exception():
    """The documented example: leaf 0 of 3 has the proof shape of leaf 0 of 4."""
    hashes = [leaf_hash(leaf) for leaf in (b"a", b"b", b"c")]
    proof = inclusion_proof(hashes, 0)
    assert verify_inclusion(hashes[0], 0, 4, proof, root_from_hashes(hashes))
    assert not verify_inclusion(hashes[0], 0, 5, proof, root_from_hashes(hashes))


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 300), st.binary(max_size=4), st.data())
def test_every_consistency_proof_verifies_and_fails_for_altered_roots(n, salt, data):
    """PROOF(m, D[n]) verifies for every 1 <= m <= n; another old or new root fails."""
    leaves = make_leaves(n, salt)
    hashes = [leaf_hash(leaf) for leaf in leaves]
    new_root = root_from_hashes(hashes)
    for m in range(1, n + 1):
        old_root = root_from_hashes(hashes[:m])
        proof = consistency_proof(hashes, m)
        assert proof == naive_subproof(m, hashes, True)
        assert verify_consistency(m, n, old_root, new_root, proof)
        assert not verify_consistency(m, n, flip(old_root), new_root, proof)
        assert not verify_consistency(m, n, old_root, flip(new_root), proof)
        if proof:
            at = m % len(proof)
            tampered = [*proof[:at], flip(proof[at]), *proof[at + 1 :]]
            assert not verify_consistency(m, n, old_root, new_root, tampered)
            assert not verify_consistency(m, n, old_root, new_root, proof[:-1])
        assert not verify_consistency(m, n, old_root, new_root, [*proof, new_root])
    # a tree whose first leaf differs is not an extension of this one
    if n > 1:
        forked = [leaf_hash(b"forked"), *hashes[1:]]
        m = data.draw(st.integers(1, n - 1))
        assert not verify_consistency(
            m, n, root_from_hashes(forked[:m]), new_root, consistency_proof(hashes, m)
        )


# --- Argument checking ----------------------------------------------------------------------


def test_bad_arguments_raise_value_error():
    """Out-of-range indices and sizes, and hashes that are not 32 bytes, are refused."""
    hashes = [leaf_hash(leaf) for leaf in make_leaves(5, b"")]
    for index in (-1, 5):
        with pytest.raises(ValueError, match="outside"):
            inclusion_proof(hashes, index)
    with pytest.raises(ValueError):
        inclusion_proof([], 0)
    for old in (0, -1, 6):
        with pytest.raises(ValueError, match="old size"):
            consistency_proof(hashes, old)
    with pytest.raises(ValueError, match="32 bytes"):
        root_from_hashes([b"short"])
    with pytest.raises(ValueError, match="32 bytes"):
        inclusion_proof([*hashes, "0" * 32], 0)


def test_verifiers_return_false_on_malformed_input():
    """Verification never raises: it answers False."""
    hashes = [leaf_hash(leaf) for leaf in make_leaves(5, b"")]
    r = root_from_hashes(hashes)
    proof = inclusion_proof(hashes, 2)
    assert verify_inclusion(hashes[2], 2, 5, proof, r)
    assert not verify_inclusion(hashes[2], -1, 5, proof, r)
    assert not verify_inclusion(hashes[2], 2, 0, proof, r)
    assert not verify_inclusion(hashes[2], True, 5, proof, r)
    assert not verify_inclusion(hashes[2].hex(), 2, 5, proof, r)
    assert not verify_inclusion(hashes[2], 2, 5, [p.hex() for p in proof], r)
    assert not verify_inclusion(hashes[2], 2, 5, b"".join(proof), r)
    assert not verify_inclusion(hashes[2], 2, 5, [*proof[:-1], proof[-1][:31]], r)
    assert not verify_inclusion(hashes[2], 2, 5, [], r)
    old = root_from_hashes(hashes[:3])
    cproof = consistency_proof(hashes, 3)
    assert verify_consistency(3, 5, old, r, cproof)
    assert not verify_consistency(0, 5, EMPTY_ROOT, r, cproof)
    assert not verify_consistency(0, 5, EMPTY_ROOT, r, [])
    assert not verify_consistency(6, 5, old, r, cproof)
    assert not verify_consistency(3, 5, old, r, [])
    assert not verify_consistency(3, 5, old, r, None)
    assert not verify_consistency(3, 5, old.hex(), r, cproof)
    assert not verify_consistency(3, 5, old, r, [p[:16] for p in cproof])
    assert verify_consistency(5, 5, r, r, [])
    assert not verify_consistency(5, 5, r, r, [r])
    assert not verify_consistency(5, 5, r, flip(r), [])


# --- Signed tree heads ----------------------------------------------------------------------

HEAD = TreeHead(
    tree_size=3,
    root=ABC_ROOT,
    timestamp="2026-11-22T10:00:00Z",
    milestone="call.closed",
    call_id=7,
)


def test_tree_head_message_is_canonical_json():
    """The exact bytes that are signed."""
    assert (
        tree_head_message(HEAD)
        == (
            '{"call_id":7,"milestone":"call.closed","root":"' + ABC_ROOT + '",'
            '"timestamp":"2026-11-22T10:00:00Z","tree_size":3}'
        ).encode()
    )
    assert tree_head_message(dataclasses.replace(HEAD, call_id=None)).startswith(
        b'{"call_id":null,'
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"tree_size": -1},
        {"tree_size": True},
        {"tree_size": "3"},
        {"root": ABC_ROOT.upper()},
        {"root": ABC_ROOT[:-1]},
        {"timestamp": "2026-11-22T10:00:00+00:00"},
        {"timestamp": "2026-11-22 10:00:00Z"},
        {"timestamp": "2026-13-22T10:00:00Z"},
        {"milestone": ""},
        {"call_id": "7"},
    ],
)
def test_tree_head_fields_are_checked(changes):
    """A head that could not be serialised unambiguously is refused."""
    with pytest.raises(ValueError):
        dataclasses.replace(HEAD, **changes)


def test_keys_are_raw_ed25519_bytes():
    """32-byte keys; RFC 8032 test 1's key pair; a 16-hex-digit key id."""
    private = generate_private_key()
    assert len(private) == 32
    assert len(public_key(private)) == 32
    assert generate_private_key() != private
    rfc_private = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    rfc_public = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    assert public_key(rfc_private).hex() == rfc_public
    assert (
        key_id(bytes.fromhex(rfc_public))
        == hashlib.sha256(bytes.fromhex(rfc_public)).hexdigest()[:16]
    )
    with pytest.raises(ValueError):
        public_key(private[:31])
    with pytest.raises(ValueError):
        key_id(b"short")
    with pytest.raises(ValueError):
        sign_tree_head(HEAD, b"")


def test_sign_and_verify_round_trip():
    """A signature is 128 lowercase hex digits, deterministic, and verifies."""
    private = generate_private_key()
    signature = sign_tree_head(HEAD, private)
    assert len(signature) == 128
    assert signature == signature.lower()
    assert sign_tree_head(HEAD, private) == signature
    assert verify_tree_head(HEAD, signature, public_key(private))


@pytest.mark.parametrize(
    "changes",
    [
        {"tree_size": 4},
        {"root": "0" * 64},
        {"timestamp": "2026-11-22T10:00:01Z"},
        {"milestone": "call.opened"},
        {"call_id": 8},
        {"call_id": None},
    ],
)
def test_a_changed_field_fails(changes):
    """Any field of the head is covered by the signature."""
    private = generate_private_key()
    signature = sign_tree_head(HEAD, private)
    assert not verify_tree_head(
        dataclasses.replace(HEAD, **changes), signature, public_key(private)
    )


def test_wrong_key_and_garbage_signatures_fail_without_raising():
    """Another key, a malformed key or a malformed signature all give False."""
    private = generate_private_key()
    signature = sign_tree_head(HEAD, private)
    other = public_key(generate_private_key())
    assert not verify_tree_head(HEAD, signature, other)
    for bad_key in (b"", public_key(private)[:31], public_key(private) + b"\x00", b"\xff" * 32):
        assert not verify_tree_head(HEAD, signature, bad_key)
    assert not verify_tree_head(HEAD, signature, public_key(private).hex())
    last = "0" if signature[-1] != "0" else "1"
    for bad_signature in (
        "",
        "zz" * 64,
        signature[:-2],
        signature + "00",
        signature.upper(),
        signature[:-1] + last,
        "0" * 128,
        " " + signature[1:],
        None,
        bytes.fromhex(signature),
    ):
        assert not verify_tree_head(HEAD, bad_signature, public_key(private))
    assert not verify_tree_head(None, signature, public_key(private))
