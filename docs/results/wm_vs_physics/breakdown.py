"""Where a world model's error is: one-step object position error per regime, pair kind and
reach part, for constant velocity and (optionally) a trained run's model, with each group's
share of constant velocity's error in its regime; and the agent's own velocity error.

Usage: python docs/results/wm_vs_physics/breakdown.py PROBE_DIR [RUN_DIR]

RUN_DIR is a `contactlab train-model` or `contactlab run` folder (its config.yaml and
checkpoint.pt); a video-source run's model is stepped on the agent's observed motion.
"""

from __future__ import annotations

import sys

import gymnasium as gym
import numpy as np
import torch

import envs  # noqa: F401  (registers the scenes)
from agent.report.model import restore_model
from agent.report.run_folder import RunFolder
from envs.regimes import PairKind, Regime
from world_model.evaluation import constant_velocity, reach_mask
from world_model.inference import predict_mean
from world_model.probe import load_probe_set


def main() -> None:
    if len(sys.argv) not in (2, 3):
        raise SystemExit(__doc__)
    probe = load_probe_set(sys.argv[1])
    d, layout = probe.data, probe.layout
    env = gym.make(d.meta.env_id)
    dt = env.unwrapped.dt  # type: ignore[attr-defined]
    scene_layout = env.unwrapped.layout  # type: ignore[attr-defined]
    env.close()
    preds = {"cv": constant_velocity(d.obs, layout, dt)}
    if len(sys.argv) == 3:  # the run's model, restored as reports restore it
        restored = restore_model(RunFolder.load(sys.argv[2]), scene_layout, d.meta.action_dim)
        # A video-source run's model steps on the agent's observed motion, not the action.
        cond = restored.conditioning(layout, np.stack([d.obs, d.next_obs], 1), d.action[:, None])
        with torch.no_grad():
            preds["model"] = predict_mean(restored.model, d.obs, cond[:, 0])
    true = layout.split(d.next_obs)
    pos_err = {k: np.linalg.norm(layout.split(p)[..., 0:3] - true[..., 0:3], axis=-1) * 1000
               for k, p in preds.items()}  # fmt: skip
    objects = layout.indices("object")
    reach = reach_mask(d.obs, d.next_obs, layout)
    for regime in (Regime.IMPACT, Regime.CONTACT, Regime.FREE):
        in_regime = objects_in(d, objects, regime)
        total = pos_err["cv"][in_regime].sum()
        means = " ".join(f"{k}={v[in_regime].mean():.2f}" for k, v in pos_err.items())
        print(f"{regime.name.lower()} (n={in_regime.sum()}): {means} mm")
        for kind in PairKind:
            for part, mask in (("reach", reach), ("beyond", ~reach)):
                group = in_regime & (d.pair_kind == int(kind)) & mask
                if group.any():
                    errs = " ".join(f"{k}={v[group].mean():.2f}" for k, v in pos_err.items())
                    share = pos_err["cv"][group].sum() / total
                    print(f"  {kind.name.lower():14s} {part:7s} n={group.sum():5d} {errs}"
                          f"  share of cv error {share:.2f}")  # fmt: skip
    agent = layout.indices("agent")
    free = np.all(d.regime[:, agent] == int(Regime.FREE), axis=1)  # the agent touches nothing
    v_true = true[:, agent, 7:10]
    for k, p in preds.items():
        err = np.linalg.norm(layout.split(p)[:, agent, 7:10] - v_true, axis=-1)
        print(f"agent velocity error {k}: {err.mean():.4f} m/s, on its free steps "
              f"{err[free].mean():.4f}")  # fmt: skip
    # What a linear least-squares fit of the agent's next velocity on its velocity and the
    # action reaches on the same free steps (fit and scored on the probe: a floor, not a model).
    v0 = layout.split(d.obs)[free][:, agent, 7:10].reshape(int(free.sum()), -1)
    feats = np.c_[v0, d.action[free], np.ones(int(free.sum()))]
    target = v_true[free].reshape(len(feats), -1)
    coef, *_ = np.linalg.lstsq(feats, target, rcond=None)
    resid = (feats @ coef - target).reshape(len(feats), len(agent), 3)
    print(f"agent velocity error of a linear fit on its free steps: "
          f"{np.linalg.norm(resid, axis=-1).mean():.4f} m/s")  # fmt: skip
    if "model" in preds:
        split_position_error(d, layout, preds["model"], dt, objects, reach)
        spread(d, layout, pos_err, objects, reach)


def objects_in(d, objects, regime) -> np.ndarray:  # noqa: ANN001
    """``(T, E)`` mask of the object entity-transitions labelled ``regime``."""
    mask = np.zeros_like(d.regime, bool)
    mask[:, objects] = d.regime[:, objects] == int(regime)
    return mask


def spread(d, layout, pos_err, objects, reach) -> None:  # noqa: ANN001
    """Is the model's error a tail? Per regime and reach part its mean, median and the worst
    tenth's share; for sustained contact with the agent on the table, by the object's speed."""
    print(
        "model error spread, mm: mean | median | worst 10% share (constant velocity: mean | median)"
    )
    model, cv = pos_err["model"], pos_err["cv"]
    for regime in (Regime.IMPACT, Regime.CONTACT, Regime.FREE):
        in_regime = objects_in(d, objects, regime)
        for part, mask in (("reach", reach), ("beyond", ~reach)):
            e, c = model[in_regime & mask], cv[in_regime & mask]
            worst = np.sort(e)[::-1][: max(1, len(e) // 10)].sum() / e.sum()
            print(f"  {regime.name.lower():8s} {part:7s} {e.mean():.2f} | {np.median(e):.2f} | "
                  f"{worst:.2f} ({c.mean():.2f} | {np.median(c):.2f})")  # fmt: skip
    pushed = (
        objects_in(d, objects, Regime.CONTACT) & reach & (d.pair_kind == int(PairKind.AGENT_OBJECT))
    )
    speed = np.linalg.norm(layout.split(d.obs)[..., 7:9], axis=-1)
    print(
        "contact with the agent on the table, by the object's speed (m/s): n | model | cv | "
        "share of the model's error"
    )
    for lo, hi in ((0.0, 0.02), (0.02, 0.1), (0.1, 0.3), (0.3, np.inf)):
        g = pushed & (speed >= lo) & (speed < hi)
        if g.any():
            print(f"  [{lo}, {hi}) {g.sum()} | {model[g].mean():.2f} | {cv[g].mean():.2f} | "
                  f"{model[g].sum() / model[pushed].sum():.2f}")  # fmt: skip


def split_position_error(d, layout, pred, dt, objects, reach) -> None:  # noqa: ANN001
    """The model's object position error in its two parts, ``dt/2 (v'_pred - v')`` (the
    predicted velocity, as the graph model integrates it) and ``corr_pred - corr`` (the
    position correction), beside the size of the true correction, per regime and reach part;
    and how it does on pure free flight (velocity change within 1 mm/s of ``g dt``)."""
    now, nxt, p = layout.split(d.obs), layout.split(d.next_obs), layout.split(pred)

    def corr(after):  # noqa: ANN001, ANN202
        return after[..., 0:3] - now[..., 0:3] - 0.5 * dt * (now[..., 7:10] + after[..., 7:10])

    c_true, c_pred = corr(nxt) * 1000, corr(p) * 1000
    e_vel = 0.5 * dt * (p[..., 7:10] - nxt[..., 7:10]) * 1000
    print("position error split, mm: velocity part | correction part | total | true correction")
    for regime in (Regime.IMPACT, Regime.CONTACT, Regime.FREE):
        in_regime = objects_in(d, objects, regime)
        for part, mask in (("reach", reach), ("beyond", ~reach)):
            g = in_regime & mask
            parts = (e_vel, c_pred - c_true, e_vel + c_pred - c_true, c_true)
            cells = " | ".join(f"{np.linalg.norm(x[g], axis=-1).mean():.2f}" for x in parts)
            print(f"  {regime.name.lower():8s} {part:7s} {cells}")
    gravity = np.array([0.0, 0.0, -9.81]) * dt
    flight = np.zeros_like(d.regime, bool)
    flight[:, objects] = np.linalg.norm(nxt[:, objects, 7:10] - now[:, objects, 7:10] - gravity,
                                        axis=-1) < 1e-3  # fmt: skip
    dv = (p[..., 7:10] - now[..., 7:10])[flight].mean(0)
    print(f"pure flight (n={flight.sum()}): velocity error "
          f"{np.linalg.norm((p - nxt)[..., 7:10][flight], axis=-1).mean():.4f} m/s, mean "
          f"predicted dv_z {dv[2]:.4f} (true {gravity[2]:.4f}), mean predicted correction_z "
          f"{c_pred[flight].mean(0)[2]:.3f} mm (true {c_true[flight].mean(0)[2]:.3f})")  # fmt: skip


if __name__ == "__main__":
    main()
