"""A sweep end to end on the local Ray: every trial in the table; a rerun redoes nothing."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from agent.sweep.cluster import RaySession
from agent.sweep.config import SweepConfig
from agent.sweep.driver import run_sweep
from world_model.dataset import load_dataset


def test_four_trial_sweep_fills_the_table_and_a_rerun_skips_all(
    ray_session: RaySession,
    probe_root: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    spec = [
        "env=push_blocks,billiards",
        "seed=0,1",
        "experiment=debug",
        "agent=random",
        "budget=300",
        f"probe.root={probe_root}",
    ]
    assert run_sweep(SweepConfig(), spec) == 0
    out = capsys.readouterr().out
    (sweep_dir,) = (tmp_path / "runs").iterdir()
    names = [
        "env-push_blocks__seed-0",
        "env-push_blocks__seed-1",
        "env-billiards__seed-0",
        "env-billiards__seed-1",
    ]
    rows = list(csv.DictReader((sweep_dir / "results.csv").open()))
    assert [r["trial"] for r in rows] == names
    assert {r["status"] for r in rows} == {"done"} and {r["env_steps"] for r in rows} == {"300"}
    for row in rows:
        for column in ("impact_mm", "free_mm", "contact_gap", "moved1"):
            float(row[column])  # a number for every trial
    for name in names:
        assert name in out  # the printed table and the progress lines
        assert len(load_dataset(sweep_dir / name / "data")) == 300
    saved = json.loads((sweep_dir / "sweep.json").read_text())
    assert saved["axes"] == {"env": ["push_blocks", "billiards"], "seed": ["0", "1"]}
    assert [t["name"] for t in saved["trials"]] == names

    mtimes = {n: (sweep_dir / n / "summary.json").stat().st_mtime_ns for n in names}
    assert run_sweep(SweepConfig(), list(reversed(spec))) == 0  # same spec, other order
    out = capsys.readouterr().out
    assert "4 trials (4 finished earlier, 0 to resume, 0 to start)" in out
    assert "ray:" not in out  # nothing to run: Ray is not even contacted
    assert {n: (sweep_dir / n / "summary.json").stat().st_mtime_ns for n in names} == mtimes
    rows = list(csv.DictReader((sweep_dir / "results.csv").open()))
    assert {r["status"] for r in rows} == {"skipped"} and len(rows) == 4


def test_a_failing_trial_is_reported_and_the_others_finish(
    ray_session: RaySession,
    probe_root: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    # A physics override MuJoCo cannot honour fails inside the trial (the env refuses it).
    spec = [
        "env.physics.solref_timeconst=0.001,0.02",
        "experiment=debug",
        "agent=random",
        "budget=300",
        f"probe.root={probe_root}",
    ]
    assert run_sweep(SweepConfig(), spec) == 1
    out = capsys.readouterr().out
    assert "FAILED env.physics.solref_timeconst-0.001" in out and "2 x timestep" in out
    (sweep_dir,) = (tmp_path / "runs").iterdir()
    rows = {r["trial"]: r for r in csv.DictReader((sweep_dir / "results.csv").open())}
    assert rows["env.physics.solref_timeconst-0.001"]["status"] == "failed"
    assert rows["env.physics.solref_timeconst-0.02"]["status"] == "done"
