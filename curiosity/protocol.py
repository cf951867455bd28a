"""The interface every intrinsic reward offers to planners, RL wrappers and the active loop.

Shapes: ``B`` batch, ``D`` observation size, ``A`` action size. Observations are raw
(unnormalised) env observations; each signal normalises internally.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from torch import Tensor

from world_model.batch import TransitionBatch


@runtime_checkable
class IntrinsicReward(Protocol):
    """A curiosity signal computed from a world model (and possibly its own small networks)."""

    name: str

    def __call__(
        self,
        obs: Tensor,
        action: Tensor,
        next_obs: Tensor | None = None,
        predicted: Tensor | None = None,
    ) -> Tensor:
        """Raw (unnormalised) intrinsic reward of a batch of transitions, no gradients.

        Args:
            obs: ``(B, D)`` observation before the step.
            action: ``(B, A)`` action taken.
            predicted: ``(M, B, D)`` the ensemble members' predictions of the next state, when the
                caller already computed them (the planner); saves a model call.
            next_obs: ``(B, D)`` observed next state of a *real* transition, or ``None`` for an
                *imagined* one: then the signal's expectation under the world model (what an
                MPC planner maximises) is computed from the model's own predictions.

        Returns:
            ``(B,)`` float32 rewards.
        """
        raise NotImplementedError("__call__(obs (B,D), action (B,A), next_obs (B,D)|None) -> (B,)")

    def update(self, batch: TransitionBatch) -> dict[str, float]:
        """Learn from real transitions (train the RND predictor, refresh the old model copy...).

        Returns:
            Named metrics, keys under ``curiosity/`` (may be empty).
        """
        raise NotImplementedError("update(batch: TransitionBatch) -> dict[str, float]")

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume (tensors and plain values; never the world model)."""
        raise NotImplementedError("state_dict() -> dict[str, Any]")

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore from :meth:`state_dict`."""
        raise NotImplementedError("load_state_dict(state: dict[str, Any]) -> None")
