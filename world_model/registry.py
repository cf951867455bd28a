"""Name -> builder tables: the world models here, and the generic :class:`Registry` that the
curiosity signals (:mod:`curiosity.registry`) and the explorers (:mod:`agent.explorers.registry`)
use too.

A built-in entry is a ``"module:function"`` string, imported at its first use, so that checking
a config name (which happens before anything is built) never imports torch. A new part
registers with a decorator from its own module::

    @register_model("my_model")
    def build_my_model(cfg, layout, action_dim, dt): ...

Adding one to the package is its own file plus one line in the table (``docs/world_model.md``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

if TYPE_CHECKING:  # torch-free at run time
    from envs.layout import EntityLayout
    from world_model.config import WorldModelConfig
    from world_model.models.base import LatentDynamicsModel

T = TypeVar("T")


class UnknownName(ValueError):
    """A config names a part no one registered; the message lists the known names."""


def resolve(ref: Any) -> Any:
    """The object a ``"module:attr"`` string names (imported now); anything else as it is."""
    if not isinstance(ref, str):
        return ref
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


class Registry(Generic[T]):
    """The parts of one kind by name, in registration order.

    Args:
        key: the config key that names a part of this kind, e.g. ``"WorldModelConfig.kind"``
            (``load_config`` rewrites a class name into the key the user typed).
        entries: the built-in parts.
    """

    def __init__(self, key: str, entries: dict[str, T]) -> None:
        self.key = key
        self._entries = dict(entries)

    def register(self, name: str, entry: T) -> None:
        """Add ``entry`` under ``name``; a name that is taken raises ``ValueError``."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"{self.key}: a registered name must be a non-empty string")
        if name in self._entries:
            raise ValueError(f"{self.key}: {name!r} is registered already")
        self._entries[name] = entry

    def unregister(self, name: str) -> None:
        """Remove ``name`` (for tests that register a part of their own)."""
        self._entries.pop(name, None)

    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def check(self, name: object) -> None:
        """Raise :class:`UnknownName` unless ``name`` is registered."""
        if name not in self._entries:
            raise UnknownName(f"{self.key} must be one of {self.names()}, got {name!r}")

    def get(self, name: str) -> T:
        """The entry of ``name``; :class:`UnknownName` listing the known names otherwise."""
        self.check(name)
        return self._entries[name]

    def resolved(self, name: str) -> Any:
        """The entry of ``name``, a ``"module:attr"`` string imported now (:func:`resolve`)."""
        return resolve(self.get(name))

    def decorator(self, name: str) -> Callable[[Any], Any]:
        """A decorator that registers what it decorates under ``name`` and returns it."""

        def add(entry: Any) -> Any:
            self.register(name, entry)
            return entry

        return add


class ModelBuilder(Protocol):
    """Builds a world model sized from the env: ``(cfg, layout, action_dim, dt) -> model``
    (``dt``: seconds per env step, ``None`` where the caller has no env)."""

    def __call__(
        self, cfg: WorldModelConfig, layout: EntityLayout, action_dim: int, dt: float | None
    ) -> LatentDynamicsModel: ...


#: ``WorldModelConfig.kind`` -> builder (``world_model/models/__init__.py`` holds the built-ins).
MODELS: Registry[ModelBuilder | str] = Registry(
    "WorldModelConfig.kind",
    {
        "graph": "world_model.models:build_graph",
        "mlp": "world_model.models:build_mlp",
        "interaction": "world_model.models:build_interaction",
    },
)


def register_model(name: str) -> Callable[[ModelBuilder], ModelBuilder]:
    """Decorator: register a world-model builder as ``world_model.kind=<name>``."""
    return MODELS.decorator(name)


def model_builder(kind: str) -> ModelBuilder:
    """The builder registered as ``kind`` (imported on first use)."""
    builder: ModelBuilder = MODELS.resolved(kind)
    return builder
