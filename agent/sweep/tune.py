"""The pieces the sweep hands to Ray Tune: the trainable (one trial = one run folder) and the
progress lines the sweep prints.

A trial reports once, at its end: ``{"summary": <its summary.json + seconds, attempt>}``, or
``{"failed": "<error>"}`` when the run raised. Reporting a Python error as a result, instead of
raising it, keeps Tune's ``FailureConfig`` retries for what they are for (a process or node
that died), since a bug or a bad config would fail the same way again.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import traceback
from pathlib import Path
from typing import Any

from ray import tune

from agent.sweep.trial import LOG, TrialTask, run_trial


def experiment_dir(folder: Path, names: list[str]) -> Path:
    """Tune's experiment folder for these trials: ``<folder>/tune-<hash of the names>``."""
    digest = hashlib.sha256(json.dumps(sorted(names)).encode()).hexdigest()[:8]
    return folder / f"tune-{digest}"


def _finished(task: TrialTask) -> dict[str, Any] | None:
    """The trial's ``summary.json`` if its run already finished (read, never rewritten)."""
    path = Path(task.cwd) / task.cfg.out_dir / task.name / "summary.json"
    if not path.is_file():
        return None
    return {**json.loads(path.read_text()), "seconds": 0.0, "attempt": 0}


def make_trainable(tasks: dict[str, TrialTask]) -> Any:
    """A Tune function trainable for ``tasks`` (trial name -> task), its config ``{"trial":
    name}``, each trial an actor holding ``threads`` CPUs (a fresh process per trial)."""

    def trainable(config: dict[str, Any], tasks: dict[str, TrialTask]) -> None:
        task = tasks[config["trial"]]
        done = _finished(task)
        if done is not None:  # finished by an earlier invocation: nothing to run
            tune.report({"summary": done})
            return
        try:
            summary = run_trial(task)
        except Exception as exc:  # noqa: BLE001 - reported as this trial's failure
            last = traceback.format_exception_only(type(exc), exc)[-1].strip()
            tune.report({"failed": last})
            return
        tune.report({"summary": summary})

    def resources(config: dict[Any, Any]) -> tune.PlacementGroupFactory:
        return tune.PlacementGroupFactory([{"CPU": float(tasks[config["trial"]].cfg.threads)}])

    return tune.with_resources(tune.with_parameters(trainable, tasks=tasks), resources)


class Progress(tune.Callback):
    """Prints ``start``/``resuming``, ``retrying``, ``done`` and ``FAILED`` lines per trial."""

    def __init__(self, tasks: dict[str, TrialTask], states: dict[str, str]) -> None:
        self.tasks, self.states = tasks, states
        self.started: dict[str, float] = {}
        self.n_done = 0
        self.total = sum(states.get(name) != "done" for name in tasks)

    def _say(self, line: str) -> None:
        print(line, flush=True)

    def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        name = trial.config["trial"]
        if self.states.get(name) == "done":
            return
        self.started[name] = time.perf_counter()
        resume = self.states.get(name) == "resume" or self._has_checkpoint(name)
        self._say(f"resuming {name} from its checkpoint" if resume else f"start {name}")

    def on_trial_recover(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        name = trial.config["trial"]
        self._say(f"retrying {name}: its process died; it resumes from its checkpoint")

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        name = trial.config["trial"]
        if self.states.get(name) == "done":
            return
        result = trial.last_result or {}
        if "summary" not in result:
            self._failed(name, result.get("failed", "no result"))
            return
        self.n_done += 1
        summary = result["summary"]
        impact = (summary.get("final") or {}).get("probe/impact/pos_mm")
        shown = f", impact {impact:.2f} mm" if isinstance(impact, float) else ""
        self._say(
            f"[{self.n_done}/{self.total}] done {name}: {summary['env_steps']} env steps in "
            f"{summary['seconds']:.0f} s (attempt {summary['attempt']}){shown}"
        )

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        name = trial.config["trial"]
        error = str(getattr(trial, "error_message", None) or "its process died").strip()
        self._failed(name, error.splitlines()[-1] if error else "error")

    def _failed(self, name: str, reason: str) -> None:
        self.n_done += 1
        seconds = time.perf_counter() - self.started.get(name, time.perf_counter())
        log = self.tasks[name].cfg.out_dir + f"/{name}/{LOG}"
        self._say(
            f"[{self.n_done}/{self.total}] FAILED {name} after {seconds:.0f} s: {reason} "
            f"(log: {log})"
        )

    def _has_checkpoint(self, name: str) -> bool:
        task = self.tasks[name]
        return os.path.exists(os.path.join(task.cwd, task.cfg.out_dir, name, "checkpoint.pt"))
