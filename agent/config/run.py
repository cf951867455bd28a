"""``contactlab run``: active learning in one scene (the main job), and its parts' settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from agent.config.env import EnvConfig
from agent.config.errors import ConfigError, check_choice, check_positive
from agent.config.probe import ProbeSetConfig
from agent.explorers.mpc_config import MPCConfig
from agent.explorers.registry import EXPLORERS, explorer_names
from agent.explorers.seek_config import SeekConfig
from agent.limits import check_folder_name, check_numbers, check_run_memory, check_writable_parent
from curiosity.config import CuriosityConfig
from world_model.config import PixelModelConfig, WorldModelConfig
from world_model.registry import UnknownName

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
        recent_fraction: this fraction of every world-model batch is drawn uniformly from
            the newest ``recent_window`` stored transitions, the rest uniformly from all of
            them (0: all uniform). Uniform replay of a growing store trains the transition
            collected at step ``t`` of a ``T``-step run about ``ln(T / t)`` times the
            average, so what a run collects last is barely learned
            (docs/results/online_schedule).
        recent_window: transitions counted as recent (see ``recent_fraction``).
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
    recent_fraction: float = 0.0
    recent_window: int = 1000

    def __post_init__(self) -> None:
        for key in (
            "warmup", "update_every", "batch_size", "eval_every", "checkpoint_every",
            "collectors", "recent_window",
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
        check_choice("loop.observation", self.observation, OBSERVATIONS)
        check_choice("loop.passive_policy", self.passive_policy, ("demonstrator", "random"))
        if not 0.0 <= self.recent_fraction <= 1.0:
            raise ValueError(
                f"loop.recent_fraction must be in [0, 1], got {self.recent_fraction!r}"
            )
        if not 0.0 <= self.passive_fraction <= 1.0:
            raise ValueError(
                f"loop.passive_fraction must be in [0, 1], got {self.passive_fraction!r}"
            )


@dataclass(frozen=True)
class AgentConfig:
    """The explorer (config group ``agent``)."""

    #: mpc | seek | ppo | sac | random | demonstrator (docs/explorers.md)
    name: str = "seek"
    mpc: MPCConfig = field(default_factory=MPCConfig)  #: planner settings, for name=mpc
    seek: SeekConfig = field(default_factory=SeekConfig)  #: contact-goal settings, name=seek
    sb3_n_steps: int = 512  #: ppo: env steps per rollout
    sb3_batch_size: int = 64  #: ppo/sac minibatch size
    sb3_learning_starts: int = 500  #: sac: env steps before gradient updates
    sb3_train_freq: int = 4  #: sac: env steps between gradient updates

    def __post_init__(self) -> None:
        try:
            EXPLORERS.check(self.name)  # the registered explorers (agent/explorers/registry.py)
        except UnknownName as exc:
            raise ConfigError(str(exc)) from None
        for key in ("sb3_n_steps", "sb3_batch_size", "sb3_learning_starts", "sb3_train_freq"):
            check_positive(f"agent.{key}", getattr(self, key))


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
        check_positive("budget", self.budget)
        check_positive("threads", self.threads)
        check_folder_name("run_name", self.run_name)
        if self.loop.warmup >= self.budget:
            raise ConfigError(f"loop.warmup={self.loop.warmup} must be < budget={self.budget}")
        explorer = EXPLORERS.get(self.agent.name)
        if self.loop.passive_fraction > 0 and (
            not explorer.mixable or not self.loop.observe_actions
        ):
            raise ConfigError(
                f"loop.passive_fraction={self.loop.passive_fraction} mixes passive episodes into "
                f"an active run: it needs {_agents(mixable=True)} and loop.observe_actions=true, "
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
        if not self.loop.observe_actions and not explorer.behaviour_policy:
            raise ConfigError(
                f"loop.observe_actions=false (a video source) needs a behaviour policy the learner "
                f"does not control: {_agents(behaviour_policy=True)}, not agent={self.agent.name}"
            )
        if self.loop.collectors > 1 and explorer.steps_env:
            own = ", ".join(explorer_names(steps_env=False))
            raise ConfigError(
                f"loop.collectors={self.loop.collectors} needs an explorer driven by our own loop "
                f"({own}); agent={self.agent.name} steps its own env"
            )
        check_run_memory(self)
        check_writable_parent("out_dir", self.out_dir)


def _agents(**flags: bool) -> str:
    """``agent=a or agent=b``: the registered explorers with these flags."""
    return " or ".join(f"agent={name}" for name in sorted(explorer_names(**flags)))
