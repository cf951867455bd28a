"""Bootstrap intervals checked against distributions with a known answer."""

from __future__ import annotations

import numpy as np

from agent.stats import bootstrap_ci, steps_to_threshold


def test_bootstrap_interval_covers_the_true_mean_at_its_nominal_rate() -> None:
    rng = np.random.default_rng(0)
    covered = 0
    trials = 400
    for t in range(trials):
        sample = rng.normal(3.0, 2.0, size=30)  # the true mean is 3
        _, low, high = bootstrap_ci(sample, n_resamples=2000, seed=t)
        covered += low <= 3.0 <= high
    # Percentile bootstrap at n=30 under-covers slightly; 95% nominal -> ~93% expected.
    assert 0.89 <= covered / trials <= 0.98


def test_bootstrap_interval_width_matches_the_normal_theory() -> None:
    sample = np.random.default_rng(1).normal(0.0, 1.0, size=2000)
    mean, low, high = bootstrap_ci(sample, n_resamples=4000)
    half_width = 1.96 * sample.std(ddof=1) / np.sqrt(len(sample))
    assert abs(mean - sample.mean()) < 1e-12
    assert abs((high - low) / 2 - half_width) / half_width < 0.1


def test_degenerate_inputs() -> None:
    assert bootstrap_ci(np.array([2.5])) == (2.5, 2.5, 2.5)
    assert all(np.isnan(bootstrap_ci(np.array([np.nan]))))


def test_steps_to_threshold() -> None:
    steps = np.array([0, 100, 200, 300])
    assert steps_to_threshold(steps, np.array([9.0, 7.0, 5.0, 4.0]), 6.0) == 200
    assert steps_to_threshold(steps, np.array([9.0, 8.0, 8.0, 7.0]), 6.0) == float("inf")
