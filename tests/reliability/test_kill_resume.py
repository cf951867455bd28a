"""Kill -9 at random points and in the middle of file writes; resume with the same command.

The resumed run must end exactly where an uninterrupted run of the same command ends: the same
stored transitions (no duplicates, none lost), the same metric rows, and a bitwise-equal final
checkpoint (world model and optimizer, normalisers, curiosity, explorer and planner, replay
sampling RNG, torch RNG). ``docs/reliability.md`` has the commands and figures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from world_model.atomic import KILL_ENV
from world_model.checkpoint import load_checkpoint
from world_model.dataset import load_dataset

ARGS = ["run", "experiment=debug", "agent=seek", "probe.root=../probes"]


def _cli(budget: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "agent.cli", *ARGS, f"budget={budget}", *extra]


def _reference(root: Path, budget: int) -> Path:
    out = subprocess.run(_cli(budget, "run_name=ref"), cwd=root, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    return root / "runs/ref"


def _equal(a: Any, b: Any, where: str = "") -> None:
    if isinstance(a, dict):
        assert set(a) == set(b), where
        for k in a:
            _equal(a[k], b[k], f"{where}/{k}")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _equal(x, y, f"{where}[{i}]")
    elif isinstance(a, torch.Tensor):
        assert torch.equal(a, b), where
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=where)
    else:
        assert a == b, where


def _metrics(run: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def kill_and_resume(
    root: Path, budget: int, kills: list[tuple[str, float]]
) -> tuple[Path, dict[str, int]]:
    """Start the run, kill it as ``kills`` says (``("write", n)``: in its n-th atomic file
    write; ``("time", s)``: ``s`` seconds after its loop started), resuming each time; then
    finish it."""
    run = root / "runs/killed"
    seen = {"write": 0, "time": 0, "finished_early": 0}
    for how, when in kills:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        if how == "write":
            env[KILL_ENV] = str(int(when))
        proc = subprocess.Popen(
            _cli(budget, "run_name=killed"), cwd=root, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        if how == "time":
            assert proc.stdout is not None
            for line in proc.stdout:  # the loop starts right after this line
                if line.startswith(("run folder:", "resuming")):
                    break
            time.sleep(when)
            proc.kill()
        _, err = proc.communicate(timeout=600)
        if proc.returncode == 0:
            seen["finished_early"] += 1
            break
        assert proc.returncode == -9, err[-2000:]  # killed, never a Python error
        seen[how] += 1
    out = subprocess.run(_cli(budget, "run_name=killed"), cwd=root, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    return run, seen


def check_same_as_reference(run: Path, ref: Path, budget: int) -> None:
    data, want = load_dataset(run / "data"), load_dataset(ref / "data")
    assert len(data) == budget
    pairs = set(zip(data.episode.tolist(), data.step.tolist(), strict=True))
    assert len(pairs) == budget, "a transition was stored twice"
    for name in ("obs", "action", "next_obs", "reward", "regime", "episode", "step"):
        np.testing.assert_array_equal(getattr(data, name), getattr(want, name), err_msg=name)
    assert _metrics(run) == _metrics(ref)
    _equal(load_checkpoint(run / "checkpoint.pt"), load_checkpoint(ref / "checkpoint.pt"))
    assert not list(run.glob(".*.tmp")) and not list((run / "data").glob(".*.tmp"))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "a").mkdir()
    return tmp_path / "a"


def test_two_kills_one_mid_write_resume_bitwise(root: Path) -> None:
    ref = _reference(root, 600)
    run, seen = kill_and_resume(root, 600, [("write", 3), ("time", 1.0), ("write", 2)])
    assert seen["write"] >= 1
    check_same_as_reference(run, ref, 600)


@pytest.mark.slow
def test_twenty_kills_resume_bitwise(root: Path) -> None:
    """20 kills: 9 in the middle of a file write (shard, meta.json, metrics or checkpoint),
    11 at random times (0-2 s into the loop, however fast the machine)."""
    ref = _reference(root, 3000)
    rng = np.random.default_rng(0)
    kills: list[tuple[str, float]] = []
    for i in range(20):
        if i % 5 in (0, 3) or i == 19:
            kills.append(("write", float(rng.integers(1, 6))))
        else:
            kills.append(("time", float(rng.uniform(0.0, 2.0))))
    start = time.perf_counter()
    run, seen = kill_and_resume(root, 3000, kills)
    print(f"kills: {seen} in {time.perf_counter() - start:.0f} s")
    assert seen["write"] >= 5 and seen["write"] + seen["time"] == 20, seen
    check_same_as_reference(run, ref, 3000)
