"""``ContactSceneEnv.set_state_from_obs``: an observation puts the simulation back in its state."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import envs


def _states(env_id: str, steps: int = 40) -> tuple[gym.Env, list[np.ndarray], np.ndarray]:
    env = gym.make(env_id, distractor="force")
    obs, _ = env.reset(seed=5)
    rng = np.random.default_rng(5)
    observations = [obs]
    for _ in range(steps):
        obs, *_ = env.step(rng.uniform(-1, 1, env.action_space.shape))
        observations.append(obs)
    return env, observations, rng.uniform(-1, 1, env.action_space.shape)


@pytest.mark.parametrize("env_id", list(envs.SCENES.values()))
def test_observation_round_trips_and_the_physics_continues(env_id: str) -> None:
    source, observations, action = _states(env_id)
    target = gym.make(env_id, distractor="force")
    target.reset(seed=99)  # another start: every entity must be moved
    scene = target.unwrapped
    for obs in observations[::8]:
        back = scene.set_state_from_obs(obs)
        np.testing.assert_allclose(back, obs, atol=2e-5)
    layout = scene.layout
    moving = np.abs(layout.split(observations[-1])[:, 7:13]).max() > 1e-3
    assert moving, "the last state should have something in motion"
    # One step from the restored state follows the original one (solver warm start aside).
    expected, *_ = source.step(action)
    got, *_ = target.step(action)
    real = np.array(layout.kinds) != "distractor"  # its random kicks come from the env's RNG
    pos = layout.split(got)[real, 0:3] - layout.split(expected)[real, 0:3]
    assert np.abs(pos).max() < 1e-3


def test_agent_on_slide_joints_is_placed_at_its_world_position() -> None:
    env = gym.make("contactlab/Tower-v0")
    obs, _ = env.reset(seed=0)
    scene = env.unwrapped
    blocks = scene.layout.split(obs).copy()
    blocks[0, 0:3] += (0.05, -0.03, 0.02)  # the pusher: slide x, y, z
    blocks[0, 7:10] = (0.1, 0.2, -0.3)
    back = scene.layout.split(scene.set_state_from_obs(blocks.ravel()))
    np.testing.assert_allclose(back[0, 0:3], blocks[0, 0:3], atol=1e-6)
    np.testing.assert_allclose(back[0, 7:10], blocks[0, 7:10], atol=1e-6)
    np.testing.assert_allclose(scene.data.xpos[scene.layout.entities[0].body_id], back[0, 0:3])


def test_bad_observations_are_refused() -> None:
    scene = gym.make("contactlab/PushBlocks-v0").unwrapped
    scene.reset(seed=0)
    with pytest.raises(ValueError, match="values"):
        scene.set_state_from_obs(np.zeros(3))
    bad = np.zeros(scene.layout.obs_dim)
    bad[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        scene.set_state_from_obs(bad)
