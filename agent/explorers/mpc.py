"""``mpc``: a sampling planner over the world model that maximises expected intrinsic reward.

CEM with MPPI-weighted elites (as in TD-MPC): sample ``population`` action sequences around a
mean, imagine each with every ensemble member following its own trajectory, score every
imagined step with the intrinsic signal, refit the mean and std to the elites weighted by
``exp(temperature * normalised return)``, repeat ``iterations`` times, execute the first action
of the mean. The mean is shifted by one step and reused at the next call (warm start), which
is why two iterations at a small population suffice.

Each planned action is held for ``action_repeat`` env steps (macro-actions): the planner sees
``horizon * action_repeat`` steps ahead (24 steps, ~0.5 s, at the defaults: far enough for
the pusher to reach an object) and replans every ``action_repeat`` steps. Cost per env step:
``iterations * horizon`` batched model steps of ``(members, population)`` states; the
defaults are chosen for <= 20 ms per action on 2 CPU cores with the default world model
(``benchmarks/planner_latency.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor

from agent.explorers.mpc_config import MPCConfig

# score(obs_mean (P, D), action (P, A), predicted (M, P, D)) -> (P,) intrinsic reward
ScoreFn = Callable[[Tensor, Tensor, Tensor], Tensor]
# step(states (M, P, D), action (P, A)) -> next states (M, P, D), one per member
StepFn = Callable[[Tensor, Tensor], Tensor]


class MPCPlanner:
    """Plans one action at a time; keeps its warm-start mean between calls.

    Args:
        step: imagined dynamics, one next state per member (e.g. ``model.step``).
        score: intrinsic reward of an imagined step.
        n_members: ``M``; the start state is broadcast to every member.
        action_dim: ``A``.
        cfg: planner settings.
        seed: seed of the sampling noise.
    """

    def __init__(
        self,
        step: StepFn,
        score: ScoreFn,
        n_members: int,
        action_dim: int,
        cfg: MPCConfig,
        seed: int = 0,
    ) -> None:
        self.step_fn, self.score_fn = step, score
        self.n_members, self.action_dim, self.cfg = n_members, action_dim, cfg
        self.generator = torch.Generator().manual_seed(seed)
        self._mean = torch.zeros(cfg.horizon, action_dim)
        self._discounts = cfg.discount ** torch.arange(cfg.horizon, dtype=torch.float32)
        self.last_return = 0.0  # expected intrinsic return of the executed plan (for logging)

    def reset(self) -> None:
        """Forget the warm start (new episode)."""
        self._mean = torch.zeros_like(self._mean)

    @torch.no_grad()
    def plan(self, obs: np.ndarray) -> np.ndarray:
        """The action to execute now, shape ``(A,)``, in ``[-1, 1]``."""
        cfg = self.cfg
        start = torch.as_tensor(obs, dtype=torch.float32).reshape(1, 1, -1)
        mean = self._mean.clone()
        std = torch.full_like(mean, cfg.init_std)
        for _ in range(cfg.iterations):
            noise = torch.randn(
                cfg.population, cfg.horizon, self.action_dim, generator=self.generator
            )
            actions = (mean + std * noise).clamp_(-1.0, 1.0)
            actions[0] = mean  # the warm-started plan always competes
            returns = self._imagine(start, actions)
            top = torch.topk(returns, cfg.elites).indices
            elite_actions, elite_returns = actions[top], returns[top]
            spread = (elite_returns.max() - elite_returns.min()).clamp_min(1e-8)
            weights = torch.softmax(
                cfg.temperature * (elite_returns - elite_returns.max()) / spread, 0
            )
            new_mean = torch.einsum("e,eha->ha", weights, elite_actions)
            var = torch.einsum("e,eha->ha", weights, (elite_actions - new_mean) ** 2)
            mean = cfg.momentum * mean + (1 - cfg.momentum) * new_mean
            std = var.sqrt().clamp_(cfg.min_std, cfg.init_std)
            self.last_return = float(elite_returns.max())
        action = mean[0].clone()
        self._mean = torch.cat(
            [mean[1:], torch.zeros(1, self.action_dim)]
        )  # warm start for next call
        return action.numpy()

    def _imagine(self, start: Tensor, actions: Tensor) -> Tensor:
        """Discounted imagined intrinsic return of each sequence, shape ``(P,)``."""
        population = actions.shape[0]
        states = start.expand(self.n_members, population, start.shape[-1])
        total = torch.zeros(population)
        for t in range(self.cfg.horizon):
            for _ in range(self.cfg.action_repeat):
                nxt = self.step_fn(states, actions[:, t])
                total += self._discounts[t] * self.score_fn(states.mean(0), actions[:, t], nxt)
                states = nxt
        return total

    def state_dict(self) -> dict[str, Any]:
        return {"mean": self._mean.clone(), "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._mean = state["mean"].clone()
        self.generator.set_state(state["generator"])
