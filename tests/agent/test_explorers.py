"""The planner finds known optima; the SB3 wrapper really replaces the reward inside SB3."""

from __future__ import annotations

import tempfile
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

import envs  # noqa: F401
from agent.explorers.mpc import MPCPlanner
from agent.explorers.mpc_config import MPCConfig
from agent.explorers.sb3 import BudgetCallback, IntrinsicRewardWrapper, make_sb3


def _integrator(states: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
    """A known system: every member moves by the action, s' = s + a (states (M, P, D))."""
    return states + action.unsqueeze(0)


def test_planner_finds_the_optimum_of_a_per_step_cost() -> None:
    best = torch.tensor([0.3, -0.6])

    def score(obs: torch.Tensor, action: torch.Tensor, predicted: torch.Tensor) -> torch.Tensor:
        return -((action - best) ** 2).sum(-1)

    # One step, so the return is the action's own score; enough refits to narrow around it.
    cfg = MPCConfig(horizon=1, iterations=6, action_repeat=1)
    planner = MPCPlanner(_integrator, score, n_members=2, action_dim=2, cfg=cfg, seed=0)
    obs = np.zeros(2, np.float32)
    for _ in range(3):  # warm starting carries the mean over calls
        action = planner.plan(obs)
    np.testing.assert_allclose(action, best.numpy(), atol=0.03)


def test_planner_steers_imagined_states_to_a_target() -> None:
    target = torch.tensor([1.5, -1.0])

    def score(obs: torch.Tensor, action: torch.Tensor, predicted: torch.Tensor) -> torch.Tensor:
        return -((predicted.mean(0) - target) ** 2).sum(-1)

    cfg = MPCConfig(horizon=5, population=128, elites=12, action_repeat=1)
    planner = MPCPlanner(_integrator, score, 3, 2, cfg, seed=1)
    state = np.zeros(2, np.float32)
    distances = []
    for _ in range(8):  # act in the known system itself
        state = state + planner.plan(state)
        distances.append(float(np.linalg.norm(state - target.numpy())))
    assert distances[0] < 1.5 and min(distances) < 0.1 and distances[-1] < 0.25  # start 1.8 away


def test_planner_is_deterministic_given_its_seed_and_resumes_exactly() -> None:
    def score(obs: torch.Tensor, action: torch.Tensor, predicted: torch.Tensor) -> torch.Tensor:
        return -(predicted.mean(0) ** 2).sum(-1) + action.sum(-1)

    a = MPCPlanner(_integrator, score, 2, 2, MPCConfig(action_repeat=1), seed=5)
    b = MPCPlanner(_integrator, score, 2, 2, MPCConfig(action_repeat=1), seed=5)
    obs = np.ones(2, np.float32)
    a.plan(obs)
    b.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(a.plan(obs), b.plan(obs))


def test_sb3_wrapper_replaces_the_reward_seen_by_ppo() -> None:
    seen: list[tuple[np.ndarray, float]] = []

    def reward_fn(obs: np.ndarray, action: np.ndarray, next_obs: np.ndarray) -> float:
        return float(obs[0] * 10.0 + next_obs[1])  # anything the env itself never returns

    def hook(obs, action, next_obs, reward, terminated, truncated, info) -> None:  # noqa: ANN001
        assert info["extrinsic_reward"] == 0.0
        seen.append((obs.copy(), reward))

    env = IntrinsicRewardWrapper(
        gym.make("contactlab/PushBlocks-v0"), reward_fn, on_transition=hook
    )
    model = make_sb3("ppo", env, seed=0, kwargs={"n_steps": 64, "batch_size": 32, "n_epochs": 1})
    model.learn(total_timesteps=64, callback=BudgetCallback(lambda: False))
    buffer = model.rollout_buffer  # flattened in place by training: (n_steps * n_envs, ...)
    rewards = buffer.rewards.reshape(64)
    observations = buffer.observations.reshape(64, -1)
    assert len(seen) >= 64
    for i in range(64):
        assert rewards[i] == np.float32(seen[i][1])  # what PPO learned from is our reward
        np.testing.assert_allclose(observations[i], seen[i][0], rtol=1e-6)
    assert np.abs(rewards).max() > 0  # the env's own reward is always 0


def test_sb3_learn_leaves_nothing_in_the_system_tmp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without a logger of ours SB3's learn() makes an empty SB3-<date> folder in the tmp dir.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    env = IntrinsicRewardWrapper(gym.make("contactlab/PushBlocks-v0"), lambda o, a, n: 0.0)
    model = make_sb3("ppo", env, seed=0, kwargs={"n_steps": 32, "batch_size": 32, "n_epochs": 1})
    model.learn(total_timesteps=32)
    assert model.num_timesteps >= 32
    assert list(tmp_path.iterdir()) == []


def test_budget_callback_stops_learning() -> None:
    steps = {"n": 0}

    def hook(*args) -> None:  # noqa: ANN002
        steps["n"] += 1

    env = IntrinsicRewardWrapper(
        gym.make("contactlab/Billiards-v0"), lambda o, a, n: 0.0, on_transition=hook
    )
    model = make_sb3("sac", env, seed=0, kwargs={"learning_starts": 10, "batch_size": 16})
    model.learn(total_timesteps=10_000, callback=BudgetCallback(lambda: steps["n"] >= 30))
    assert steps["n"] == 30


def test_mixed_explorer_interleaves_the_passive_fraction_and_resumes() -> None:
    from agent.explorers.base import MixedExplorer, RandomExplorer, is_passive_episode

    for fraction in (0.0, 0.25, 0.5, 1.0):
        chosen = [is_passive_episode(e, fraction) for e in range(100)]
        assert sum(chosen) == round(100 * fraction)
    assert [is_passive_episode(e, 0.25) for e in range(8)] == [False, False, False, True] * 2

    class Constant(RandomExplorer):
        def act(self, obs: np.ndarray) -> np.ndarray:
            return np.full(self.action_dim, 0.5, np.float32)

    episode = {"i": 0}
    mixed = MixedExplorer(
        RandomExplorer(2, np.random.default_rng(0)),
        Constant(2, np.random.default_rng(1)),
        0.5,
        lambda: episode["i"],
    )
    acted = []
    for i in range(4):
        episode["i"] = i
        mixed.reset()
        acted.append(bool(np.all(mixed.act(np.zeros(3)) == 0.5)))
    assert acted == [False, True, False, True]
    assert mixed.steps == {"active": 2, "passive": 2}
    state = mixed.state_dict()
    again = MixedExplorer(
        RandomExplorer(2, np.random.default_rng(5)),
        Constant(2, np.random.default_rng(6)),
        0.5,
        lambda: 4,
    )
    again.load_state_dict(state)
    episode["i"] = 4
    mixed_next = (mixed.reset(), mixed.act(np.zeros(3)))[1]
    again.reset()
    np.testing.assert_array_equal(again.act(np.zeros(3)), mixed_next)
    assert again.steps == mixed.steps
