"""Settings of ``contactlab sweep`` itself (``ray.*``, ``sweep.*``; ``configs/sweep.yaml``).

Every other override of the command is a run override, swept when it holds a comma list.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agent.config import ConfigError


@dataclass(frozen=True)
class RaySettings:
    """Where the trials run (``ray.*``)."""

    #: an existing cluster ("HOST:PORT" of its head, or "auto"); null: $RAY_ADDRESS if set,
    #: else a local Ray started (on 127.0.0.1 only) and stopped for you; "local" forces that
    address: str | None = None
    #: CPUs of a local Ray (null: all cores); ignored when joining a cluster
    num_cpus: int | None = None

    def __post_init__(self) -> None:
        if self.num_cpus is not None and self.num_cpus < 1:
            raise ConfigError(f"ray.num_cpus={self.num_cpus!r} must be >= 1")


@dataclass(frozen=True)
class SweepSettings:
    """How the sweep runs (``sweep.*``)."""

    out_dir: str = "runs"  #: parent of the sweep folder ``sweep-<hash of the spec>``
    max_retries: int = 3  #: re-runs of a trial whose worker process or node died (each resumes)
    max_concurrent: int | None = None  #: trials at once; null: as many as the CPUs allow

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ConfigError(f"sweep.max_retries={self.max_retries!r} must be >= 0")
        if self.max_concurrent is not None and self.max_concurrent < 1:
            raise ConfigError(f"sweep.max_concurrent={self.max_concurrent!r} must be >= 1")


@dataclass(frozen=True)
class SweepConfig:
    """``contactlab sweep``: its own settings; the grid comes from the run overrides."""

    ray: RaySettings = field(default_factory=RaySettings)
    sweep: SweepSettings = field(default_factory=SweepSettings)


#: top-level keys that belong to the sweep, not to the runs
SWEEP_KEYS = ("ray", "sweep")
