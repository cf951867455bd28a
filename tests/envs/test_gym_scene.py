"""Gymnasium's MuJoCo models as contactlab scenes, per-link entities, and agents found through
any transmission. Real Gymnasium models, real MuJoCo; expectations derived by hand."""

from __future__ import annotations

import math

import gymnasium as gym
import mujoco
import numpy as np
import pytest

import envs  # noqa: F401  (registers contactlab/GymScene-v0)
from envs.entities import discover_entities
from envs.gym_scene import GymSceneEnv
from envs.probe import ProbeConfig, collect_probe
from envs.regimes import PairKind, Regime
from envs.scene import SceneError
from envs.scripted import ReachStrikePolicy, StrikePolicy, strike_policy


def test_pusher_has_gymnasiums_physics_with_entity_observations() -> None:
    scene = GymSceneEnv("Pusher-v5")
    reference = gym.make("Pusher-v5").unwrapped
    assert scene.frame_skip == reference.frame_skip == 5
    assert scene.layout.names == ("r_shoulder_pan_link", "object", "goal")
    assert scene.layout.kinds == ("agent", "object", "object")
    obs, _ = scene.reset(seed=0)
    assert obs.shape == (13 * 3,) and scene.observation_space.contains(obs)
    reference.reset(seed=0)
    reference.set_state(scene.data.qpos.copy(), scene.data.qvel.copy())
    rng = np.random.default_rng(0)
    low, high = scene.model.actuator_ctrlrange.T
    for _ in range(50):
        action = rng.uniform(-1, 1, scene.model.nu).astype(np.float32)
        _, reward, terminated, truncated, info = scene.step(action)
        reference.step((low + high) / 2 + action.astype(np.float64) * (high - low) / 2)
        assert reward == 0.0 and not terminated and info["contact"]["regime"].shape == (3,)
    np.testing.assert_array_equal(scene.data.qpos, reference.data.qpos)


def test_unknown_or_non_mujoco_ids_are_refused_by_name() -> None:
    with pytest.raises(SceneError, match="NoSuchEnv-v0"):
        GymSceneEnv("NoSuchEnv-v0")
    with pytest.raises(SceneError, match="CartPole-v1.*not a Gymnasium MuJoCo env"):
        GymSceneEnv("CartPole-v1")


def test_robot_alone_needs_its_links_scored() -> None:
    with pytest.raises(SceneError, match="env.entities=bodies env.links=object"):
        GymSceneEnv("Hopper-v5")
    scene = GymSceneEnv("Hopper-v5", entities="bodies", links="object")
    assert scene.layout.names == ("torso", "thigh", "leg", "foot")
    assert scene.layout.kinds == ("agent", "object", "object", "object")
    with pytest.raises(SceneError, match="no movable bodies besides the agent"):
        GymSceneEnv("Walker2d-v5", entities="bodies", links="agent")
    arm = GymSceneEnv("Pusher-v5", entities="bodies", links="agent")  # links kept unscored
    assert arm.layout.names[-2:] == ("object", "goal") and len(arm.layout.names) > 3
    assert arm.layout.kinds == ("agent",) * (len(arm.layout.names) - 2) + ("object", "object")


def test_dropped_hopper_strikes_the_floor_with_its_foot() -> None:
    """Lifted by ``lift`` with zero velocity and zero torques the robot falls rigidly, so the
    foot (a horizontal capsule, lowest point ``z - radius``) meets the floor at
    ``sqrt(2 g gap)``; the impact is the foot's, not the torso's (entities=roots put it there)."""
    scene = GymSceneEnv("Hopper-v5", entities="bodies", links="object")
    scene.reset(seed=0)
    m = scene.model
    qpos = m.qpos0.copy()
    qpos[1] += 0.3  # rootz
    scene.set_joint_state(qpos, np.zeros(m.nv))
    foot_geom = int(np.flatnonzero(m.geom_bodyid == m.body("foot").id)[0])
    gap = float(scene.data.geom_xpos[foot_geom, 2] - m.geom_size[foot_geom, 0])
    expected_speed = math.sqrt(2 * 9.81 * gap)
    expected_step = int(math.sqrt(2 * gap / 9.81) / scene.dt)
    foot = scene.layout.names.index("foot")
    zero = np.zeros(m.nu, dtype=np.float32)
    landed, labels = None, {}
    for i in range(expected_step + 3):
        labels = scene.step(zero)[4]["contact"]
        if labels["regime"][foot] == Regime.IMPACT:
            landed = i
            break
    assert landed is not None, "the foot never struck the floor"
    assert abs(landed - expected_step) <= 1, (landed, expected_step)
    assert labels["pair_kind"][foot] == PairKind.OBJECT_STATIC
    assert labels["approach_speed"][foot] == pytest.approx(expected_speed, rel=0.02)
    torso = scene.layout.names.index("torso")
    assert labels["regime"][torso] != Regime.IMPACT


@pytest.mark.parametrize("gym_id", ["Walker2d-v5", "Ant-v5", "Pusher-v5"])
def test_state_of_articulated_entities_round_trips(gym_id: str) -> None:
    scene = GymSceneEnv(gym_id, entities="bodies", links="object")
    scene.reset(seed=1)
    rng = np.random.default_rng(0)
    for _ in range(15):
        obs, *_ = scene.step(rng.uniform(-1, 1, scene.model.nu).astype(np.float32))
    qpos = scene.data.qpos.copy()
    scene.reset(seed=2)  # somewhere else, then back from the observation alone
    back = scene.set_state_from_obs(obs)
    np.testing.assert_allclose(back, obs, atol=2e-5)
    np.testing.assert_allclose(scene.data.qpos, qpos, atol=1e-5)


def test_strike_policy_fits_the_agent() -> None:
    rng = np.random.default_rng(0)
    assert isinstance(
        strike_policy(gym.make("contactlab/PushBlocks-v0").unwrapped, rng), StrikePolicy
    )
    pusher = GymSceneEnv("Pusher-v5")
    policy = strike_policy(pusher, rng)
    assert isinstance(policy, ReachStrikePolicy)
    assert pusher.model.body(policy.effector).name == "tips_arm"
    obs, _ = pusher.reset(seed=0)
    puck = pusher.layout.names.index("object")
    impacts = contacts = 0
    for _ in range(300):
        obs, _, _, _, info = pusher.step(policy(obs))
        impacts += int(info["contact"]["regime"][puck] == Regime.IMPACT)
        contacts += int(info["contact"]["pair_kind"][puck] == PairKind.AGENT_OBJECT)
    assert impacts >= 5 and contacts >= 50, (impacts, contacts)  # random arm motion: ~0


def test_probe_set_of_a_robot_alone_reaches_every_regime() -> None:
    scene = GymSceneEnv("Hopper-v5", entities="bodies", links="object")
    cfg = ProbeConfig(seq_len=5, min_per_regime=10, max_steps=20_000)
    probe = collect_probe(scene, cfg, seed=0, progress=False)
    objects = scene.layout.indices("object")
    counts = np.bincount(probe["regime"][:, objects].ravel(), minlength=4)
    assert (counts >= 10).all(), counts


SITE_AGENT = """
<mujoco>
  <worldbody>
    <geom name="floor" type="plane" size="2 2 .1"/>
    <body name="puck" pos="0 0 .05"><freejoint/><geom type="box" size=".05 .05 .05"/>
      <site name="thruster"/></body>
    <body name="ball" pos=".5 0 .05"><freejoint/><geom type="sphere" size=".05"/></body>
    <body name="slider" pos="0 1 .05"><joint name="slide" type="slide" axis="1 0 0"/>
      <geom type="sphere" size=".05"/></body>
    <site name="anchor" pos="0 0 1"/>
  </worldbody>
  <tendon><fixed name="t"><joint joint="slide" coef="1"/></fixed></tendon>
  <actuator>{actuators}</actuator>
</mujoco>"""


def test_site_and_tendon_actuated_agents_are_found() -> None:
    site = '<motor site="thruster" gear="1 0 0 0 0 0" ctrlrange="-1 1"/>'
    model = mujoco.MjModel.from_xml_string(SITE_AGENT.format(actuators=site))
    layout = discover_entities(model)
    assert layout.names == ("puck", "ball", "slider") and layout.kinds[0] == "agent"
    assert layout.kinds[1:] == ("object", "object")
    tendon = '<motor tendon="t" ctrlrange="-1 1"/>'
    model = mujoco.MjModel.from_xml_string(SITE_AGENT.format(actuators=tendon))
    layout = discover_entities(model)
    assert layout.names[0] == "slider" and layout.kinds[0] == "agent"


def test_an_actuator_on_a_world_site_is_refused_by_name() -> None:
    world = '<motor name="jet" site="anchor" gear="1 0 0 0 0 0" ctrlrange="-1 1"/>'
    model = mujoco.MjModel.from_xml_string(SITE_AGENT.format(actuators=world))
    with pytest.raises(ValueError, match="'jet' moves no body"):
        discover_entities(model)
