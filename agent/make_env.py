"""Building a scene from its config: the one place that maps ``EnvConfig`` to ``gymnasium.make``."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from agent.config import EnvConfig
from envs import SCENES
from envs.regimes import LabelConfig


def make_env(cfg: EnvConfig, **kwargs: Any) -> gym.Env:
    """``gymnasium.make`` for ``cfg.name`` with the config's distractor, frame skip, labels and
    physics overrides (``env.physics``).

    Extra keyword arguments (``render_mode``, ``width``, ``height``...) go to the env.
    """
    env_id = "contactlab/MJCFScene-v0" if cfg.name == "mjcf" else SCENES[cfg.name]
    if cfg.name == "mjcf":
        kwargs["mjcf_path"] = cfg.mjcf_path
    labels = LabelConfig(**vars(cfg.labels))
    return gym.make(
        env_id,
        max_episode_steps=cfg.max_episode_steps,
        distractor=cfg.distractor,
        frame_skip=cfg.frame_skip,
        label_config=labels,
        physics=cfg.physics.overrides(),
        **kwargs,
    )
