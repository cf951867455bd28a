"""The explorer interface, and the ``random`` and ``mpc`` explorers driven by our own loop."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from agent.explorers.mpc import MPCPlanner
from envs.layout import EntityLayout
from envs.scripted import PushDemonstrator


class Explorer(Protocol):
    """Chooses actions in our own loop (SB3 explorers drive their own loop instead)."""

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Action for observation ``obs (D,)``: shape ``(A,)``, float32 in ``[-1, 1]``."""
        ...

    def reset(self) -> None:
        """A new episode begins."""
        ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


class RandomExplorer:
    """Uniform random actions: the ``random`` source, and every run's warm-up."""

    def __init__(self, action_dim: int, rng: np.random.Generator) -> None:
        self.action_dim, self.rng = action_dim, rng

    def act(self, obs: np.ndarray) -> np.ndarray:
        return self.rng.uniform(-1.0, 1.0, self.action_dim).astype(np.float32)

    def reset(self) -> None:
        pass

    def state_dict(self) -> dict[str, Any]:
        return {"rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = state["rng"]


class DemonstratorExplorer:
    """The scripted push demonstrator (:class:`envs.scripted.PushDemonstrator`): the default
    behaviour policy of the "video" sources, which the learner watches but does not control."""

    def __init__(self, layout: EntityLayout, action_dim: int, rng: np.random.Generator) -> None:
        self.rng = rng
        self.policy = PushDemonstrator(layout, action_dim, rng)

    def act(self, obs: np.ndarray) -> np.ndarray:
        return self.policy(obs)

    def reset(self) -> None:
        self.policy.reset()

    def state_dict(self) -> dict[str, Any]:
        return {"rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = state["rng"]


class MPCExplorer:
    """Plans with :class:`MPCPlanner` over the current world model, every ``action_repeat``
    steps, holding the planned action in between."""

    def __init__(self, planner: MPCPlanner) -> None:
        self.planner = planner
        self._action = np.zeros(planner.action_dim, np.float32)
        self._held = 0

    def act(self, obs: np.ndarray) -> np.ndarray:
        if self._held == 0:
            self._action = self.planner.plan(obs).astype(np.float32)
            self._held = self.planner.cfg.action_repeat
        self._held -= 1
        return self._action

    def reset(self) -> None:
        self.planner.reset()
        self._held = 0

    def state_dict(self) -> dict[str, Any]:
        planner = self.planner.state_dict()
        return {"planner": planner, "action": self._action.copy(), "held": self._held}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.planner.load_state_dict(state["planner"])
        self._action = np.asarray(state["action"], np.float32)
        self._held = int(state["held"])
