"""Train the default world model offline on one run's transitions, conditioned on the actions
or on the agent's observed motion, and score it on a probe set with the same conditioning.

Separates what the data teaches from what the model is told at test time: a "video" learner
is conditioned on the agent's observed next state (``world_model.probe.agent_motion``), an
acting one on its actions. Usage (repository root, after ``bash .ci/setup``):

    python docs/results/watching_advantage/train_cond.py RUN_DATA PROBE COND UPDATES SEED \
        OUT_JSON [MODEL_PT]

``RUN_DATA``: a run folder's ``data/`` (a video run's stores the agent's motion as its
"action"; an acting run's stores actions, and its agent motion is read from ``next_obs``);
``COND``: ``action`` or ``agent_motion``. Batch and model settings are ``contactlab run``'s
defaults (``loop.batch_size``, ``world_model``), so 0.25 updates per transition repeats a
run's training budget offline. ``MODEL_PT``: also save the trained model there (its
``state_dict``, ``condition`` and ``action_dim``; docs/results/seek_variants/walls.py scores it).
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time

import gymnasium as gym
import numpy as np
import torch

import envs  # noqa: F401  (registers the scenes)
from agent.config.load import load_config
from agent.config.run import RunConfig
from agent.parts import conditioning_dim
from world_model.dataset import load_dataset
from world_model.models import build_model
from world_model.probe import (
    agent_motion,
    baseline_metrics,
    evaluate_on_probe,
    load_probe_set,
    with_baselines,
)
from world_model.replay import Replay
from world_model.trainer import ModelTrainer


def main(
    data_dir: str, probe_dir: str, cond: str, updates: int, seed: int, out: str, save: str = ""
) -> None:
    cfg, _ = load_config("run", RunConfig, [])
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    data = load_dataset(data_dir)
    probe = load_probe_set(probe_dir)
    scene = gym.make(probe.data.meta.env_id).unwrapped
    layout, dt = scene.layout, scene.dt  # the scene's layout has the entity extents
    # a video run stores the agent's motion as its "action" (agent.parts.conditioning_dim)
    stored_motion = data.meta.action_dim == conditioning_dim(layout, 0, observe_actions=False)
    if cond == "agent_motion" and not stored_motion:
        data = dataclasses.replace(data, action=agent_motion(layout, data.next_obs))
    elif cond == "action" and stored_motion:
        raise SystemExit(f"{data_dir}: a video run's data has no actions")
    elif cond not in ("action", "agent_motion"):
        raise SystemExit(f"COND must be action or agent_motion, got {cond!r}")
    assert data.action is not None
    a_dim = data.action.shape[1]
    replay = Replay(len(data), layout.obs_dim, a_dim, layout.n_entities, rng)
    replay.extend(data)
    model = build_model(cfg.world_model, layout, a_dim, dt)
    trainer = ModelTrainer(model, cfg.world_model)
    t0 = time.perf_counter()
    for _ in range(updates):
        trainer.update(replay.sample_sequences(cfg.loop.batch_size, cfg.world_model.horizon))
    model.eval()
    metrics = with_baselines(
        evaluate_on_probe(model, probe, condition=cond), baseline_metrics(probe, dt)
    )
    result = {
        "data": data_dir,
        "transitions": len(data),
        "condition": cond,
        "updates": updates,
        "seed": seed,
        "train_s": time.perf_counter() - t0,
        "probe_hash": probe.content_hash,
        "metrics": metrics,
    }
    with open(out, "w") as f:
        json.dump(result, f, indent=1)
    if save:
        torch.save({"state": model.state_dict(), "condition": cond, "action_dim": a_dim}, save)


if __name__ == "__main__":
    a = sys.argv[1:]
    main(a[0], a[1], a[2], int(a[3]), int(a[4]), a[5], *a[6:7])
