"""One trial of a sweep, as it runs in a Ray worker: ``agent.run.run`` on its own run folder.

A trial is idempotent: ``run`` resumes from the run folder's ``checkpoint.pt`` (dropping data
written after it), so Ray re-running the task after its worker died (``max_retries``) loses
and duplicates nothing. Each attempt appends to ``<run folder>/trial.log`` (the run's own
output, headed by the attempt's host and PID) and writes its PID to ``trial.pid``. An
exclusive lock on the run folder keeps two attempts (say, two sweeps started with the same
command) from ever writing into it at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import platform
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from agent.config import RunConfig

LOG = "trial.log"
PID = "trial.pid"
LOCK = ".trial.lock"
LOCK_TIMEOUT_S = 120.0  # a dead attempt's lock goes with its process; a live one is an error


@dataclass(frozen=True)
class TrialTask:
    """What a worker needs to run one trial (validated on the driver, shipped by Ray)."""

    name: str
    cwd: str  #: the driver's working directory: relative paths (runs/, probes/) resolve there
    cfg: RunConfig
    resolved: DictConfig


def run_trial(task: TrialTask) -> dict[str, Any]:
    """Run (or resume) the trial; return its ``summary.json`` plus ``seconds`` and ``attempt``.

    Raises whatever the run raises; a worker that dies is re-run by Ray, not here.
    """
    if not os.path.isdir(task.cwd):
        raise FileNotFoundError(
            f"{platform.node()}: the sweep's working directory {task.cwd} does not exist on "
            "this node; it must be shared storage mounted at the same path (docs/cluster.md)"
        )
    os.chdir(task.cwd)
    run_dir = Path(task.cfg.out_dir) / task.name
    run_dir.mkdir(parents=True, exist_ok=True)
    with _exclusive(run_dir / LOCK), open(run_dir / LOG, "a", buffering=1) as log:
        attempt = 1 + sum(line.startswith("=== attempt") for line in _lines(run_dir / LOG))
        (run_dir / PID).write_text(f"{os.getpid()}\n")
        print(
            f"=== attempt {attempt}: host {platform.node()} pid {os.getpid()} "
            f"node {_node_id()} at {time.strftime('%Y-%m-%dT%H:%M:%S')}",
            file=log,
        )
        start = time.perf_counter()
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            import torch

            from agent.run import run

            torch.set_num_threads(task.cfg.threads)
            run(task.cfg, task.resolved)
        seconds = time.perf_counter() - start
        print(f"=== done in {seconds:.1f} s", file=log)
    summary = json.loads((run_dir / "summary.json").read_text())
    return {**summary, "seconds": seconds, "attempt": attempt}


def _node_id() -> str:
    import ray

    return ray.get_runtime_context().get_node_id() if ray.is_initialized() else "-"


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    with open(path, "a") as lock:
        deadline = time.monotonic() + LOCK_TIMEOUT_S
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"{path.parent} is in use by another process (is the same sweep running "
                        "elsewhere?)"
                    ) from None
                time.sleep(0.5)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
