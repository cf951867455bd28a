"""A sweep's grid: run overrides with comma lists expanded into trials, all validated up front.

``env=push_blocks,billiards seed=0,1 experiment=debug`` is two axes (``env``, ``seed``) and one
fixed override: four trials, in the order of the axes on the command line (the last varies
fastest, as in Hydra's own multirun). Hydra's sweep syntax works too (``seed=range(0,5)``).
Each trial's run folder is ``<sweep folder>/<name>``, its name built from its axis values
(``env-billiards__seed-1``), so the same command, in any argument order, maps a trial to the
same folder.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf

from agent.config import ConfigError, RunConfig, load_config

#: run keys the sweep sets itself for every trial
RESERVED = ("out_dir", "run_name")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME = 100


@dataclass(frozen=True)
class Grid:
    """The parsed spec: ``axes`` (key -> values, command-line order) and ``fixed`` overrides."""

    overrides: tuple[str, ...]
    axes: dict[str, list[str]]
    fixed: tuple[str, ...]

    @property
    def sweep_id(self) -> str:
        """Hash of the spec (order-independent): the same command finds the same folder."""
        text = json.dumps(sorted(o.strip() for o in self.overrides))
        return hashlib.sha256(text.encode()).hexdigest()[:10]

    def points(self) -> list[dict[str, str]]:
        """Every combination of axis values, the last axis varying fastest."""
        keys = list(self.axes)
        return [
            dict(zip(keys, vals, strict=True)) for vals in itertools.product(*self.axes.values())
        ]


@dataclass(frozen=True)
class Trial:
    """One grid point, validated: its typed config and resolved config (what the run saves)."""

    name: str
    point: dict[str, str]  #: axis key -> value
    overrides: tuple[str, ...]  #: every run override of this trial, out_dir and run_name included
    cfg: RunConfig
    resolved: DictConfig

    @property
    def run_dir(self) -> Path:
        return Path(self.cfg.out_dir) / self.name

    def config_yaml(self) -> str:
        return OmegaConf.to_yaml(self.resolved, resolve=True)


def parse_grid(overrides: list[str]) -> Grid:
    """Split run overrides into axes (comma lists, ``range(...)``...) and fixed ones.

    Raises:
        ConfigError: unparsable override, an axis given twice, or a key the sweep sets itself.
    """
    try:
        parsed = OverridesParser.create().parse_overrides(overrides=list(overrides))
    except HydraException as exc:
        raise ConfigError(str(exc)) from None
    axes: dict[str, list[str]] = {}
    fixed: list[str] = []
    for override in parsed:
        if override.key_or_group in RESERVED:
            raise ConfigError(
                f"{override.key_or_group} is set by the sweep for every trial (each trial runs in "
                "<sweep.out_dir>/sweep-<hash>/<trial name>); use sweep.out_dir=... instead"
            )
        if override.is_sweep_override():
            key = override.get_key_element()
            if key in axes:
                raise ConfigError(f"{key} is swept twice")
            axes[key] = list(override.sweep_string_iterator())
        else:
            fixed.append(str(override.input_line))
    return Grid(tuple(overrides), axes, tuple(fixed))


def trial_name(point: dict[str, str]) -> str:
    """``key-value`` pairs, keys sorted (the name does not depend on the order of the axes on
    the command line, like the sweep hash), joined by ``__``, made safe for a folder name and
    a Hydra value."""
    if not point:
        return "trial"
    parts = [f"{k.lstrip('+~')}-{v}" for k, v in sorted(point.items())]
    name = _UNSAFE.sub("_", "__".join(parts)).strip("._") or "trial"
    if len(name) > _MAX_NAME:
        digest = hashlib.sha256(json.dumps(point, sort_keys=True).encode()).hexdigest()[:8]
        name = f"{name[: _MAX_NAME - 9]}-{digest}"
    return name


def _quote(path: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_./-]+", path):
        return path
    if "'" in path:
        raise ConfigError(f"sweep.out_dir={path!r}: a path with a quote cannot be passed on")
    return f"'{path}'"


def build_trials(grid: Grid, sweep_dir: Path) -> list[Trial]:
    """Compose and validate every trial's run config, before anything is started.

    Raises:
        ConfigError: naming the trial and the bad key (the first bad trial found).
    """
    trials: list[Trial] = []
    names: set[str] = set()
    for point in grid.points():
        name = trial_name(point)
        if name in names:  # two values that differ only in unsafe characters
            digest = hashlib.sha256(json.dumps(point, sort_keys=True).encode()).hexdigest()[:8]
            name = f"{name[: _MAX_NAME - 9]}-{digest}"
        names.add(name)
        overrides = (
            *grid.fixed,
            *(f"{k}={v}" for k, v in point.items()),
            f"out_dir={_quote(str(sweep_dir))}",
            f"run_name={name}",
        )
        try:
            cfg, resolved = load_config("run", RunConfig, list(overrides))
        except ConfigError as exc:
            where = " ".join(f"{k}={v}" for k, v in point.items()) or "the run"
            raise ConfigError(f"trial {where}: {exc}") from None
        trials.append(Trial(name, point, overrides, cfg, resolved))
    return trials


def spec_json(grid: Grid, trials: list[Trial]) -> dict[str, Any]:
    """What ``sweep.json`` records: the spec and every trial's overrides."""
    return {
        "sweep_id": grid.sweep_id,
        "overrides": list(grid.overrides),
        "axes": grid.axes,
        "fixed": list(grid.fixed),
        "trials": [
            {"name": t.name, "point": t.point, "overrides": list(t.overrides)} for t in trials
        ],
    }
