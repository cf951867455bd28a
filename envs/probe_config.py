"""How a probe set is made (:class:`ProbeConfig`), apart from :mod:`envs.probe` so that config
checks can read its defaults without importing MuJoCo."""

from __future__ import annotations

from dataclasses import dataclass

SCENARIOS = ("strike", "random", "launch", "drop")


@dataclass(frozen=True)
class ProbeConfig:
    """How a probe set is made.

    Attributes:
        seq_len: steps per sequence (the open-loop rollout horizon evaluated on it).
        min_per_regime: object entity-transitions required of every regime.
        max_steps: env steps after which collection gives up, naming the regimes still short.
        scenarios: which scenarios to cycle through (subset of :data:`SCENARIOS`).
        sequences_per_episode: sequences cut from one episode of the ``strike``/``random``
            scenarios (``launch``/``drop`` use one: their event is at the start).
    """

    seq_len: int = 10
    min_per_regime: int = 500
    max_steps: int = 100_000
    scenarios: tuple[str, ...] = SCENARIOS
    sequences_per_episode: int = 8

    def __post_init__(self) -> None:
        if self.seq_len < 1 or self.min_per_regime < 1 or self.max_steps < self.seq_len:
            raise ValueError(
                f"ProbeConfig: seq_len, min_per_regime >= 1 and max_steps >= seq_len ({self})"
            )
        unknown = set(self.scenarios) - set(SCENARIOS)
        if unknown or not self.scenarios:
            raise ValueError(
                f"ProbeConfig.scenarios: unknown {sorted(unknown)}; choose from {SCENARIOS}"
            )
