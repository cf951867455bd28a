"""Ablations of the graph world model on one fixed dataset (docs/world_model.md, "Diagnosis").

Trains ``build_model(cfg)`` through ``ModelTrainer`` on a dataset and scores it every
``--eval`` updates with ``evaluate_on_probe`` and the physics baselines (the code
``contactlab train-model`` uses, without a run folder), printing per-regime ratios to constant
velocity on the whole probe, its reach and beyond parts, and the 10-step rollout on impact
sequences. Example (the "input noise 0.3" row):

    python docs/results/wm_vs_physics/ablate.py --data DATA --probe PROBE --updates 2000 \\
      --cfg '{"kind": "graph", "entity_latent_dim": 64, "hidden": 64, "depth": 1,
              "horizon": 1, "n_members": 1, "input_noise": 0.3}'

with DATA from ``contactlab collect env=push_blocks policy=probe steps=100000 seed=7`` and
PROBE from ``contactlab probe make env=push_blocks``. ``--train-eval N`` also prints the same
ratios on the first ``N`` training transitions (does the model fit its own data?), and
``--subset N`` trains on the first ``N`` transitions only.
"""

from __future__ import annotations

import argparse
import json
import time

import gymnasium as gym
import numpy as np
import torch

import envs  # noqa: F401  (registers the scenes)
from world_model.config import WorldModelConfig
from world_model.dataset import layout_identity, load_dataset
from world_model.evaluation import constant_velocity, one_step_metrics
from world_model.inference import predict_mean
from world_model.models import build_model
from world_model.probe import baseline_metrics, evaluate_on_probe, load_probe_set, with_baselines
from world_model.replay import Replay
from world_model.trainer import ModelTrainer

REGIMES = ("impact", "contact", "free")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True)
    p.add_argument("--probe", required=True)
    p.add_argument("--updates", type=int, default=2000)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--eval", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cfg", default="{}", help="WorldModelConfig fields as JSON")
    p.add_argument(
        "--train-eval",
        type=int,
        default=0,
        help="also score the first N training transitions (fit against generalisation)",
    )
    p.add_argument(
        "--subset", type=int, default=0, help="train on the first N transitions only (0: all)"
    )
    a = p.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    data, probe = load_dataset(a.data), load_probe_set(a.probe)
    if a.subset:
        data = data.head(a.subset)
    # The scene's own layout (with the entity extents datasets saved before them lack) and
    # step length; the data must have been recorded on that scene.
    env = gym.make(data.meta.env_id)
    scene = env.unwrapped
    if scene.scene_hash != data.meta.mjcf_sha256 or layout_identity(
        scene.layout.to_dict()
    ) != layout_identity(data.meta.layout):
        raise SystemExit(f"{a.data} was recorded on another version of {data.meta.env_id}")
    layout, dt = scene.layout, scene.dt
    env.close()
    cfg = WorldModelConfig(**json.loads(a.cfg))
    replay = Replay(
        len(data), layout.obs_dim, data.meta.action_dim, layout.n_entities,
        np.random.default_rng(a.seed),
    )  # fmt: skip
    replay.extend(data)
    model = build_model(cfg, layout, data.meta.action_dim, dt)
    trainer = ModelTrainer(model, cfg)
    baselines = baseline_metrics(probe, dt)
    start = time.time()
    for update in range(1, a.updates + 1):
        trainer.update(replay.sample_sequences(a.batch, cfg.horizon))
        if update % a.eval and update != a.updates:
            continue
        model.eval()
        with torch.no_grad():
            m = with_baselines(evaluate_on_probe(model, probe), baselines)
        model.train()
        row = {
            part: {r: round(m.get(f"probe/{pre}{r}/vs_cv", float("nan")), 2) for r in REGIMES}
            for part, pre in (("whole", ""), ("reach", "reach/"), ("beyond", "beyond/"))
        }
        roll = round(m.get("probe/rollout/impact_seq/final_vs_cv", float("nan")), 2)
        fit = ""
        if a.train_eval:
            fit = f" train {json.dumps(train_fit(model, data, layout, dt, a.train_eval))}"
        took = f"{time.time() - start:.0f}s"
        print(update, took, json.dumps(row), "rollout", roll, fit, flush=True)


def train_fit(model, data, layout, dt: float, n: int) -> dict[str, float]:  # noqa: ANN001
    """Per-regime one-step ratio to constant velocity on the first ``n`` training transitions."""
    obs, nxt = data.obs[:n], data.next_obs[:n]
    with torch.no_grad():
        pred = predict_mean(model, obs, data.action[:n])
    reg, pk = data.regime[:n], data.pair_kind[:n]
    m = one_step_metrics(obs, nxt, pred, reg, pk, layout, prefix="m")
    cv = one_step_metrics(obs, nxt, constant_velocity(obs, layout, dt), reg, pk, layout, prefix="m")
    return {r: round(m[f"m/{r}/pos_mm"] / cv[f"m/{r}/pos_mm"], 2) for r in REGIMES}


if __name__ == "__main__":
    main()
