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
