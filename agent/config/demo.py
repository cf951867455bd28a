"""``contactlab demo``: labelled rollouts of the scenes, rendered to video."""

from __future__ import annotations

from dataclasses import dataclass, field

from agent.config.env import EnvConfig
from agent.config.errors import ConfigError, check_choice, check_positive
from envs import SCENES


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
            check_choice("scenes", scene, tuple(SCENES))
        check_choice("policy", self.policy, ("strike", "random"))
        check_positive("steps", self.steps)
        for key in ("width", "height"):
            value = getattr(self, key)
            if value <= 0 or value % 16:
                raise ConfigError(
                    f"{key}={value!r} must be a positive multiple of 16 (video encoding)"
                )
