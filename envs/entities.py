"""Finding the entities of any MuJoCo model: the agent, the objects, the distractor."""

from __future__ import annotations

import mujoco
import numpy as np

from envs.distractor import DISTRACTOR_BODY
from envs.layout import Entity, EntityLayout

_JOINT_TRANSMISSIONS = (int(mujoco.mjtTrn.mjTRN_JOINT), int(mujoco.mjtTrn.mjTRN_JOINTINPARENT))


def top_level_body(model: mujoco.MjModel, body: int) -> int:
    """The ancestor of ``body`` whose parent is the world."""
    while model.body_parentid[body] != 0:
        body = int(model.body_parentid[body])
    return body


def discover_entities(model: mujoco.MjModel, require_objects: bool = True) -> EntityLayout:
    """Entities of a model, in observation order: agents, then objects, then the distractor.

    * agent: the top-level body of every joint an actuator drives;
    * object: every other top-level body with at least one degree of freedom (free bodies, and
      also objects on slide joints such as Gymnasium's Pusher puck);
    * distractor: the body named :data:`envs.distractor.DISTRACTOR_BODY`, if present.

    Raises ``ValueError`` if ``require_objects`` and the model has no objects.
    """
    agents: list[int] = []
    for a in range(model.nu):
        if int(model.actuator_trntype[a]) in _JOINT_TRANSMISSIONS:
            body = top_level_body(model, int(model.jnt_bodyid[model.actuator_trnid[a, 0]]))
            if body not in agents:
                agents.append(body)
    objects: list[int] = []
    distractors: list[int] = []
    for j in range(model.njnt):
        body = top_level_body(model, int(model.jnt_bodyid[j]))
        if body in agents or body in objects or body in distractors:
            continue
        (distractors if model.body(body).name == DISTRACTOR_BODY else objects).append(body)
    if require_objects and not objects:
        raise ValueError(
            "the model has no movable bodies besides the agent, so nothing to push or hit"
        )
    entities = [_entity(model, b, "agent") for b in agents]
    entities += [_entity(model, b, "object") for b in objects]
    entities += [_entity(model, b, "distractor") for b in distractors]
    if not entities:
        raise ValueError("the model has no actuated or movable bodies to label")
    return EntityLayout(tuple(entities))


def _entity(model: mujoco.MjModel, body: int, kind: str) -> Entity:
    geoms = np.flatnonzero(model.geom_bodyid == body)
    size = float(model.geom_rbound[geoms].max()) if len(geoms) else 0.0
    friction = float(model.geom_friction[geoms, 0].mean()) if len(geoms) else 0.0
    return Entity(
        model.body(body).name, kind, body, (float(model.body_subtreemass[body]), size, friction)
    )


def find_support_geoms(model: mujoco.MjModel, names: tuple[str, ...] | None = None) -> np.ndarray:
    """Geom ids of the ground support: the named geoms, or by default the world's planes."""
    if names is None:
        static = model.body_weldid[model.geom_bodyid] == 0
        return np.flatnonzero(static & (model.geom_type == int(mujoco.mjtGeom.mjGEOM_PLANE)))
    ids = []
    for name in names:
        gid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, name)
        if gid < 0:
            raise ValueError(f"support geom {name!r} not found in the model")
        ids.append(gid)
    return np.array(ids, dtype=np.int64)
