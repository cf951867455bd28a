"""Labels on Gymnasium's own MuJoCo envs, loaded by id, agree with MuJoCo's contact data.

The reference is an independent brute-force labeller: it steps a copy of the simulation one
substep at a time, reads contacts one by one through ``data.contact[j]`` and takes velocities
from ``mj_objectVelocity``: none of the vectorised code paths of ``envs.labeler``.
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


def _point_velocity(model, data, body: int, point: np.ndarray) -> np.ndarray:
    vel = np.zeros(6)
    # XBODY: velocity at the body frame origin (xpos); BODY would be at the inertial frame.
    mujoco.mj_objectVelocity(model, data, mujoco.mjtObj.mjOBJ_XBODY, body, vel, 0)
    return vel[3:] + np.cross(vel[:3], point - data.xpos[body])


def _brute_force_step(model, data, ctrl, n_sub, layout, support, cfg, prev_pairs):
    """Regime and pair mask per entity over one step, the slow and obvious way."""
    geom_entity = _entity_of_geom(model, layout)
    kinds = [e.kind for e in layout.entities]
    n = layout.n_entities
    touched_other = np.zeros(n, dtype=int)
    approach = np.zeros(n)
    data.ctrl[:] = ctrl
    for _ in range(n_sub):
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
            # The velocities mj_step met the contact with: data after mj_step holds the
            # pre-integration kinematics, so mj_objectVelocity sees the pre-impulse motion.
            b1, b2 = int(model.geom_bodyid[g1]), int(model.geom_bodyid[g2])
            rel = _point_velocity(model, data, b2, c.pos) - _point_velocity(model, data, b1, c.pos)
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


@pytest.mark.parametrize("env_id", ["Ant-v5", "Pusher-v5"])
def test_labels_agree_with_mujoco_contact_data(env_id: str) -> None:
    cfg = LabelConfig()
    env = make_labelled(env_id, label_config=cfg)
    assert env.per_substep
    env.reset(seed=0)
    base = env.unwrapped
    model = base.model
    shadow = mujoco.MjData(model)  # the brute-force copy, stepped in lockstep
    mujoco.mj_copyData(shadow, model, base.data)
    support = set(np.flatnonzero(model.geom_type == mujoco.mjtGeom.mjGEOM_PLANE).tolist())
    prev_pairs: dict = {}
    mujoco.mj_forward(model, shadow)
    rng = np.random.default_rng(0)
    impacts = 0
    for _ in range(150):
        action = rng.uniform(-1, 1, env.action_space.shape).astype(np.float32)
        _, _, terminated, truncated, info = env.step(action)
        mask, approach, prev_pairs = _brute_force_step(
            model, shadow, action, base.frame_skip, env.layout, support, cfg, prev_pairs
        )
        np.testing.assert_allclose(shadow.qpos, base.data.qpos)  # same physics in both
        labels = info["contact"]
        np.testing.assert_array_equal(labels["pair_mask"], mask)
        np.testing.assert_allclose(labels["approach_speed"], approach, rtol=1e-4, atol=1e-5)
        is_impact = approach > cfg.impact_speed
        np.testing.assert_array_equal(labels["regime"] == Regime.IMPACT, is_impact)
        np.testing.assert_array_equal(labels["regime"] == Regime.CONTACT, ~is_impact & (mask != 0))
        impacts += int(is_impact.sum())
        if terminated or truncated:
            break
    if env_id == "Ant-v5":
        assert impacts > 0, "Ant's feet land on the floor: some impacts must be seen"
