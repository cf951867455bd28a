"""Curves across seeds: aligning runs on env steps and bootstrap confidence bands."""

from __future__ import annotations

import numpy as np

from agent.report.run_folder import column


def align(runs: list[list[dict[str, float]]], key: str) -> tuple[np.ndarray, np.ndarray]:
    """Put one metric of several runs on the union of their evaluation steps.

    Args:
        runs: metric rows per run (``RunFolder.metrics()``).
        key: the metric, e.g. ``"probe/impact/pos_mm"``.

    Returns:
        ``steps (T,)`` and ``values (R, T)``, NaN where a run has no value at a step.
    """
    columns = [column(rows, key) for rows in runs]
    steps = np.unique(np.concatenate([s for s, _ in columns])) if columns else np.zeros(0)
    values = np.full((len(runs), len(steps)), np.nan)
    for r, (s, v) in enumerate(columns):
        values[r, np.searchsorted(steps, s)] = v
    return steps, values


def bootstrap_band(
    values: np.ndarray, level: float = 0.95, n_boot: int = 2000, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over runs and a percentile-bootstrap confidence band of that mean.

    Runs (rows) are resampled with replacement, ``n_boot`` times, independently per step over
    the runs that have a finite value there.

    Args:
        values: ``(R, T)``; NaN marks a missing value.
        level: coverage of the band (0.95: the 2.5th and 97.5th percentiles).

    Returns:
        ``mean, lo, hi``, each ``(T,)``; the band is NaN where fewer than 2 runs have a value.
    """
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    count = finite.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, np.where(finite, values, 0.0).sum(0) / count, np.nan)
    lo, hi = np.full(values.shape[1], np.nan), np.full(values.shape[1], np.nan)
    rng = np.random.default_rng(seed)
    alpha = (1.0 - level) / 2.0
    for t in np.flatnonzero(count >= 2):
        x = values[finite[:, t], t]
        means = x[rng.integers(0, len(x), size=(n_boot, len(x)))].mean(axis=1)
        lo[t], hi[t] = np.quantile(means, [alpha, 1.0 - alpha])
    return mean, lo, hi
