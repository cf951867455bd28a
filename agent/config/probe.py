"""``probe.*`` and ``contactlab probe make``: the held-out probe set of a scene."""

from __future__ import annotations

from dataclasses import dataclass, field

from agent.config.env import EnvConfig
from agent.config.errors import ConfigError, check_positive
from envs.probe_config import ProbeConfig


@dataclass(frozen=True)
class ProbeSetConfig:
    """The held-out probe set every run of a scene is scored on (``docs/world_model.md``).

    Where it lives and its seed, plus the collection settings of
    :class:`envs.probe.ProbeConfig` (whose defaults these are)."""

    path: str | None = None  #: folder of the probe set; default <root>/<scene>-<distractor>
    root: str = "probes"  #: parent folder of default probe-set paths
    seed: int = 1_000_003  #: collection seed, apart from any run seed
    seq_len: int = ProbeConfig.seq_len  #: steps per probe sequence (the open-loop horizon)
    min_per_regime: int = ProbeConfig.min_per_regime  #: object entity-transitions per regime
    max_steps: int = ProbeConfig.max_steps  #: give up (naming short regimes) after these steps
    #: the content hash (or its first 8+ hex digits) the probe set must have: a set that
    #: differs (other code, physics or labels) stops the command before any work, and
    #: ``contactlab probe make`` keeps an existing set that has it (exit 0) instead of refusing
    expect_hash: str | None = None

    def __post_init__(self) -> None:
        if self.expect_hash is not None:
            h = str(self.expect_hash).lower()
            if not 8 <= len(h) <= 64 or any(c not in "0123456789abcdef" for c in h):
                raise ConfigError(
                    f"probe.expect_hash={self.expect_hash!r} must be 8 to 64 hex digits (a probe "
                    "set's content hash, or its start; quote one that reads as a number, "
                    "e.g. probe.expect_hash=\"'12e45678'\")"
                )
        for key in ("seq_len", "min_per_regime", "max_steps"):
            check_positive(f"probe.{key}", getattr(self, key))
        if self.max_steps < self.seq_len:
            raise ConfigError(
                f"probe.max_steps={self.max_steps} must be >= probe.seq_len={self.seq_len}"
            )

    def collection(self) -> ProbeConfig:
        """The :class:`envs.probe.ProbeConfig` the probe set is collected with."""
        return ProbeConfig(
            seq_len=self.seq_len, min_per_regime=self.min_per_regime, max_steps=self.max_steps
        )


@dataclass(frozen=True)
class ProbeMakeConfig:
    """``contactlab probe make``: build a scene's probe set."""

    env: EnvConfig = field(default_factory=EnvConfig)
    probe: ProbeSetConfig = field(default_factory=ProbeSetConfig)
