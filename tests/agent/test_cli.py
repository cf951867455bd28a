"""End-to-end: the ``contactlab`` command as a user runs it (a real subprocess, real files)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import imageio.v2 as imageio
import pytest
import yaml


def contactlab(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "agent.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_help_explains_commands(tmp_path: Path) -> None:
    out = contactlab("--help", cwd=tmp_path)
    assert out.returncode == 0
    for word in ("demo", "scenes", "examples", "runs/"):
        assert word in out.stdout


def test_demo_writes_videos_config_and_counts(tmp_path: Path) -> None:
    args = ("demo", "steps=40", "width=160", "height=128", f"out_dir={tmp_path}")
    out = contactlab(*args, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    (run_dir,) = tmp_path.glob("demo-*")
    run = json.loads((run_dir / "run.json").read_text())
    assert run["seed"] == 0 and run["versions"]["mujoco"] and "commit" in run["git"]
    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert config["steps"] == 40 and config["env"]["labels"]["impact_speed"] == 0.1
    summary = json.loads((run_dir / "summary.json").read_text())
    assert set(summary) == {"push_blocks", "billiards", "tower"}
    for scene, result in summary.items():
        frames = imageio.mimread(run_dir / f"{scene}.mp4")
        assert len(frames) == 40 and frames[0].shape == (128, 160, 3)
        n_objects = {"push_blocks": 4, "billiards": 6, "tower": 5}[scene]
        assert sum(result["object_regimes"].values()) == 40 * n_objects
        assert scene in out.stdout


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ("stpes=3", "steps"),
        ("steps=many", "steps"),
        ("env=marbles", "billiards"),
        ("policy=smart", "policy"),
        ("env.distractor=tv", "env.distractor"),
        ("env.labels.impact_speed=-1", "env.labels.impact_speed"),
        ("env=mjcf", "env.mjcf_path"),
    ],
)
def test_bad_overrides_fail_fast_naming_the_key(tmp_path: Path, override: str, needle: str) -> None:
    start = time.perf_counter()
    out = contactlab("demo", override, f"out_dir={tmp_path}", cwd=tmp_path)
    elapsed = time.perf_counter() - start
    assert out.returncode == 2
    assert needle in out.stderr
    assert not list(tmp_path.glob("demo-*")), "nothing may be created for a bad config"
    assert elapsed < 10  # generous for a loaded CI machine; the check itself takes ~0.1 s
