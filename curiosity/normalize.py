"""Running scale of raw intrinsic rewards, so every signal hands out rewards of order 1.

Rewards are divided by their running standard deviation, *without* subtracting the mean:
``clip(r / (std + eps), -clip, clip)``. Keeping the zero point means "nothing new here" stays
0 and a non-negative signal stays non-negative (``[0, clip]``), so an RL agent is never paid
a negative reward for living, and the ordering a planner sees is unchanged (Burda et al. 2018
also scale RND rewards by a running std only). Signed learning progress keeps its sign.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from torch import Tensor


class RewardNormalizer:
    """Running mean / std of a scalar stream (batched Welford / Chan merge in float64).

    State is three Python floats (``count``, ``mean``, ``m2``), so it checkpoints as plain
    values. Non-finite rewards are left out of the statistics.

    Args:
        clip: normalised rewards are clipped to ``[-clip, clip]``.
        eps: added to the std before dividing.
    """

    def __init__(self, clip: float = 5.0, eps: float = 1e-8) -> None:
        if not clip > 0:
            raise ValueError(f"RewardNormalizer clip must be > 0, got {clip!r}")
        if not eps > 0:
            raise ValueError(f"RewardNormalizer eps must be > 0, got {eps!r}")
        self.clip = float(clip)
        self.eps = float(eps)
        self.count = 0.0
        self.mean = 0.0
        self.m2 = 0.0

    @property
    def var(self) -> float:
        """Population variance of the rewards seen (0 before two of them)."""
        return self.m2 / self.count if self.count > 1 else 0.0

    @property
    def std(self) -> float:
        """Population std of the rewards seen; 1 before two of them (raw rewards pass through)."""
        return math.sqrt(self.var) if self.count > 1 else 1.0

    def update(self, rewards: Tensor | np.ndarray) -> None:
        """Merge a batch of raw rewards (any shape; non-finite values are dropped)."""
        if isinstance(rewards, Tensor):
            rewards = rewards.detach().cpu().numpy()
        x = np.asarray(rewards, np.float64).reshape(-1)
        x = x[np.isfinite(x)]
        n = float(x.size)
        if n == 0:
            return
        b_mean = float(x.mean())
        b_m2 = float(((x - b_mean) ** 2).sum())
        total = self.count + n
        delta = b_mean - self.mean
        self.mean += delta * n / total
        self.m2 += b_m2 + delta * delta * self.count * n / total
        self.count = total

    def normalize(self, rewards: Tensor) -> Tensor:
        """``clip(r / (std + eps), -clip, clip)``, same shape and dtype as ``rewards``."""
        return (rewards / (self.std + self.eps)).clamp(-self.clip, self.clip)

    def state_dict(self) -> dict[str, Any]:
        """Plain floats: ``count``, ``mean``, ``m2``."""
        return {"count": self.count, "mean": self.mean, "m2": self.m2}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore from :meth:`state_dict`."""
        self.count = float(state["count"])
        self.mean = float(state["mean"])
        self.m2 = float(state["m2"])
