"""World models and the one function that builds them from a config (by
:data:`world_model.registry.MODELS`)."""

from __future__ import annotations

from envs.layout import EntityLayout
from world_model.config import WorldModelConfig
from world_model.models.base import LatentDynamicsModel
from world_model.models.graph_physics import GraphPhysicsModel
from world_model.models.interaction import InteractionNetModel
from world_model.models.latent_mlp import LatentMLPModel
from world_model.registry import model_builder

__all__ = [
    "GraphPhysicsModel",
    "InteractionNetModel",
    "LatentDynamicsModel",
    "LatentMLPModel",
    "build_model",
]


def build_model(
    cfg: WorldModelConfig, layout: EntityLayout, action_dim: int, dt: float | None = None
) -> LatentDynamicsModel:
    """The model ``cfg.kind`` names (:data:`world_model.registry.MODELS`), sized from the env.

    Args:
        cfg: world model configuration.
        layout: the env's entity layout (``env.metadata["layout"]``); gives ``D``.
        action_dim: ``A`` (0 for action-free sources).
        dt: seconds per env step (``env.unwrapped.dt``); the graph model integrates over it.
    """
    return model_builder(cfg.kind)(cfg, layout, action_dim, dt)


def build_graph(
    cfg: WorldModelConfig, layout: EntityLayout, action_dim: int, dt: float | None
) -> LatentDynamicsModel:
    """``kind=graph``: :class:`GraphPhysicsModel` (needs ``dt``)."""
    if dt is None:
        raise ValueError("build_model: kind=graph needs the env step length dt")
    return GraphPhysicsModel(cfg, layout, action_dim, dt)


def build_interaction(
    cfg: WorldModelConfig, layout: EntityLayout, action_dim: int, dt: float | None
) -> LatentDynamicsModel:
    """``kind=interaction``: :class:`InteractionNetModel`."""
    return InteractionNetModel(cfg, layout, action_dim)


def build_mlp(
    cfg: WorldModelConfig, layout: EntityLayout, action_dim: int, dt: float | None
) -> LatentDynamicsModel:
    """``kind=mlp``: :class:`LatentMLPModel`."""
    return LatentMLPModel(cfg, layout.obs_dim, action_dim)
