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
from hydra.core.config_store import ConfigStore
from hydra.errors import HydraException
from omegaconf import MISSING, DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from agent.explorers.mpc_config import MPCConfig
from agent.limits import (
    LimitError,
    check_folder_name,
    check_numbers,
    check_run_memory,
    check_writable_parent,
)
from curiosity.config import CuriosityConfig
from envs import SCENES
from world_model.config import PixelModelConfig, WorldModelConfig

CONFIG_DIR = Path(
    os.environ.get("CONTACTLAB_CONFIGS", Path(__file__).resolve().parents[1] / "configs")
)
SCENE_NAMES = (*SCENES, "mjcf", "gym")
ENTITY_MODES = ("roots", "bodies")
LINK_KINDS = ("agent", "object")
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
    #: m/s; an object's velocity jump through a continuing contact above this is an impact
    #: (null turns the rule off)
    jump_speed: float | None = 0.5

    def __post_init__(self) -> None:
        for key in ("impact_speed", "rest_speed", "rest_angvel", "fall_speed"):
            _check_positive(f"env.labels.{key}", getattr(self, key))
        if self.jump_speed is not None:
            _check_positive("env.labels.jump_speed", self.jump_speed)
        if not 0 < self.topple_angle < 180:
            raise ConfigError(f"env.labels.topple_angle={self.topple_angle!r} must be in (0, 180)")


@dataclass(frozen=True)
class PhysicsConfig:
    """Global contact-physics overrides (``env.physics.*``, :mod:`envs.physics`): physics as an
    experiment axis. ``null`` keeps the scene's own values; a set value changes the scene hash,
    so datasets and probe sets made with other physics are refused."""

    solref_timeconst: float | None = None  #: s; contact stiffness, smaller is stiffer (>= 2 dt)
    solref_dampratio: float | None = None  #: contact damping ratio; 1 critical, < 1 bouncier
    friction_scale: float | None = None  #: multiplies every geom's sliding friction
    solver_iterations: int | None = None  #: constraint-solver iterations (model.opt.iterations)

    def __post_init__(self) -> None:
        for key in ("solref_timeconst", "solref_dampratio", "friction_scale", "solver_iterations"):
            value = getattr(self, key)
            if value is not None:
                _check_positive(f"env.physics.{key}", value)

    def overrides(self) -> dict[str, float | int]:
        """The keys that are set, for ``ContactSceneEnv(physics=...)``."""
        return {k: v for k, v in vars(self).items() if v is not None}


@dataclass(frozen=True)
class EnvConfig:
    """Which scene to build and how."""

    name: str = "push_blocks"  #: push_blocks | billiards | tower | mjcf | gym
    mjcf_path: str | None = None  #: the user's MJCF file, for name=mjcf
    id: str | None = None  #: a Gymnasium MuJoCo env id (Hopper-v5, Pusher-v5...), for name=gym
    distractor: str = "none"  #: none | force | teleport: the unlearnable "noisy TV"
    frame_skip: int | None = 10  #: physics substeps per agent step (null: the gym env's own)
    max_episode_steps: int = 200  #: truncation horizon
    entities: str = "roots"  #: roots (one per top-level body) | bodies (also one per link)
    links: str = "agent"  #: kind of an agent's links with entities=bodies: agent | object
    support_geoms: list[str] | None = None  #: ground-support geom names (null: world planes)
    labels: LabelsConfig = field(default_factory=LabelsConfig)
    physics: PhysicsConfig = field(default_factory=PhysicsConfig)  #: contact-physics overrides

    def __post_init__(self) -> None:
        _check_choice("env.name", self.name, SCENE_NAMES)
        _check_choice("env.distractor", self.distractor, DISTRACTORS)
        _check_choice("env.entities", self.entities, ENTITY_MODES)
        _check_choice("env.links", self.links, LINK_KINDS)
        if self.name == "mjcf" and not self.mjcf_path:
            raise ConfigError("env.name=mjcf needs env.mjcf_path=/path/to/scene.xml")
        if self.mjcf_path and not Path(self.mjcf_path).is_file():
            raise ConfigError(f"env.mjcf_path={self.mjcf_path!r}: no such file")
        if self.name == "gym":
            _check_gym_id(self.id)
        if self.frame_skip is not None or self.name != "gym":
            _check_positive("env.frame_skip", self.frame_skip or 0)
        _check_positive("env.max_episode_steps", self.max_episode_steps)


def _check_gym_id(env_id: str | None) -> None:
    """``env.id`` names a registered Gymnasium MuJoCo env (a registry look-up, no env built)."""
    import gymnasium as gym

    mujoco_ids = sorted(
        k for k, spec in gym.registry.items() if "mujoco" in str(spec.entry_point) and "-v5" in k
    )
    if not env_id:
        raise ConfigError(f"env.name=gym needs env.id=<a Gymnasium MuJoCo id>, e.g. {mujoco_ids}")
    spec = gym.registry.get(env_id)
    if spec is None or "mujoco" not in str(spec.entry_point):
        raise ConfigError(
            f"env.id={env_id!r} is not a registered Gymnasium MuJoCo env; choose one of "
            f"{mujoco_ids}"
        )


@dataclass(frozen=True)
class DemoConfig:
    """``contactlab demo``: a short labelled rollout of each scene, rendered to video."""

    env: EnvConfig = field(
        default_factory=EnvConfig
    )  #: settings shared by every scene (distractor...)
    #: built-in scenes to roll out (with env=mjcf or env=gym: that scene alone)
    scenes: list[str] = field(default_factory=lambda: list(SCENES))
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


@dataclass(frozen=True)
class ProbeSetConfig:
    """The held-out probe set every run of a scene is scored on (``docs/world_model.md``)."""

    path: str | None = None  #: folder of the probe set; default <root>/<scene>-<distractor>
    root: str = "probes"  #: parent folder of default probe-set paths
    seed: int = 1_000_003  #: collection seed, apart from any run seed
    seq_len: int = 10  #: steps per probe sequence (the open-loop rollout horizon)
    min_per_regime: int = 500  #: object entity-transitions required of every regime
    max_steps: int = 100_000  #: give up (naming the short regimes) after this many env steps

    def __post_init__(self) -> None:
        for key in ("seq_len", "min_per_regime", "max_steps"):
            _check_positive(f"probe.{key}", getattr(self, key))


@dataclass(frozen=True)
class ProbeMakeConfig:
    """``contactlab probe make``: build a scene's probe set."""

    env: EnvConfig = field(default_factory=EnvConfig)
    probe: ProbeSetConfig = field(default_factory=ProbeSetConfig)


@dataclass(frozen=True)
class CollectConfig:
    """``contactlab collect``: record transitions with a fixed policy into a dataset."""

    env: EnvConfig = field(default_factory=EnvConfig)
    policy: str = "random"  #: random (uniform actions) | probe (the probe set's policy)
    steps: int = 50_000  #: transitions to record
    seed: int = 0  #: env and policy seed
    out: str | None = None  #: dataset folder; default data/<scene>-<policy>-<steps>-seed<seed>

    def __post_init__(self) -> None:
        _check_choice("policy", self.policy, ("random", "probe"))
        _check_positive("steps", self.steps)


@dataclass(frozen=True)
class TrainConfig:
    """Offline training schedule of ``contactlab train-model``."""

    updates: int = 5000  #: gradient updates
    batch_size: int = 256  #: sequences per update
    eval_every: int = 500  #: updates between probe evaluations (the curve's resolution)
    checkpoint_every: int = 500  #: updates between checkpoints (resume granularity)
    threads: int = 1  #: torch CPU threads (1: small batched ops lose to thread spin-up on 2 cores)

    def __post_init__(self) -> None:
        for key in ("updates", "batch_size", "eval_every", "checkpoint_every", "threads"):
            _check_positive(f"train.{key}", getattr(self, key))


@dataclass(frozen=True)
class TrainModelConfig:
    """``contactlab train-model``: train a world model offline on a dataset, tracking the probe."""

    env: EnvConfig = field(default_factory=EnvConfig)
    world_model: WorldModelConfig = field(default_factory=WorldModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    probe: ProbeSetConfig = field(default_factory=ProbeSetConfig)
    dataset: str = MISSING  #: dataset folder (from ``contactlab collect``)
    seed: int = 0  #: model initialisation and batch sampling seed
    out_dir: str = "runs"  #: parent folder of run folders
    run_name: str | None = None  #: run folder name; default train-model-<scene>-<config hash>

    def __post_init__(self) -> None:
        if not Path(self.dataset).is_dir():
            raise ConfigError(f"dataset={self.dataset!r}: no such dataset folder")
        check_numbers(self)
        check_folder_name("run_name", self.run_name)
        check_writable_parent("out_dir", self.out_dir)


OBSERVATIONS = ("states", "pixels")


@dataclass(frozen=True)
class LoopConfig:
    """The active-learning schedule (``loop.*``).

    Attributes:
        warmup: env steps of uniform random actions before the explorer takes over and the
            world model first trains (it needs data before it can guide anything).
        update_every: env steps between training rounds.
        updates_per_step: gradient updates per collected transition (the same for every
            source in a comparison): each round brings the total to ``updates_per_step *
            env_step``, so the warm-up data is caught up on at the first round.
        batch_size: sequences per world-model update.
        eval_every: env steps between probe evaluations (the curve's regular grid).
        eval_points: extra evaluations spaced evenly in log(step) from the end of the
            warm-up to the budget (``agent/schedule.py``), so a curve resolves the early part
            of a run at any budget; 0 or 1: only the grid, the end of the warm-up and the
            final step.
        checkpoint_every: env steps between checkpoints (taken at the next episode end).
        observe_actions: false makes this a "video" source: the learner never sees the
            actions; it stores, and its world model is conditioned on, the agent's observed
            next state (13 floats per agent) instead.
        observation: what the world model learns from: ``"states"`` (the flat state vector)
            or ``"pixels"`` (frames of the states, ``pixels.size`` square, learned by the pixel
            model of :mod:`world_model.pixels`; only for a video source,
            ``observe_actions=false``).
        passive_fraction: the mixing sweep: this fraction of the episodes after the warm-up,
            evenly interleaved, is acted by ``passive_policy`` instead of the explorer (the
            learner sees the actions either way). 0: all active.
        passive_policy: ``"demonstrator"`` (the video sources' scripted pusher) or
            ``"random"``.
        collectors: env copies stepped in parallel by Ray actors (``agent/sweep/collectors.py``)
            for the uniform-random part of the run: the warm-up, and the whole budget for
            ``agent=random``. 1 (the default) uses no Ray at all; the explorer and planner
            always act on the driver.
    """

    warmup: int = 1000
    update_every: int = 100
    updates_per_step: float = 0.25
    batch_size: int = 128
    eval_every: int = 2000
    eval_points: int = 12
    checkpoint_every: int = 2000
    observe_actions: bool = True
    observation: str = "states"
    passive_fraction: float = 0.0
    passive_policy: str = "demonstrator"
    collectors: int = 1

    def __post_init__(self) -> None:
        for key in (
            "warmup", "update_every", "batch_size", "eval_every", "checkpoint_every", "collectors"
        ):  # fmt: skip
            value = getattr(self, key)
            if value < (0 if key == "warmup" else 1):
                raise ValueError(
                    f"loop.{key} must be >= {0 if key == 'warmup' else 1}, got {value!r}"
                )
        if self.eval_points < 0:
            raise ValueError(f"loop.eval_points must be >= 0, got {self.eval_points!r}")
        if not self.updates_per_step > 0:
            raise ValueError(f"loop.updates_per_step must be > 0, got {self.updates_per_step!r}")
        _check_choice("loop.observation", self.observation, OBSERVATIONS)
        _check_choice("loop.passive_policy", self.passive_policy, ("demonstrator", "random"))
        if not 0.0 <= self.passive_fraction <= 1.0:
            raise ValueError(
                f"loop.passive_fraction must be in [0, 1], got {self.passive_fraction!r}"
            )


EXPLORERS = ("mpc", "ppo", "sac", "random", "demonstrator")


@dataclass(frozen=True)
class AgentConfig:
    """The explorer (config group ``agent``)."""

    name: str = "mpc"  #: mpc | ppo | sac | random | demonstrator (scripted pusher)
    mpc: MPCConfig = field(default_factory=MPCConfig)  #: planner settings, for name=mpc
    sb3_n_steps: int = 512  #: ppo: env steps per rollout
    sb3_batch_size: int = 64  #: ppo/sac minibatch size
    sb3_learning_starts: int = 500  #: sac: env steps before gradient updates
    sb3_train_freq: int = 4  #: sac: env steps between gradient updates

    def __post_init__(self) -> None:
        _check_choice("agent.name", self.name, EXPLORERS)
        for key in ("sb3_n_steps", "sb3_batch_size", "sb3_learning_starts", "sb3_train_freq"):
            _check_positive(f"agent.{key}", getattr(self, key))


@dataclass(frozen=True)
class RunConfig:
    """``contactlab run``: active learning in one scene (the main job)."""

    env: EnvConfig = field(default_factory=EnvConfig)
    world_model: WorldModelConfig = field(default_factory=WorldModelConfig)
    curiosity: CuriosityConfig = field(default_factory=CuriosityConfig)
    agent: AgentConfig = field(default_factory=AgentConfig)
    loop: LoopConfig = field(default_factory=LoopConfig)
    probe: ProbeSetConfig = field(default_factory=ProbeSetConfig)
    pixels: PixelModelConfig = field(
        default_factory=PixelModelConfig
    )  #: the pixel world model, for loop.observation=pixels
    budget: int = 20_000  #: env steps (stored transitions) to collect
    seed: int = 0  #: seeds everything: env starts, model init, sampling, planner noise
    threads: int = 1  #: torch CPU threads (1: small batched ops lose to thread spin-up on 2 cores)
    out_dir: str = "runs"  #: parent folder of run folders
    run_name: str | None = None  #: run folder name; default run-<scene>-<config hash>

    def __post_init__(self) -> None:
        check_numbers(self)  # every number finite and in sane bounds, seeds in [0, 2**32)
        _check_positive("budget", self.budget)
        _check_positive("threads", self.threads)
        check_folder_name("run_name", self.run_name)
        if self.loop.warmup >= self.budget:
            raise ConfigError(f"loop.warmup={self.loop.warmup} must be < budget={self.budget}")
        if self.loop.passive_fraction > 0 and (
            self.agent.name not in ("mpc", "random") or not self.loop.observe_actions
        ):
            raise ConfigError(
                f"loop.passive_fraction={self.loop.passive_fraction} mixes passive episodes into "
                "an active run: it needs agent=mpc or agent=random and loop.observe_actions=true, "
                f"not agent={self.agent.name}, observe_actions={self.loop.observe_actions}"
            )
        if self.loop.passive_fraction > 0 and self.loop.collectors > 1:
            raise ConfigError(
                f"loop.passive_fraction={self.loop.passive_fraction} with loop.collectors="
                f"{self.loop.collectors}: parallel collectors act randomly and would ignore the "
                "passive episodes; use loop.collectors=1 for a mixing run"
            )
        if self.loop.observation == "pixels" and self.loop.observe_actions:
            raise ConfigError(
                "loop.observation=pixels is the video_pixels source: it needs "
                "loop.observe_actions=false (the learner sees frames, never actions)"
            )
        if not self.loop.observe_actions and self.agent.name not in ("demonstrator", "random"):
            raise ConfigError(
                f"loop.observe_actions=false (a video source) needs a behaviour policy the learner "
                f"does not control: agent=demonstrator or agent=random, not agent={self.agent.name}"
            )
        if self.loop.collectors > 1 and self.agent.name in ("ppo", "sac"):
            raise ConfigError(
                f"loop.collectors={self.loop.collectors} needs an explorer driven by our own loop "
                f"(random, mpc, demonstrator); agent={self.agent.name} steps its own env"
            )
        check_run_memory(self)
        check_writable_parent("out_dir", self.out_dir)


T = TypeVar("T")


def load_config(name: str, schema: type[T], overrides: list[str]) -> tuple[T, DictConfig]:
    """Compose ``configs/<name>.yaml`` with ``overrides`` and validate it against ``schema``.

    Returns the typed config and the resolved ``DictConfig`` (saved in the run folder).
    Raises :class:`ConfigError` naming the key for any bad input.
    """
    if not CONFIG_DIR.is_dir():
        raise ConfigError(f"config folder not found: {CONFIG_DIR} (set CONTACTLAB_CONFIGS)")
    _refuse_hydra_overrides(name, overrides)
    _check_group_options(overrides)
    # The schema is the first entry of each command's defaults list (``<name>_schema``), so
    # every schema key can be overridden and an unknown key fails during composition.
    schema_node = OmegaConf.structured(schema)
    _make_writable(schema_node)  # frozen dataclasses mark nodes read-only; instances stay frozen
    ConfigStore.instance().store(name=f"{name}_schema", node=schema_node)
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
        raise ConfigError(_type_error(exc) or _explain(str(exc), schema)) from None
    except AttributeError as exc:  # "+key=..." added a key the frozen schema does not have
        found = re.search(r"field '([^']+)'", str(exc))
        key = found.group(1) if found else str(exc)
        raise ConfigError(
            f"unknown key {key!r}: not a key of the {name} config (its keys: "
            f"`contactlab {name.replace('_', ' ')} --print-config`)"
        ) from None
    except LimitError as exc:
        raise ConfigError(str(exc)) from None
    except ValueError as exc:  # a part's own __post_init__ check (e.g. WorldModelConfig)
        message = str(exc)
        for cls, key in _SCHEMA_KEYS.items():  # name the config key, not the class
            message = message.replace(f"{cls}.", f"{key}.")
        raise ConfigError(message) from None
    if isinstance(typed, ConfigError):  # pragma: no cover - to_object re-raises, kept for mypy
        raise typed
    try:
        check_numbers(typed)  # the schemas without a check of their own (demo, collect...)
    except LimitError as exc:
        raise ConfigError(str(exc)) from None
    return typed, merged  # type: ignore[return-value]


def group_options(group: str) -> list[str]:
    """The options of config group ``group`` (``configs/<group>/*.yaml``)."""
    return sorted(p.stem for p in (CONFIG_DIR / group).glob("*.yaml"))


def _check_group_options(overrides: list[str]) -> None:
    """``group=option`` must name a file of the group: say which, with the closest one, instead
    of Hydra's search-path dump (and instead of silently ignoring an optional group)."""
    for override in overrides:
        key, sep, value = override.lstrip("+~").partition("=")
        if not sep or "." in key or not (CONFIG_DIR / key).is_dir() or value == "null":
            continue
        options = group_options(key)
        if value not in options:
            close = difflib.get_close_matches(value, options, n=1, cutoff=0.5)
            hint = f" Did you mean {key}={close[0]}?" if close else ""
            raise ConfigError(
                f"{key}={value!r} is not an option of {key}.{hint} Options: {options}"
            )


_SCHEMA_KEYS = {
    "WorldModelConfig": "world_model",
    "CuriosityConfig": "curiosity",
    "LabelConfig": "env.labels",
    "ProbeConfig": "probe",
}


def _refuse_hydra_overrides(name: str, overrides: list[str]) -> None:
    """Hydra's own settings (``hydra.*``, ``hydra/...`` groups: callbacks, launchers, run
    folders) are not keys of any contactlab config: refuse them like any unknown key."""
    for override in overrides:
        key = override.lstrip("+~").split("=", 1)[0].strip()
        if key == "hydra" or key.startswith(("hydra.", "hydra/")):
            raise ConfigError(
                f"unknown key {key!r}: not a key of the {name} config (contactlab takes no "
                "hydra.* overrides: Hydra's callbacks, launchers and run folders are not used)"
            )


_TYPE_NAMES = {
    "Integer": "an integer",
    "Float": "a number",
    "Boolean": "true or false",
    "String": "a string",
}


def _type_error(exc: BaseException) -> str | None:
    """``"budget must be an integer, got 'abc'"`` for a value of the wrong type, else None."""
    seen: BaseException | None = exc
    for _ in range(5):  # Hydra wraps OmegaConf's ValidationError
        if seen is None:
            break
        text = str(seen)
        found = re.search(r"Value '(.*)' of type '\w+' could not be converted to (\w+)", text)
        key = re.search(r"full_key: (\S+)", text)
        if found and key:
            expected = _TYPE_NAMES.get(found.group(2), f"of type {found.group(2)}")
            return f"{key.group(1)} must be {expected}, got {found.group(1)!r}"
        found = re.search(r"Value '(.*)' is not a valid bool", text)
        if found and key:
            return f"{key.group(1)} must be true or false, got {found.group(1)!r}"
        seen = seen.__cause__ or seen.__context__
    return None


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
