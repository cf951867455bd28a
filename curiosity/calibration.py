"""Is the curiosity signal high where the model is actually wrong? Rank correlation per regime.

A signal is *calibrated* when it orders transitions like the model's true error does, which is
what an explorer needs (it only compares candidates). Spearman's rho is invariant to the
signal's scale and to monotone transforms, so raw and normalised rewards score the same.
"""

from __future__ import annotations

import numpy as np

from envs.layout import EntityLayout
from envs.regimes import REGIME_NAMES

# Fewer samples than this in a group: its correlation is left out (not NaN).
MIN_SAMPLES = 3


def rank_correlation(signal: np.ndarray, true_error: np.ndarray) -> float:
    """Spearman's rank correlation (ties averaged), by ``scipy.stats.spearmanr``.

    Args:
        signal: ``(N,)`` curiosity values.
        true_error: ``(N,)`` the model's true error on the same transitions.

    Returns:
        rho in ``[-1, 1]``; NaN when ``N < 2`` or either input is constant.
    """
    s = np.asarray(signal, np.float64).reshape(-1)
    t = np.asarray(true_error, np.float64).reshape(-1)
    if s.shape != t.shape:
        raise ValueError(f"signal has {s.size} values, true_error {t.size}")
    if s.size < 2 or np.all(s == s[0]) or np.all(t == t[0]):
        return float("nan")  # undefined; spearmanr would also warn
    from scipy.stats import spearmanr  # deferred: ~1 s of import for every process that
    # imports the curiosity package, and only calibration metrics need it

    return float(spearmanr(s, t).statistic)


def calibration_by_regime(
    signal: np.ndarray,
    true_error: np.ndarray,
    regime: np.ndarray,
    layout: EntityLayout,
) -> dict[str, float]:
    """Spearman's rho of signal vs true error, over all transitions and per contact regime.

    Args:
        signal: ``(N,)`` curiosity values.
        true_error: ``(N,)`` true model error of the same transitions.
        regime: ``(N, E)`` :class:`~envs.regimes.Regime` codes per entity, or ``(N,)`` one code
            per transition. With ``(N, E)`` a transition belongs to regime ``r`` when it
            contains an ``object`` entity in ``r`` (so one transition can be in several).
        layout: the observation layout (which entities are objects).

    Returns:
        ``curiosity/calibration/{all,impact,contact,free,rest}`` (a group with fewer than
        :data:`MIN_SAMPLES` transitions or a constant signal/error is left out) and
        ``curiosity/calibration/{group}_count`` (transitions in the group).

    Raises:
        ValueError: mismatched lengths, or an ``(N, E)`` regime for a layout without objects.
    """
    s = np.asarray(signal, np.float64).reshape(-1)
    t = np.asarray(true_error, np.float64).reshape(-1)
    reg = np.asarray(regime)
    if not s.size == t.size == reg.shape[0]:
        raise ValueError(
            f"signal ({s.size}), true_error ({t.size}) and regime ({reg.shape[0]}) lengths differ"
        )
    if reg.ndim == 2:
        idx = layout.indices("object")
        if idx.size == 0:
            raise ValueError(f"the layout has no 'object' entities (kinds {layout.kinds})")
        reg = reg[:, idx]
    elif reg.ndim == 1:
        reg = reg[:, None]
    else:
        raise ValueError(f"regime must be (N,) or (N, E), got shape {reg.shape}")
    groups = {"all": np.ones(s.size, bool)}
    groups.update({name: (reg == code).any(1) for code, name in enumerate(REGIME_NAMES)})
    out: dict[str, float] = {}
    for name, mask in groups.items():
        n = int(mask.sum())
        out[f"curiosity/calibration/{name}_count"] = float(n)
        if n >= MIN_SAMPLES:
            rho = rank_correlation(s[mask], t[mask])
            if np.isfinite(rho):
                out[f"curiosity/calibration/{name}"] = rho
    return out
