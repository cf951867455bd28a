"""``env.*``: which scene to build and how (shared by every command that builds a scene)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from agent.config.errors import ConfigError, check_choice, check_positive
from envs import SCENES
from envs.regimes import LabelConfig

SCENE_NAMES = (*SCENES, "mjcf", "gym")
ENTITY_MODES = ("roots", "bodies")
LINK_KINDS = ("agent", "object")
DISTRACTORS = ("none", "force", "teleport")


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
                check_positive(f"env.physics.{key}", value)

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
    #: contact-labeller thresholds (envs.regimes.LabelConfig, docs/labels.md)
    labels: LabelConfig = field(default_factory=LabelConfig)
    physics: PhysicsConfig = field(default_factory=PhysicsConfig)  #: contact-physics overrides

    def __post_init__(self) -> None:
        check_choice("env.name", self.name, SCENE_NAMES)
        check_choice("env.distractor", self.distractor, DISTRACTORS)
        check_choice("env.entities", self.entities, ENTITY_MODES)
        check_choice("env.links", self.links, LINK_KINDS)
        if self.name == "mjcf" and not self.mjcf_path:
            raise ConfigError("env.name=mjcf needs env.mjcf_path=/path/to/scene.xml")
        if self.mjcf_path and not Path(self.mjcf_path).is_file():
            raise ConfigError(f"env.mjcf_path={self.mjcf_path!r}: no such file")
        if self.name == "gym":
            _check_gym_id(self.id)
        if self.frame_skip is not None or self.name != "gym":
            check_positive("env.frame_skip", self.frame_skip or 0)
        check_positive("env.max_episode_steps", self.max_episode_steps)


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
