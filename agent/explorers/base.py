"""The explorer interface, and the explorers driven by our own loop: ``random``, ``mpc``, the
demonstrator of the video sources, and the mixing sweep's passive/active mix."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from torch import Tensor

from agent.explorers.mpc import MPCPlanner
from envs.layout import EntityLayout
from envs.scripted import PushDemonstrator

if TYPE_CHECKING:
    from agent.explorers.registry import ExplorerInputs


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


def is_passive_episode(episode: int, fraction: float) -> bool:
    """Whether episode ``episode`` goes to the passive policy when ``fraction`` of episodes do:
    evenly interleaved (0.25: every 4th episode), the same on every seed and on resume."""
    return int((episode + 1) * fraction) > int(episode * fraction)


class MixedExplorer:
    """The mixing sweep's explorer: a ``passive_fraction`` of episodes, evenly interleaved, is
    acted by a passive behaviour policy (the demonstrator, or random actions) and the rest by
    the active explorer. Which one acts is decided at each episode start from the learner's
    episode index (``episode()``), so a resumed run makes the same choices."""

    def __init__(
        self, active: Explorer, passive: Explorer, fraction: float, episode: Callable[[], int]
    ) -> None:
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"passive fraction must be in [0, 1], got {fraction!r}")
        self.active, self.passive, self.fraction, self.episode = active, passive, fraction, episode
        self.steps = {"active": 0, "passive": 0}
        self._current: Explorer = active

    @property
    def acting_passively(self) -> bool:
        return self._current is self.passive

    def act(self, obs: np.ndarray) -> np.ndarray:
        self.steps["passive" if self.acting_passively else "active"] += 1
        return self._current.act(obs)

    def reset(self) -> None:
        passive = is_passive_episode(self.episode(), self.fraction)
        self._current = self.passive if passive else self.active
        self._current.reset()

    def state_dict(self) -> dict[str, Any]:
        return {
            "active": self.active.state_dict(),
            "passive": self.passive.state_dict(),
            "steps": dict(self.steps),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.active.load_state_dict(state["active"])
        self.passive.load_state_dict(state["passive"])
        self.steps = {k: int(v) for k, v in state["steps"].items()}


# Builders of the explorers of our own loop (agent/explorers/registry.py names them).


def build_random(inputs: ExplorerInputs) -> Explorer:
    """``random``: the run's warm-up explorer, acting for the whole budget."""
    return inputs.warmup


def build_demonstrator(inputs: ExplorerInputs) -> Explorer:
    """``demonstrator``: the scripted pusher the video sources watch."""
    return DemonstratorExplorer(inputs.layout, inputs.action_dim, inputs.child_rng())


def imagined_score(inputs: ExplorerInputs) -> Callable[[Tensor, Tensor, Tensor], Tensor]:
    """The run's curiosity signal as a score of imagined steps ``(obs, action, predicted)``.

    The planners (``mpc``, ``seek``) have no real next observation: the signal reads the
    members' predictions instead (for disagreement, their spread).
    """
    signal = inputs.signal

    def score(obs: Tensor, action: Tensor, predicted: Tensor) -> Tensor:
        return signal(obs, action, None, predicted=predicted)

    return score


def build_mpc(inputs: ExplorerInputs) -> Explorer:
    """``mpc``: plans over the world model, maximising the curiosity of imagined steps."""
    model, cfg = inputs.model, inputs.cfg
    planner = MPCPlanner(
        model.step,
        imagined_score(inputs),
        model.n_members,
        inputs.action_dim,
        cfg.agent.mpc,
        seed=cfg.seed,
    )
    return MPCExplorer(planner)
