"""The one statistics module: intervals over seeds, curves across runs, steps-to-threshold and
speedups. Compare, reports and the result scripts all use it; nothing else resamples.

Built on ``scipy.stats`` (``bootstrap`` with the percentile method; ``spearmanr`` is used by
:mod:`curiosity.calibration`, which may not import ``agent``), not on rliable. Why: rliable's
aggregates (IQM, optimality gap, stratified bootstrap over tasks x runs) are made for scores
pooled over many tasks; contactlab compares one scene at a time, per contact regime, with 3-5
seeds, so the quantities are a mean, a median of per-seed ratios and a rank correlation, which
``scipy.stats`` computes directly. scipy is also a small, ubiquitous dependency, while rliable
pulls in arch, pandas and seaborn. The percentile method (not BCa) because BCa's jackknife
acceleration is unstable at 3-5 samples and needs more than that to be better.

Conventions, the same everywhere:

* an interval needs at least 2 finite values; with fewer it is ``(nan, nan)`` (the mean or
  median is still reported), never a collapsed interval that looks certain;
* NaN values (a run that did not log a metric) are left out, never counted as zeros;
* resampling is seeded, so a report is reproducible.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

CONFIDENCE = 0.95
N_RESAMPLES = 10_000

Curve = tuple[np.ndarray, np.ndarray]  # (steps (T,), values (T,))


def _interval(
    x: np.ndarray,
    statistic: Callable[..., np.ndarray],
    confidence: float,
    n_resamples: int,
    seed: int,
) -> tuple[float, float]:
    """Percentile-bootstrap interval of ``statistic`` over the finite values ``x (n,)``.

    ``statistic`` is a location statistic (mean, median): a resample's value never leaves the
    values' range, so the interval is clamped to it; only float rounding of resample sums puts
    an end a hair outside (8.749999% printed as 8.7% beside a lowest seed of 8.8%)."""
    if len(x) < 2:
        return float("nan"), float("nan")
    if np.all(x == x[0]):  # every resample is the same: the interval is that value
        return float(x[0]), float(x[0])
    from scipy import stats  # deferred: ~1 s of import that a run without two seeds never needs

    res = stats.bootstrap(
        (x,),
        statistic,
        confidence_level=confidence,
        n_resamples=n_resamples,
        method="percentile",
        vectorized=True,
        axis=-1,
        rng=np.random.default_rng(seed),
    )
    low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    return max(low, float(x.min())), min(high, float(x.max()))


def bootstrap_ci(
    values: np.ndarray,
    confidence: float = CONFIDENCE,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Mean of ``values`` and its percentile-bootstrap interval (``scipy.stats.bootstrap``).

    Args:
        values: ``(n,)`` one number per seed; NaN/inf values are left out.
        confidence: coverage of the interval.
        n_resamples: bootstrap resamples.
        seed: resampling seed, so reports are reproducible.

    Returns:
        ``(mean, low, high)``; all NaN with no finite value, ``low``/``high`` NaN with one.
    """
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return float("nan"), float("nan"), float("nan")
    low, high = _interval(x, np.mean, confidence, n_resamples, seed)
    return float(x.mean()), low, high


def bootstrap_band(
    values: np.ndarray,
    confidence: float = CONFIDENCE,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over runs and a bootstrap band of that mean, at every step of a curve.

    Args:
        values: ``(R, T)`` R runs (seeds) over T steps; NaN marks a missing value.

    Returns:
        ``mean, low, high``, each ``(T,)``: :func:`bootstrap_ci` of each column (runs are
        resampled independently per step over the runs with a value there).
    """
    values = np.asarray(values, dtype=np.float64)
    cols = [bootstrap_ci(col, confidence, n_resamples, seed) for col in values.T]
    out = np.array(cols, dtype=np.float64).reshape(-1, 3)
    return out[:, 0], out[:, 1], out[:, 2]


def align(curves: Sequence[Curve]) -> tuple[np.ndarray, np.ndarray]:
    """Put several runs' curves on the union of their evaluation steps.

    Args:
        curves: per run, ``(steps (T_r,), values (T_r,))``.

    Returns:
        ``steps (T,)`` (sorted, unique) and ``values (R, T)``, NaN where a run has no value.
    """
    steps_list = [np.asarray(s) for s, _ in curves]
    steps = np.unique(np.concatenate(steps_list)) if steps_list else np.zeros(0, np.int64)
    values = np.full((len(curves), len(steps)), np.nan)
    for r, (s, v) in enumerate(curves):
        values[r, np.searchsorted(steps, np.asarray(s))] = np.asarray(v, dtype=np.float64)
    return steps, values


def steps_to_threshold(steps: np.ndarray, errors: np.ndarray, threshold: float) -> int | None:
    """First step of a curve at which the error is at or below ``threshold``.

    Args:
        steps: ``(T,)`` increasing env steps.
        errors: ``(T,)`` the error at each step (NaN never counts as reached).

    Returns:
        that step, or ``None`` if the curve never gets there.
    """
    steps, errors = np.asarray(steps), np.asarray(errors, dtype=np.float64)
    if steps.shape != errors.shape:
        raise ValueError(f"steps has shape {steps.shape}, errors {errors.shape}")
    hit = np.flatnonzero(errors <= threshold)
    return int(steps[hit[0]]) if len(hit) else None


@dataclass(frozen=True)
class Speedup:
    """How many times fewer env steps a source needs than a baseline to reach a threshold.

    Seeds are paired by position (seed k of the source with seed k of the baseline).
    """

    threshold: float
    source_steps: list[int | None]  #: per seed, first step at or below the threshold
    baseline_steps: list[int | None]
    ratios: list[float | None]  #: per seed, baseline steps / source steps; None if undefined
    median: float  #: median of the defined ratios (NaN if none)
    low: float  #: bootstrap interval of that median (NaN with fewer than 2 ratios)
    high: float

    @property
    def n_defined(self) -> int:
        return sum(r is not None for r in self.ratios)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready (NaN as ``None``)."""

        def num(x: float) -> float | None:
            return x if np.isfinite(x) else None

        return {
            "threshold": self.threshold,
            "source_steps": self.source_steps,
            "baseline_steps": self.baseline_steps,
            "ratios": self.ratios,
            "median": num(self.median),
            "interval": [num(self.low), num(self.high)],
            "seeds_with_a_ratio": self.n_defined,
        }


def speedup(
    source: Sequence[Curve],
    baseline: Sequence[Curve],
    threshold: float,
    confidence: float = CONFIDENCE,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> Speedup:
    """Per-seed steps-to-threshold speedup of ``source`` over ``baseline``.

    Args:
        source: per seed, the source's ``(steps, error)`` curve.
        baseline: per seed, the baseline's curve (same number of seeds, paired by position).
        threshold: the error to reach (e.g. the baseline's mean final error).

    Returns:
        a :class:`Speedup`. A seed's ratio is ``None`` when either run never reaches the
        threshold, or the source is already there at step 0 (the ratio would be infinite); the
        median and its percentile-bootstrap interval are over the defined ratios.

    Raises:
        ValueError: the two sources have different numbers of seeds.
    """
    if len(source) != len(baseline):
        raise ValueError(f"{len(source)} source seeds but {len(baseline)} baseline seeds")
    src = [steps_to_threshold(s, e, threshold) for s, e in source]
    base = [steps_to_threshold(s, e, threshold) for s, e in baseline]
    ratios = [
        b / s if s is not None and b is not None and s > 0 else None
        for s, b in zip(src, base, strict=True)
    ]
    x = np.array([r for r in ratios if r is not None], dtype=np.float64)
    median = float(np.median(x)) if len(x) else float("nan")
    low, high = _interval(x, np.median, confidence, n_resamples, seed)
    return Speedup(threshold, src, base, ratios, median, low, high)
