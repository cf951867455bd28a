"""Settings of the MPC planner (:mod:`agent.explorers.mpc`), importable without torch."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MPCConfig:
    """Planner settings (config group ``agent=mpc``).

    Attributes:
        horizon: imagined steps per action sequence.
        population: action sequences sampled per iteration.
        elites: best sequences the distribution is refit to.
        iterations: sample-score-refit rounds per action.
        temperature: MPPI weighting of elites, on returns normalised to unit spread.
        init_std: std of the sampling distribution at each call (actions live in [-1, 1]).
        min_std: floor of the std, so the planner keeps exploring alternatives.
        discount: per-step discount of imagined intrinsic reward.
        momentum: fraction of the previous mean kept at each refit (smooths plans).
        action_repeat: env steps each planned action is held for; the planner looks
            ``horizon * action_repeat`` steps ahead and replans every ``action_repeat`` steps,
            so the reach grows without raising the cost per env step.
    """

    horizon: int = 6
    population: int = 64
    elites: int = 8
    iterations: int = 2
    temperature: float = 2.0
    init_std: float = 0.6
    min_std: float = 0.05
    discount: float = 0.95
    momentum: float = 0.1
    action_repeat: int = 4

    def __post_init__(self) -> None:
        for key in ("horizon", "population", "elites", "iterations", "action_repeat"):
            if getattr(self, key) < 1:
                raise ValueError(f"agent.mpc.{key} must be >= 1, got {getattr(self, key)!r}")
        if self.elites > self.population:
            raise ValueError(
                f"agent.mpc.elites={self.elites} must be <= population={self.population}"
            )
        if not 0 < self.discount <= 1 or not 0 <= self.momentum < 1:
            raise ValueError("agent.mpc.discount must be in (0, 1] and momentum in [0, 1)")
