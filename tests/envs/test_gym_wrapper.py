"""Labels on Gymnasium's own MuJoCo envs, loaded by id, agree with MuJoCo's contact data.

The reference is an independent brute-force labeller: it steps a copy of the simulation one
substep at a time, saves ``qvel`` *before* each ``mj_step``, reads contacts one by one through
``data.contact[j]`` and takes each contact point's velocity as ``J(point) qvel_before`` from
``mj_jac``: none of the vectorised code paths of ``envs.labeler``, and right under RK4 (Ant,
Walker2d and Hopper use it), where MuJoCo's own ``cvel`` after ``mj_step`` belongs to the last
Runge-Kutta stage.
"""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from envs.gym_wrapper import make_labelled
from envs.regimes import PAIR_BIT, LabelConfig, PairKind, Regime


def _entity_of_geom(model: mujoco.MjModel, layout) -> np.ndarray:
    owner = {e.body_id: i for i, e in enumerate(layout.entities)}
    out = np.full(model.ngeom, -1)
    for g in range(model.ngeom):
        b = int(model.geom_bodyid[g])
        while b != 0 and b not in owner:
            b = int(model.body_parentid[b])
        out[g] = owner.get(b, -1)
    return out


def _point_velocity(model, data, body: int, point: np.ndarray, qvel: np.ndarray) -> np.ndarray:
    jacp = np.zeros((3, model.nv))
    mujoco.mj_jac(model, data, jacp, None, point, body)
    return jacp @ qvel


def _pairs_now(data) -> set:
    return {tuple(sorted(int(g) for g in data.contact[j].geom)) for j in range(data.ncon)}


def _brute_force_step(model, data, ctrl, n_sub, layout, support, cfg, prev_pairs):
    """Regime and pair mask per entity over one step, the slow and obvious way."""
    geom_entity = _entity_of_geom(model, layout)
    kinds = [e.kind for e in layout.entities]
    n = layout.n_entities
    touched_other = np.zeros(n, dtype=int)
    approach = np.zeros(n)
    data.ctrl[:] = ctrl
    for _ in range(n_sub):
        qvel_before = data.qvel.copy()
        mujoco.mj_step(model, data)
        pairs: dict[tuple[int, int], int] = {}
        for j in range(data.ncon):
            c = data.contact[j]
            g1, g2 = sorted(int(g) for g in c.geom)
            pairs[(g1, g2)] = pairs.get((g1, g2), 0) + 1
        for j in range(data.ncon):
            c = data.contact[j]
            g1, g2 = int(c.geom[0]), int(c.geom[1])
            e1, e2 = geom_entity[g1], geom_entity[g2]
            if e1 == e2:
                continue
            key = tuple(sorted((g1, g2)))
            is_new = key not in prev_pairs
            # The velocity before the substep in which the contact first pushed.
            b1, b2 = int(model.geom_bodyid[g1]), int(model.geom_bodyid[g2])
            rel = _point_velocity(model, data, b2, c.pos, qvel_before) - _point_velocity(
                model, data, b1, c.pos, qvel_before
            )
            speed = max(-float(rel @ c.frame[:3]), 0.0)
            for me, other, other_geom in ((e1, e2, g2), (e2, e1, g1)):
                if me < 0:
                    continue
                if other_geom not in support:
                    other_kind = "static" if other < 0 else kinds[other]
                    if other_kind == "static":
                        bit = PAIR_BIT[PairKind.OBJECT_STATIC]
                    elif "agent" in (kinds[me], other_kind):
                        bit = PAIR_BIT[PairKind.AGENT_OBJECT]
                    else:
                        bit = PAIR_BIT[PairKind.OBJECT_OBJECT]
                    touched_other[me] |= bit
                if is_new:
                    approach[me] = max(approach[me], speed)
        prev_pairs = pairs
    return touched_other, approach, prev_pairs


@pytest.mark.parametrize(
    ("env_id", "steps"),
    [("Ant-v5", 1000), ("Walker2d-v5", 1000), ("Hopper-v5", 1000), ("Pusher-v5", 300)],
)
def test_labels_agree_with_mujoco_contact_data(env_id: str, steps: int) -> None:
    cfg = LabelConfig()
    env = make_labelled(env_id, label_config=cfg)
    assert env.per_substep
    base = env.unwrapped
    model = base.model
    shadow = mujoco.MjData(model)  # the brute-force copy, stepped in lockstep
    support = set(np.flatnonzero(model.geom_type == mujoco.mjtGeom.mjGEOM_PLANE).tolist())
    rng = np.random.default_rng(0)
    impacts = 0
    episode, done = 0, True
    for _ in range(steps):
        if done:
            env.reset(seed=episode)
            episode += 1
            mujoco.mj_copyData(shadow, model, base.data)
            mujoco.mj_forward(model, shadow)
            prev_pairs = _pairs_now(shadow)
        action = rng.uniform(-1, 1, env.action_space.shape).astype(np.float32)
        _, _, terminated, truncated, info = env.step(action)
        mask, approach, prev_pairs = _brute_force_step(
            model, shadow, action, base.frame_skip, env.layout, support, cfg, prev_pairs
        )
        np.testing.assert_allclose(shadow.qpos, base.data.qpos)  # same physics in both
        labels = info["contact"]
        np.testing.assert_array_equal(labels["pair_mask"], mask)
        np.testing.assert_allclose(labels["approach_speed"], approach, rtol=0.02, atol=1e-5)
        is_impact = approach > cfg.impact_speed
        np.testing.assert_array_equal(labels["regime"] == Regime.IMPACT, is_impact)
        np.testing.assert_array_equal(labels["regime"] == Regime.CONTACT, ~is_impact & (mask != 0))
        impacts += int(is_impact.sum())
        done = terminated or truncated
    if env_id != "Pusher-v5":
        assert impacts > 0, f"{env_id}'s feet land on the floor: some impacts must be seen"
