"""``contactlab compare``: does acting beat watching? Every source x seed at an equal budget.

The protocol (``docs/compare.md``): the same world-model family, the same gradient updates
per collected transition, the same held-out probe set for every source; every model is scored
on the objects with the agent's own motion given. Each run is an ordinary ``contactlab run``
with ``source=<name>`` and ``seed=<k>``, in ``<out_dir>/<compare name>/runs/<source>-s<k>``,
so running the same command again resumes unfinished runs and skips finished ones. All run
configs are validated before the first run starts.

Sources: ``random``, ``active``, ``video_states``, ``video_pixels``, ``video_random``, and the
mixing sweep's ``mix<P>``: the active source with ``P`` % of its episodes (after the warm-up)
acted by the passive demonstrator (``loop.passive_fraction=P/100``).

The comparison folder's identity is the budget and the run overrides: adding sources or seeds
to a comparison (the same command with a longer ``sources`` list or more ``seeds``) reuses
every finished run. ``executor=ray`` runs the pending runs as Ray Tune trials, ``max_concurrent``
at once, through the same machinery as ``contactlab sweep`` (a worker that dies is re-run,
resuming from the run's checkpoint).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from omegaconf import DictConfig, OmegaConf

from agent.config import ConfigError, RunConfig, load_config
from agent.resume_rules import check_run_config
from agent.run_dir import config_hash, is_check_key, open_run_dir, write_json_atomic
from agent.sweep.config import RaySettings

SOURCES = ("random", "active", "video_states", "video_pixels", "video_random")
_MIX = re.compile(r"mix(\d{1,3})")
#: keys of the compare config that do not change what any run does
NOT_IDENTITY = (
    *("sources", "seeds", "baseline", "name", "out_dir"),
    *("executor", "max_concurrent", "max_retries", "ray"),
)


def source_overrides(source: str) -> list[str]:
    """The run overrides that make a run of ``source`` (``mix<P>`` included)."""
    if source in SOURCES:
        return [f"source={source}"]
    mix = _MIX.fullmatch(source)
    if mix is None or not 0 <= int(mix.group(1)) <= 100:
        raise ConfigError(
            f"sources: {source!r} is not allowed; choose from {list(SOURCES)} or mix<P> "
            "(P = 0..100, the percent of passive episodes in an active run, e.g. mix25)"
        )
    return ["source=active", f"loop.passive_fraction={int(mix.group(1)) / 100}"]


@dataclass(frozen=True)
class CompareConfig:
    """``contactlab compare``; overrides for every run go after ``run.``, e.g. ``run.env=tower``."""

    sources: list[str] = field(
        default_factory=lambda: ["random", "video_states", "video_pixels", "active"]
    )  #: sources compared
    seeds: int = 5  #: seeds per source (0 .. seeds-1)
    budget: int = 20_000  #: env steps (stored transitions) per run, equal for every source
    out_dir: str = "runs"  #: parent folder of the comparison folder
    name: str | None = None  #: comparison folder name; default compare-<scene>-<config hash>
    baseline: str = "random"  #: the source whose final impact error sets the threshold
    executor: str = "sequential"  #: sequential | ray (pending runs as Ray tasks)
    max_concurrent: int | None = None  #: executor=ray: runs at once; null: as the CPUs allow
    max_retries: int = 3  #: executor=ray: re-runs of a run whose worker died (each resumes)
    ray: RaySettings = field(default_factory=RaySettings)  #: executor=ray: where to run

    def __post_init__(self) -> None:
        for source in self.sources:
            source_overrides(source)
        if self.executor not in ("sequential", "ray"):
            raise ConfigError(f"executor={self.executor!r}: choose sequential or ray")
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

    @property
    def name(self) -> str:
        return f"{self.source}-s{self.seed}"


def plan_runs(
    cfg: CompareConfig, run_overrides: list[str], runs_dir: Path, record: bool = True
) -> list[PlannedRun]:
    """Compose and validate the config of every source x seed (no env or model is built).

    A run folder that exists already must hold the same settings, by the rule a run resumes
    by (:func:`agent.run_dir.check_resumable`; ``record=False`` for a dry run, which writes
    nothing), finished or not: a comparison never puts a finished run of another config
    beside new ones (say, after the code's defaults changed).

    Raises:
        ConfigError: a bad config, naming the source and seed.
        RunConfigChanged: a run folder of another config, naming it and the keys.
    """
    planned = []
    for source in cfg.sources:
        for seed in range(cfg.seeds):
            overrides = [
                *run_overrides, *source_overrides(source), f"seed={seed}",
                f"budget={cfg.budget}", f"out_dir={runs_dir}", f"run_name={source}-s{seed}",
            ]  # fmt: skip
            try:
                run_cfg, resolved = load_config("run", RunConfig, overrides)
            except ConfigError as exc:
                raise ConfigError(f"run config of source={source} seed={seed}: {exc}") from None
            run = PlannedRun(source, seed, run_cfg, resolved)
            saved = runs_dir / run.name / "config.yaml"
            if saved.exists() or saved.is_symlink():
                check_run_config(saved, run_cfg, resolved, record=record)
            planned.append(run)
    return planned


def check_explorers(planned: list[PlannedRun]) -> None:
    """Every run of a comparison is in one scene: an explorer that cannot drive it (``seek``
    on a robot arm) is refused before anything is created, not after the other sources' runs.

    Raises:
        ConfigError: from :func:`agent.run.check_scene_fits_explorer`.
    """
    from agent.run import check_scene_fits_explorer

    for p in planned:
        if p.cfg.agent.name == "seek":
            check_scene_fits_explorer(p.cfg)
            return


def identity(resolved: DictConfig) -> DictConfig:
    """The part of the compare config that names the comparison: everything a run sees, but
    the checks of its inputs (``run_dir.CHECK_KEYS``, e.g. ``run.probe.expect_hash=...``)."""
    kept = {k: v for k, v in resolved.items() if k not in NOT_IDENTITY}
    if "run_overrides" in kept:
        kept["run_overrides"] = [
            o for o in kept["run_overrides"] if not is_check_key(str(o).split("=")[0].lstrip("+~"))
        ]
    return OmegaConf.create(kept)


def compare_folder(cfg: CompareConfig, resolved: DictConfig, run_overrides: list[str]) -> Path:
    """The comparison folder (not created): ``<out_dir>/<name>``, by default
    ``compare-<scene>-<hash of what every run sees>``."""
    scene = load_config("run", RunConfig, run_overrides)[0].env.name
    return Path(cfg.out_dir) / (cfg.name or f"compare-{scene}-{config_hash(identity(resolved))}")


def compare(cfg: CompareConfig, resolved: DictConfig, run_overrides: list[str]) -> Path:
    """Run every planned run that is not finished, then write the summary, table and plots."""
    ident = identity(resolved)
    name = compare_folder(cfg, resolved, run_overrides).name
    # a comparison folder from before a setting existed resumes at that setting's default
    defaults = identity(OmegaConf.structured(CompareConfig))
    folder, _ = open_run_dir(cfg.out_dir, name, ident, seed=0, defaults=defaults)
    (folder / "run_overrides.txt").write_text("\n".join(run_overrides) + "\n")
    write_json_atomic(
        folder / "compare.json",
        cast(dict, OmegaConf.to_container(resolved, resolve=True)),
    )
    planned = plan_runs(cfg, run_overrides, folder / "runs")
    check_explorers(planned)
    from agent.compare_summary import summarize

    todo = []
    for i, p in enumerate(planned, 1):
        if (folder / "runs" / p.name / "summary.json").exists():
            print(f"[{i}/{len(planned)}] {p.source} seed {p.seed}: finished earlier, kept")
        else:
            todo.append(p)
    if cfg.executor == "ray" and todo:
        _run_on_ray(cfg, todo, folder)
    else:
        from agent.run import run

        for i, p in enumerate(todo, 1):
            print(f"[{i}/{len(todo)}] {p.source} seed {p.seed}")
            run(p.cfg, p.resolved)
    summarize(folder, cfg.sources, cfg.baseline, cfg.seeds)
    return folder


def _run_on_ray(cfg: CompareConfig, todo: list[PlannedRun], folder: Path) -> None:
    """The pending runs as Ray tasks (``contactlab sweep``'s executor); raises
    :class:`RuntimeError` naming the runs that did not finish."""
    from agent.sweep.config import SweepConfig, SweepSettings
    from agent.sweep.driver import run_trials
    from agent.sweep.grid import Trial

    trials = [
        Trial(p.name, {"source": p.source, "seed": str(p.seed)}, (), p.cfg, p.resolved)
        for p in todo
    ]
    settings = SweepConfig(
        ray=cfg.ray,
        sweep=SweepSettings(
            out_dir=str(folder), max_retries=cfg.max_retries, max_concurrent=cfg.max_concurrent
        ),
    )
    outcome, interrupted = run_trials(trials, settings, folder)
    failed = [t.name for t in trials if outcome.get(t.name, ("not run",))[0] != "done"]
    if interrupted or failed:
        raise RuntimeError(
            f"{folder}: runs {failed} did not finish (their logs: runs/<name>/trial.log); "
            "rerun the same command to resume them"
        )
