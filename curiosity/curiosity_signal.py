"""A raw intrinsic reward plus its running normaliser: what planners and RL wrappers call."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from curiosity.normalize import RewardNormalizer
from curiosity.protocol import IntrinsicReward
from world_model.batch import TransitionBatch


class CuriositySignal:
    """Wraps an :class:`IntrinsicReward`; ``__call__`` returns normalised rewards.

    It is itself an :class:`IntrinsicReward` (same call, ``update`` and state methods).

    Args:
        reward: the raw signal.
        normalizer: running reward scale, or ``None`` to hand out raw rewards.
    """

    def __init__(self, reward: IntrinsicReward, normalizer: RewardNormalizer | None) -> None:
        self.reward = reward
        self.normalizer = normalizer
        self.name = reward.name

    def raw(
        self,
        obs: Tensor,
        action: Tensor,
        next_obs: Tensor | None = None,
        predicted: Tensor | None = None,
    ) -> Tensor:
        """Raw reward ``(B,)``; arguments as :meth:`IntrinsicReward.__call__`."""
        return self.reward(obs, action, next_obs, predicted)

    def __call__(
        self,
        obs: Tensor,
        action: Tensor,
        next_obs: Tensor | None = None,
        predicted: Tensor | None = None,
    ) -> Tensor:
        """Normalised reward ``(B,)`` (raw if there is no normaliser).

        Args:
            obs: ``(B, D)``.
            action: ``(B, A)``.
            next_obs: ``(B, D)`` for a real transition, ``None`` for an imagined one.
            predicted: ``(M, B, D)`` the members' predictions, if the caller already has them.
        """
        r = self.raw(obs, action, next_obs, predicted)
        return r if self.normalizer is None else self.normalizer.normalize(r)

    def update(self, batch: TransitionBatch) -> dict[str, float]:
        """Score the real batch, update the signal, then merge the raw rewards into the scale.

        The rewards are scored *before* the signal learns from the batch (what the explorer
        was paid for these transitions).

        Returns:
            The signal's own metrics plus ``curiosity/raw_mean`` and ``curiosity/raw_std``
            (this batch's raw rewards), ``curiosity/norm_mean`` (this batch normalised with the
            updated scale) and ``curiosity/running_std`` (the scale, 1 without normaliser).
        """
        raw = self.raw(batch.obs, batch.action, batch.next_obs)
        metrics = dict(self.reward.update(batch))
        if self.normalizer is not None:
            self.normalizer.update(raw)
            norm = self.normalizer.normalize(raw)
        else:
            norm = raw
        stats = torch.stack([raw.mean(), raw.std(unbiased=False), norm.mean()]).tolist()
        metrics["curiosity/raw_mean"] = stats[0]
        metrics["curiosity/raw_std"] = stats[1]
        metrics["curiosity/norm_mean"] = stats[2]
        metrics["curiosity/running_std"] = (
            self.normalizer.std if self.normalizer is not None else 1.0
        )
        return metrics

    def state_dict(self) -> dict[str, Any]:
        """``reward``: the signal's state; ``normalizer``: its floats (or ``None``)."""
        return {
            "reward": self.reward.state_dict(),
            "normalizer": None if self.normalizer is None else self.normalizer.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore from :meth:`state_dict`."""
        self.reward.load_state_dict(state["reward"])
        if self.normalizer is not None:
            if state["normalizer"] is None:
                raise ValueError("curiosity state has no normaliser but this signal normalises")
            self.normalizer.load_state_dict(state["normalizer"])
