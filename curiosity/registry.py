"""Curiosity signals by name (``curiosity.name``): the table :func:`build_curiosity` reads and
``CuriosityConfig`` validates against.

A built-in entry is a ``"module:function"`` string, imported at its first use, so that checking
a config (before anything is built) never imports torch. Adding a signal is one new file
holding its class and builder plus one line here, or, outside the package, the decorator::

    @register_signal("my_signal")
    def build_my_signal(cfg, model, metric, make_model):
        return MySignal(model, metric)

(``docs/curiosity.md``: adding a curiosity signal).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from world_model.registry import Registry

if TYPE_CHECKING:  # torch-free at run time
    from curiosity.config import CuriosityConfig
    from curiosity.protocol import IntrinsicReward
    from curiosity.state_metric import StateMetric
    from world_model.protocol import WorldModel


class SignalBuilder(Protocol):
    """Builds the raw signal; :func:`~curiosity.build.build_curiosity` adds the normaliser.

    Args:
        cfg: the curiosity config (its own hyper-parameters are fields of it).
        model: the world model the signal reads.
        metric: the state distance over ``cfg.entity_kinds`` (``metric.weight`` is the
            ``(D,)`` entity mask).
        make_model: builds a fresh model of the same architecture, or ``None``.
    """

    def __call__(
        self,
        cfg: CuriosityConfig,
        model: WorldModel,
        metric: StateMetric,
        make_model: Callable[[], WorldModel] | None,
    ) -> IntrinsicReward: ...


#: ``curiosity.name`` -> builder, in the order ``contactlab --help`` lists them.
SIGNALS: Registry[SignalBuilder | str] = Registry(
    "CuriosityConfig.name",
    {
        "prediction_error": "curiosity.prediction_error:build_prediction_error",
        "disagreement": "curiosity.disagreement:build_disagreement",
        "rnd": "curiosity.rnd:build_rnd",
        "learning_progress": "curiosity.learning_progress:build_learning_progress",
    },
)


def register_signal(name: str) -> Callable[[SignalBuilder], SignalBuilder]:
    """Decorator: register a signal builder as ``curiosity.name=<name>``."""
    return SIGNALS.decorator(name)


def signal_builder(name: str) -> SignalBuilder:
    """The builder registered as ``name`` (imported on first use)."""
    builder: SignalBuilder = SIGNALS.resolved(name)
    return builder
