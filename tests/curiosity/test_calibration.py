"""Spearman's rho (scipy.stats.spearmanr) against hand-computed values, per regime."""

from __future__ import annotations

import numpy as np
import pytest

from curiosity import calibration_by_regime, rank_correlation
from envs.layout import Entity, EntityLayout
from envs.regimes import Regime


def test_spearman_matches_a_hand_computed_example() -> None:
    # y ranks [1, 2, 3.5, 5, 3.5]; rho = 8 / sqrt(10 * 9.5)
    rho = rank_correlation(np.array([1, 2, 3, 4, 5]), np.array([5, 6, 7, 8, 7]))
    assert rho == pytest.approx(8 / np.sqrt(95.0), abs=1e-12)


def test_monotone_gives_one_reversed_minus_one_constant_nan() -> None:
    x = np.linspace(0.1, 3.0, 50)
    assert rank_correlation(x, np.exp(x) ** 3) == pytest.approx(1.0)
    assert rank_correlation(x, -np.log(x)) == pytest.approx(-1.0)
    assert np.isnan(rank_correlation(x, np.ones(50)))
    with pytest.raises(ValueError, match="values"):
        rank_correlation(x, x[:3])


def test_calibration_by_regime_uses_object_entities() -> None:
    layout = EntityLayout(
        (Entity("a", "agent", 1), Entity("b", "object", 2), Entity("d", "distractor", 3))
    )
    n = 12
    true = np.arange(n, dtype=float)
    signal = true.copy()
    signal[6:] = -true[6:]  # ranks right on the first half, reversed on the second
    regime = np.full((n, 3), Regime.IMPACT, np.int8)  # agent and distractor never count
    regime[:6, 1] = Regime.FREE
    regime[6:, 1] = Regime.CONTACT
    out = calibration_by_regime(signal, true, regime, layout)
    assert out["curiosity/calibration/free"] == pytest.approx(1.0)
    assert out["curiosity/calibration/contact"] == pytest.approx(-1.0)
    assert out["curiosity/calibration/all"] == pytest.approx(rank_correlation(signal, true))
    assert "curiosity/calibration/impact" not in out and "curiosity/calibration/rest" not in out
    assert out["curiosity/calibration/impact_count"] == 0.0
    assert out["curiosity/calibration/free_count"] == 6.0

    per_transition = calibration_by_regime(signal, true, regime[:, 1], layout)
    assert per_transition == out
