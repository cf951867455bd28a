"""Learning progress: how much the model improved on a transition since an older copy of it.

Curiosity by prediction error is drawn to whatever stays unpredictable (noise, a distractor);
learning progress is drawn to what the model is *currently learning* (Schmidhuber 1991,
Oudeyer et al. 2007): the drop in error between an old copy of the model and the current one.
The old copy is refreshed every ``refresh_every`` calls to :meth:`LearningProgress.update`, so
the reward is a sawtooth: exactly 0 right after a refresh, growing as the model moves on.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from curiosity.state_metric import StateMetric
from world_model.batch import TransitionBatch
from world_model.protocol import WorldModel

if TYPE_CHECKING:
    from curiosity.config import CuriosityConfig


class LearningProgress:
    """``err_old - err_new`` on real transitions, ``||f_old - f_new||^2`` on imagined ones.

    Real (``next_obs`` given): ``err(f) = ||mean_m f_m(s, a) - s'||^2`` in normalised-delta
    units (:class:`StateMetric`, the *current* model's scale for both copies); the reward is
    ``err_old - err_new``, clamped at 0 unless ``signed`` (by default forgetting is not
    rewarded, and the signal stays non-negative like the others).

    Imagined (``next_obs=None``): no truth, so the reward is how much the model changed its
    ensemble-mean prediction there, ``||mean f_old(s, a) - mean f_new(s, a)||^2`` (same units;
    non-negative; where the model changed, it was learning).

    Args:
        model: the world model being trained elsewhere (an ``nn.Module``; read only here).
        metric: state distance.
        refresh_every: calls to :meth:`update` between refreshes of the old copy (the run
            loop makes one per training round: ``CuriosityConfig.lp_refresh_every``).
        signed: keep negative progress instead of clamping at 0.
        make_model: builds a second instance of the same architecture for the old copy
            (e.g. ``lambda: build_model(cfg, layout, A)``); ``None`` deep-copies ``model``.

    Raises:
        TypeError: ``model`` is not an ``nn.Module`` (its state cannot be copied).
    """

    name = "learning_progress"

    def __init__(
        self,
        model: WorldModel,
        metric: StateMetric,
        refresh_every: int = 20,
        signed: bool = False,
        make_model: Callable[[], WorldModel] | None = None,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(
                f"LearningProgress needs an nn.Module world model, got {type(model).__name__}"
            )
        self.model = model
        self.metric = metric
        self.refresh_every = int(refresh_every)
        self.signed = bool(signed)
        old = make_model() if make_model is not None else copy.deepcopy(model)
        if not isinstance(old, nn.Module):
            raise TypeError(f"make_model must build an nn.Module, got {type(old).__name__}")
        self._old_module = old.requires_grad_(False)
        self.old: WorldModel = old
        self.since_refresh = 0
        self.refreshes = 0
        self._load_old()

    def _load_old(self) -> None:
        assert isinstance(self.model, nn.Module)
        with torch.no_grad():
            self._old_module.load_state_dict(self.model.state_dict())

    def refresh(self) -> None:
        """Make the old copy equal to the current model now."""
        self._load_old()
        self.since_refresh = 0
        self.refreshes += 1

    @torch.no_grad()
    def __call__(
        self,
        obs: Tensor,
        action: Tensor,
        next_obs: Tensor | None = None,
        predicted: Tensor | None = None,
    ) -> Tensor:
        """Args: ``obs (B, D)``, ``action (B, A)``, ``next_obs (B, D)`` or None. Returns (B,)."""
        new = (self.model.predict(obs, action) if predicted is None else predicted).mean(0)
        old = self.old.predict(obs, action).mean(0)
        if next_obs is None:
            return self.metric.sq(old - new)
        progress = self.metric.sq(old - next_obs) - self.metric.sq(new - next_obs)
        return progress if self.signed else progress.clamp(min=0.0)

    def update(self, batch: TransitionBatch) -> dict[str, float]:
        """Count one update; refresh the old copy every ``refresh_every`` of them.

        Returns:
            ``curiosity/lp/since_refresh`` and ``curiosity/lp/refreshes``.
        """
        self.metric.update(batch)
        self.since_refresh += 1
        if self.since_refresh >= self.refresh_every:
            self.refresh()
        return {
            "curiosity/lp/since_refresh": float(self.since_refresh),
            "curiosity/lp/refreshes": float(self.refreshes),
        }

    def state_dict(self) -> dict[str, Any]:
        """The old copy's weights (incl. normalisers), the counters and the metric."""
        return {
            "old_model": self._old_module.state_dict(),
            "since_refresh": self.since_refresh,
            "refreshes": self.refreshes,
            "metric": self.metric.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore from :meth:`state_dict`."""
        self._old_module.load_state_dict(state["old_model"])
        self.since_refresh = int(state["since_refresh"])
        self.refreshes = int(state["refreshes"])
        self.metric.load_state_dict(state["metric"])


def build_learning_progress(
    cfg: CuriosityConfig,
    model: WorldModel,
    metric: StateMetric,
    make_model: Callable[[], WorldModel] | None,
) -> LearningProgress:
    """``learning_progress`` (:data:`curiosity.registry.SIGNALS`)."""
    return LearningProgress(
        model, metric, cfg.lp_refresh_every, signed=cfg.lp_signed, make_model=make_model
    )
