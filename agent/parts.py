"""The parts of a run, built in one place: the env, its layout, the world model and its trainer,
the curiosity signal (:func:`build_parts`) and the explorer (:func:`build_explorer`).

``contactlab run`` (:func:`agent.run.build_run`), the run report (:mod:`agent.report.model`,
which restores a finished run's model and signal) and the benchmarks that time a run's model
or planner all build them here, so they build the same thing from the same config.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from agent.config import EnvConfig, RunConfig
from agent.explorers.base import DemonstratorExplorer, Explorer, MixedExplorer, RandomExplorer
from agent.explorers.registry import EXPLORERS, ExplorerInputs
from agent.make_env import make_env
from curiosity import build_curiosity
from curiosity.config import CuriosityConfig
from curiosity.curiosity_signal import CuriositySignal
from envs.layout import EntityLayout
from envs.scene import ContactSceneEnv
from world_model.config import PixelModelConfig, WorldModelConfig
from world_model.models import LatentDynamicsModel, build_model
from world_model.pixels import PixelWorldModel
from world_model.trainer import ModelTrainer


@dataclass
class Parts:
    """A run's env and model-side parts.

    Attributes:
        env: the env as ``gymnasium.make`` returns it (wrappers included).
        scene: ``env.unwrapped``.
        layout: the scene's entity layout (``D = layout.obs_dim``).
        action_dim: the scene's action size.
        cond_dim: what the model is conditioned on: ``action_dim``, or for a video source
            (actions unseen) the agent's observed next state, 13 floats per agent.
        model: the state world model (the curiosity signal and the planner read it).
        trainer: trains ``model``, or the pixel model of a ``video_pixels`` run.
        signal: the normalised curiosity signal over ``model``; ``None`` when not asked for.
    """

    env: Any
    scene: ContactSceneEnv
    layout: EntityLayout
    action_dim: int
    cond_dim: int
    model: LatentDynamicsModel
    trainer: ModelTrainer
    signal: CuriositySignal | None


def conditioning_dim(layout: EntityLayout, action_dim: int, observe_actions: bool) -> int:
    """``action_dim``; or, for a video source that never sees actions, the size of the agent's
    observed next state (13 floats per agent) its model is conditioned on instead."""
    return action_dim if observe_actions else layout.feature_dim * len(layout.indices("agent"))


def floor_warning(scene: ContactSceneEnv) -> str | None:
    """A warning when the graph model's floor features have no floor to measure from: they
    measure each body's height above the top of the scene's ground support
    (``EntityLayout.ground``), and from z = 0 where the scene has no ground geom. ``None``
    when it has one."""
    if scene.layout.ground is not None:
        return None
    return (
        "warning: world_model.contact_features measures each body's height above the "
        "ground support, and this scene has no ground geom (no plane; name the table's geoms "
        "in env.support_geoms): heights are measured from z = 0 (the model still trains). "
        "world_model=graph (no contact features) does not assume a floor."
    )


def build_parts(
    env_cfg: EnvConfig,
    world_model: WorldModelConfig,
    curiosity: CuriosityConfig | None = None,
    *,
    observe_actions: bool = True,
    pixels: PixelModelConfig | None = None,
) -> Parts:
    """Build the env, then the world model, its trainer and the curiosity signal over it.

    Draws from torch's global RNG in this order (model, pixel model, signal), so seed it first.

    Args:
        env_cfg: the scene.
        world_model: the state world model's config.
        curiosity: the signal's config; ``None`` builds no signal (``train-model`` runs).
        observe_actions: false for a video source (see :attr:`Parts.cond_dim`).
        pixels: train a pixel world model (``loop.observation=pixels``) instead of the state
            model; the signal still reads the state model.
    """
    env = make_env(env_cfg)
    scene = env.unwrapped
    assert isinstance(scene, ContactSceneEnv)
    layout, action_dim, dt = scene.layout, scene.model.nu, scene.dt
    cond_dim = conditioning_dim(layout, action_dim, observe_actions)
    contact = world_model.kind == "graph" and world_model.contact_features
    if contact and (warning := floor_warning(scene)) is not None:
        print(warning, file=sys.stderr)
    model = build_model(world_model, layout, cond_dim, dt)
    trainer = (
        ModelTrainer(model, world_model)
        if pixels is None
        else ModelTrainer(PixelWorldModel(pixels, cond_dim), pixels)
    )
    signal = None
    if curiosity is not None:
        signal = build_curiosity(
            curiosity, model, layout.obs_dim, cond_dim, layout,
            make_model=lambda: build_model(world_model, layout, cond_dim, dt),
        )  # fmt: skip
    return Parts(env, scene, layout, action_dim, cond_dim, model, trainer, signal)


def build_explorer(
    cfg: RunConfig,
    parts: Parts,
    warmup: RandomExplorer,
    rng: np.random.Generator,
    episode: Callable[[], int],
) -> Explorer | None:
    """The explorer ``cfg.agent.name`` names (:data:`agent.explorers.registry.EXPLORERS`),
    mixed with a passive policy when ``cfg.loop.passive_fraction > 0``.

    Returns ``None`` for an explorer that steps the env itself (SB3's PPO and SAC: the run
    builds them around the wrapped env).

    Args:
        warmup: the run's random warm-up explorer.
        rng: the run's seed stream (an explorer draws its child seed from it).
        episode: the learner's current episode index (the mix decides per episode).
    """
    spec = EXPLORERS.get(cfg.agent.name)
    if spec.steps_env:
        return None
    assert parts.signal is not None, "an explorer of our own loop reads the curiosity signal"
    inputs = ExplorerInputs(
        cfg, parts.layout, parts.action_dim, parts.model, parts.signal, warmup, rng
    )
    explorer: Explorer = spec.builder()(inputs)
    if cfg.loop.passive_fraction > 0:
        passive_rng = np.random.default_rng([cfg.seed, 7])  # leaves the other streams as they were
        passive: Explorer = (
            DemonstratorExplorer(parts.layout, parts.action_dim, passive_rng)
            if cfg.loop.passive_policy == "demonstrator"
            else RandomExplorer(parts.action_dim, passive_rng)
        )
        explorer = MixedExplorer(explorer, passive, cfg.loop.passive_fraction, episode)
    return explorer
