"""Building a scene from its config: the one place that maps ``EnvConfig`` to ``gymnasium.make``."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from agent.config import EnvConfig
from envs import SCENES


def make_env(cfg: EnvConfig, **kwargs: Any) -> gym.Env:
    """``gymnasium.make`` for ``cfg.name`` with the config's distractor, frame skip, entities,
    support geoms, labels and physics overrides (``env.physics``).

    ``name=mjcf`` loads ``cfg.mjcf_path``; ``name=gym`` the model of the Gymnasium MuJoCo env
    ``cfg.id`` (:mod:`envs.gym_scene`). Extra keyword arguments (``render_mode``, ``width``,
    ``height``...) go to the env.
    """
    if cfg.name == "mjcf":
        env_id = "contactlab/MJCFScene-v0"
        kwargs["mjcf_path"] = cfg.mjcf_path
    elif cfg.name == "gym":
        env_id = "contactlab/GymScene-v0"
        kwargs["gym_id"] = cfg.id
    else:
        env_id = SCENES[cfg.name]
    if cfg.support_geoms is not None:
        kwargs["support_geoms"] = tuple(cfg.support_geoms)
    if (cfg.entities, cfg.links) != ("roots", "agent"):
        kwargs.update(entities=cfg.entities, links=cfg.links)
    return gym.make(
        env_id,
        max_episode_steps=cfg.max_episode_steps,
        distractor=cfg.distractor,
        frame_skip=cfg.frame_skip,
        label_config=cfg.labels,
        physics=cfg.physics.overrides(),
        **kwargs,
    )
