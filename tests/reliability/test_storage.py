"""Checkpoints that survive interrupted saves and bad files, and a disk that fills up mid-run."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from world_model.atomic import KILL_ENV, StorageFull, write_atomic
from world_model.checkpoint import (
    CheckpointError,
    load_checkpoint,
    load_latest_checkpoint,
    previous_path,
    save_checkpoint,
)
from world_model.dataset import load_dataset

_SAVE_TWICE = """
import sys, torch
from world_model.checkpoint import save_checkpoint
save_checkpoint(sys.argv[1], {"w": torch.zeros(1000), "step": 1})
save_checkpoint(sys.argv[1], {"w": torch.ones(1000), "step": 2})
"""


def test_a_save_killed_midway_leaves_the_latest_whole_and_the_next_save_cleans_up(
    tmp_path: Path,
) -> None:
    path = tmp_path / "checkpoint.pt"
    env = {**os.environ, KILL_ENV: "2"}  # die halfway through the second save
    out = subprocess.run([sys.executable, "-c", _SAVE_TWICE, str(path)], env=env)
    assert out.returncode == -9
    stale = list(tmp_path.glob(".checkpoint.pt.*.tmp"))
    assert len(stale) == 1 and stale[0].stat().st_size > 0
    assert load_checkpoint(path)["step"] == 1  # the first save, whole
    save_checkpoint(path, {"w": torch.ones(3), "step": 3})
    assert not list(tmp_path.glob(".*.tmp")), "stale temp files are removed"
    assert load_checkpoint(path)["step"] == 3
    assert load_checkpoint(previous_path(path))["step"] == 1


def test_a_corrupt_latest_checkpoint_falls_back_to_the_previous_one_named(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, {"step": 1})
    save_checkpoint(path, {"step": 2})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])  # truncated by a failing disk
    state, used, warning = load_latest_checkpoint(path)
    assert state["step"] == 1 and used == previous_path(path)
    assert str(path) in warning and str(previous_path(path)) in warning
    bad = tmp_path / "checkpoint.bad.pt"
    assert bad.read_bytes() == data[: len(data) // 3] and not path.exists()  # kept aside
    save_checkpoint(path, {"step": 3})  # the run goes on: the good one stays "previous"
    assert load_checkpoint(previous_path(path))["step"] == 1
    path.write_bytes(b"garbage")
    previous_path(path).write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="previous one is bad too"):
        load_latest_checkpoint(path)


def test_a_missing_latest_uses_the_previous_and_none_at_all_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.pt"
    with pytest.raises(CheckpointError, match="no previous checkpoint"):
        load_latest_checkpoint(path)
    save_checkpoint(path, {"step": 1})
    save_checkpoint(path, {"step": 2})
    path.unlink()
    assert load_latest_checkpoint(path)[0]["step"] == 1


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1.5 MB tmpfs (needs root and mount rights; skipped without them)."""
    mnt = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    mnt.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1536k", "tmpfs", str(mnt)], capture_output=True
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {made.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_write_atomic_on_a_full_disk_names_the_file_and_leaves_nothing(small_disk: Path) -> None:
    path = small_disk / "big.bin"
    with pytest.raises(StorageFull, match="big.bin"):
        write_atomic(path, b"x" * (4 << 20))
    assert not list(small_disk.iterdir())


def test_a_run_on_a_full_disk_stops_naming_the_path_and_resumes_after_space_is_freed(
    small_disk: Path, tmp_path: Path
) -> None:
    args = [sys.executable, "-m", "agent.cli", "run", "experiment=debug", "agent=random"]
    args += ["budget=3000", "loop.eval_every=1000", "run_name=r", f"out_dir={small_disk}"]
    args += [f"probe.root={tmp_path / 'probes'}"]
    full = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert full.returncode == 2, full.stderr[-2000:]
    assert "No space left on device while writing" in full.stderr
    assert str(small_disk) in full.stderr and "Traceback" not in full.stderr
    run = small_disk / "r"
    state, _, _ = load_latest_checkpoint(run / "checkpoint.pt")
    stored = int(state["stored"])
    assert 0 < stored < 3000
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
    again = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"resuming {run} at env step {state['learner']['env_step']}/3000" in again.stdout
    data = load_dataset(run / "data")
    assert len(data) == 3000
    assert len(set(zip(data.episode.tolist(), data.step.tolist(), strict=True))) == 3000
