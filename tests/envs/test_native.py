"""The compiled step (:mod:`envs.native`) gives the Python reference path's results bit for bit.

Both envs are made the same way, one with ``native=False``, and stepped with the same seeds
and random actions; every observation and every label array must be equal byte for byte
(dtype included). Random actions in these scenes start and end contacts within steps, so
the compiled loop's "return at a changed contact list" branch runs many times per episode
(counted below so the comparison cannot pass on contact-free steps alone).
"""

from __future__ import annotations

from copy import deepcopy

import gymnasium as gym
import mujoco
import numpy as np
import pytest

import envs
from envs import native
from envs.gym_scene import GymSceneEnv
from envs.regimes import Regime
from envs.scene import ContactSceneEnv


def test_runtime_is_found_and_checked() -> None:
    assert native.runtime() is not None, native.UNAVAILABLE


def _launch(scene: ContactSceneEnv, rng: np.random.Generator) -> bytes:
    """Throw every free object (random velocity, upwards too): collisions, bounces, landings."""
    obs = b""
    for i, entity in enumerate(scene.layout.entities):
        jnt = scene.model.body_jntadr[entity.body_id]
        if entity.kind == "object" and scene.model.jnt_type[jnt] == mujoco.mjtJoint.mjJNT_FREE:
            velocity = rng.uniform([-2, -2, 0], [2, 2, 2])
            obs = scene.place_object(i, linvel=velocity, angvel=rng.uniform(-5, 5, 3)).tobytes()
    return obs


def _rollout(env: gym.Env, episodes: int, steps: int) -> tuple[list[bytes], list[dict]]:
    """Observations (bytes) and, per step, the labels plus everything else ``step`` returned
    (reward, terminated, truncated and the info entries other than ``contact``)."""
    rng = np.random.default_rng(0)
    scene = env.unwrapped
    assert isinstance(scene, ContactSceneEnv)
    observations, labels = [], []
    for episode in range(episodes):
        obs, _ = env.reset(seed=episode)
        observations.append(obs.tobytes())
        for step in range(steps):
            if step % 50 == 0:
                observations.append(_launch(scene, rng))
            # float32 as an agent gives them; float64 and a list now and then
            action = rng.uniform(-1, 1, env.action_space.shape).astype(np.float32)
            if step % 7 == 3:
                action = action.astype(np.float64)
            obs, reward, terminated, truncated, info = env.step(
                action.tolist() if step % 11 == 5 else action
            )
            observations.append(obs.tobytes())
            rest = {k: v for k, v in info.items() if k != "contact"}
            rest["returned"] = (type(reward), reward, terminated, truncated, obs.dtype)
            labels.append({**info["contact"], "_rest": rest})
    return observations, labels


def _assert_same(fast: tuple[list, list], slow: tuple[list, list]) -> None:
    assert fast[0] == slow[0], "observations differ"
    assert len(fast[1]) == len(slow[1])
    for i, (a, b) in enumerate(zip(fast[1], slow[1], strict=True)):
        assert list(a) == list(b), i  # the same keys in the same order
        assert a.pop("_rest") == b.pop("_rest"), i
        for key in a:
            assert type(a[key]) is type(b[key]) is np.ndarray, (i, key)
            assert a[key].dtype == b[key].dtype, (i, key)
            assert a[key].shape == b[key].shape, (i, key)
            assert a[key].tobytes() == b[key].tobytes(), (i, key, a[key], b[key])


def _count_fused(env: gym.Env) -> dict[str, int]:
    """Count the steps the one-call compiled path (``step_fused``) finished, on this env."""
    labeler = env.unwrapped.labeler
    counts = {"fused": 0}
    original = labeler.step_fused

    def counting(*args: object) -> object:
        result = original(*args)
        counts["fused"] += result is not None
        return result

    labeler.step_fused = counting
    return counts


@pytest.mark.parametrize(
    ("scene", "distractor"),
    [("push_blocks", "none"), ("billiards", "none"), ("tower", "none"), ("push_blocks", "force")],
)
def test_builtin_scenes_native_equals_python(scene: str, distractor: str) -> None:
    env_id = envs.SCENES[scene]
    fast_env = gym.make(env_id, distractor=distractor)
    counts = _count_fused(fast_env)
    fast = _rollout(fast_env, episodes=3, steps=100)
    # without a distractor every step goes through step_fused (with one, step by step)
    assert counts["fused"] == (300 if distractor == "none" else 0)
    slow = _rollout(gym.make(env_id, distractor=distractor, native=False), episodes=3, steps=100)
    _assert_same(fast, slow)
    regimes = np.concatenate([lab["regime"] for lab in fast[1]])
    assert (regimes == Regime.IMPACT).sum() > 0 and (regimes == Regime.CONTACT).sum() > 0


def test_articulated_rk4_gym_scene_native_equals_python() -> None:
    """Hopper-v5: RK4 (velocities kept from before each substep) and links whose origin is not
    their subtree's com (the ``w x r`` term of the entity states)."""
    make = lambda **kw: GymSceneEnv("Hopper-v5", entities="bodies", links="object", **kw)  # noqa: E731
    fast_env = make()
    assert int(fast_env.model.opt.integrator) == int(mujoco.mjtIntegrator.mjINT_RK4)
    fast = _rollout(fast_env, episodes=2, steps=100)
    slow = _rollout(make(native=False), episodes=2, steps=100)
    _assert_same(fast, slow)
    regimes = np.concatenate([lab["regime"] for lab in fast[1]])
    assert (regimes == Regime.IMPACT).sum() > 0


def test_non_finite_state_native_equals_python() -> None:
    """A NaN in the state: the compiled summary declines and numpy's is used; the returned
    observation, labels and flags match the Python path's."""
    results = []
    for native_flag in (True, False):
        env = gym.make(envs.SCENES["push_blocks"], native=native_flag).unwrapped
        env.reset(seed=0)
        env.step(np.zeros(2))
        env.data.qpos[5] = np.nan
        obs, reward, terminated, truncated, info = env.step(np.full(2, 0.3))
        results.append(
            (obs.tobytes(), reward, terminated, truncated, info["sim_unstable"])
            + tuple(v.tobytes() for v in info["contact"].values())
        )
    assert results[0] == results[1]
    assert results[0][3] is True


def test_compiled_step_examines_every_changed_contact_list() -> None:
    """Count the contact lists examined (changed from the substep before) by the compiled
    step, which examines them itself (``native.env_step``), and by the Python loop over the
    same steps (its count checked against its own ``_update`` calls): equal, and many."""
    env = gym.make(envs.SCENES["billiards"]).unwrapped
    _rollout(env, episodes=1, steps=200)
    reference = gym.make(envs.SCENES["billiards"], native=False).unwrapped
    changes = 0
    python_update = reference.labeler._update

    def counting_python(data: mujoco.MjData, geom: np.ndarray, key: bytes) -> None:
        nonlocal changes
        changes += key != reference.labeler._prev_key
        python_update(data, geom, key)

    reference.labeler._update = counting_python  # type: ignore[method-assign]
    _rollout(reference, episodes=1, steps=200)
    assert env.labeler.examined == reference.labeler.examined == changes > 20


def test_compiled_steps_and_step_by_step_protocol_mix() -> None:
    """``env.step`` (one compiled call) interleaved with the labeller's step-by-step protocol
    (``begin_step``, ``step_physics``, ``end_step``) on one env: the Python path's labels,
    and the step-by-step calls do start from contact lists the compiled step examined."""

    def run(native_flag: bool) -> tuple[list, int]:
        env = gym.make(envs.SCENES["billiards"], native=native_flag).unwrapped
        env.reset(seed=0)
        rng = np.random.default_rng(3)
        out, handed_over = [], 0
        for i in range(150):
            if i % 25 == 0:
                _launch(env, rng)
            action = rng.uniform(-1, 1, 2)
            if i % 3 == 2:
                labeler = env.labeler
                handed_over += labeler._prev_pairs is None  # left by a compiled examination
                env._set_ctrl(action)
                labeler.begin_step(env._state)
                labeler.step_physics(env.data, env.frame_skip)
                state = env._read_states(env.data)
                labels = labeler.end_step(state, env.frame_skip).as_dict()
                env._state = state
            else:
                obs, _, _, _, info = env.step(action)
                labels = info["contact"]
            out.append(tuple(v.tobytes() for v in labels.values()))
        return out, handed_over

    fast, handed_over = run(True)
    assert fast == run(False)[0]
    assert handed_over > 5


def test_every_step_hands_out_its_own_arrays() -> None:
    """The compiled step's outputs are slots of pooled arrays: what a step returned must not
    change while later steps run (past the end of a pool too), nor be shared with them."""
    env = gym.make(envs.SCENES["billiards"])
    env.reset(seed=0)
    rng = np.random.default_rng(5)
    kept = []
    for _ in range(300):
        obs, _, _, _, info = env.step(rng.uniform(-1, 1, 2).astype(np.float32))
        arrays = [obs, *info["contact"].values()]
        kept.append((arrays, [a.tobytes() for a in arrays]))
    for arrays, saved in kept:
        assert [a.tobytes() for a in arrays] == saved
    firsts = [arrays[0] for arrays, _ in kept]
    assert not any(np.shares_memory(a, b) for a, b in zip(firsts, firsts[1:], strict=False))
    labels = [arrays[1] for arrays, _ in kept]
    assert not any(np.shares_memory(a, b) for a, b in zip(labels, labels[1:], strict=False))


def test_a_copied_env_steps_its_own_simulation() -> None:
    """Kernels work on raw addresses: a deep copy must find its own, not step the original."""
    env = gym.make(envs.SCENES["push_blocks"]).unwrapped
    env.reset(seed=0)
    actions = np.random.default_rng(1).uniform(-1, 1, (30, env.action_space.shape[0]))
    for a in actions[:5]:
        env.step(a)
    copy = deepcopy(env)
    before = env.data.qpos.copy()
    copied = [copy.step(a)[0].tobytes() for a in actions[5:]]
    assert env.data.qpos.tobytes() == before.tobytes(), "the copy stepped the original"
    original = [env.step(a)[0].tobytes() for a in actions[5:]]
    assert copied == original
