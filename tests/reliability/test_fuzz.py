"""Unstable physics never enters a dataset; a diverging model is caught and named."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from agent.config import RunConfig, load_config
from agent.run import Run, build_run
from envs.scene import ContactSceneEnv
from world_model.dataset import load_dataset
from world_model.trainer import NonFiniteUpdateError

BAD = (np.nan, np.inf, -np.inf, 1e15, -1e15)


def _debug_run(tmp_path: Path, name: str) -> Run:
    """A real ``experiment=debug agent=random`` run, built but not started."""
    overrides = ["experiment=debug", "agent=random", f"out_dir={tmp_path}", f"run_name={name}"]
    cfg, resolved = load_config("run", RunConfig, [*overrides, f"probe.root={tmp_path}/probes"])
    return build_run(cfg, resolved)


def test_fuzzed_states_and_actions_never_reach_the_dataset(tmp_path: Path) -> None:
    """A real run's env and learner; every few steps the state is fuzzed (qpos/qvel set to
    NaN, inf or 1e15) or the action is; whatever is stored must be finite and stable."""
    r = _debug_run(tmp_path, "f")
    env, learner = r.env, r.learner
    scene = env.unwrapped
    assert isinstance(scene, ContactSceneEnv)
    rng = np.random.default_rng(0)
    obs, _ = env.reset(seed=0)
    unstable = refused = 0
    for i in range(400):
        action = rng.uniform(-1, 1, 2).astype(np.float32)
        if i % 7 == 3:  # fuzz the state
            target = scene.data.qvel if rng.random() < 0.5 else scene.data.qpos
            target[rng.integers(0, len(target))] = BAD[rng.integers(0, len(BAD))]
        if i % 11 == 5:  # fuzz the action
            action[rng.integers(0, 2)] = BAD[rng.integers(0, len(BAD))]
            if not np.isfinite(action).all():
                with pytest.raises(ValueError):
                    env.step(action)
                refused += 1
                continue
        next_obs, _, terminated, truncated, info = env.step(action)
        assert np.isfinite(next_obs).all()
        unstable += bool(info["sim_unstable"])
        learner.observe(obs, action, next_obs, 0.0, terminated, truncated, info)
        obs = next_obs
        if terminated or truncated:
            obs, _ = env.reset(seed=i)
    learner.writer.flush()
    data = load_dataset(learner.writer.path)
    print(
        f"fuzz: 400 steps, {unstable} unstable, {refused} bad actions refused, {len(data)} stored"
    )
    assert unstable > 10 and refused > 5
    assert len(data) == learner.env_step == 400 - refused - unstable
    for name in ("obs", "next_obs", "action", "reward", "approach_speed", "impulse"):
        values = getattr(data, name)
        assert np.isfinite(values).all(), name
    assert np.abs(data.obs).max() < 1e3 and np.abs(data.next_obs).max() < 1e3


def test_a_run_whose_model_cannot_recover_stops_naming_the_update_and_term(
    tmp_path: Path,
) -> None:
    """Poison the replay with a huge observation: the update is skipped and rolled back; when
    every update fails the run stops with the update number and the loss term."""
    r = _debug_run(tmp_path, "d")
    cfg = r.cfg
    trainer, replay = r.learner.trainer, r.learner.replay
    obs = np.zeros(replay.obs_dim, np.float32)
    for step in range(20):
        replay.add(obs, np.zeros(replay.action_dim, np.float32), obs, 0.0, False, False,
                   np.zeros(replay.n_entities, np.int8), 0, step)  # fmt: skip
    good = trainer.update(replay.sample_sequences(8, 2))
    before = [p.detach().clone() for p in trainer.model.parameters()]
    replay._obs[:] = np.float32(np.nan)  # a poisoned replay: every batch is NaN
    replay._next_obs[:] = np.float32(np.nan)
    out = trainer.update(replay.sample_sequences(8, 2))
    assert out["wm/skipped_nonfinite"] == 1 and out["wm/updates"] == good["wm/updates"]
    for b, p in zip(before, trainer.model.parameters(), strict=True):
        assert torch.equal(b, p), "a non-finite update changed the weights"
    with pytest.raises(NonFiniteUpdateError, match=r"world model update \d+: .* loss term"):
        for _ in range(cfg.world_model.max_nonfinite):
            trainer.update(replay.sample_sequences(8, 2))
