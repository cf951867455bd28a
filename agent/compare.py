"""``contactlab compare``: does acting beat watching? Every source x seed at an equal budget.

The protocol (``docs/compare.md``): the same world-model family, the same gradient updates
per collected transition, the same held-out probe set for every source; every model is scored
on the objects with the agent's own motion given. Each run is an ordinary ``contactlab run``
with ``source=<name>`` and ``seed=<k>``, in ``<out_dir>/<compare name>/runs/<source>-s<k>``,
so running the same command again resumes unfinished runs and skips finished ones. All run
configs are validated before the first run starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import DictConfig

from agent.config import ConfigError, RunConfig, load_config
from agent.run_dir import config_hash, open_run_dir

SOURCES = ("random", "active", "video_states", "video_random")


@dataclass(frozen=True)
class CompareConfig:
    """``contactlab compare``; overrides for every run go after ``run.``, e.g. ``run.env=tower``."""

    sources: list[str] = field(
        default_factory=lambda: ["random", "video_states", "active"]
    )  #: sources compared
    seeds: int = 5  #: seeds per source (0 .. seeds-1)
    budget: int = 20_000  #: env steps (stored transitions) per run, equal for every source
    out_dir: str = "runs"  #: parent folder of the comparison folder
    name: str | None = None  #: comparison folder name; default compare-<scene>-<config hash>
    baseline: str = "random"  #: the source whose final impact error sets the threshold

    def __post_init__(self) -> None:
        for source in self.sources:
            if source not in SOURCES:
                raise ConfigError(
                    f"sources: {source!r} is not allowed; choose from {list(SOURCES)}"
                )
        if len(set(self.sources)) != len(self.sources):
            raise ConfigError(f"sources: {self.sources} lists a source twice")
        if self.baseline not in self.sources:
            raise ConfigError(f"baseline={self.baseline!r} must be one of sources={self.sources}")
        if self.seeds < 1 or self.budget < 1:
            raise ConfigError(f"seeds={self.seeds} and budget={self.budget} must be >= 1")


@dataclass(frozen=True)
class PlannedRun:
    source: str
    seed: int
    cfg: RunConfig
    resolved: DictConfig


def plan_runs(cfg: CompareConfig, run_overrides: list[str], runs_dir: Path) -> list[PlannedRun]:
    """Compose and validate the config of every source x seed (no env or model is built)."""
    planned = []
    for source in cfg.sources:
        for seed in range(cfg.seeds):
            overrides = [
                *run_overrides, f"source={source}", f"seed={seed}", f"budget={cfg.budget}",
                f"out_dir={runs_dir}", f"run_name={source}-s{seed}",
            ]  # fmt: skip
            try:
                run_cfg, resolved = load_config("run", RunConfig, overrides)
            except ConfigError as exc:
                raise ConfigError(f"run config of source={source} seed={seed}: {exc}") from None
            planned.append(PlannedRun(source, seed, run_cfg, resolved))
    return planned


def compare(cfg: CompareConfig, resolved: DictConfig, run_overrides: list[str]) -> Path:
    """Run every planned run that is not finished, then write the summary, table and plots."""
    scene = load_config("run", RunConfig, run_overrides)[0].env.name
    name = cfg.name or f"compare-{scene}-{config_hash(resolved)}"
    folder, _ = open_run_dir(cfg.out_dir, name, resolved, seed=0)
    (folder / "run_overrides.txt").write_text("\n".join(run_overrides) + "\n")
    planned = plan_runs(cfg, run_overrides, folder / "runs")
    from agent.compare_summary import summarize
    from agent.run import run

    for i, p in enumerate(planned, 1):
        done = folder / "runs" / f"{p.source}-s{p.seed}" / "summary.json"
        if done.exists():
            print(f"[{i}/{len(planned)}] {p.source} seed {p.seed}: finished earlier, kept")
            continue
        print(f"[{i}/{len(planned)}] {p.source} seed {p.seed}")
        run(p.cfg, p.resolved)
    summarize(folder, cfg.sources, cfg.baseline)
    return folder
