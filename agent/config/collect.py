"""``contactlab collect``: record transitions with a fixed policy into a dataset."""

from __future__ import annotations

from dataclasses import dataclass, field

from agent.config.env import EnvConfig
from agent.config.errors import check_choice, check_positive


@dataclass(frozen=True)
class CollectConfig:
    """``contactlab collect``: record transitions with a fixed policy into a dataset."""

    env: EnvConfig = field(default_factory=EnvConfig)
    policy: str = "random"  #: random (uniform actions) | probe (the probe set's policy)
    steps: int = 50_000  #: transitions to record
    seed: int = 0  #: env and policy seed
    out: str | None = None  #: dataset folder; default data/<scene>-<policy>-<steps>-seed<seed>

    def __post_init__(self) -> None:
        check_choice("policy", self.policy, ("random", "probe"))
        check_positive("steps", self.steps)
