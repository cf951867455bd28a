"""Statistics for comparisons over seeds: bootstrap intervals and steps-to-threshold."""

from __future__ import annotations

import numpy as np


def bootstrap_ci(
    values: np.ndarray, confidence: float = 0.95, n_resamples: int = 10_000, seed: int = 0
) -> tuple[float, float, float]:
    """Mean of ``values`` and its percentile-bootstrap interval.

    Args:
        values: ``(n,)`` one number per seed.
        confidence: coverage of the interval.
        n_resamples: bootstrap resamples (drawn with replacement, vectorised).
        seed: resampling seed, so reports are reproducible.

    Returns:
        ``(mean, low, high)``; with one value the interval collapses to it.
    """
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return float("nan"), float("nan"), float("nan")
    if len(x) == 1:
        return float(x[0]), float(x[0]), float(x[0])
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, len(x), size=(n_resamples, len(x)))].mean(axis=1)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha])
    return float(x.mean()), float(low), float(high)


def steps_to_threshold(steps: np.ndarray, errors: np.ndarray, threshold: float) -> float:
    """First env step at which ``errors`` (a curve over ``steps``) is at or below
    ``threshold``; ``inf`` if it never gets there."""
    steps, errors = np.asarray(steps), np.asarray(errors, dtype=np.float64)
    hit = np.flatnonzero(errors <= threshold)
    return float(steps[hit[0]]) if len(hit) else float("inf")
