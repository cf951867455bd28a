"""Scripted behaviour policies that need no learning: strikes toward objects, random actions.

They read entity positions from the observation through the layout, so they work on every
scene. ``StrikePolicy`` is the probe policy and the default "video" demonstrator: it picks an
object, drives the agent through it with some overshoot (so contacts begin at speed), and picks
another after a while. No learner uses it to collect its own training data.
"""

from __future__ import annotations

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
