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
    mask: np.ndarray | None = None,
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
        mask: ``(N, E)`` bool, score only these entity-transitions (e.g. :func:`reach_mask`);
            default all.

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
    keep_rows = np.ones_like(reg, bool) if mask is None else np.asarray(mask, bool)[:, idx]
    out: dict[str, float] = {}
    for code, name in enumerate(REGIME_NAMES):
        _group_stats(out, f"{prefix}/{name}", (reg == code) & keep_rows, errors)
    for code, name in enumerate(PAIR_NAMES):
        _group_stats(out, f"{prefix}/pair/{name}", (pk == code) & keep_rows, errors)
    _group_stats(out, f"{prefix}/all", keep_rows, errors)
    impact, free = out.get(f"{prefix}/impact/pos_mm"), out.get(f"{prefix}/free/pos_mm")
    if impact is not None and free is not None and free > 0:
        out[f"{prefix}/contact_gap"] = impact / free
    return out


def nothing_moves(obs: np.ndarray) -> np.ndarray:
    """The ``nothing_moves`` baseline: ``o' = o``. ``(N, D) -> (N, D)``."""
    return np.array(obs, dtype=np.float32, copy=True)


def constant_velocity(obs: np.ndarray, layout: EntityLayout, dt: float) -> np.ndarray:
    """The ``constant_velocity`` baseline: every entity keeps its linear and angular velocity
    over one step, ``pos' = pos + v dt`` and the quaternion rotated by ``w dt``.

    Args:
        obs: ``(..., D)`` observations; ``dt``: seconds per env step.

    Returns:
        ``(..., D)`` predicted next observations.
    """
    x = np.array(layout.split(obs), dtype=np.float64)  # (..., E, 13)
    pos, quat = layout.features["pos"], layout.features["quat"]
    vel, ang = layout.features["linvel"], layout.features["angvel"]
    x[..., pos] += x[..., vel] * dt
    x[..., quat] = _rotate_quat(x[..., quat], x[..., ang], dt)
    return x.reshape(obs.shape).astype(np.float32)


def _rotate_quat(q: np.ndarray, w: np.ndarray, dt: float) -> np.ndarray:
    """``exp(w dt / 2) (x) q`` for world-frame angular velocity ``w``; ``(..., 4)``."""
    half = w * 0.5 * dt
    a = np.linalg.norm(half, axis=-1, keepdims=True)
    sinc = np.where(a > 1e-12, np.sin(a) / np.maximum(a, 1e-12), 1.0)
    d0, d = np.cos(a)[..., 0], half * sinc
    q0, qv = q[..., 0], q[..., 1:]
    out0 = d0 * q0 - (d * qv).sum(-1)
    outv = d0[..., None] * qv + q0[..., None] * d + np.cross(d, qv)
    out = np.concatenate([out0[..., None], outv], axis=-1)
    return out / np.maximum(np.linalg.norm(out, axis=-1, keepdims=True), 1e-12)


def constant_velocity_rollout(
    obs0: np.ndarray,
    layout: EntityLayout,
    dt: float,
    horizon: int,
    given: np.ndarray | None = None,
    given_mask: np.ndarray | None = None,
) -> np.ndarray:
    """``(N, D)`` start states rolled ``horizon`` steps by :func:`constant_velocity`; dims in
    ``given_mask (D,)`` are taken from ``given (N, H, D)`` at every step. Returns ``(N, H, D)``."""
    x, out = obs0, []
    for k in range(horizon):
        x = constant_velocity(x, layout, dt)
        if given is not None and given_mask is not None:
            x = np.where(given_mask, given[:, k], x)
        out.append(x)
    return np.stack(out, axis=1).astype(np.float32)


# An entity-transition is within an agent's *reach* when the body moves in the plane of its
# support: vertical speed at most this (m/s) before and after the step.
REACH_MAX_VZ = 0.05


def reach_mask(obs: np.ndarray, next_obs: np.ndarray, layout: EntityLayout) -> np.ndarray:
    """``(N, E)`` bool: entity-transitions an agent pushing on the table can produce (planar
    motion, ``|v_z| <= REACH_MAX_VZ`` before and after); the rest (launched, dropped, falling,
    bouncing) is *beyond* reach and tests generalisation."""
    vel = layout.features["linvel"]
    vz0 = np.abs(layout.split(obs)[..., vel][..., 2])
    vz1 = np.abs(layout.split(next_obs)[..., vel][..., 2])
    return (vz0 <= REACH_MAX_VZ) & (vz1 <= REACH_MAX_VZ)


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
        ``{prefix}/rollout/impact_seq/pos_mm`` and ``.../final_mm`` (every step, and the last
        one, of the sequences where some object has an impact) and ``.../count``;
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
    hit = (reg == Regime.IMPACT).any(axis=(1, 2))  # sequences with an object impact
    out[f"{prefix}/rollout/impact_seq/count"] = float(hit.sum())
    if hit.any():
        out[f"{prefix}/rollout/impact_seq/pos_mm"] = float(pos_err[hit].mean())
        out[f"{prefix}/rollout/impact_seq/final_mm"] = float(pos_err[hit, -1].mean())

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
