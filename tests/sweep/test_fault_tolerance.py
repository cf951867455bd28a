"""Crashes: a trial's worker killed mid-run, and the sweep's driver killed mid-sweep.

Both are SIGKILLs (no clean-up runs); both must end with every transition stored exactly once
and no finished or checkpointed work redone from zero.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from agent.sweep.cluster import RaySession
from world_model.dataset import load_dataset


def _wait_for(condition: Callable[[], bool], proc: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(
                f"sweep ended early ({proc.returncode}):\n{out[-3000:]}\n{err[-3000:]}"
            )
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _assert_exact_dataset(run_dir: Path, budget: int) -> None:
    data = load_dataset(run_dir / "data")
    assert len(data) == budget
    pairs = set(zip(data.episode.tolist(), data.step.tolist(), strict=True))
    assert len(pairs) == budget, "a transition stored twice"


def test_killed_trial_worker_is_rerun_and_resumes(
    ray_session: RaySession,
    probe_root: str,
    tmp_path: Path,
    cli: Callable[..., list[str]],
    cli_env: dict[str, str],
) -> None:
    # The sweep joins the session's Ray as a cluster (ray.address=...): the shared-storage
    # check and token authentication of a joined cluster are exercised too.
    args = cli(
        "sweep", "experiment=debug", "agent=random", "budget=1000", "seed=3", "--no-estimate",
        f"probe.root={probe_root}", f"ray.address={ray_session.address}",
    )  # fmt: skip
    proc = subprocess.Popen(
        args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env
    )
    runs = tmp_path / "runs"

    def trial_dir() -> Path | None:
        found = list(runs.glob("sweep-*/trial"))
        return found[0] if found else None

    _wait_for(lambda: (d := trial_dir()) is not None and (d / "checkpoint.pt").exists(), proc)
    run_dir = trial_dir()
    assert run_dir is not None
    pid = int((run_dir / "trial.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-3000:]
    _assert_exact_dataset(run_dir, 1000)
    log = (run_dir / "trial.log").read_text()
    second = log.split("=== attempt 2")[1]
    assert "resuming" in second and "env step 0/" not in second
    assert int((run_dir / "trial.pid").read_text()) != pid
    (row,) = csv.DictReader((run_dir.parent / "results.csv").open())
    assert row["status"] == "done" and row["attempts"] == "2" and row["env_steps"] == "1000"


@pytest.mark.slow  # ~100 s: run with `pytest -m slow`
def test_killed_sweep_resumes_without_redoing_finished_or_checkpointed_work(
    probe_root: str, tmp_path: Path, cli: Callable[..., list[str]], cli_env: dict[str, str]
) -> None:
    # The default: the sweep starts (and, killed, loses) its own local Ray.
    args = cli(
        "sweep",
        "budget=600,3000",
        "experiment=debug",
        "agent=random",
        f"probe.root={probe_root}",
        "--no-estimate",
    )
    proc = subprocess.Popen(
        args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env
    )
    runs = tmp_path / "runs"

    def ready() -> bool:
        short, long = runs.glob("sweep-*/budget-600"), runs.glob("sweep-*/budget-3000")
        s, lg = next(short, None), next(long, None)
        return (
            s is not None
            and (s / "summary.json").exists()
            and lg is not None
            and (lg / "checkpoint.pt").exists()
        )

    _wait_for(ready, proc)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    (sweep_dir,) = runs.iterdir()
    short, long = sweep_dir / "budget-600", sweep_dir / "budget-3000"
    assert not (long / "summary.json").exists(), "killed too late: the long trial had finished"
    worker = int((long / "trial.pid").read_text())
    deadline = time.monotonic() + 60
    while _alive(worker):  # Ray's reaper takes the driver's workers down with it
        assert time.monotonic() < deadline, "the killed sweep's trial worker lives on"
        time.sleep(0.1)
    finished_mtime = (short / "summary.json").stat().st_mtime_ns

    out = subprocess.run(
        args, cwd=tmp_path, capture_output=True, text=True, env=cli_env, timeout=600
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "1 finished earlier, 1 to resume, 0 to start" in out.stdout
    assert "skip budget-600" in out.stdout and "resuming budget-3000" in out.stdout
    assert (short / "summary.json").stat().st_mtime_ns == finished_mtime  # untouched
    last_attempt = (long / "trial.log").read_text().split("=== attempt")[-1]
    assert "resuming" in last_attempt and "env step 0/" not in last_attempt
    _assert_exact_dataset(long, 3000)
    _assert_exact_dataset(short, 600)
    rows = {r["trial"]: r["status"] for r in csv.DictReader((sweep_dir / "results.csv").open())}
    assert rows == {"budget-600": "skipped", "budget-3000": "done"}
