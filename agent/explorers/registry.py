"""Explorers by name (``agent.name``): what ``AgentConfig`` validates against, what the run's
checks ask ("can this one act for a video source?") and what :func:`agent.parts.build_explorer`
builds.

A built-in builder is a ``"module:function"`` string, imported at its first use, so that
checking a config never imports torch or SB3. Adding an explorer is one new file holding its
class and builder plus one line here, or, outside the package, the decorator::

    @register_explorer("my_explorer")
    def build_my_explorer(inputs: ExplorerInputs) -> Explorer:
        return MyExplorer(inputs.action_dim, inputs.child_rng())

(``docs/explorers.md``: adding an explorer).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from world_model.registry import Registry, resolve

if TYPE_CHECKING:  # torch-free at run time
    from agent.config import RunConfig
    from agent.explorers.base import Explorer, RandomExplorer
    from curiosity.curiosity_signal import CuriositySignal
    from envs.layout import EntityLayout
    from world_model.models.base import LatentDynamicsModel


@dataclass(frozen=True)
class ExplorerInputs:
    """What an explorer of our own loop is built from (by :func:`agent.parts.build_explorer`).

    Attributes:
        cfg: the run's config (``cfg.agent`` holds the explorers' settings).
        layout: the scene's entity layout.
        action_dim: ``A``, the scene's action size.
        model: the world model (an MPC planner imagines with it).
        signal: the normalised curiosity signal (``signal(obs, action, None, predicted=...)``
            scores imagined transitions).
        warmup: the run's random warm-up explorer (the ``random`` explorer is that one).
        rng: the run's seed stream; draw a child seed with :meth:`child_rng`, once.
    """

    cfg: RunConfig
    layout: EntityLayout
    action_dim: int
    model: LatentDynamicsModel
    signal: CuriositySignal
    warmup: RandomExplorer
    rng: np.random.Generator

    def child_rng(self) -> np.random.Generator:
        """A generator seeded from the run's stream (as every built-in explorer does)."""
        return np.random.default_rng(self.rng.integers(2**63))


ExplorerBuilder = Callable[[ExplorerInputs], "Explorer"]


@dataclass(frozen=True)
class ExplorerSpec:
    """One explorer and what the run's config checks need to know about it.

    Attributes:
        build: ``(ExplorerInputs) -> Explorer`` for an explorer of our own loop; for one that
            steps the env itself (``steps_env``), ``(env, seed, agent_cfg) -> SB3 algorithm``
            (:func:`agent.explorers.sb3.build_ppo`). A ``"module:function"`` string is imported
            at first use.
        steps_env: drives the env itself (SB3's ``learn``); no parallel collectors.
        behaviour_policy: reads no curiosity: a policy the learner does not control, so it may
            act for a video source (``loop.observe_actions=false``).
        mixable: ``loop.passive_fraction`` may mix passive episodes into its run.
        uniform_random: acts uniformly at random like the warm-up, so parallel collectors
            (``loop.collectors``) may collect its whole budget, not only the warm-up.
        reads: the ``agent.*`` settings it reads besides ``agent.name`` (e.g. ``("seek",)``
            for ``agent.seek.*``); a run resumes whatever the others say
            (:func:`agent.resume_rules.unread_settings`). ``None``: all of them (the safe
            default for an explorer registered from outside).
    """

    build: ExplorerBuilder | Callable[..., Any] | str
    steps_env: bool = False
    behaviour_policy: bool = False
    mixable: bool = False
    uniform_random: bool = False
    reads: tuple[str, ...] | None = None

    def builder(self) -> Callable[..., Any]:
        """``build``, imported if it is a ``"module:function"`` string."""
        built: Callable[..., Any] = resolve(self.build)
        return built


#: ``agent.name`` -> explorer, in the order ``contactlab --help`` lists them.
EXPLORERS: Registry[ExplorerSpec] = Registry(
    "agent.name",
    {
        "mpc": ExplorerSpec("agent.explorers.base:build_mpc", mixable=True, reads=("mpc",)),
        "seek": ExplorerSpec("agent.explorers.seek:build_seek", mixable=True, reads=("seek",)),
        "ppo": ExplorerSpec(
            "agent.explorers.sb3:build_ppo",
            steps_env=True,
            reads=("sb3_n_steps", "sb3_batch_size"),
        ),
        "sac": ExplorerSpec(
            "agent.explorers.sb3:build_sac",
            steps_env=True,
            reads=("sb3_batch_size", "sb3_learning_starts", "sb3_train_freq"),
        ),
        "random": ExplorerSpec(
            "agent.explorers.base:build_random",
            behaviour_policy=True,
            mixable=True,
            uniform_random=True,
            reads=(),
        ),
        "demonstrator": ExplorerSpec(
            "agent.explorers.base:build_demonstrator", behaviour_policy=True, reads=()
        ),
    },
)


def register_explorer(
    name: str, *, behaviour_policy: bool = False, mixable: bool = False
) -> Callable[[ExplorerBuilder], ExplorerBuilder]:
    """Decorator: register an explorer of our own loop as ``agent.name=<name>``."""

    def add(builder: ExplorerBuilder) -> ExplorerBuilder:
        EXPLORERS.register(
            name, ExplorerSpec(builder, behaviour_policy=behaviour_policy, mixable=mixable)
        )
        return builder

    return add


def explorer_names(**flags: bool) -> tuple[str, ...]:
    """The registered names whose spec has every flag as given, e.g. ``steps_env=False``."""
    return tuple(
        name
        for name in EXPLORERS.names()
        if all(getattr(EXPLORERS.get(name), flag) == value for flag, value in flags.items())
    )
