"""Contract tests run on every scene, with and without the distractor."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import envs
from envs.regimes import Regime

SCENE_IDS = list(envs.SCENES.values())
DISTRACTORS = ["none", "force", "teleport"]


@pytest.mark.parametrize("env_id", SCENE_IDS)
@pytest.mark.parametrize("distractor", DISTRACTORS)
def test_gymnasium_and_sb3_check_env(env_id: str, distractor: str) -> None:
    env = gym.make(env_id, distractor=distractor, render_mode="rgb_array", width=64, height=64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unbounded Box observations draw a warning, not an error
        gym_check_env(env.unwrapped, skip_render_check=False)
        sb3_check_env(env.unwrapped, warn=False)
    env.close()


@pytest.mark.parametrize("env_id", SCENE_IDS)
def test_layout_metadata_matches_observation(env_id: str) -> None:
    env = gym.make(env_id, distractor="force")
    obs, _ = env.reset(seed=3)
    layout = env.unwrapped.metadata["layout"]
    assert obs.shape == (layout.obs_dim,) == env.observation_space.shape
    assert layout.kinds[0] == "agent" and layout.kinds[-1] == "distractor"
    assert list(layout.kinds).count("object") >= 4
    blocks = layout.split(obs)
    data = env.unwrapped.data
    for i, e in enumerate(layout.entities):
        np.testing.assert_allclose(blocks[i, 0:3], data.xpos[e.body_id], atol=1e-6)
        np.testing.assert_allclose(np.linalg.norm(blocks[i, 3:7]), 1.0, atol=1e-5)
    assert (
        env.unwrapped.__doc__
        and "Action" in env.unwrapped.__doc__
        and "Version history" in env.unwrapped.__doc__
    )


def _rollout(env_id: str, seed: int, steps: int = 60) -> tuple[np.ndarray, np.ndarray]:
    env = gym.make(env_id, distractor="force")
    obs, _ = env.reset(seed=seed)
    env.action_space.seed(seed)
    observations, regimes = [obs], []
    for _ in range(steps):
        obs, _, _, _, info = env.step(env.action_space.sample())
        observations.append(obs)
        regimes.append(info["contact"]["regime"])
    return np.array(observations), np.array(regimes)


@pytest.mark.parametrize("env_id", SCENE_IDS)
def test_same_seed_same_trajectory_and_labels(env_id: str) -> None:
    obs_a, reg_a = _rollout(env_id, seed=7)
    obs_b, reg_b = _rollout(env_id, seed=7)
    np.testing.assert_array_equal(obs_a, obs_b)
    np.testing.assert_array_equal(reg_a, reg_b)
    obs_c, _ = _rollout(env_id, seed=8, steps=0)
    assert not np.allclose(obs_a[0], obs_c[0]), "different seeds must give different starts"


@pytest.mark.parametrize(
    "bad", [np.array([np.nan, 0.0]), np.array([np.inf, 0.0]), np.zeros(5), np.zeros((2, 2))]
)
def test_bad_actions_raise_before_stepping(bad: np.ndarray) -> None:
    env = gym.make("contactlab/PushBlocks-v0").unwrapped
    env.reset(seed=0)
    before = env.data.qpos.copy(), env.data.time
    with pytest.raises(ValueError, match="action"):
        env.step(bad)
    np.testing.assert_array_equal(env.data.qpos, before[0])
    assert env.data.time == before[1]


def test_out_of_range_action_is_clipped() -> None:
    env = gym.make("contactlab/PushBlocks-v0").unwrapped
    env.reset(seed=0)
    env.step(np.array([5.0, -5.0]))
    np.testing.assert_allclose(env.data.ctrl, [0.5, -0.5])


def test_instability_truncates_with_flag_and_finite_obs() -> None:
    env = gym.make("contactlab/Billiards-v0").unwrapped
    obs, _ = env.reset(seed=0)
    ball = env.layout.entities[1]
    adr = env.model.jnt_dofadr[env.model.body_jntadr[ball.body_id]]
    env.data.qvel[adr] = 1e15  # an exploding state, as a fuzzer would set
    obs, _, terminated, truncated, info = env.step(np.zeros(2))
    assert info["sim_unstable"] and truncated and not terminated
    assert np.isfinite(obs).all()


def test_nan_state_never_reaches_the_observation() -> None:
    env = gym.make("contactlab/PushBlocks-v0").unwrapped
    good, _ = env.reset(seed=0)
    env.data.qpos[5] = np.nan
    obs, _, _, truncated, info = env.step(np.zeros(2))
    assert truncated and info["sim_unstable"] and np.isfinite(obs).all()


def test_labels_have_one_value_per_entity_and_valid_codes() -> None:
    env = gym.make("contactlab/Tower-v0", distractor="teleport")
    env.reset(seed=0)
    _, _, _, _, info = env.step(env.action_space.sample())
    n = env.unwrapped.layout.n_entities
    for key, value in info["contact"].items():
        assert value.shape == (n,), key
    assert set(np.unique(info["contact"]["regime"])) <= {int(r) for r in Regime}


@pytest.mark.parametrize("env_id", SCENE_IDS)
def test_render_rgb_array_headless(env_id: str) -> None:
    env = gym.make(env_id, render_mode="rgb_array", width=96, height=64)
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (64, 96, 3) and frame.dtype == np.uint8 and frame.std() > 5
    env.close()


@pytest.mark.parametrize("mode", ["force", "teleport"])
def test_distractor_is_noisy_only_while_the_agent_holds_the_switch(mode: str) -> None:
    env = gym.make("contactlab/PushBlocks-v0", distractor=mode).unwrapped
    env.reset(seed=0)
    tv = env.layout.n_entities - 1

    def tv_motion(target_xy: np.ndarray, steps: int) -> tuple[float, bool]:
        moved, on = 0.0, False
        for _ in range(steps):
            agent = env.layout.split(env._state.ravel())[0, 0:2]
            obs, _, _, _, info = env.step(np.clip((target_xy - agent) * 10, -1, 1))
            moved = max(moved, float(np.linalg.norm(env.layout.split(obs)[tv, 7:10])))
            on = on or info["distractor_on"]
        return moved, on

    far = np.array([0.0, -0.3])
    tv_motion(far, 40)  # get away from the switch and let the TV settle
    quiet, on_far = tv_motion(far, 20)
    noisy, on_switch = tv_motion(np.array(env.distractor_switch), 60)
    assert not on_far and on_switch
    assert quiet < 0.05 < noisy
