"""Reading a finished (or unfinished) run folder: config, metrics, summary, probe set, model.

Works on the folders of ``contactlab run`` (trainer state under ``state["learner"]``, with the
curiosity signal's state) and ``contactlab train-model`` (``state["trainer"]``, no curiosity).
Nothing here writes to the folder.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from omegaconf import DictConfig, OmegaConf

from agent.config import EnvConfig
from agent.run_dir import read_run_config
from envs.layout import EntityLayout
from world_model.dataset import META_FILE, Transitions, load_dataset
from world_model.metrics_log import read_metrics
from world_model.probe import ProbeSet, load_probe_set

CHECKPOINT = "checkpoint.pt"


class ReportError(ValueError):
    """A run folder lacks what a report needs; the message names the folder and the file."""


@dataclass
class RunFolder:
    """The files of one run folder, read once.

    Attributes:
        path: the folder.
        config: the resolved ``config.yaml``.
        summary: ``summary.json`` (empty while the run is unfinished).
        info: ``run.json`` (commit, versions, seed, command line).
    """

    path: Path
    config: DictConfig
    summary: dict[str, Any]
    info: dict[str, Any]

    @classmethod
    def load(cls, path: str | Path) -> RunFolder:
        """Read ``path``; raises :class:`ReportError` if it is not a run folder."""
        path = Path(path)
        if not (path / "config.yaml").is_file():
            raise ReportError(f"{path}: not a run folder (no config.yaml)")
        config = read_run_config(path / "config.yaml")  # RunDirError (a ValueError) naming it
        return cls(path, config, _read_json(path / "summary.json"), _read_json(path / "run.json"))

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def is_active_run(self) -> bool:
        """``contactlab run`` (as opposed to ``train-model``)."""
        return "curiosity" in self.config

    @property
    def source(self) -> str:
        """Where the training data came from: a run of ``contactlab compare``
        (``<comparison>/runs/<source>-s<seed>``) by the compare's source name (``random``,
        ``active``, ``mix25``, as in its table); otherwise what the dataset records, e.g.
        ``mpc/disagreement/actions``."""
        named = re.fullmatch(r"(.+)-s\d+", self.path.name)
        if named and (self.path.parent.parent / "compare.json").is_file():
            return named.group(1)
        meta = self.path / "data" / META_FILE
        if meta.is_file():
            source = json.loads(meta.read_text()).get("extra", {}).get("source")
            if source:
                return str(source)
        if self.is_active_run:
            c = self.config
            return f"active/{c.curiosity.name}/{c.agent.name}"
        return f"offline/{Path(str(self.config.get('dataset', 'dataset'))).name}"

    @property
    def condition(self) -> str:
        """What the run's model is conditioned on: ``"action"``, or ``"agent_motion"`` (the
        agent's observed next state) for a "video" source run with ``loop.observe_actions``
        false."""
        loop = self.config.get("loop") or {}
        return "action" if loop.get("observe_actions", True) else "agent_motion"

    def env_config(self) -> EnvConfig:
        """The run's :class:`EnvConfig`, rebuilt from ``config.yaml``."""
        return typed_section(EnvConfig, self.config.env)

    def metrics(self) -> list[dict[str, float]]:
        """Rows of ``metrics.jsonl`` in order; ``null`` (non-finite) becomes NaN."""
        path = self.path / "metrics.jsonl"
        if not path.is_file():
            return []
        rows = []
        for raw in read_metrics(path):  # MetricsError (a ValueError) naming the file and line
            rows.append({k: math.nan if v is None else float(v) for k, v in raw.items()})
        return rows

    def probe(self) -> ProbeSet:
        """The probe set the run was scored on.

        Its path is ``summary.json["probe"]["path"]`` (or the config's default), relative to
        the directory the run was started from; that directory is unknown, so the path is
        tried as given, then relative to the run folder's parent and grandparent.
        """
        recorded = self.summary.get("probe", {}).get("path")
        if recorded is None:
            p = self.config.probe
            if p.get("path"):
                recorded = str(p.path)
            else:
                from agent.probes import labels_suffix  # imports MuJoCo: only here

                env = self.config.env
                labels = env.get("labels")
                suffix = labels_suffix(dict(labels)) if labels is not None else ""
                recorded = (
                    f"{p.root}/{env.name}-{env.distractor}-n{p.min_per_regime}-h{p.seq_len}"
                    f"-s{p.seed}{suffix}"
                )
        candidates = [Path(recorded)]
        if not Path(recorded).is_absolute():
            candidates += [self.path.parent / recorded, self.path.parent.parent / recorded]
        for candidate in candidates:
            if (candidate / META_FILE).is_file():
                return load_probe_set(candidate)
        tried = ", ".join(str(c) for c in candidates)
        raise ReportError(f"{self.path}: probe set {recorded!r} not found (tried {tried})")

    def dataset(self) -> Transitions | None:
        """The transitions the model was trained on: ``data/`` of an active run, the config's
        ``dataset`` of a ``train-model`` run; ``None`` if neither can be found."""
        candidates = [self.path / "data"]
        if "dataset" in self.config:
            d = Path(str(self.config.dataset))
            candidates += [d, self.path.parent.parent / d] if not d.is_absolute() else [d]
        for candidate in candidates:
            if (candidate / META_FILE).is_file():
                return load_dataset(candidate)
        return None


T = TypeVar("T")


def typed_section(schema: type[T], node: Any) -> T:
    """A section of a saved config as its (frozen) dataclass; keys added to the schema after
    the run was made take their defaults."""
    base = OmegaConf.structured(schema)
    _make_writable(base)  # frozen dataclasses mark nodes read-only; the instance stays frozen
    return OmegaConf.to_object(OmegaConf.merge(base, node))  # type: ignore[return-value]


def _make_writable(node: DictConfig) -> None:
    OmegaConf.set_readonly(node, False)
    for key in node:
        child = node._get_node(key)
        if isinstance(child, DictConfig):
            _make_writable(child)


def layout_of(probe: ProbeSet) -> EntityLayout:
    """The observation layout of a probe set's scene."""
    return EntityLayout.from_dict(probe.data.meta.layout)


def final_metrics(run: RunFolder) -> dict[str, float]:
    """``summary.json["final"]``, or the last metrics row of an unfinished run."""
    final = run.summary.get("final")
    if isinstance(final, dict) and final:
        return {k: float(v) if v is not None else math.nan for k, v in final.items()}
    rows = run.metrics()
    return {k: v for k, v in rows[-1].items() if k != "step"} if rows else {}


def column(rows: list[dict[str, float]], key: str) -> tuple[np.ndarray, np.ndarray]:
    """``(steps, values)`` of the rows that hold ``key``."""
    steps = [r["step"] for r in rows if key in r]
    values = [r[key] for r in rows if key in r]
    return np.asarray(steps, dtype=np.float64), np.asarray(values, dtype=np.float64)


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportError(f"{path}: not a readable JSON file ({exc})") from None
    return value if isinstance(value, dict) else {}
