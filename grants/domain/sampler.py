"""The expected-rank sampler's random numbers: defined bit for bit in ``docs/scoring.md`` §4a.

Nothing here comes from a library's random generator. Every random number is read from a
SHAKE256 stream keyed by the run's seed and named by its purpose, and turned into a uniform,
a normal or a gamma variate with IEEE-754 double additions, subtractions, multiplications,
divisions and square roots only (all correctly rounded on every conforming platform). The
logarithm is the polynomial below, not the platform's ``log``, whose last bit may differ from
one library to another. So any implementation that follows the documentation, in any
language, gets the same bits, whatever the numpy version.

numpy is used only for element-wise arithmetic (each element rounded as a scalar would be) and
for ``bincount`` sums, which add in input order; the test suite checks the numbers against a
pure-Python implementation written from the documentation.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
import numpy.typing as npt

SAMPLER = "grants-shake256-gibbs/1"

FloatArray = npt.NDArray[np.float64]

LN2 = 0.6931471805599453  # the double nearest to ln 2
SQRT_HALF = 0.7071067811865476  # the double nearest to sqrt(1/2)
# 1/1, 1/3, ..., 1/23: each the double nearest to 1/(2k+1).
LN_TERMS = tuple(1.0 / (2 * k + 1) for k in range(12))
TWO_TO_MINUS_53 = 2.0**-53


def stream_key(seed: int) -> bytes:
    """The 32-byte key of a run's streams: SHA-256 of ``"grants-shake256-gibbs/1:<seed>"``."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError("seed must be a non-negative int")
    return hashlib.sha256(f"{SAMPLER}:{seed}".encode("ascii")).digest()


def words(key: bytes, purpose: str, count: int) -> npt.NDArray[np.uint64]:
    """The first ``count`` 64-bit words of SHAKE256(key || purpose), big-endian."""
    data = hashlib.shake_256(key + purpose.encode("ascii")).digest(8 * count)
    return np.frombuffer(data, dtype=">u8").astype(np.uint64)


def uniforms(key: bytes, purpose: str, count: int) -> FloatArray:
    """Uniforms in (0, 1): ``(2 x (word >> 12) + 1) x 2^-53``, every step exact."""
    odd = (words(key, purpose, count) >> np.uint64(12)) * np.uint64(2) + np.uint64(1)
    return odd.astype(np.float64) * TWO_TO_MINUS_53


def ln(x: FloatArray) -> FloatArray:
    """The natural logarithm of positive normal doubles, by the documented polynomial."""
    m, e = np.frexp(x)  # x = m * 2**e with 0.5 <= m < 1, exact
    low = m < SQRT_HALF
    m = np.where(low, m * 2.0, m)
    e = np.where(low, e - 1, e)
    t = (m - 1.0) / (m + 1.0)
    t2 = t * t
    p = np.full_like(t, LN_TERMS[-1])
    for term in reversed(LN_TERMS[:-1]):
        p = p * t2 + term
    return e.astype(np.float64) * LN2 + 2.0 * t * p


def ln_scalar(x: float) -> float:
    """:func:`ln` for one Python float: the same operations in the same order."""
    m, e = math.frexp(x)
    if m < SQRT_HALF:
        m, e = m * 2.0, e - 1
    t = (m - 1.0) / (m + 1.0)
    t2 = t * t
    p = LN_TERMS[-1]
    for term in reversed(LN_TERMS[:-1]):
        p = p * t2 + term
    return float(e) * LN2 + 2.0 * t * p


def normals(key: bytes, purpose: str, count: int) -> FloatArray:
    """``count`` standard normals by Marsaglia's polar method on the stream ``purpose``.

    The uniforms are read in pairs, in order; a pair with ``s >= 1`` is skipped, and the
    ``k``-th accepted pair gives normals ``2k`` and ``2k + 1`` (the last is dropped when
    ``count`` is odd).
    """
    pairs = (count + 1) // 2
    read = pairs + pairs // 3 + 16  # about 27% of pairs are skipped: usually one read
    while True:
        u = uniforms(key, purpose, 2 * read)
        v1 = 2.0 * u[0::2] - 1.0
        v2 = 2.0 * u[1::2] - 1.0
        s = v1 * v1 + v2 * v2
        accepted = np.flatnonzero(s < 1.0)
        if len(accepted) >= pairs:
            break
        read *= 2  # the stream's first words stay the same: read it again, longer
    accepted = accepted[:pairs]
    v1, v2, s = v1[accepted], v2[accepted], s[accepted]
    f = np.sqrt(-2.0 * ln(s) / s)
    out = np.empty(2 * pairs, dtype=np.float64)
    out[0::2] = v1 * f
    out[1::2] = v2 * f
    return out[:count]


def normal_scalar(key: bytes, purpose: str) -> float:
    """``normals(key, purpose, 1)[0]`` with Python floats: the first accepted pair's first."""
    read = 4
    while True:
        data = hashlib.shake_256(key + purpose.encode("ascii")).digest(16 * read)
        for j in range(read):
            first = int.from_bytes(data[16 * j : 16 * j + 8], "big")
            second = int.from_bytes(data[16 * j + 8 : 16 * j + 16], "big")
            v1 = 2.0 * (float(2 * (first >> 12) + 1) * TWO_TO_MINUS_53) - 1.0
            v2 = 2.0 * (float(2 * (second >> 12) + 1) * TWO_TO_MINUS_53) - 1.0
            s = v1 * v1 + v2 * v2
            if s < 1.0:
                return v1 * math.sqrt(-2.0 * ln_scalar(s) / s)
        read *= 4


def _uniform_scalar(key: bytes, purpose: str) -> float:
    word = int.from_bytes(hashlib.shake_256(key + purpose.encode("ascii")).digest(8), "big")
    return float(2 * (word >> 12) + 1) * TWO_TO_MINUS_53


def gamma(key: bytes, purpose: str, shape: float) -> float:
    """A Gamma(shape, 1) variate for ``shape >= 1`` by Marsaglia and Tsang (2000).

    Attempt ``t`` (0, 1, ...) takes its normal ``x`` as the first normal of the stream
    ``purpose + "/" + t`` and its uniform ``u`` as the first uniform of
    ``purpose + "/" + t + "/u"``.
    """
    if not shape >= 1.0:
        raise ValueError("shape must be >= 1")
    d = shape - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    attempt = 0
    while True:
        x = normal_scalar(key, f"{purpose}/{attempt}")
        w = 1.0 + c * x
        if w > 0.0:
            v = w * w * w
            u = _uniform_scalar(key, f"{purpose}/{attempt}/u")
            x2 = x * x
            if u < 1.0 - 0.0331 * x2 * x2:
                return d * v
            if ln_scalar(u) < 0.5 * x2 + d * (1.0 - v + ln_scalar(v)):
                return d * v
        attempt += 1
