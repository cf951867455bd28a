"""The physics baselines and two velocity oracles on a probe set: how far predicting the next
velocity alone can take a model that integrates the position from it.

Usage: ``python docs/results/wm_vs_physics/oracle.py PROBE``

Rows (one-step object position error, mm, per regime; the same scoring code as every model):

- ``nothing moves``: ``o' = o``;
- ``constant velocity``: ``pos' = pos + dt v``;
- ``oracle, trapezoidal``: the *true* next velocity ``v'`` from the probe set, integrated as the
  graph model integrates its own (``pos' = pos + dt (v + v') / 2``), no position correction;
- ``oracle, semi-implicit``: the true ``v'``, ``pos' = pos + dt v'``;
- ``oracle, n substeps``: the true ``v'`` as MuJoCo's ``n = frame_skip`` semi-implicit substeps
  integrate a constant acceleration, ``pos' = pos + dt (v + (n + 1) / 2n (v' - v))`` (exact in
  free flight);
- ``oracle, best switch time``: the true ``v'`` and, per entity-transition, the fraction ``tau``
  of the step spent at the old velocity that fits the true position best in hindsight
  (least squares, clipped to [0, 1]), ``pos' = pos + dt (tau v + (1 - tau) v')``: the floor
  of the graph model's ``switch_time`` integration with a perfect velocity and no position
  correction.

Orientation is not scored (the metric is position), so the oracles keep the baseline's
quaternion. Prints a markdown table for the whole probe and its reach / beyond parts, then the
quartiles of the best switch time over the objects' impact entity-transitions.
"""

from __future__ import annotations

import sys

import gymnasium as gym
import numpy as np

import envs  # noqa: F401  (registers the scenes)
from envs.regimes import Regime
from world_model.evaluation import constant_velocity, nothing_moves
from world_model.probe import load_probe_set, split_one_step_metrics

REGIMES = ("impact", "contact", "free")


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    probe = load_probe_set(sys.argv[1])
    d, layout = probe.data, probe.layout
    env = gym.make(d.meta.env_id)
    dt = float(env.unwrapped.dt)  # type: ignore[attr-defined]
    env.close()
    pos, vel = layout.features["pos"], layout.features["linvel"]
    now, nxt = layout.split(d.obs).astype(np.float64), layout.split(d.next_obs)
    cv = constant_velocity(d.obs, layout, dt)
    oracles = {}
    n_sub = int(env.unwrapped.frame_skip)  # type: ignore[attr-defined]
    substeps = (n_sub + 1) / (2 * n_sub)  # n semi-implicit substeps of constant acceleration
    for name, weight in (("trapezoidal", 0.5), ("semi-implicit", 1.0), ("substeps", substeps)):
        x = layout.split(cv).astype(np.float64)
        x[..., pos] = now[..., pos] + dt * ((1 - weight) * now[..., vel] + weight * nxt[..., vel])
        oracles[name] = x.reshape(d.obs.shape).astype(np.float32)
    # The best tau: pos' - pos = dt (v' + tau (v - v')), least squares in tau per entity.
    a = (nxt[..., pos] - now[..., pos]) / dt - nxt[..., vel]
    b = now[..., vel] - nxt[..., vel]
    tau = np.clip((a * b).sum(-1) / np.maximum((b * b).sum(-1), 1e-12), 0.0, 1.0)[..., None]
    x = layout.split(cv).astype(np.float64)
    x[..., pos] = now[..., pos] + dt * (tau * now[..., vel] + (1 - tau) * nxt[..., vel])
    oracles["switch"] = x.reshape(d.obs.shape).astype(np.float32)
    rows = {
        "nothing moves": nothing_moves(d.obs),
        "constant velocity": cv,
        "oracle, trapezoidal `pos + dt (v + v') / 2`": oracles["trapezoidal"],
        "oracle, semi-implicit `pos + dt v'`": oracles["semi-implicit"],
        f"oracle, {n_sub} substeps `pos + dt (v + {substeps:.3g} (v' - v))`": oracles["substeps"],
        "oracle, best switch time `pos + dt (tau v + (1 - tau) v')`": oracles["switch"],
    }
    print(f"probe {probe.content_hash[:8]}... ({d.meta.env_id}, {len(d.obs)} transitions), mm")
    print("| predictor | part | " + " | ".join(REGIMES) + " |")
    print("|---|---|" + "---:|" * len(REGIMES))
    for name, pred in rows.items():
        m = split_one_step_metrics(probe, pred, "p")
        for part in ("", "/reach", "/beyond"):
            cells = [f"{m[f'p{part}/{r}/pos_mm']:.2f}" for r in REGIMES]
            print(f"| {name} | {part[1:] or 'whole'} | " + " | ".join(cells) + " |")
    objects = layout.indices("object")
    impact = d.regime[:, objects] == int(Regime.IMPACT)
    q = np.quantile(tau[:, objects, 0][impact], [0.25, 0.5, 0.75])
    quartiles = " / ".join(f"{v:.2f}" for v in q)
    print(f"\nbest switch time of the objects' impacts, quartiles: {quartiles}")


if __name__ == "__main__":
    main()
