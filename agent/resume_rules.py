"""Which settings a run may differ in from its saved ``config.yaml`` and still resume
(:func:`agent.run_dir.open_run_dir`), for ``contactlab run`` and the trials of a sweep.
Torch-free, so a sweep checks its trial folders before anything heavy is imported."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from agent.config import RunConfig
from agent.explorers.registry import EXPLORERS
from agent.run_dir import check_resumable


@functools.cache
def run_defaults() -> DictConfig:
    """The run schema's own defaults (read-only): a setting newer than a saved run resumes at
    these."""
    return OmegaConf.structured(RunConfig)


def check_run_config(
    saved: Path, cfg: RunConfig, resolved: DictConfig, record: bool = True
) -> None:
    """:func:`agent.run_dir.check_resumable` of a run's saved ``config.yaml`` by this module's
    rule (what the run never reads, the schema's defaults)."""
    check_resumable(saved, resolved, unread_settings(cfg), run_defaults(), record=record)


#: curiosity settings read by one signal only: (key prefix, the signal that reads them)
_SIGNAL_SETTINGS = (("rnd_", "rnd"), ("lp_", "learning_progress"))


def unread_settings(cfg: RunConfig) -> Callable[[str], bool]:
    """Whether a dotted config key is one this run never reads, so a saved config may differ
    in it and the run still resume (:func:`agent.run_dir.open_run_dir`): the ``agent.*``
    settings of explorers other than ``agent.name`` (``ExplorerSpec.reads``), the settings of
    curiosity signals other than ``curiosity.name`` (``curiosity.rnd_*``, ``curiosity.lp_*``)
    and ``pixels.*`` in a run that does not observe pixels."""
    reads = EXPLORERS.get(cfg.agent.name).reads
    pixels = cfg.loop.observation == "pixels"
    signal = cfg.curiosity.name

    def unread(key: str) -> bool:
        group, _, rest = key.partition(".")
        if group == "pixels":
            return not pixels
        if group == "curiosity":
            for prefix, owner in _SIGNAL_SETTINGS:
                if rest.startswith(prefix):
                    return signal != owner
            return False
        if group == "agent" and rest and reads is not None:
            setting = rest.split(".")[0]
            return setting != "name" and setting not in reads
        return False

    return unread
