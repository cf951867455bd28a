"""The interface every world model offers to trainers, curiosity signals and planners.

Shapes: ``M`` ensemble members, ``B`` batch, ``H`` horizon, ``D`` observation size, ``A``
action size, ``Z`` flat latent size. Observations and predictions are in raw (unnormalised)
units; models normalise internally. Inference methods build autograd graphs: callers that do
not need gradients wrap them in ``torch.no_grad()``.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from torch import Tensor

from world_model.batch import SequenceBatch


@runtime_checkable
class WorldModel(Protocol):
    """A latent dynamics ensemble: encoder -> latent -> action-conditioned transition -> decoder."""

    n_members: int
    obs_dim: int
    action_dim: int

    def predict(self, obs: Tensor, action: Tensor) -> Tensor:
        """One step. Args: ``obs (B, D)``, ``action (B, A)``. Returns next obs ``(M, B, D)``."""
        raise NotImplementedError("predict(obs (B,D), action (B,A)) -> (M,B,D)")

    def rollout(
        self,
        obs: Tensor,
        actions: Tensor,
        given: Tensor | None = None,
        given_mask: Tensor | None = None,
    ) -> Tensor:
        """Open-loop imagination, each member feeding back its own predictions.

        Args:
            obs: ``(B, D)`` start observation.
            actions: ``(B, H, A)``.
            given: ``(B, H, D)`` true observations ``o_1 .. o_H``; used where ``given_mask``.
            given_mask: ``(D,)`` bool; these dims of every predicted step are overwritten by
                ``given`` (e.g. the agent's own true motion, so only objects are imagined).

        Returns:
            ``(M, B, H, D)`` predicted ``o_1 .. o_H``.
        """
        raise NotImplementedError(
            "rollout(obs (B,D), actions (B,H,A), given, given_mask) -> (M,B,H,D)"
        )

    def encode(self, obs: Tensor) -> Tensor:
        """Latents. Args: ``obs (B, D)``. Returns ``(M, B, Z)``."""
        raise NotImplementedError("encode(obs (B,D)) -> (M,B,Z)")

    def loss(self, batch: SequenceBatch) -> dict[str, Tensor]:
        """Named scalar loss terms for one batch, including ``"total"`` (the one to minimise)."""
        raise NotImplementedError("loss(batch: SequenceBatch) -> dict[str, Tensor]")

    def update_normalizers(self, batch: SequenceBatch) -> None:
        """Merge the batch into the input and target normalisers (batches with NaN are ignored)."""
        raise NotImplementedError("update_normalizers(batch: SequenceBatch) -> None")

    def after_step(self) -> None:
        """Called by the trainer after each applied optimizer step (e.g. EMA target update)."""
        raise NotImplementedError("after_step() -> None")
