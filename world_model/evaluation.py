"""Contact-stratified accuracy of predictions, from plain numpy arrays.

Every error is computed per *entity-transition* of the scored entities (objects by default) and
then averaged within each group: contact regime (impact / contact / free / rest), pair kind
(none / agent-object / object-object / object-static) and all together. Groups without samples
report only their ``count`` (0); their error keys are left out rather than set to NaN.

Shapes: ``N`` samples, ``D = 13 E`` observation size, ``E`` entities, ``H`` horizon.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from envs.layout import EntityLayout
from envs.regimes import PAIR_NAMES, REGIME_NAMES, Regime

# Features whose true delta varies less than this are left out of the normalised error.
_MIN_VAR = 1e-12


def _entities(layout: EntityLayout, entities: Sequence[int] | None) -> np.ndarray:
    idx = layout.indices("object") if entities is None else np.asarray(entities, np.int64)
    if idx.size == 0:
        raise ValueError(
            "no entities to score (the layout has no 'object' entities; pass entities=)"
        )
    return idx


def _group_stats(
    out: dict[str, float], key: str, mask: np.ndarray, errors: dict[str, np.ndarray]
) -> None:
    n = int(mask.sum())
    out[f"{key}/count"] = float(n)
    if n:
        for name, err in errors.items():
            out[f"{key}/{name}"] = float(err[mask].mean())


def one_step_metrics(
    obs: np.ndarray,
    next_obs: np.ndarray,
    pred_next: np.ndarray,
    regime: np.ndarray,
    pair_kind: np.ndarray,
    layout: EntityLayout,
    entities: Sequence[int] | None = None,
    prefix: str = "probe",
) -> dict[str, float]:
    """One-step errors per regime and pair kind.

    Args:
        obs: ``(N, D)`` true observation before the step.
        next_obs: ``(N, D)`` true observation after the step.
        pred_next: ``(N, D)`` predicted next observation (e.g. the ensemble mean).
        regime: ``(N, E)`` :class:`~envs.regimes.Regime` codes.
        pair_kind: ``(N, E)`` :class:`~envs.regimes.PairKind` codes.
        layout: the observation layout.
        entities: indices of the entities to score; default all ``kind == "object"``.
        prefix: key namespace.

    Returns:
        Flat dict: ``{prefix}/{regime}/pos_mm`` (mean Euclidean position error, mm),
        ``.../vel`` (mean linear-velocity error, m/s), ``.../state`` (mean over features of the
        squared error divided by the variance of the true delta of that feature, pooled over the
        scored entities), ``.../count``; the same under ``{prefix}/pair/{pair}/`` and
        ``{prefix}/all/``; and ``{prefix}/contact_gap`` = impact pos_mm / free pos_mm.
    """
    idx = _entities(layout, entities)
    true0 = layout.split(obs)[:, idx].astype(np.float64)
    true1 = layout.split(next_obs)[:, idx].astype(np.float64)
    pred = layout.split(pred_next)[:, idx].astype(np.float64)
    pos, vel = layout.features["pos"], layout.features["linvel"]
    err = pred - true1
    var = (true1 - true0).reshape(-1, layout.feature_dim).var(axis=0)
    keep = var > _MIN_VAR
    state = (err[..., keep] ** 2 / var[keep]).mean(-1) if keep.any() else np.zeros(err.shape[:2])
    errors = {
        "pos_mm": np.linalg.norm(err[..., pos], axis=-1) * 1000.0,
        "vel": np.linalg.norm(err[..., vel], axis=-1),
        "state": state,
    }
    reg, pk = np.asarray(regime)[:, idx], np.asarray(pair_kind)[:, idx]
    out: dict[str, float] = {}
    for code, name in enumerate(REGIME_NAMES):
        _group_stats(out, f"{prefix}/{name}", reg == code, errors)
    for code, name in enumerate(PAIR_NAMES):
        _group_stats(out, f"{prefix}/pair/{name}", pk == code, errors)
    _group_stats(out, f"{prefix}/all", np.ones_like(reg, bool), errors)
    impact, free = out.get(f"{prefix}/impact/pos_mm"), out.get(f"{prefix}/free/pos_mm")
    if impact is not None and free is not None and free > 0:
        out[f"{prefix}/contact_gap"] = impact / free
    return out


def rollout_metrics(
    true_seq: np.ndarray,
    imagined: np.ndarray,
    regime_seq: np.ndarray,
    layout: EntityLayout,
    entities: Sequence[int] | None = None,
    prefix: str = "probe",
) -> dict[str, float]:
    """Open-loop rollout error per regime and contact-onset timing.

    Args:
        true_seq: ``(N, H + 1, D)`` true observations ``o_0 .. o_H``.
        imagined: ``(N, H, D)`` imagined ``o_1 .. o_H`` from ``o_0`` and the true actions.
        regime_seq: ``(N, H, E)`` regime of each entity over transition ``k`` (``o_k -> o_k+1``).
        layout: the observation layout.
        entities: indices of the entities to score; default all ``kind == "object"``.
        prefix: key namespace.

    Returns:
        ``{prefix}/rollout/{regime}/pos_mm`` and ``/count`` (error of imagined step ``k``
        against the truth, grouped by the entity's regime over transition ``k``),
        ``{prefix}/rollout/all/pos_mm``, ``{prefix}/rollout/final/pos_mm`` (last step only);
        for every scored entity with an impact in its sequence (first impact at transition
        ``k``), the imagined onset is the transition with the largest imagined
        ``|v_{t+1} - v_t|``: ``{prefix}/onset_within_1`` (fraction within one step),
        ``{prefix}/onset_err`` (mean absolute error, steps), ``{prefix}/onset_count``.
    """
    idx = _entities(layout, entities)
    true = layout.split(true_seq)[:, :, idx].astype(np.float64)
    imag = layout.split(imagined)[:, :, idx].astype(np.float64)
    pos, vel = layout.features["pos"], layout.features["linvel"]
    pos_err = np.linalg.norm(imag[..., pos] - true[:, 1:, :, pos], axis=-1) * 1000.0  # (N, H, K)
    reg = np.asarray(regime_seq)[:, :, idx]
    out: dict[str, float] = {}
    for code, name in enumerate(REGIME_NAMES):
        _group_stats(out, f"{prefix}/rollout/{name}", reg == code, {"pos_mm": pos_err})
    out[f"{prefix}/rollout/all/pos_mm"] = float(pos_err.mean())
    out[f"{prefix}/rollout/final/pos_mm"] = float(pos_err[:, -1].mean())

    impact = reg == Regime.IMPACT
    has = impact.any(axis=1)  # (N, K)
    out[f"{prefix}/onset_count"] = float(has.sum())
    if has.any():
        k_true = impact.argmax(axis=1)
        v = np.concatenate([true[:, :1, :, vel], imag[..., vel]], axis=1)  # (N, H+1, K, 3)
        dv = np.linalg.norm(np.diff(v, axis=1), axis=-1)  # (N, H, K)
        k_imag = dv.argmax(axis=1)
        err = np.abs(k_imag - k_true)[has]
        out[f"{prefix}/onset_within_1"] = float((err <= 1).mean())
        out[f"{prefix}/onset_err"] = float(err.mean())
    return out
