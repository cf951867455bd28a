"""``contactlab train-model``: train a world model offline on a dataset."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import MISSING

from agent.config.env import EnvConfig
from agent.config.errors import ConfigError, check_positive
from agent.config.probe import ProbeSetConfig
from agent.limits import check_folder_name, check_numbers, check_writable_parent
from world_model.config import WorldModelConfig


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
            check_positive(f"train.{key}", getattr(self, key))


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
