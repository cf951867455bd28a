"""Scripted behaviour policies that need no learning: strikes toward objects, random actions.

They read entity positions from the observation through the layout, so they work on every
scene. ``StrikePolicy`` is the probe policy and the default "video" demonstrator: it picks an
object, drives the agent through it with some overshoot (so contacts begin at speed), and picks
another after a while. No learner uses it to collect its own training data. It assumes a point
agent on x-y(-z) slide joints (the built-in scenes); :class:`ReachStrikePolicy` does the same
for any actuator layout through the effector's Jacobian, and :func:`strike_policy` picks.
"""

from __future__ import annotations

from typing import Any

import mujoco
import numpy as np

from envs.layout import EntityLayout


class StrikePolicy:
    """Drive the agent through a randomly chosen object, then switch targets.

    Args:
        layout: the env's entity layout (the first entity of kind ``agent`` is driven).
        action_dim: 2 (planar agents) or 3 (agents that also move in z).
        rng: source of target choices and jitter.
        hold_steps: steps spent on one target before switching.
        gain: action per metre of distance (actions saturate at 1).
        noise: std of Gaussian action noise, for variety.
    """

    def __init__(
        self,
        layout: EntityLayout,
        action_dim: int,
        rng: np.random.Generator,
        hold_steps: int = 40,
        gain: float = 8.0,
        noise: float = 0.1,
    ) -> None:
        agents, objects = layout.indices("agent"), layout.indices("object")
        if len(agents) == 0 or len(objects) == 0:
            raise ValueError("StrikePolicy needs an agent and at least one object in the layout")
        self.layout = layout
        self.agent = int(agents[0])
        self.objects = objects
        self.action_dim = action_dim
        self.rng = rng
        self.hold_steps = hold_steps
        self.gain = gain
        self.noise = noise
        self._target = int(rng.choice(objects))
        self._offset = np.zeros(3)
        self._t = 0

    def reset(self) -> None:
        self._t = 0
        self._new_target()

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        if self._t % self.hold_steps == 0:
            self._new_target()
        self._t += 1
        blocks = self.layout.split(obs)
        agent, target = blocks[self.agent, 0:3], blocks[self._target, 0:3] + self._offset
        direction = target - agent
        # Aim past the target so the agent arrives at speed instead of braking on contact.
        dist = float(np.linalg.norm(direction[:2])) + 1e-9
        push = direction / dist * max(dist, 0.15)
        action = self.gain * push[: self.action_dim] + self.rng.normal(
            0.0, self.noise, self.action_dim
        )
        return np.clip(action, -1.0, 1.0).astype(np.float32)

    def _new_target(self) -> None:
        self._target = int(self.rng.choice(self.objects))
        self._offset = np.append(self.rng.normal(0.0, 0.01, 2), self.rng.uniform(-0.02, 0.08))


class RandomPolicy:
    """Uniform random actions in ``[-1, 1]^action_dim``."""

    def __init__(self, action_dim: int, rng: np.random.Generator) -> None:
        self.action_dim = action_dim
        self.rng = rng

    def reset(self) -> None:
        pass

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        return self.rng.uniform(-1.0, 1.0, self.action_dim).astype(np.float32)


class PushDemonstrator:
    """The default "video" behaviour policy: gets behind an object and pushes it toward a wall.

    Distinct from :class:`StrikePolicy` (the probe policy), so a learner watching this
    demonstrator is never trained on the probe set's own behaviour. Phases per object: move to
    a point behind it (relative to a random push direction), push through it for
    ``push_steps``, pick another object.

    Args:
        layout: the env's entity layout (the first agent entity is driven).
        action_dim: 2 (planar agents) or 3.
        rng: source of object and direction choices.
        push_steps: steps spent pushing one object.
        gain: action per metre of position error (actions saturate at 1).
    """

    def __init__(
        self,
        layout: EntityLayout,
        action_dim: int,
        rng: np.random.Generator,
        push_steps: int = 25,
        gain: float = 10.0,
    ) -> None:
        agents, objects = layout.indices("agent"), layout.indices("object")
        if len(agents) == 0 or len(objects) == 0:
            raise ValueError(
                "PushDemonstrator needs an agent and at least one object in the layout"
            )
        self.layout, self.agent, self.objects = layout, int(agents[0]), objects
        self.action_dim, self.rng, self.push_steps, self.gain = action_dim, rng, push_steps, gain
        self.reset()

    def reset(self) -> None:
        self._target = int(self.rng.choice(self.objects))
        angle = self.rng.uniform(-np.pi, np.pi)
        self._direction = np.array([np.cos(angle), np.sin(angle)])
        self._pushing = 0

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        blocks = self.layout.split(obs)
        agent, target = blocks[self.agent, 0:3], blocks[self._target, 0:3]
        behind = target[:2] - self._direction * 0.09
        if self._pushing == 0 and np.linalg.norm(agent[:2] - behind) > 0.02:
            goal_xy = behind  # get into position first
        else:
            self._pushing += 1
            goal_xy = target[:2] + self._direction * 0.15  # push through the object
            if self._pushing >= self.push_steps:
                self.reset()
        goal = np.append(goal_xy, target[2])
        action = self.gain * (goal - agent)[: self.action_dim]
        return np.clip(action, -1.0, 1.0).astype(np.float32)


def is_point_agent(model: mujoco.MjModel, layout: EntityLayout) -> bool:
    """Whether :class:`StrikePolicy` fits: the first agent is a top-level body moved only by
    slide joints along world x, y (and z), actuator ``i`` driving axis ``i`` (the built-in
    scenes' pushers). Anything else gets :class:`ReachStrikePolicy`."""
    agents = layout.indices("agent")
    if len(agents) == 0 or not 1 <= model.nu <= 3:
        return False
    body = layout.entities[int(agents[0])].body_id
    if model.body_parentid[body] != 0 or (model.body_quat[body] != [1, 0, 0, 0]).any():
        return False
    slide = int(mujoco.mjtJoint.mjJNT_SLIDE)
    for i in range(model.nu):
        if int(model.actuator_trntype[i]) != int(mujoco.mjtTrn.mjTRN_JOINT):
            return False
        jnt = int(model.actuator_trnid[i, 0])
        axis = np.zeros(3)
        axis[i] = 1.0
        if (
            int(model.jnt_bodyid[jnt]) != body
            or int(model.jnt_type[jnt]) != slide
            or not np.allclose(model.jnt_axis[jnt], axis)
        ):
            return False
    return True


class ReachStrikePolicy:
    """Strikes for any actuator layout: drive the agent's effector through an object.

    The effector is the deepest link of the first agent's body tree (Pusher's fingertip, a
    leg's foot). Each step the wanted push, toward a randomly chosen object with some
    overshoot, becomes a generalised force through the effector's Jacobian (``J^T f``) and
    then an action through the actuator moments (``moment @ J^T f``), scaled so that the
    largest component is 1, plus Gaussian noise. Exact for motors on joints; a good direction
    for position and velocity actuators. Reads the simulation state of ``scene`` (the
    observation it is given must be the current one, as in every rollout).

    Args:
        scene: the env (unwrapped), with ``model``, ``data`` and ``layout``.
        rng: source of target choices and noise.
        hold_steps: steps spent on one target before switching.
        noise: std of the Gaussian action noise.
    """

    def __init__(
        self, scene: Any, rng: np.random.Generator, hold_steps: int = 40, noise: float = 0.1
    ) -> None:
        layout: EntityLayout = scene.layout
        agents, objects = layout.indices("agent"), layout.indices("object")
        if len(agents) == 0 or len(objects) == 0:
            raise ValueError("ReachStrikePolicy needs an agent and at least one object")
        self.scene, self.layout, self.rng = scene, layout, rng
        self.objects, self.hold_steps, self.noise = objects, hold_steps, noise
        model = scene.model
        root = layout.entities[int(agents[0])].body_id
        tree = [b for b in range(root, model.nbody) if _top(model, b) == root]
        depth = [_depth(model, b) for b in tree]
        self.effector = tree[max(range(len(tree)), key=lambda i: (depth[i], i))]  # deepest, last
        self._jacp = np.zeros((3, model.nv))
        self._moment = np.zeros((model.nu, model.nv))
        self._target = int(rng.choice(objects))
        self._t = 0

    def reset(self) -> None:
        self._t = 0

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        if self._t % self.hold_steps == 0:
            self._target = int(self.rng.choice(self.objects))
        self._t += 1
        m, d = self.scene.model, self.scene.data
        target = self.layout.split(obs)[self._target, 0:3]
        effector = d.xpos[self.effector]
        direction = target - effector
        dist = float(np.linalg.norm(direction)) + 1e-9
        push = direction / dist * max(dist, 0.15)  # aim past the target: arrive at speed
        mujoco.mj_jac(m, d, self._jacp, None, effector, self.effector)
        mujoco.mj_transmission(m, d)
        mujoco.mju_sparse2dense(
            self._moment, d.actuator_moment, d.moment_rownnz, d.moment_rowadr, d.moment_colind
        )
        drive = self._moment @ (self._jacp.T @ push)
        drive /= max(float(np.abs(drive).max()), 1e-9)
        action = drive + self.rng.normal(0.0, self.noise, m.nu)
        return np.clip(action, -1.0, 1.0).astype(np.float32)


def strike_policy(scene: Any, rng: np.random.Generator) -> StrikePolicy | ReachStrikePolicy:
    """The strike policy that fits ``scene``'s agent (see :func:`is_point_agent`)."""
    if is_point_agent(scene.model, scene.layout):
        return StrikePolicy(scene.layout, scene.model.nu, rng)
    return ReachStrikePolicy(scene, rng)


def _top(model: mujoco.MjModel, body: int) -> int:
    while body and model.body_parentid[body] != 0:
        body = int(model.body_parentid[body])
    return body


def _depth(model: mujoco.MjModel, body: int) -> int:
    depth = 0
    while body:
        body = int(model.body_parentid[body])
        depth += 1
    return depth
