"""``contactlab sweep``: every grid point a Ray task running ``agent.run.run``, results in a table.

The sweep folder ``<sweep.out_dir>/sweep-<hash of the spec>/`` holds ``sweep.json`` (the spec
and each trial's overrides), one run folder per trial and ``results.csv``. Rerunning the same
command continues the sweep: trials whose ``summary.json`` exists (made with the same config)
are skipped untouched, trials with a ``checkpoint.pt`` resume from it, the rest start. A
trial's worker that dies (killed, out of memory, node lost) is re-run by Ray up to
``sweep.max_retries`` times, each attempt resuming from the trial's last checkpoint.
"""

from __future__ import annotations

import json
import os
import time
from collections import deque
from pathlib import Path
from typing import Any

from agent.run_dir import RunConfigChanged, write_json_atomic
from agent.sweep.cluster import ClusterError, check_shared_storage, cluster_cpus, connect
from agent.sweep.config import SweepConfig
from agent.sweep.grid import Grid, Trial, build_trials, parse_grid, spec_json
from agent.sweep.results import format_table, trial_row, write_csv
from agent.sweep.trial import LOG, TrialTask, run_trial

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
    if saved.exists() and saved.read_text() != trial.config_yaml():
        raise RunConfigChanged(
            f"trial {trial.name}: {trial.run_dir} was made with another config (see its "
            "config.yaml); remove that folder to rerun the trial, or set sweep.out_dir=..."
        )
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
    todo = [t for t in trials if states[t.name] != "done"]
    interrupted = False
    if todo:
        done, interrupted = run_trials(todo, settings, sweep_dir)
        outcome.update(done)
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
    """Run (or resume) ``trials`` as Ray tasks on the configured Ray; also used by
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
        _execute(trials, states, settings, outcome)
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
) -> None:
    """Submit the trials as Ray tasks (at most ``sweep.max_concurrent`` at once) and collect
    each one's summary as it finishes."""
    import ray
    from ray.exceptions import RayError

    task = ray.remote(
        max_retries=settings.sweep.max_retries,
        retry_exceptions=False,  # a bug or bad config fails the same way again
        max_calls=1,  # a fresh process per trial: no torch/MuJoCo state carried over
        runtime_env={"env_vars": {"TQDM_DISABLE": "1"}},  # progress bars would flood trial.log
    )(run_trial)
    cwd = os.getcwd()
    pending = deque(todo)
    running: dict[Any, tuple[Trial, float]] = {}
    limit = settings.sweep.max_concurrent or len(todo)
    n_done = 0
    while pending or running:
        while pending and len(running) < limit:
            trial = pending.popleft()
            verb = "resuming" if states[trial.name] == "resume" else "start"
            note = " from its checkpoint" if verb == "resuming" else ""
            print(f"{verb} {trial.name}{note}", flush=True)
            ref = task.options(num_cpus=trial.cfg.threads).remote(
                TrialTask(trial.name, cwd, trial.cfg, trial.resolved)
            )
            running[ref] = (trial, time.perf_counter())
        ready, _ = ray.wait(list(running), num_returns=1)
        trial, started = running.pop(ready[0])
        n_done += 1
        try:
            summary = ray.get(ready[0])
        except RayError as exc:
            outcome[trial.name] = ("failed", None)
            reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else repr(exc)
            print(
                f"[{n_done}/{len(todo)}] FAILED {trial.name} after "
                f"{time.perf_counter() - started:.0f} s: {reason} "
                f"(log: {trial.run_dir / LOG})",
                flush=True,
            )
            continue
        outcome[trial.name] = ("done", summary)
        impact = (summary.get("final") or {}).get("probe/impact/pos_mm")
        shown = f", impact {impact:.2f} mm" if isinstance(impact, float) else ""
        print(
            f"[{n_done}/{len(todo)}] done {trial.name}: {summary['env_steps']} env steps in "
            f"{summary['seconds']:.0f} s (attempt {summary['attempt']}){shown}",
            flush=True,
        )
