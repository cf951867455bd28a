"""Prediction error: how wrong the ensemble-mean model is about a transition."""

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


class PredictionError:
    """``||mean_m f_m(s, a) - s'||^2`` in normalised-delta units (:class:`StateMetric`).

    Real transitions (``next_obs`` given): the error of the ensemble-mean prediction against
    the observed next state, summed over the dims of the configured entity kinds (by default
    objects and distractors: the agent's own motion does not count).

    Imagined transitions (``next_obs=None``): the expected error when the truth is drawn from
    the ensemble itself, ``mean_m ||f_m - mean f||^2``. With no truth known this *is* the
    ensemble disagreement (identical to :class:`~curiosity.disagreement.Disagreement`).

    Args:
        model: the world model (read only).
        metric: state distance.
    """

    name = "prediction_error"

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
        """Args: ``obs (B, D)``, ``action (B, A)``, ``next_obs (B, D)`` or None. Returns (B,)."""
        pred = self.model.predict(obs, action) if predicted is None else predicted  # (M, B, D)
        if next_obs is None:
            return self.metric.spread(pred)
        return self.metric.sq(pred.mean(0) - next_obs)

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


def build_prediction_error(
    cfg: CuriosityConfig,
    model: WorldModel,
    metric: StateMetric,
    make_model: Callable[[], WorldModel] | None,
) -> PredictionError:
    """``prediction_error`` (:data:`curiosity.registry.SIGNALS`)."""
    return PredictionError(model, metric)
