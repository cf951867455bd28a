"""Composing a command's config with Hydra and checking it against its schema."""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import TypeVar

from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from agent.config.errors import ConfigError
from agent.config.explain import explain, type_error
from agent.limits import LimitError, check_numbers

CONFIG_DIR = Path(
    os.environ.get("CONTACTLAB_CONFIGS", Path(__file__).resolve().parents[2] / "configs")
)

T = TypeVar("T")


def load_config(name: str, schema: type[T], overrides: list[str]) -> tuple[T, DictConfig]:
    """Compose ``configs/<name>.yaml`` with ``overrides`` and validate it against ``schema``.

    Returns the typed config and the resolved ``DictConfig`` (saved in the run folder).
    Raises :class:`ConfigError` naming the key for any bad input.
    """
    if not CONFIG_DIR.is_dir():
        raise ConfigError(f"config folder not found: {CONFIG_DIR} (set CONTACTLAB_CONFIGS)")
    _refuse_hydra_overrides(name, overrides)
    _check_group_options(overrides)
    # The schema is the first entry of each command's defaults list (``<name>_schema``), so
    # every schema key can be overridden and an unknown key fails during composition.
    schema_node = OmegaConf.structured(schema)
    make_writable(schema_node)  # frozen dataclasses mark nodes read-only; instances stay frozen
    ConfigStore.instance().store(name=f"{name}_schema", node=schema_node)
    try:
        with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
            composed = compose(config_name=name, overrides=list(overrides))
        base = OmegaConf.structured(schema)
        make_writable(base)  # frozen dataclasses mark every node read-only; instances stay frozen
        merged = OmegaConf.merge(base, composed)
        typed = OmegaConf.to_object(merged)
    except ConfigError:
        raise
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(type_error(exc) or explain(str(exc), schema)) from None
    except AttributeError as exc:  # "+key=..." added a key the frozen schema does not have
        found = re.search(r"field '([^']+)'", str(exc))
        key = found.group(1) if found else str(exc)
        raise ConfigError(
            f"unknown key {key!r}: not a key of the {name} config (its keys: "
            f"`contactlab {name.replace('_', ' ')} --print-config`)"
        ) from None
    except LimitError as exc:
        raise ConfigError(str(exc)) from None
    except ValueError as exc:  # a part's own __post_init__ check (e.g. WorldModelConfig)
        message = str(exc)
        for cls, key in _SCHEMA_KEYS.items():  # name the config key, not the class
            message = message.replace(f"{cls}.", f"{key}.")
        raise ConfigError(message) from None
    if isinstance(typed, ConfigError):  # pragma: no cover - to_object re-raises, kept for mypy
        raise typed
    try:
        check_numbers(typed)  # the schemas without a check of their own (demo, collect...)
    except LimitError as exc:
        raise ConfigError(str(exc)) from None
    return typed, merged  # type: ignore[return-value]


def group_options(group: str) -> list[str]:
    """The options of config group ``group`` (``configs/<group>/*.yaml``)."""
    return sorted(p.stem for p in (CONFIG_DIR / group).glob("*.yaml"))


def _check_group_options(overrides: list[str]) -> None:
    """``group=option`` must name a file of the group: say which, with the closest one, instead
    of Hydra's search-path dump (and instead of silently ignoring an optional group)."""
    for override in overrides:
        key, sep, value = override.lstrip("+~").partition("=")
        if not sep or "." in key or not (CONFIG_DIR / key).is_dir() or value == "null":
            continue
        options = group_options(key)
        if value not in options:
            close = difflib.get_close_matches(value, options, n=1, cutoff=0.5)
            hint = f" Did you mean {key}={close[0]}?" if close else ""
            raise ConfigError(
                f"{key}={value!r} is not an option of {key}.{hint} Options: {options}"
            )


_SCHEMA_KEYS = {
    "WorldModelConfig": "world_model",
    "CuriosityConfig": "curiosity",
    "LabelConfig": "env.labels",
    "ProbeConfig": "probe",
}


def _refuse_hydra_overrides(name: str, overrides: list[str]) -> None:
    """Hydra's own settings (``hydra.*``, ``hydra/...`` groups: callbacks, launchers, run
    folders) are not keys of any contactlab config: refuse them like any unknown key."""
    for override in overrides:
        key = override.lstrip("+~").split("=", 1)[0].strip()
        if key == "hydra" or key.startswith(("hydra.", "hydra/")):
            raise ConfigError(
                f"unknown key {key!r}: not a key of the {name} config (contactlab takes no "
                "hydra.* overrides: Hydra's callbacks, launchers and run folders are not used)"
            )


def make_writable(node: DictConfig) -> None:
    OmegaConf.set_readonly(node, False)
    for key in node:
        child = node._get_node(key)
        if isinstance(child, DictConfig):
            make_writable(child)
