"""The composition helper: one call from a config, a world model and the env sizes."""

from __future__ import annotations

from collections.abc import Callable

from curiosity.config import CuriosityConfig
from curiosity.curiosity_signal import CuriositySignal
from curiosity.normalize import RewardNormalizer
from curiosity.registry import signal_builder
from curiosity.state_metric import StateMetric
from envs.layout import EntityLayout
from world_model.protocol import WorldModel


def build_curiosity(
    cfg: CuriosityConfig,
    model: WorldModel,
    obs_dim: int,
    action_dim: int,
    layout: EntityLayout,
    make_model: Callable[[], WorldModel] | None = None,
) -> CuriositySignal:
    """The signal ``cfg.name`` names (:data:`curiosity.registry.SIGNALS`), wrapped with its
    normaliser when ``cfg.normalize``.

    Args:
        cfg: curiosity configuration.
        model: the world model the signal reads (built and trained by the caller).
        obs_dim: ``D`` (must equal ``layout.obs_dim`` and ``model.obs_dim``).
        action_dim: ``A`` (must equal ``model.action_dim``).
        layout: the env's entity layout; ``cfg.entity_kinds`` selects dims through it.
        make_model: learning progress only: builds a fresh instance of the model's
            architecture for the old copy; ``None`` deep-copies ``model``.

    Raises:
        ValueError: sizes disagree, or ``cfg.entity_kinds`` matches no entity.
    """
    if not obs_dim == layout.obs_dim == model.obs_dim:
        raise ValueError(
            f"build_curiosity: obs_dim {obs_dim}, layout.obs_dim {layout.obs_dim} and "
            f"model.obs_dim {model.obs_dim} must agree"
        )
    if action_dim != model.action_dim:
        raise ValueError(
            f"build_curiosity: action_dim {action_dim} != model.action_dim {model.action_dim}"
        )
    metric = StateMetric(layout, model, cfg.entity_kinds, cfg.scale_floor)
    reward = signal_builder(cfg.name)(cfg, model, metric, make_model)
    normalizer = RewardNormalizer(cfg.clip, cfg.norm_eps) if cfg.normalize else None
    return CuriositySignal(reward, normalizer)
