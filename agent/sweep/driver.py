"""``contactlab sweep``: every grid point a Ray Tune trial running ``agent.run.run``, results
in a table.

The sweep folder ``<sweep.out_dir>/sweep-<hash of the spec>/`` holds ``sweep.json`` (the spec
and each trial's overrides), one run folder per trial, ``results.csv`` and ``tune-<hash>/`` (Tune's
experiment state). Ray Tune does the scheduling: a ``Tuner`` over ``tune.grid_search`` of the
trial names, ``TuneConfig(max_concurrent_trials=sweep.max_concurrent)``, each trial an actor
holding ``threads`` CPUs, ``FailureConfig(max_failures=sweep.max_retries)`` re-running a trial
whose process or node died, and the ``ResultGrid`` gathered into ``results.csv``. A trial is
its run folder: every attempt resumes from the run's own ``checkpoint.pt``, so Tune needs no
checkpoints of its own. A Python error in a trial is reported as that trial's failure and not
retried (it would fail the same way again).

Rerunning the same command continues the sweep: trials whose ``summary.json`` exists (made
with the same config) are skipped untouched, and Tune's experiment is restored
(``Tuner.restore``), re-running the unfinished trials, which resume from their checkpoints.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from agent.resume_rules import check_run_config
from agent.run_dir import RunConfigChanged, write_json_atomic
from agent.sweep.cluster import ClusterError, check_shared_storage, cluster_cpus, connect
from agent.sweep.config import SweepConfig
from agent.sweep.grid import Grid, Trial, build_trials, parse_grid, spec_json
from agent.sweep.results import format_table, trial_row, write_csv
from agent.sweep.trial import TrialTask

SPEC = "sweep.json"
RESULTS = "results.csv"


def plan_sweep(settings: SweepConfig, run_overrides: list[str]) -> tuple[Grid, Path, list[Trial]]:
    """Parse and validate the whole grid (no Ray, no files): ``(grid, sweep folder, trials)``.

    Raises:
        ConfigError: naming the trial and key; RunConfigChanged: a trial folder made with
            another config.
    """
    grid = parse_grid(run_overrides)
    sweep_dir = Path(settings.sweep.out_dir) / f"sweep-{grid.sweep_id}"
    trials = build_trials(grid, sweep_dir)
    for trial in trials:
        trial_state(trial)  # a folder from another config fails here, before anything starts
    return grid, sweep_dir, trials


def trial_state(trial: Trial) -> str:
    """``"done"`` (``summary.json`` of this very config), ``"resume"`` (a checkpoint) or
    ``"new"``."""
    saved = trial.run_dir / "config.yaml"
    if saved.exists():  # the rule contactlab run resumes by (agent.resume_rules)
        try:
            check_run_config(saved, trial.cfg, trial.resolved)
        except RunConfigChanged as exc:
            raise RunConfigChanged(
                f"trial {trial.name}: {exc}\nRemove that folder to rerun the trial, or set "
                "sweep.out_dir=..."
            ) from None
    if saved.exists() and (trial.run_dir / "summary.json").exists():
        return "done"
    if saved.exists() and (trial.run_dir / "checkpoint.pt").exists():
        return "resume"
    return "new"


def run_sweep(settings: SweepConfig, run_overrides: list[str]) -> int:
    """Run the sweep; return the exit status (0: every trial finished)."""
    grid, sweep_dir, trials = plan_sweep(settings, run_overrides)
    states = {t.name: trial_state(t) for t in trials}
    sweep_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(sweep_dir / SPEC, spec_json(grid, trials))
    counts = {s: sum(v == s for v in states.values()) for s in ("done", "resume", "new")}
    print(
        f"sweep {sweep_dir}: {len(trials)} trial{'s' * (len(trials) != 1)} "
        f"({counts['done']} finished earlier, "
        f"{counts['resume']} to resume, {counts['new']} to start)",
        flush=True,
    )
    outcome: dict[str, tuple[str, dict[str, Any] | None]] = {}
    for trial in trials:
        if states[trial.name] == "done":
            print(f"skip {trial.name}: finished earlier (summary.json)", flush=True)
            summary = json.loads((trial.run_dir / "summary.json").read_text())
            outcome[trial.name] = ("skipped", summary)
    interrupted = False
    if any(state != "done" for state in states.values()):
        # Every trial goes to Tune (one experiment per grid, so that it can be restored);
        # the finished ones return their summary at once.
        done, interrupted = run_trials(trials, settings, sweep_dir)
        outcome.update({k: v for k, v in done.items() if states[k] != "done"})
    rows = [trial_row(t.name, t.point, *outcome.get(t.name, ("not run", None))) for t in trials]
    write_csv(sweep_dir / RESULTS, rows)
    print(format_table(rows, list(grid.axes)))
    print(f"results: {sweep_dir / RESULTS}", flush=True)
    failed = [r["trial"] for r in rows if r["status"] not in ("done", "skipped")]
    if interrupted:
        return 130
    if failed:
        print(f"{len(failed)} trial(s) did not finish: {', '.join(failed)}", flush=True)
        return 1
    return 0


def run_trials(
    trials: list[Trial], settings: SweepConfig, folder: Path
) -> tuple[dict[str, tuple[str, dict[str, Any] | None]], bool]:
    """Run (or resume) ``trials`` as Ray Tune trials on the configured Ray; also used by
    ``contactlab compare executor=ray``.

    Returns:
        ``(outcome, interrupted)``: trial name -> ``("done", summary)`` or ``("failed",
        None)``, and whether Ctrl-C stopped it.
    """
    states = {t.name: trial_state(t) for t in trials}
    outcome: dict[str, tuple[str, dict[str, Any] | None]] = {}
    session = connect(settings.ray.address, settings.ray.num_cpus)
    try:
        import ray

        nodes = [n for n in ray.nodes() if n["Alive"]]
        print(f"ray: {session.address}, {len(nodes)} node(s), {cluster_cpus()} CPUs", flush=True)
        if not session.local or len(nodes) > 1:
            check_shared_storage(folder)
        check_fits(trials, nodes)
        _execute(trials, states, settings, outcome, folder)
    except KeyboardInterrupt:
        print("\ninterrupted: rerun the same command to resume", flush=True)
        return outcome, True
    finally:
        session.stop()
    return outcome, False


def check_fits(trials: list[Trial], nodes: list[dict[str, Any]]) -> None:
    """Refuse trials that could never be scheduled (they would wait forever): more torch
    threads than any node has CPUs, or more collector actors than the cluster has CPUs."""
    per_node = max((n["Resources"].get("CPU", 0) for n in nodes), default=0)
    total = sum(n["Resources"].get("CPU", 0) for n in nodes)
    for trial in trials:
        if trial.cfg.threads > per_node:
            raise ClusterError(
                f"trial {trial.name}: threads={trial.cfg.threads} needs that many CPUs on one "
                f"node, and the largest node has {per_node:g}"
            )
        if trial.cfg.loop.collectors > 1 and trial.cfg.loop.collectors > total:
            raise ClusterError(
                f"trial {trial.name}: loop.collectors={trial.cfg.loop.collectors} needs one CPU "
                f"per collector actor, and the cluster has {total:g}"
            )


def _execute(
    todo: list[Trial],
    states: dict[str, str],
    settings: SweepConfig,
    outcome: dict[str, tuple[str, dict[str, Any] | None]],
    folder: Path,
) -> None:
    """Run the trials with Ray Tune (restoring the sweep's Tune experiment if it has one) and
    put each one's outcome in ``outcome``."""
    from ray import tune

    from agent.sweep.tune import Progress, experiment_dir, make_trainable

    # Tune's default console output (a config box, tables, TensorBoard hints) would bury the
    # sweep's own lines; the legacy reporter honours verbose=0.
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    cwd = os.getcwd()
    tasks = {t.name: TrialTask(t.name, cwd, t.cfg, t.resolved) for t in todo}
    trainable = make_trainable(tasks)
    # One Tune experiment per set of trials: the same command restores it; a comparison that
    # gained sources starts a new one (its finished runs return at once).
    path = experiment_dir(folder, list(tasks)).resolve()
    progress = Progress(tasks, states)
    if tune.Tuner.can_restore(str(path)):
        tuner = tune.Tuner.restore(
            str(path), trainable, resume_unfinished=True, resume_errored=True
        )
        # The restored run config holds the killed driver's callback: print through ours.
        tuner._local_tuner.get_run_config().callbacks = [progress]  # type: ignore[union-attr]
    else:
        tuner = tune.Tuner(
            trainable,
            param_space={"trial": tune.grid_search(list(tasks))},
            tune_config=tune.TuneConfig(
                max_concurrent_trials=settings.sweep.max_concurrent or len(tasks)
            ),
            run_config=tune.RunConfig(
                name=path.name,
                storage_path=str(path.parent),
                failure_config=tune.FailureConfig(max_failures=settings.sweep.max_retries),
                verbose=0,
                callbacks=[progress],
            ),
        )
    results = tuner.fit()
    for result in (results[i] for i in range(len(results))):
        name = (result.config or {}).get("trial")
        if name not in tasks:
            continue
        metrics = result.metrics or {}
        if "summary" in metrics:
            outcome[name] = ("done", metrics["summary"])
        elif "failed" in metrics or result.error is not None:
            outcome[name] = ("failed", None)
