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


ENTITY_MODES = ("roots", "bodies")
LINK_KINDS = ("agent", "object")


def discover_entities(
    model: mujoco.MjModel,
    require_objects: bool = True,
    entities: str = "roots",
    links: str = "agent",
) -> EntityLayout:
    """Entities of a model, in observation order: agents, then objects, then the distractor.

    * agent: the top-level body of every body an actuator moves (through a joint, a site, a
      body or a tendon: :func:`actuated_bodies`);
    * object: every other top-level body with at least one degree of freedom (free bodies, and
      also objects on slide joints such as Gymnasium's Pusher puck);
    * distractor: the body named :data:`envs.distractor.DISTRACTOR_BODY`, if present.

    Args:
        model: the compiled model.
        require_objects: raise if there is nothing besides the agent to label and score.
        entities: ``"roots"``: one entity per top-level body (an articulated robot is one
            entity, its root); ``"bodies"``: also one entity per further link of each agent
            and object tree (every body below a top-level one that has geoms or joints), so
            contacts are labelled on the link that made them (a foot strike on the foot).
        links: kind given to an agent's links other than its root when
            ``entities="bodies"``: ``"agent"`` (not scored, not rewarded: only the objects
            are) or ``"object"`` (scored and rewarded like objects: the world model is then
            judged on the robot's own contacts, e.g. Hopper's foot strikes).

    Raises:
        ValueError: an unknown ``entities``/``links`` value; an actuator that moves no body
            (see :func:`actuated_bodies`); or ``require_objects`` and nothing besides the
            agent moves.
    """
    if entities not in ENTITY_MODES:
        raise ValueError(f"entities must be one of {ENTITY_MODES}, got {entities!r}")
    if links not in LINK_KINDS:
        raise ValueError(f"links must be one of {LINK_KINDS}, got {links!r}")
    agents: list[int] = []
    for a in range(model.nu):
        for body in actuated_bodies(model, a):
            if body not in agents:
                agents.append(body)
    objects: list[int] = []
    distractors: list[int] = []
    for j in range(model.njnt):
        body = top_level_body(model, int(model.jnt_bodyid[j]))
        if body in agents or body in objects or body in distractors:
            continue
        (distractors if model.body(body).name == DISTRACTOR_BODY else objects).append(body)
    if require_objects and not objects and not (entities == "bodies" and links == "object"):
        raise ValueError(
            "the model has no movable bodies besides the agent, so nothing to push or hit "
            "(for an articulated robot: entities=bodies, links=object, on the command line "
            "env.entities=bodies env.links=object, scores its links)"
        )
    out = []
    for b in agents:
        out.append(_entity(model, b, "agent"))
        if entities == "bodies":
            out += [_entity(model, link, links) for link in _links(model, b)]
    for b in objects:
        out.append(_entity(model, b, "object"))
        if entities == "bodies":
            out += [_entity(model, link, "object") for link in _links(model, b)]
    out += [_entity(model, b, "distractor") for b in distractors]
    if not out:
        raise ValueError("the model has no actuated or movable bodies to label")
    if require_objects and not any(e.kind == "object" for e in out):
        raise ValueError("the model has no bodies to score: no objects and no links")
    return EntityLayout(tuple(out))


def actuated_bodies(model: mujoco.MjModel, actuator: int) -> list[int]:
    """Top-level bodies moved by ``actuator``, whatever its transmission.

    Joint transmissions move the joint's body; site (and slider-crank) transmissions the
    site's body; body transmissions (adhesion) the body; a tendon the bodies of the joints and
    sites it wraps. Bodies welded to the world are left out.

    Raises:
        ValueError: the actuator moves no body (e.g. a site fixed to the world), naming it.
    """
    trn, target = int(model.actuator_trntype[actuator]), int(model.actuator_trnid[actuator, 0])
    bodies: list[int] = []
    if trn in _JOINT_TRANSMISSIONS:
        bodies = [int(model.jnt_bodyid[target])]
    elif trn in (int(mujoco.mjtTrn.mjTRN_SITE), int(mujoco.mjtTrn.mjTRN_SLIDERCRANK)):
        bodies = [int(model.site_bodyid[target])]
    elif trn == int(mujoco.mjtTrn.mjTRN_BODY):
        bodies = [target]
    elif trn == int(mujoco.mjtTrn.mjTRN_TENDON):
        adr, num = int(model.tendon_adr[target]), int(model.tendon_num[target])
        for w in range(adr, adr + num):
            kind, obj = int(model.wrap_type[w]), int(model.wrap_objid[w])
            if kind == int(mujoco.mjtWrap.mjWRAP_JOINT):
                bodies.append(int(model.jnt_bodyid[obj]))
            elif kind == int(mujoco.mjtWrap.mjWRAP_SITE):
                bodies.append(int(model.site_bodyid[obj]))
    out: list[int] = []
    for b in bodies:
        if model.body_weldid[b] != 0:
            top = top_level_body(model, b)
            if top not in out:
                out.append(top)
    if not out:
        name = model.actuator(actuator).name or f"#{actuator}"
        raise ValueError(
            f"actuator {name!r} moves no body (its {mujoco.mjtTrn(trn).name} transmission is "
            "attached to the world): there is no agent to find from it"
        )
    return out


def _links(model: mujoco.MjModel, root: int) -> list[int]:
    """Bodies below ``root`` (depth first, in id order) that carry geoms or joints."""
    out = []
    for b in range(root + 1, model.nbody):
        if top_level_body(model, b) == root and (model.body_geomnum[b] or model.body_jntnum[b]):
            out.append(b)
    return out


def _entity(model: mujoco.MjModel, body: int, kind: str) -> Entity:
    geoms = np.flatnonzero(model.geom_bodyid == body)
    size = float(model.geom_rbound[geoms].max()) if len(geoms) else 0.0
    friction = float(model.geom_friction[geoms, 0].mean()) if len(geoms) else 0.0
    return Entity(
        model.body(body).name or f"body{body}",  # unnamed links (Ant's) get their id
        kind,
        body,
        (float(model.body_subtreemass[body]), size, friction),
        body_extents(model, geoms),
        body_shape(model, geoms),
    )


_CORNERS = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], float)


def body_extents(model: mujoco.MjModel, geoms: np.ndarray) -> tuple[float, float, float]:
    """Half-sizes of the smallest box centred on the body origin, axes along the body frame,
    that holds the geoms' bounding boxes (MuJoCo's ``geom_aabb``, placed by ``geom_pos`` and
    ``geom_quat``). Unbounded geoms (planes) are left out."""
    half = np.zeros(3)
    for g in geoms:
        centre, size = model.geom_aabb[g, :3], model.geom_aabb[g, 3:]
        if not np.all(np.isfinite(size)) or size.max() > 1e3:
            continue
        rot = np.empty(9)
        mujoco.mju_quat2Mat(rot, model.geom_quat[g])
        corners = (_CORNERS * size + centre) @ rot.reshape(3, 3).T + model.geom_pos[g]
        half = np.maximum(half, np.abs(corners).max(axis=0))
    return (float(half[0]), float(half[1]), float(half[2]))


def body_shape(
    model: mujoco.MjModel, geoms: np.ndarray
) -> tuple[float, float, float, float, float] | None:
    """The body's one collision geom as :attr:`envs.layout.Entity.shape` describes it: a box,
    sphere, capsule or cylinder centred on the body origin (a sphere in any orientation, the
    others with their axes along the body's). ``None`` for anything else: several geoms (or
    one plus visual-only geoms), an offset or turned geom, another geom type."""
    solid = [g for g in geoms if model.geom_contype[g] or model.geom_conaffinity[g]]
    if len(solid) != 1:
        return None
    g = int(solid[0])
    kind, size = int(model.geom_type[g]), model.geom_size[g]
    if np.abs(model.geom_pos[g]).max() > 1e-9:
        return None
    if kind == int(mujoco.mjtGeom.mjGEOM_SPHERE):
        return (0.0, 0.0, 0.0, float(size[0]), 0.0)
    if np.abs(np.abs(model.geom_quat[g][0]) - 1.0) > 1e-9:  # turned against the body frame
        return None
    if kind == int(mujoco.mjtGeom.mjGEOM_BOX):
        return (float(size[0]), float(size[1]), float(size[2]), 0.0, 0.0)
    if kind == int(mujoco.mjtGeom.mjGEOM_CAPSULE):
        return (0.0, 0.0, float(size[1]), float(size[0]), 0.0)
    if kind == int(mujoco.mjtGeom.mjGEOM_CYLINDER):
        return (0.0, 0.0, float(size[1]), 0.0, float(size[0]))
    return None


def ground_height(model: mujoco.MjModel, support_geoms: np.ndarray) -> float | None:
    """Height (m) of the top of the highest ground-support geom in the model's initial pose:
    a plane's height, a box's centre plus its world-frame half-height, any other geom's centre
    plus its bounding radius. ``None`` when there is no support geom."""
    if len(support_geoms) == 0:
        return None
    data = mujoco.MjData(model)
    mujoco.mj_kinematics(model, data)
    tops = []
    for g in np.asarray(support_geoms, dtype=np.int64):
        z = float(data.geom_xpos[g, 2])
        kind = int(model.geom_type[g])
        if kind == int(mujoco.mjtGeom.mjGEOM_PLANE):
            tops.append(z)
        elif kind == int(mujoco.mjtGeom.mjGEOM_BOX):
            rot = data.geom_xmat[g].reshape(3, 3)
            tops.append(z + float(np.abs(rot[2]) @ model.geom_size[g]))
        else:
            tops.append(z + float(model.geom_rbound[g]))
    return max(tops)


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
