"""Ensemble disagreement (Pathak et al. 2019; Plan2Explore, Sekar et al. 2020)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from curiosity.state_metric import StateMetric
from world_model.batch import TransitionBatch
from world_model.protocol import WorldModel

if TYPE_CHECKING:
    from curiosity.config import CuriosityConfig


class Disagreement:
    """Variance across members of the predicted next state, summed over dims.

    Population variance (``1/M``) in normalised-delta units (:class:`StateMetric`), so it
    equals the imagined :class:`~curiosity.prediction_error.PredictionError`. It needs no
    truth: real and imagined calls give the same value (``next_obs`` is unused). A single
    member ensemble always gives 0.

    Args:
        model: the world model (read only).
        metric: state distance.
    """

    name = "disagreement"

    def __init__(self, model: WorldModel, metric: StateMetric) -> None:
        self.model = model
        self.metric = metric

    @torch.no_grad()
    def __call__(
        self,
        obs: Tensor,
        action: Tensor,
        next_obs: Tensor | None = None,
        predicted: Tensor | None = None,
    ) -> Tensor:
        """Args: ``obs (B, D)``, ``action (B, A)``; ``next_obs`` unused; ``predicted (M, B, D)``:
        the members' predictions if the caller has them (a planner). Returns ``(B,)``."""
        return self.metric.spread(
            self.model.predict(obs, action) if predicted is None else predicted
        )

    def update(self, batch: TransitionBatch) -> dict[str, float]:
        """Only the fallback scale learns (the world model is trained elsewhere)."""
        self.metric.update(batch)
        return {}

    def state_dict(self) -> dict[str, Any]:
        """The metric's fallback scale."""
        return {"metric": self.metric.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore from :meth:`state_dict`."""
        self.metric.load_state_dict(state["metric"])


def build_disagreement(
    cfg: CuriosityConfig,
    model: WorldModel,
    metric: StateMetric,
    make_model: Callable[[], WorldModel] | None,
) -> Disagreement:
    """``disagreement`` (:data:`curiosity.registry.SIGNALS`)."""
    return Disagreement(model, metric)
