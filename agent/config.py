"""Typed configuration: Hydra composes the YAML in ``configs/``, these dataclasses are the schema.

Composition (``compose``) resolves groups and command-line overrides; merging into the schema
rejects unknown keys and wrong types; ``__post_init__`` checks ranges and options. All of it
happens before any env, model or Ray worker starts, and every error names the key.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from hydra import compose, initialize_config_dir
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from envs import SCENES

CONFIG_DIR = Path(
    os.environ.get("CONTACTLAB_CONFIGS", Path(__file__).resolve().parents[1] / "configs")
)
SCENE_NAMES = (*SCENES, "mjcf")
DISTRACTORS = ("none", "force", "teleport")


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names the key and the allowed values."""


def _check_choice(key: str, value: Any, allowed: tuple) -> None:
    if value not in allowed:
        raise ConfigError(f"{key}={value!r} is not allowed; choose one of {list(allowed)}")


def _check_positive(key: str, value: float) -> None:
    if not value > 0:
        raise ConfigError(f"{key}={value!r} must be > 0")


@dataclass(frozen=True)
class LabelsConfig:
    """Contact-labeller thresholds (see ``docs/labels.md``)."""

    impact_speed: float = 0.1  #: m/s; a contact beginning faster than this is an impact
    rest_speed: float = 0.01  #: m/s; below this (and rest_angvel) an entity is at rest
    rest_angvel: float = 0.1  #: rad/s
    fall_speed: float = 0.3  #: m/s; airborne and descending faster is a critical fall
    topple_angle: float = 45.0  #: degrees of tilt that count as toppled

    def __post_init__(self) -> None:
        for key in ("impact_speed", "rest_speed", "rest_angvel", "fall_speed"):
            _check_positive(f"env.labels.{key}", getattr(self, key))
        if not 0 < self.topple_angle < 180:
            raise ConfigError(f"env.labels.topple_angle={self.topple_angle!r} must be in (0, 180)")


@dataclass(frozen=True)
class EnvConfig:
    """Which scene to build and how."""

    name: str = "push_blocks"  #: push_blocks | billiards | tower | mjcf
    mjcf_path: str | None = None  #: the user's MJCF file, for name=mjcf
    distractor: str = "none"  #: none | force | teleport: the unlearnable "noisy TV"
    frame_skip: int = 10  #: physics substeps per agent step
    max_episode_steps: int = 200  #: truncation horizon
    labels: LabelsConfig = field(default_factory=LabelsConfig)

    def __post_init__(self) -> None:
        _check_choice("env.name", self.name, SCENE_NAMES)
        _check_choice("env.distractor", self.distractor, DISTRACTORS)
        if self.name == "mjcf" and not self.mjcf_path:
            raise ConfigError("env.name=mjcf needs env.mjcf_path=/path/to/scene.xml")
        if self.mjcf_path and not Path(self.mjcf_path).is_file():
            raise ConfigError(f"env.mjcf_path={self.mjcf_path!r}: no such file")
        _check_positive("env.frame_skip", self.frame_skip)
        _check_positive("env.max_episode_steps", self.max_episode_steps)


@dataclass(frozen=True)
class DemoConfig:
    """``contactlab demo``: a short labelled rollout of each scene, rendered to video."""

    env: EnvConfig = field(
        default_factory=EnvConfig
    )  #: settings shared by every scene (distractor...)
    scenes: list[str] = field(default_factory=lambda: list(SCENES))  #: scenes to roll out
    steps: int = 150  #: agent steps per scene
    policy: str = "strike"  #: strike (scripted pokes at objects) | random
    seed: int = 0  #: reset and policy seed
    width: int = 320  #: video width (pixels; a multiple of 16)
    height: int = 240  #: video height (pixels; a multiple of 16)
    out_dir: str = "runs"  #: parent folder of the run folder

    def __post_init__(self) -> None:
        for scene in self.scenes:
            _check_choice("scenes", scene, tuple(SCENES))
        _check_choice("policy", self.policy, ("strike", "random"))
        _check_positive("steps", self.steps)
        for key in ("width", "height"):
            value = getattr(self, key)
            if value <= 0 or value % 16:
                raise ConfigError(
                    f"{key}={value!r} must be a positive multiple of 16 (video encoding)"
                )


T = TypeVar("T")


def load_config(name: str, schema: type[T], overrides: list[str]) -> tuple[T, DictConfig]:
    """Compose ``configs/<name>.yaml`` with ``overrides`` and validate it against ``schema``.

    Returns the typed config and the resolved ``DictConfig`` (saved in the run folder).
    Raises :class:`ConfigError` naming the key for any bad input.
    """
    if not CONFIG_DIR.is_dir():
        raise ConfigError(f"config folder not found: {CONFIG_DIR} (set CONTACTLAB_CONFIGS)")
    try:
        with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
            composed = compose(config_name=name, overrides=list(overrides))
        base = OmegaConf.structured(schema)
        _make_writable(base)  # frozen dataclasses mark every node read-only; instances stay frozen
        merged = OmegaConf.merge(base, composed)
        typed = OmegaConf.to_object(merged)
    except ConfigError:
        raise
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(_explain(str(exc), schema)) from None
    if isinstance(typed, ConfigError):  # pragma: no cover - to_object re-raises, kept for mypy
        raise typed
    return typed, merged  # type: ignore[return-value]


def _make_writable(node: DictConfig) -> None:
    OmegaConf.set_readonly(node, False)
    for key in node:
        child = node._get_node(key)
        if isinstance(child, DictConfig):
            _make_writable(child)


def _explain(message: str, schema: type) -> str:
    """Hydra/OmegaConf's message, plus the valid keys (and the closest one) for an unknown key."""
    noise = (
        "    object_type",
        "To append to your config",
    )  # internals, and advice that cannot work here
    keep = [line for line in message.splitlines() if line.strip() and not line.startswith(noise)]
    text = "\n".join(keep)
    match = re.search(r"(?:Could not override|Key) '([^']+)'", message)
    if match:
        *parents, leaf = match.group(1).lstrip("+").split(".")
        node: Any = OmegaConf.structured(schema)
        for part in parents:
            node = node.get(part) if isinstance(node, DictConfig) else None
        if isinstance(node, DictConfig):
            valid = [str(k) for k in node]
            close = difflib.get_close_matches(leaf, valid, n=1)
            hint = f" Did you mean '{'.'.join([*parents, close[0]])}'?" if close else ""
            text = f"unknown key '{match.group(1)}'.{hint} Valid keys here: {valid}\n{text}"
    return text
