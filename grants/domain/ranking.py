"""Ranking applications, the funding line and the lottery: pure and reproducible for a seed.

The formulas are stated for funders in ``docs/scoring.md``; this module is their one
implementation. Everything here is plain values in, plain values out.

Quality
    Each criterion's score is the panel's consensus where the chair recorded one, else the mean
    of the reviewers' scores. It is normalised to [0, 1] as ``(s - minimum) / (maximum -
    minimum)`` on the call's scale, and the quality ``Q`` is the weighted mean of the normalised
    criterion scores. Raw ``Q`` and the threshold checks are exact (``Fraction``), handed out as
    ``Decimal`` correctly rounded to 28 significant digits.

Thresholds
    An application passes when every criterion with a threshold has a raw score (consensus or
    mean) at or above it. The equity multiplier never enters a threshold. Applications that fail
    are ranked after all those that pass and are never funded.

Ranking score
    ``R = Q x multiplier`` where the multiplier is the application's equity ranking multiplier
    (``>= 1``, from ``grants.domain.equity``).

Methods (all three are computed side by side; one is chosen for the ranking):

``raw``
    ``Q`` as above.
``reviewer_adjusted``
    Each review's own quality ``y`` (the weighted mean of its normalised criterion scores) is
    modelled as ``y = mu + a_proposal + b_reviewer + noise`` and fitted by ordinary least squares
    with sum-to-zero constraints on the proposal effects and on the estimated reviewer biases.
    A bias is estimated only for reviewers with at least ``min_reviews`` (default 5) reviews in
    the run; the others' bias is fixed at 0. The adjusted quality is ``Q_adj = mu + a``: what an
    average reviewer would have given. Consensus scores are a panel product and do not enter the
    model (they still decide the thresholds). Floating-point results are rounded to 12 decimals.
``expected_rank``
    A Bayesian hierarchical model in the spirit of Heyard, Ott, Salanti and Egger (2022), the
    Swiss National Science Foundation's "Bayesian ranking": ``y = theta_proposal + b_reviewer +
    e`` with ``theta ~ N(mu, tau^2)``, ``b ~ N(0, sigma_b^2)``, ``e ~ N(0, sigma^2)``, a flat
    prior on ``mu`` and inverse-gamma(1, 0.01) priors on the three variances (on the [0, 1]
    quality scale: weakly informative, prior median standard deviation about 0.12). It is
    sampled by a Gibbs sampler (all full conditionals are conjugate) whose random numbers come
    from SHAKE256 streams keyed by the seed (:mod:`grants.domain.sampler`, version
    ``grants-shake256-gibbs/1``; every operation is specified in ``docs/scoring.md`` §4a):
    ``burn_in`` discarded sweeps, then ``draws`` kept sweeps. In every kept sweep the
    proposals are ranked by ``theta x multiplier`` (those failing a threshold after those
    passing; exact ties by key); the expected rank is the mean of these ranks and the 50%
    credible interval runs from the draw at 0-based position ``floor((D - 1) / 4)`` to the one
    at ``ceil(3 (D - 1) / 4)`` of the ``D`` rank draws sorted ascending.

    Differences from the SNSF: the SNSF models each reviewer's overall grade on an ordinal
    scale with JAGS (MCMC, several chains, convergence checked) and ranks proposals by their
    expected rank with credible intervals; here the outcome is the weighted per-review quality
    treated as continuous and normal, every reviewer gets a bias (shrunk towards 0 by the
    hierarchy, so reviewers with few reviews move little), one chain is run, no convergence
    diagnostic is reported, and the equity multiplier is applied inside every draw. Results are
    identical for the same inputs and seed, whatever the platform or numpy version.

Ties and the lottery
    Ranks break exact ties in the method's score by higher ``Q``, then higher equity index, then
    more distinct partner countries, then a seeded lottery ticket ``sha256("<seed>:<key>")``
    (smaller first). The funding line walks down the ranking, over applications that pass the
    thresholds, and stops at the first one whose amount (the officer-reduced amount where one
    was set, else the request) no longer fits the budget.
    With the expected-rank method, the applications passing the thresholds whose 50% credible
    interval contains the line form the lottery group, provided members lie on both sides of
    the line (otherwise there is nothing to draw); ``draw_lottery`` orders such a group from a
    seed whose ``seed_commitment`` was logged before the draw, and ``settle_lottery`` funds the
    drawn order with the budget the applications outside the group leave.

Rank bands
    Applicants are told a band, not their exact rank: ``top_10``, ``top_25``, ``top_50`` or
    ``lower_half`` of the applications that pass every threshold (rank ``r`` of ``n`` is in the
    top ``p`` per cent when ``r <= ceil(n x p / 100)``), or ``below_threshold``.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Context, Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from grants.domain import sampler
from grants.domain.audit_chain import canonical_json

RAW = "raw"
REVIEWER_ADJUSTED = "reviewer_adjusted"
EXPECTED_RANK = "expected_rank"
METHODS = (RAW, REVIEWER_ADJUSTED, EXPECTED_RANK)

MIN_REVIEWS_FOR_BIAS = 5
DEFAULT_DRAWS = 2000
DEFAULT_BURN_IN = 500
PRIOR_SHAPE = 1.0
PRIOR_SCALE = 0.01

_CONTEXT = Context(prec=28)
_PLACES = 12

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _decimal(value: Fraction) -> Decimal:
    """An exact fraction as a Decimal, correctly rounded to 28 significant digits."""
    return _CONTEXT.divide(Decimal(value.numerator), Decimal(value.denominator))


def _from_float(value: float) -> Decimal:
    """A float rounded to 12 decimals, so last-bit differences between platforms vanish."""
    result = Decimal(f"{value:.{_PLACES}f}")
    return abs(result) if result == 0 else result  # no negative zero


def _finite(value: object) -> bool:
    return isinstance(value, Decimal) and value.is_finite()


# --- inputs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionSpec:
    """A criterion of the call: its weight (> 0) and optional threshold on the raw scale."""

    key: str
    weight: Decimal
    threshold: Decimal | None = None

    def __post_init__(self) -> None:
        if not _finite(self.weight) or self.weight <= 0:
            raise ValueError(f"criterion {self.key!r}: weight must be a positive Decimal")
        if self.threshold is not None and not _finite(self.threshold):
            raise ValueError(f"criterion {self.key!r}: threshold must be a finite Decimal")


@dataclass(frozen=True)
class Scale:
    """The call's score scale: scores run from minimum to maximum in steps of step."""

    minimum: Decimal = Decimal(0)
    maximum: Decimal = Decimal(5)
    step: Decimal = Decimal("0.5")

    def __post_init__(self) -> None:
        if not all(_finite(v) for v in (self.minimum, self.maximum, self.step)):
            raise ValueError("scale bounds and step must be finite Decimals")
        if self.maximum <= self.minimum or self.step <= 0:
            raise ValueError("scale needs minimum < maximum and a positive step")

    def check(self, score: Decimal, what: str) -> None:
        """Raise ValueError unless score is a point of the scale."""
        if not _finite(score) or not self.minimum <= score <= self.maximum:
            raise ValueError(f"{what}: {score!r} is outside the scale")
        if (score - self.minimum) % self.step != 0:
            raise ValueError(f"{what}: {score!r} is not a step of the scale")

    def normalise(self, score: Fraction) -> Fraction:
        """A raw score mapped to [0, 1]."""
        low = Fraction(self.minimum)
        return (score - low) / (Fraction(self.maximum) - low)


@dataclass(frozen=True)
class ApplicationScores:
    """One application's scores and the facts the ranking needs.

    ``reviews`` maps a reviewer key to that reviewer's score per criterion (every criterion);
    ``consensus`` maps a criterion key to the panel's agreed score, for some or all criteria.
    ``amount``, when set, is the officer-reduced amount the funding line uses instead of
    ``requested``.
    """

    key: str
    reviews: Mapping[str, Mapping[str, Decimal]]
    consensus: Mapping[str, Decimal] | None = None
    multiplier: Decimal = Decimal(1)
    equity_index: Decimal = Decimal(0)
    countries: int = 1
    requested: Decimal = Decimal(0)
    amount: Decimal | None = None

    def __post_init__(self) -> None:
        if not _finite(self.multiplier) or self.multiplier < 1:
            raise ValueError(f"application {self.key!r}: multiplier must be a Decimal >= 1")
        if not _finite(self.equity_index):
            raise ValueError(f"application {self.key!r}: equity index must be a finite Decimal")
        if not _finite(self.requested) or self.requested < 0:
            raise ValueError(f"application {self.key!r}: requested must be a Decimal >= 0")
        if self.amount is not None and (
            not _finite(self.amount) or not 0 < self.amount <= self.requested
        ):
            raise ValueError(
                f"application {self.key!r}: amount must be a Decimal > 0 and <= requested"
            )
        if self.countries < 0:
            raise ValueError(f"application {self.key!r}: countries must be >= 0")

    @property
    def funding_amount(self) -> Decimal:
        """What funding the application costs: the reduced amount if set, else the request."""
        return self.requested if self.amount is None else self.amount


# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MethodResult:
    """An application's quality, ranking score and rank under one method.

    For the expected-rank method ``quality`` and ``score`` are posterior means, and
    ``expected_rank`` and ``rank_interval`` (50% credible interval) are set.
    """

    quality: Decimal
    score: Decimal
    rank: int
    expected_rank: Decimal | None = None
    rank_interval: tuple[int, int] | None = None


@dataclass(frozen=True)
class RankedApplication:
    """One application in a ranking run, with every computed method side by side."""

    key: str
    criterion_scores: Mapping[str, Decimal]
    passes_thresholds: bool
    quality: Decimal
    score: Decimal
    rank: int
    funded: bool
    methods: Mapping[str, MethodResult]


@dataclass(frozen=True)
class RankingResult:
    """A ranking run: applications in rank order, the funding line and the lottery group.

    ``line`` is the rank of the last funded application (0 when none is funded); the line
    lies between that rank and the next.
    """

    method: str
    seed: int
    applications: tuple[RankedApplication, ...]
    funded: tuple[str, ...]
    line: int
    remaining: Decimal
    lottery_group: tuple[str, ...]
    lottery_places: int
    reviewer_bias: Mapping[str, Decimal]
    inputs_hash: str
    # The version of the expected-rank sampler, when that method was computed.
    sampler: str | None = None

    def get(self, key: str) -> RankedApplication:
        """The ranked application with this key."""
        for application in self.applications:
            if application.key == key:
                return application
        raise KeyError(key)


@dataclass(frozen=True)
class LotteryDraw:
    """A lottery among a group: the full drawn order and the winners (the first places)."""

    order: tuple[str, ...]
    winners: tuple[str, ...]


# --- seeds, lottery and hashes -------------------------------------------------------------


def new_seed() -> int:
    """A fresh 128-bit random seed: a small seed would let anyone reverse its commitment."""
    return secrets.randbits(128)


def _check_seed(seed: int) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError("seed must be a non-negative int")


def seed_commitment(seed: int) -> str:
    """The sha256 hex digest of the seed's decimal digits, logged before a draw."""
    _check_seed(seed)
    return hashlib.sha256(str(seed).encode("ascii")).hexdigest()


def _ticket(seed: int, key: str) -> str:
    return hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()


def draw_lottery(group: Collection[str], places: int, seed: int) -> LotteryDraw:
    """Order a group by the tickets sha256("<seed>:<key>"); the first places win.

    Anyone holding the revealed seed can replay the draw with any sha256 tool; the order does
    not depend on the order in which the group is given.
    """
    _check_seed(seed)
    keys = sorted(set(group))
    if len(keys) != len(group):
        raise ValueError("lottery group has duplicate keys")
    if not 0 <= places <= len(keys):
        raise ValueError("places must be between 0 and the size of the group")
    order = tuple(sorted(keys, key=lambda key: (_ticket(seed, key), key)))
    return LotteryDraw(order=order, winners=order[:places])


def _number(value: Decimal) -> str:
    """A Decimal as plain digits, the same for equal values (1.0 and 1.00 alike)."""
    return format(value.normalize(), "f") if value else "0"


def inputs_hash(
    applications: Sequence[ApplicationScores],
    criteria: Sequence[CriterionSpec],
    scale: Scale,
    budget: Decimal,
    *,
    method: str,
    seed: int,
    parameters: Mapping[str, Any] | None = None,
) -> str:
    """The sha256 hex digest of the canonical JSON of a ranking run's inputs.

    Application and criterion order do not change the hash; equal Decimals hash alike.
    """
    data = {
        "applications": sorted(
            (
                {
                    "key": a.key,
                    "reviews": {
                        reviewer: {c: _number(s) for c, s in scores.items()}
                        for reviewer, scores in a.reviews.items()
                    },
                    "consensus": (
                        None
                        if a.consensus is None
                        else {c: _number(s) for c, s in a.consensus.items()}
                    ),
                    "multiplier": _number(a.multiplier),
                    "equity_index": _number(a.equity_index),
                    "countries": a.countries,
                    "requested": _number(a.requested),
                    # Only present when an officer reduced the amount, so older runs keep
                    # their hashes.
                    **({} if a.amount is None else {"amount": _number(a.amount)}),
                }
                for a in applications
            ),
            key=lambda item: str(item["key"]),
        ),
        "criteria": sorted(
            (
                {
                    "key": c.key,
                    "weight": _number(c.weight),
                    "threshold": None if c.threshold is None else _number(c.threshold),
                }
                for c in criteria
            ),
            key=lambda item: str(item["key"]),
        ),
        "scale": [_number(scale.minimum), _number(scale.maximum), _number(scale.step)],
        "budget": _number(budget),
        "method": method,
        "seed": seed,
        "parameters": dict(parameters or {}),
    }
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()


# --- raw quality ---------------------------------------------------------------------------


def _validate(
    applications: Sequence[ApplicationScores], criteria: Sequence[CriterionSpec], scale: Scale
) -> None:
    keys = [c.key for c in criteria]
    if not keys:
        raise ValueError("at least one criterion is needed")
    if len(set(keys)) != len(keys):
        raise ValueError("criterion keys must be unique")
    app_keys = [a.key for a in applications]
    if len(set(app_keys)) != len(app_keys):
        raise ValueError("application keys must be unique")
    for a in applications:
        for reviewer, scores in a.reviews.items():
            if set(scores) != set(keys):
                raise ValueError(f"{a.key}/{reviewer}: a review must score every criterion")
            for c, s in scores.items():
                scale.check(s, f"{a.key}/{reviewer}/{c}")
        for c, s in (a.consensus or {}).items():
            if c not in keys:
                raise ValueError(f"{a.key}: consensus for unknown criterion {c!r}")
            scale.check(s, f"{a.key}/consensus/{c}")
        for c in keys:
            if not a.reviews and c not in (a.consensus or {}):
                raise ValueError(f"{a.key}: criterion {c!r} has neither reviews nor consensus")


def criterion_scores(
    application: ApplicationScores, criteria: Sequence[CriterionSpec]
) -> dict[str, Fraction]:
    """Each criterion's raw score: the consensus where it exists, else the reviewers' mean."""
    consensus = application.consensus or {}
    result: dict[str, Fraction] = {}
    for c in criteria:
        if c.key in consensus:
            result[c.key] = Fraction(consensus[c.key])
        else:
            scores = [Fraction(r[c.key]) for r in application.reviews.values()]
            result[c.key] = sum(scores, Fraction(0)) / len(scores)
    return result


def weighted_quality(
    scores: Mapping[str, Fraction], criteria: Sequence[CriterionSpec], scale: Scale
) -> Fraction:
    """The weighted mean of normalised criterion scores, on [0, 1]."""
    total = sum((Fraction(c.weight) for c in criteria), Fraction(0))
    weighted = sum(
        (Fraction(c.weight) * scale.normalise(scores[c.key]) for c in criteria), Fraction(0)
    )
    return weighted / total


def passes_thresholds(scores: Mapping[str, Fraction], criteria: Sequence[CriterionSpec]) -> bool:
    """Whether every criterion's raw score reaches its threshold (no multiplier involved)."""
    return all(c.threshold is None or scores[c.key] >= Fraction(c.threshold) for c in criteria)


# --- model data ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Reviews:
    """The per-review qualities as arrays, proposals and reviewers in sorted key order."""

    y: FloatArray
    proposal: IntArray
    reviewer: IntArray
    reviewers: tuple[str, ...]


def _reviews(
    applications: Sequence[ApplicationScores], criteria: Sequence[CriterionSpec], scale: Scale
) -> _Reviews:
    reviewers = tuple(sorted({r for a in applications for r in a.reviews}))
    index = {r: j for j, r in enumerate(reviewers)}
    y: list[float] = []
    proposal: list[int] = []
    reviewer: list[int] = []
    for i, a in enumerate(applications):
        if not a.reviews:
            raise ValueError(f"{a.key}: the model methods need at least one review")
        for r in sorted(a.reviews):
            scores = {c: Fraction(s) for c, s in a.reviews[r].items()}
            y.append(float(weighted_quality(scores, criteria, scale)))
            proposal.append(i)
            reviewer.append(index[r])
    return _Reviews(
        y=np.array(y, dtype=np.float64),
        proposal=np.array(proposal, dtype=np.int64),
        reviewer=np.array(reviewer, dtype=np.int64),
        reviewers=reviewers,
    )


def fit_reviewer_adjusted(
    data: _Reviews, proposals: int, min_reviews: int = MIN_REVIEWS_FOR_BIAS
) -> tuple[FloatArray, FloatArray]:
    """Least-squares fit of y = mu + a + b; returns (mu + a per proposal, b per reviewer).

    The proposal effects are absorbed (for given biases each proposal's ``mu + a`` is the mean
    of its bias-corrected reviews), which leaves a small system in the estimated biases only:
    ``C b = r`` with ``C = diag(n_j) - N' diag(1 / n_i) N`` (``N`` counts reviews by proposal
    and estimated reviewer), solved together with the constraint ``sum b = 0``.
    """
    y, p, r = data.y, data.proposal, data.reviewer
    counts = np.bincount(r, minlength=len(data.reviewers))
    estimated = np.flatnonzero(counts >= min_reviews)
    m = len(estimated)
    position = np.full(len(data.reviewers), -1, dtype=np.int64)
    position[estimated] = np.arange(m)
    n_p = np.bincount(p, minlength=proposals).astype(np.float64)
    bias = np.zeros(len(data.reviewers), dtype=np.float64)
    if m:
        rows = np.flatnonzero(position[r] >= 0)  # in proposal order, as _reviews builds them
        rp, rj = p[rows], position[r[rows]]
        weight = 1.0 / n_p[rp]
        system = np.zeros((m + 1, m + 1), dtype=np.float64)
        system[np.arange(m), np.arange(m)] = counts[estimated]
        widest = int(np.bincount(rp).max())
        for shift in range(-(widest - 1), widest):
            first = np.arange(max(0, -shift), len(rows) - max(0, shift))
            second = first + shift
            same = rp[first] == rp[second]
            np.add.at(system, (rj[first[same]], rj[second[same]]), -weight[first[same]])
        system[m, :m] = 1.0
        system[:m, m] = 1.0
        mean = np.bincount(p, weights=y, minlength=proposals) / n_p
        rhs = np.zeros(m + 1, dtype=np.float64)
        rhs[:m] = np.bincount(rj, weights=(y - mean[p])[rows], minlength=m)
        # A disconnected design leaves some biases unidentified; lstsq then returns the
        # minimum-norm solution, which keeps the result deterministic.
        bias[estimated] = np.linalg.lstsq(system, rhs, rcond=None)[0][:m]
    quality = np.bincount(p, weights=y - bias[r], minlength=proposals) / n_p
    return quality, bias


def _sum(values: FloatArray) -> float:
    """The sum from left to right (``bincount`` adds in input order), as documented."""
    return float(np.bincount(np.zeros(len(values), dtype=np.int64), weights=values)[0])


def sample_expected_rank(
    data: _Reviews,
    proposals: int,
    multipliers: FloatArray,
    passing: npt.NDArray[np.bool_],
    *,
    seed: int,
    draws: int = DEFAULT_DRAWS,
    burn_in: int = DEFAULT_BURN_IN,
) -> tuple[FloatArray, FloatArray, IntArray]:
    """Gibbs sampler of the hierarchical model; returns mean theta, mean R, rank draws.

    Every step is specified in ``docs/scoring.md`` §4a, so that an implementation written from
    the documentation alone gets the same bits; the random numbers come from
    :mod:`grants.domain.sampler`.
    """
    key = sampler.stream_key(seed)
    y, p, r = data.y, data.proposal, data.reviewer
    reviewers = len(data.reviewers)
    count = len(y)
    n_p = np.bincount(p, minlength=proposals).astype(np.float64)
    n_r = np.bincount(r, minlength=reviewers).astype(np.float64)
    theta = np.bincount(p, weights=y, minlength=proposals) / n_p
    bias = np.zeros(reviewers, dtype=np.float64)
    mu = _sum(theta) / proposals
    y_mean = _sum(y) / count
    deviation = y - y_mean
    tau2 = sigma_b2 = sigma2 = max(_sum(deviation * deviation) / count, PRIOR_SCALE)
    shape_tau = PRIOR_SHAPE + proposals / 2.0
    shape_b = PRIOR_SHAPE + reviewers / 2.0
    shape_e = PRIOR_SHAPE + count / 2.0
    pass_idx = np.flatnonzero(passing)
    fail_idx = np.flatnonzero(~passing)
    theta_sum = np.zeros(proposals, dtype=np.float64)
    score_sum = np.zeros(proposals, dtype=np.float64)
    ranks = np.zeros((draws, proposals), dtype=np.int64)
    for sweep in range(burn_in + draws):
        precision = 1.0 / tau2 + n_p / sigma2
        mean = mu / tau2 + np.bincount(p, weights=y - bias[r], minlength=proposals) / sigma2
        z = sampler.normals(key, f"theta/{sweep}", proposals)
        theta = mean / precision + z / np.sqrt(precision)
        precision_b = 1.0 / sigma_b2 + n_r / sigma2
        mean_b = np.bincount(r, weights=y - theta[p], minlength=reviewers) / sigma2
        z = sampler.normals(key, f"bias/{sweep}", reviewers)
        bias = mean_b / precision_b + z / np.sqrt(precision_b)
        z_mu = sampler.normal_scalar(key, f"mu/{sweep}")
        mu = _sum(theta) / proposals + z_mu * math.sqrt(tau2 / proposals)
        spread = theta - mu
        tau2 = (PRIOR_SCALE + _sum(spread * spread) / 2.0) / sampler.gamma(
            key, f"tau2/{sweep}", shape_tau
        )
        sigma_b2 = (PRIOR_SCALE + _sum(bias * bias) / 2.0) / sampler.gamma(
            key, f"sigma_b2/{sweep}", shape_b
        )
        residual = y - theta[p] - bias[r]
        sigma2 = (PRIOR_SCALE + _sum(residual * residual) / 2.0) / sampler.gamma(
            key, f"sigma2/{sweep}", shape_e
        )
        if sweep >= burn_in:
            score = theta * multipliers
            row = ranks[sweep - burn_in]
            row[pass_idx] = _ranks(score[pass_idx])
            row[fail_idx] = _ranks(score[fail_idx]) + len(pass_idx)
            theta_sum += theta
            score_sum += score
    return theta_sum / draws, score_sum / draws, ranks


def rank_summary(ranks: IntArray) -> tuple[list[Fraction], list[tuple[int, int]]]:
    """Each column's mean rank (exact) and 50% interval.

    With the ``D`` draws of a column sorted ascending (0-based), the interval runs from the
    element at ``floor((D - 1) / 4)`` to the element at ``ceil(3 (D - 1) / 4)``.
    """
    draws = ranks.shape[0]
    ordered = np.sort(ranks, axis=0)
    low = ordered[(draws - 1) // 4]
    high = ordered[-(-3 * (draws - 1) // 4)]
    sums = ranks.sum(axis=0)
    return (
        [Fraction(int(s), draws) for s in sums],
        [(int(a), int(b)) for a, b in zip(low, high, strict=True)],
    )


def _ranks(score: FloatArray) -> IntArray:
    """Ranks 1..n, highest score first."""
    result = np.empty(len(score), dtype=np.int64)
    result[np.argsort(-score, kind="stable")] = np.arange(1, len(score) + 1)
    return result


# --- ranking -------------------------------------------------------------------------------


def rank(
    applications: Sequence[ApplicationScores],
    criteria: Sequence[CriterionSpec],
    scale: Scale,
    budget: Decimal,
    *,
    method: str = RAW,
    seed: int,
    compare: Collection[str] = METHODS,
    min_reviews: int = MIN_REVIEWS_FOR_BIAS,
    draws: int = DEFAULT_DRAWS,
    burn_in: int = DEFAULT_BURN_IN,
) -> RankingResult:
    """Rank applications by the chosen method, draw the funding line and the lottery group.

    ``compare`` names the methods computed side by side (the chosen one is always computed).
    The result does not depend on the order of ``applications`` or of their reviews.
    """
    if method not in METHODS or not set(compare) <= set(METHODS):
        raise ValueError(f"method must be one of {METHODS}")
    _check_seed(seed)
    if not _finite(budget) or budget < 0:
        raise ValueError("budget must be a Decimal >= 0")
    if draws < 1 or burn_in < 0 or min_reviews < 1:
        raise ValueError("draws and min_reviews must be >= 1, burn_in >= 0")
    _validate(applications, criteria, scale)
    apps = sorted(applications, key=lambda a: a.key)
    parameters: dict[str, Any] = {"compare": sorted(set(compare) | {method})}
    if REVIEWER_ADJUSTED in parameters["compare"]:
        parameters["min_reviews"] = min_reviews
    if EXPECTED_RANK in parameters["compare"]:
        parameters.update(draws=draws, burn_in=burn_in)
    digest = inputs_hash(
        apps, criteria, scale, budget, method=method, seed=seed, parameters=parameters
    )

    raw_scores = [criterion_scores(a, criteria) for a in apps]
    passing = [passes_thresholds(s, criteria) for s in raw_scores]
    raw_q = [weighted_quality(s, criteria, scale) for s in raw_scores]
    values: dict[str, list[tuple[Decimal, Decimal]]] = {
        RAW: [
            (_decimal(q), _decimal(q * Fraction(a.multiplier)))
            for q, a in zip(raw_q, apps, strict=True)
        ]
    }
    extra: dict[str, list[tuple[Decimal, tuple[int, int]]]] = {}
    bias: dict[str, Decimal] = {}
    methods = set(compare) | {method}
    if methods & {REVIEWER_ADJUSTED, EXPECTED_RANK}:
        data = _reviews(apps, criteria, scale)
    if REVIEWER_ADJUSTED in methods:
        adjusted, b = fit_reviewer_adjusted(data, len(apps), min_reviews)
        bias = {r: _from_float(float(v)) for r, v in zip(data.reviewers, b, strict=True)}
        values[REVIEWER_ADJUSTED] = []
        for q_float, a in zip(adjusted, apps, strict=True):
            q = _from_float(float(q_float))
            values[REVIEWER_ADJUSTED].append((q, _CONTEXT.multiply(q, a.multiplier)))
    if EXPECTED_RANK in methods:
        multipliers = np.array([float(a.multiplier) for a in apps], dtype=np.float64)
        theta, score, ranks = sample_expected_rank(
            data,
            len(apps),
            multipliers,
            np.array(passing, dtype=np.bool_),
            seed=seed,
            draws=draws,
            burn_in=burn_in,
        )
        values[EXPECTED_RANK] = [
            (_from_float(float(t)), _from_float(float(s)))
            for t, s in zip(theta, score, strict=True)
        ]
        means, intervals = rank_summary(ranks)
        extra[EXPECTED_RANK] = [
            (_decimal(mean), interval) for mean, interval in zip(means, intervals, strict=True)
        ]

    ranks_by_method: dict[str, list[int]] = {}
    for m, pairs in values.items():

        def order_key(
            i: int, m: str = m, pairs: list[tuple[Decimal, Decimal]] = pairs
        ) -> tuple[bool, Decimal, Decimal, Decimal, int, str]:
            quality, score = pairs[i]
            primary = extra[m][i][0] if m == EXPECTED_RANK else -score
            a = apps[i]
            return (
                not passing[i],
                primary,
                -quality,
                -a.equity_index,
                -a.countries,
                _ticket(seed, a.key),
            )

        order = sorted(range(len(apps)), key=order_key)
        positions = [0] * len(apps)
        for position, i in enumerate(order, start=1):
            positions[i] = position
        ranks_by_method[m] = positions

    chosen = ranks_by_method[method]
    order = sorted(range(len(apps)), key=lambda i: chosen[i])
    funded: list[str] = []
    remaining = budget
    line = 0
    for i in order:
        if not passing[i]:
            break  # failing applications are ranked after every passing one
        if apps[i].funding_amount > remaining:
            break
        remaining = _CONTEXT.subtract(remaining, apps[i].funding_amount)
        funded.append(apps[i].key)
        line = chosen[i]

    group: list[str] = []
    places = 0
    if method == EXPECTED_RANK:
        for i in order:
            low_rank, high_rank = extra[EXPECTED_RANK][i][1]
            if passing[i] and low_rank <= line < high_rank:
                group.append(apps[i].key)
                places += apps[i].key in funded
        if places in (0, len(group)):
            # Nobody to swap across the line: everyone in the group is on the same side.
            group, places = [], 0

    funded_set = set(funded)
    ranked = []
    for i in order:
        per_method = {
            m: MethodResult(
                quality=values[m][i][0],
                score=values[m][i][1],
                rank=ranks_by_method[m][i],
                expected_rank=extra[m][i][0] if m in extra else None,
                rank_interval=extra[m][i][1] if m in extra else None,
            )
            for m in METHODS
            if m in values
        }
        ranked.append(
            RankedApplication(
                key=apps[i].key,
                criterion_scores=MappingProxyType(
                    {k: _decimal(v) for k, v in raw_scores[i].items()}
                ),
                passes_thresholds=passing[i],
                quality=values[method][i][0],
                score=values[method][i][1],
                rank=chosen[i],
                funded=apps[i].key in funded_set,
                methods=MappingProxyType(per_method),
            )
        )
    return RankingResult(
        method=method,
        seed=seed,
        applications=tuple(ranked),
        funded=tuple(funded),
        line=line,
        remaining=remaining,
        lottery_group=tuple(group),
        lottery_places=places,
        reviewer_bias=MappingProxyType(bias),
        inputs_hash=digest,
        sampler=sampler.SAMPLER if EXPECTED_RANK in methods else None,
    )


# --- after the run -------------------------------------------------------------------------


@dataclass(frozen=True)
class Settlement:
    """Who is funded once the lottery group has been drawn, and the budget left."""

    funded: tuple[str, ...]
    remaining: Decimal


def settle_lottery(
    funded: Sequence[str],
    lottery_group: Collection[str],
    amounts: Mapping[str, Decimal],
    budget: Decimal,
    order: Sequence[str],
) -> Settlement:
    """Fund the lottery group in drawn order with what the others leave of the budget.

    ``funded`` and ``lottery_group`` come from the ranking result. Applications funded
    outside the group keep their funding; the group is walked in the drawn ``order`` and each
    is funded while its amount fits, stopping at the first that does not (the rule of the
    funding line).
    """
    group = set(lottery_group)
    if sorted(order) != sorted(group) or len(group) != len(lottery_group):
        raise ValueError("the drawn order must be a permutation of the lottery group")
    keep = [key for key in funded if key not in group]
    remaining = budget
    for key in keep:
        remaining = _CONTEXT.subtract(remaining, amounts[key])
    if remaining < 0:
        raise ValueError("the applications outside the group exceed the budget")
    won: list[str] = []
    for key in order:
        if amounts[key] > remaining:
            break
        remaining = _CONTEXT.subtract(remaining, amounts[key])
        won.append(key)
    return Settlement(funded=tuple(keep + won), remaining=remaining)


BANDS = ((10, "top_10"), (25, "top_25"), (50, "top_50"))
LOWER_HALF = "lower_half"
BELOW_THRESHOLD = "below_threshold"


def rank_band(rank: int, passing: int, passes: bool = True) -> str:
    """The band an applicant is told: top 10, 25 or 50 per cent of the passing applications,
    the lower half, or below a threshold."""
    if not passes:
        return BELOW_THRESHOLD
    if passing < 1 or not 1 <= rank <= passing:
        raise ValueError("rank must be between 1 and the number of passing applications")
    for percent, band in BANDS:
        if rank <= -(-passing * percent // 100):  # ceil(passing x percent / 100)
            return band
    return LOWER_HALF
