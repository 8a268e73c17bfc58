"""The expected-rank sampler against an implementation written from docs/scoring.md §4a alone.

``Reference`` below uses only the Python standard library (hashlib, math, fractions) and
plain loops: no numpy, no code of grants.domain.sampler. The production sampler must give the
same bits, and the numbers of the worked example in the documentation.
"""

from __future__ import annotations

import hashlib
import math
import re
from decimal import Decimal as D
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grants.domain import ranking as rk
from grants.domain import sampler

DOC = Path(__file__).resolve().parents[2] / "docs" / "scoring.md"

# --- the reference implementation, from the documentation ----------------------------------

LN_COEFFICIENTS = [1.0 / (2 * k + 1) for k in range(12)]


def ref_key(seed: int) -> bytes:
    return hashlib.sha256(("grants-shake256-gibbs/1:" + str(seed)).encode()).digest()


def ref_word(key: bytes, purpose: str, k: int) -> int:
    stream = hashlib.shake_256(key + purpose.encode()).digest(8 * (k + 1))
    return int.from_bytes(stream[8 * k : 8 * k + 8], "big")


def ref_uniform(key: bytes, purpose: str, k: int) -> float:
    return (2 * (ref_word(key, purpose, k) >> 12) + 1) / 2**53


def ref_ln(x: float) -> float:
    m, e = math.frexp(x)
    if m < 0.7071067811865476:
        m = m * 2.0
        e = e - 1
    t = (m - 1.0) / (m + 1.0)
    t2 = t * t
    p = LN_COEFFICIENTS[11]
    for k in range(10, -1, -1):
        p = p * t2 + LN_COEFFICIENTS[k]
    return e * 0.6931471805599453 + 2.0 * t * p


def ref_normals(key: bytes, purpose: str, n: int) -> list[float]:
    out: list[float] = []
    j = 0
    while len(out) < n:
        v1 = 2.0 * ref_uniform(key, purpose, 2 * j) - 1.0
        v2 = 2.0 * ref_uniform(key, purpose, 2 * j + 1) - 1.0
        j += 1
        s = v1 * v1 + v2 * v2
        if s < 1.0:
            f = math.sqrt(-2.0 * ref_ln(s) / s)
            out += [v1 * f, v2 * f]
    return out[:n]


def ref_gamma(key: bytes, purpose: str, a: float) -> float:
    d = a - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    t = 0
    while True:
        x = ref_normals(key, f"{purpose}/{t}", 1)[0]
        w = 1.0 + c * x
        if w > 0.0:
            v = w * w * w
            u = ref_uniform(key, f"{purpose}/{t}/u", 0)
            if u < 1.0 - 0.0331 * (x * x) * (x * x):
                return d * v
            if ref_ln(u) < 0.5 * (x * x) + d * (1.0 - v + ref_ln(v)):
                return d * v
        t += 1


def ref_sum(values: list[float]) -> float:
    total = 0.0
    for v in values:
        total = total + v
    return total


def ref_sample(y, app, rev, apps, reviewers, multipliers, passing, seed, draws, burn_in):
    """The Gibbs sampler of §4a; returns (theta draws, rank draws) of the kept sweeps."""
    key = ref_key(seed)
    reviews = range(len(y))
    n_app = [float(sum(1 for k in reviews if app[k] == i)) for i in range(apps)]
    n_rev = [float(sum(1 for k in reviews if rev[k] == j)) for j in range(reviewers)]
    theta = [ref_sum([y[k] for k in reviews if app[k] == i]) / n_app[i] for i in range(apps)]
    b = [0.0] * reviewers
    mu = ref_sum(theta) / apps
    ybar = ref_sum(y) / len(y)
    var = ref_sum([(v - ybar) * (v - ybar) for v in y]) / len(y)
    tau2 = sigma_b2 = sigma2 = max(var, 0.01)
    kept_theta, kept_ranks = [], []
    for s in range(burn_in + draws):
        z = ref_normals(key, f"theta/{s}", apps)
        new_theta = []
        for i in range(apps):
            prec = 1.0 / tau2 + n_app[i] / sigma2
            total = ref_sum([y[k] - b[rev[k]] for k in reviews if app[k] == i])
            mean = mu / tau2 + total / sigma2
            new_theta.append(mean / prec + z[i] / math.sqrt(prec))
        theta = new_theta
        z = ref_normals(key, f"bias/{s}", reviewers)
        new_b = []
        for j in range(reviewers):
            prec = 1.0 / sigma_b2 + n_rev[j] / sigma2
            mean = ref_sum([y[k] - theta[app[k]] for k in reviews if rev[k] == j]) / sigma2
            new_b.append(mean / prec + z[j] / math.sqrt(prec))
        b = new_b
        mu = ref_sum(theta) / apps + ref_normals(key, f"mu/{s}", 1)[0] * math.sqrt(tau2 / apps)
        ss = ref_sum([(t - mu) * (t - mu) for t in theta])
        tau2 = (0.01 + ss / 2.0) / ref_gamma(key, f"tau2/{s}", 1.0 + apps / 2.0)
        ss = ref_sum([v * v for v in b])
        sigma_b2 = (0.01 + ss / 2.0) / ref_gamma(key, f"sigma_b2/{s}", 1.0 + reviewers / 2.0)
        residuals = [y[k] - theta[app[k]] - b[rev[k]] for k in reviews]
        ss = ref_sum([e * e for e in residuals])
        sigma2 = (0.01 + ss / 2.0) / ref_gamma(key, f"sigma2/{s}", 1.0 + len(y) / 2.0)
        if s >= burn_in:
            score = [theta[i] * multipliers[i] for i in range(apps)]
            order = sorted(range(apps), key=lambda i: (not passing[i], -score[i], i))
            ranks = [0] * apps
            for position, i in enumerate(order, start=1):
                ranks[i] = position
            kept_theta.append(theta)
            kept_ranks.append(ranks)
    return kept_theta, kept_ranks


def ref_summary(kept_ranks, i):
    column = sorted(row[i] for row in kept_ranks)
    d = len(column)
    return (
        Fraction(sum(column), d),
        (column[(d - 1) // 4], column[math.ceil(3 * (d - 1) / 4)]),
    )


# --- the primitives ------------------------------------------------------------------------


def test_sampler_primitives_match_the_reference():
    """Key, words, uniforms, logarithm, normals and gammas: the same bits."""
    key = sampler.stream_key(12345)
    assert key == ref_key(12345)
    got = sampler.uniforms(key, "theta/3", 40)
    assert [float(u) for u in got] == [ref_uniform(key, "theta/3", k) for k in range(40)]
    assert all(0.0 < u < 1.0 for u in got)
    assert [float(z) for z in sampler.normals(key, "bias/0", 301)] == ref_normals(
        key, "bias/0", 301
    )
    assert sampler.normal_scalar(key, "mu/9") == ref_normals(key, "mu/9", 1)[0]
    for shape in (1.0, 1.5, 2.5, 7.0, 1001.0):
        assert sampler.gamma(key, f"g/{shape}", shape) == ref_gamma(key, f"g/{shape}", shape)


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=2.0**-200, max_value=2.0**200, allow_subnormal=False))
def test_sampler_ln_is_the_documented_polynomial_and_close_to_log(x):
    """The vector and scalar logarithms agree bit for bit with the reference, and with
    math.log to a few units in the last place."""
    value = sampler.ln(np.array([x]))[0]
    assert float(value) == sampler.ln_scalar(x) == ref_ln(x)
    assert value == pytest.approx(math.log(x), rel=1e-15, abs=1e-15)


def test_sampler_normals_and_gammas_have_the_right_moments():
    """Not a proof of quality, but a wrong formula would show: mean, variance, gamma mean."""
    key = sampler.stream_key(1)
    z = sampler.normals(key, "moments", 200_000)
    assert abs(z.mean()) < 0.01
    assert abs(z.var() - 1.0) < 0.01
    g = [sampler.gamma(key, f"moments/{i}", 3.5) for i in range(4000)]
    assert abs(sum(g) / len(g) - 3.5) < 0.1


# --- the whole sampler ---------------------------------------------------------------------

CRITERIA = (rk.CriterionSpec("quality", D(1)),)
SCALE = rk.Scale(D(0), D(5), D("0.5"))


def example(scores, multipliers=None):
    """Applications A, B, C, ... scored by the reviewers r1, r2, ... given as a table."""
    multipliers = multipliers or [D(1)] * len(scores)
    return [
        rk.ApplicationScores(
            key=chr(ord("A") + i),
            reviews={r: {"quality": D(s)} for r, s in row.items()},
            multiplier=multipliers[i],
            requested=D(10),
        )
        for i, row in enumerate(scores)
    ]


def reference_for(applications, seed, draws, burn_in):
    apps = sorted(applications, key=lambda a: a.key)
    reviewers = sorted({r for a in apps for r in a.reviews})
    y, app, rev = [], [], []
    for i, a in enumerate(apps):
        for r in sorted(a.reviews):
            scores = {c: Fraction(s) for c, s in a.reviews[r].items()}
            y.append(float(rk.weighted_quality(scores, CRITERIA, SCALE)))
            app.append(i)
            rev.append(reviewers.index(r))
    multipliers = [float(a.multiplier) for a in apps]
    passing = [True] * len(apps)
    return ref_sample(
        y, app, rev, len(apps), len(reviewers), multipliers, passing, seed, draws, burn_in
    )


@settings(max_examples=15, deadline=None)
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["r1", "r2", "r3", "r4"]),
            st.integers(0, 10).map(lambda k: str(D(k) / 2)),
            min_size=1,
            max_size=4,
        ),
        min_size=2,
        max_size=6,
    ),
    st.integers(0, 2**128),
)
def test_rank_expected_rank_matches_the_reference_sampler(scores, seed):
    """Expected ranks, intervals and posterior means equal the reference's, exactly."""
    applications = example(scores, [D(1) + D(i) / 10 for i in range(len(scores))])
    result = rk.rank(
        applications,
        CRITERIA,
        SCALE,
        D(25),
        method=rk.EXPECTED_RANK,
        seed=seed,
        compare=(),
        draws=9,
        burn_in=3,
    )
    kept_theta, kept_ranks = reference_for(applications, seed, 9, 3)
    for i, key in enumerate(sorted(a.key for a in applications)):
        m = result.get(key).methods[rk.EXPECTED_RANK]
        mean, interval = ref_summary(kept_ranks, i)
        assert m.expected_rank == rk._decimal(mean)
        assert m.rank_interval == interval
        assert m.quality == rk._from_float(ref_sum([t[i] for t in kept_theta]) / 9)


# --- the worked example of docs/scoring.md -------------------------------------------------

WORKED = [{"r1": "4", "r2": "3"}, {"r1": "3.5", "r2": "3.5"}, {"r1": "2", "r2": "3"}]
WORKED_SEED = 7


def doc_text() -> str:
    return " ".join(DOC.read_text(encoding="utf-8").split())


def test_scoring_doc_sampler_worked_example_numbers():
    """Every number the worked example of §4a prints, recomputed by the reference and found
    in the document."""
    text = doc_text()
    key = ref_key(WORKED_SEED)
    assert f"`{key.hex()}`" in text
    word = ref_word(key, "theta/0", 0)
    assert f"`{word:016x}`" in text
    assert f"u_0 = {ref_uniform(key, 'theta/0', 0)!r}" in text
    assert f"ln(0.5) = {ref_ln(0.5)!r}" in text
    z = ref_normals(key, "theta/0", 3)
    assert f"z = {z[0]!r}, {z[1]!r}, {z[2]!r}" in text
    kept_theta, kept_ranks = reference_for(example(WORKED), WORKED_SEED, 4, 1)
    for draw, (theta, ranks) in enumerate(zip(kept_theta, kept_ranks, strict=True), start=1):
        row = f"| {draw} | " + " | ".join(f"{t!r}" for t in theta) + " | "
        row += ", ".join(str(r) for r in ranks) + " |"
        assert row in text, row
    for i, key_ in enumerate("ABC"):
        mean, (low, high) = ref_summary(kept_ranks, i)
        assert f"| {key_} | {rk._decimal(mean)} | {low} to {high} |" in text


def test_rank_expected_rank_reproduces_the_doc_worked_example():
    """rank() gives the expected ranks and intervals printed in §4a, and the order."""
    text = doc_text()
    result = rk.rank(
        example(WORKED),
        CRITERIA,
        SCALE,
        D(10),
        method=rk.EXPECTED_RANK,
        seed=WORKED_SEED,
        compare=(),
        draws=4,
        burn_in=1,
    )
    rows = re.findall(r"\| ([ABC]) \| ([0-9.]+) \| (\d) to (\d) \|", text)
    assert len(rows) == 3
    for key, mean, low, high in rows:
        m = result.get(key).methods[rk.EXPECTED_RANK]
        assert (m.expected_rank, m.rank_interval) == (D(mean), (int(low), int(high)))
    order = " > ".join(a.key for a in result.applications)
    assert f"order {order};" in text
    assert (result.funded, result.line) == (("A",), 1)
    assert f"funds {result.funded[0]} and the line falls after rank {result.line}." in text
    group = ", ".join(result.lottery_group)
    assert f"lottery group {group}, for {result.lottery_places} place " in text
