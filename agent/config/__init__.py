"""Typed configuration: Hydra composes the YAML in ``configs/``, these dataclasses are the schema.

Composition (:func:`load_config`) resolves groups and command-line overrides; merging into the
schema rejects unknown keys and wrong types; ``__post_init__`` checks ranges and options. All
of it happens before any env, model or Ray worker starts, and every error names the key.

One module per command (``run``, ``train_model``, ``collect``, ``demo``, ``probe`` for
``probe make``), the sections several commands share (``env``, ``probe``), the loader
(``load``) and the error explainer (``explain``); every public name is importable from here.
"""

from agent.config.collect import CollectConfig
from agent.config.demo import DemoConfig
from agent.config.env import (
    DISTRACTORS,
    ENTITY_MODES,
    LINK_KINDS,
    SCENE_NAMES,
    EnvConfig,
    PhysicsConfig,
)
from agent.config.errors import ConfigError
from agent.config.load import CONFIG_DIR, group_options, load_config
from agent.config.probe import ProbeMakeConfig, ProbeSetConfig
from agent.config.run import OBSERVATIONS, AgentConfig, LoopConfig, RunConfig
from agent.config.train_model import TrainConfig, TrainModelConfig

__all__ = [
    "CONFIG_DIR",
    "DISTRACTORS",
    "ENTITY_MODES",
    "LINK_KINDS",
    "OBSERVATIONS",
    "SCENE_NAMES",
    "AgentConfig",
    "CollectConfig",
    "ConfigError",
    "DemoConfig",
    "EnvConfig",
    "LoopConfig",
    "PhysicsConfig",
    "ProbeMakeConfig",
    "ProbeSetConfig",
    "RunConfig",
    "TrainConfig",
    "TrainModelConfig",
    "group_options",
    "load_config",
]
