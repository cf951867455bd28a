"""``contactlab compare`` through the CLI: every source at a tiny budget, the protocol equal."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from world_model.dataset import load_dataset

SOURCES = ["random", "video_states", "video_pixels", "video_random", "active", "mix50"]


def test_every_source_runs_and_the_protocol_is_equal(tmp_path: Path) -> None:
    args = ["compare", f"sources=[{','.join(SOURCES)}]", "seeds=1", "budget=400", "name=c"]
    args += ["--no-estimate"]  # no calibration runs: test_plan.py checks the estimate
    args += ["run.experiment=debug", "run.loop.warmup=100", "run.loop.eval_every=200"]
    out = subprocess.run(
        [sys.executable, "-m", "agent.cli", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "estimated wall time: unknown" in out.stdout  # --no-estimate: no calibration ran
    folder = tmp_path / "runs/c"
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["protocol"]["equal"], summary["protocol"]
    assert summary["protocol"]["env_steps"] == [400]
    assert summary["protocol"]["world_model_updates"] == [100]  # 0.25 per transition, every source
    assert set(summary["sources"]) == set(SOURCES) and "active_vs_random_speedup" in summary
    assert all("speedup_vs_baseline" in e for e in summary["sources"].values())
    speedup = summary["active_vs_random_speedup"]  # per seed, one seed here: no interval
    assert set(speedup) >= {"median", "interval", "per_seed", "seeds_with_a_ratio", "threshold_mm"}
    assert speedup["interval"] == [None, None] and len(speedup["per_seed"]) == 1
    assert set(summary["goals"]) == {
        "median_speedup_at_least_10x",
        "interaction_rate_at_least_demonstrator",
        "beats_demonstrator_on_impact_and_contact",
    }
    assert summary["goals"]["beats_demonstrator_on_impact_and_contact"]["met"] is None
    assert not any("intervals apart" in s for s in summary["plain_summary"])
    assert (folder / "table.md").exists() and summary["plain_summary"]
    cv = summary["physics_baselines"]["constant_velocity"]  # the bar every source must clear
    assert set(cv) == {"impact", "contact", "free"} and all(v > 0 for v in cv.values())
    assert "| constant velocity (no learning) | - |" in (folder / "table.md").read_text()
    for source in SOURCES:
        data = load_dataset(folder / f"runs/{source}-s0/data")
        assert len(data) == 400
        watched = source.startswith("video")
        # Video sources never store actions: the "action" field holds the agent's motion (13).
        assert data.meta.action_dim == (13 if watched else 2)
        assert (data.meta.extra.get("action_field") == "agent_motion") == watched
    assert (
        load_dataset(folder / "runs/video_pixels-s0/data").meta.extra["source"].endswith("/pixels")
    )
    # mix50: half of the episodes after the warm-up (100 steps) acted by the demonstrator.
    mixed = json.loads((folder / "runs/mix50-s0/summary.json").read_text())["explorer_steps"]
    assert mixed["active"] + mixed["passive"] == 300 and mixed["passive"] > 0
    again = subprocess.run(
        [sys.executable, "-m", "agent.cli", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert again.returncode == 0 and again.stdout.count("finished earlier, kept") == len(SOURCES)


def test_a_bad_run_override_fails_before_any_run(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "agent.cli", "compare", "seeds=1", "run.loop.update_evry=5"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 2 and "update_every" in out.stderr
    assert not (tmp_path / "runs").exists()


def test_adding_sources_or_seeds_keeps_the_comparison_folder() -> None:
    from omegaconf import OmegaConf

    from agent.compare import identity

    a = OmegaConf.create({"sources": ["random"], "seeds": 2, "budget": 100, "run_overrides": []})
    b = OmegaConf.create(
        {"sources": ["random", "video_pixels"], "seeds": 5, "budget": 100, "run_overrides": []}
    )
    c = OmegaConf.create({"sources": ["random"], "seeds": 2, "budget": 200, "run_overrides": []})
    assert identity(a) == identity(b)
    assert identity(a) != identity(c)  # another budget is another comparison


def test_bad_mix_source_is_refused_naming_it() -> None:
    import pytest

    from agent.compare import CompareConfig, source_overrides
    from agent.config import ConfigError

    assert source_overrides("mix25") == ["source=active", "loop.passive_fraction=0.25"]
    with pytest.raises(ConfigError, match="mix250"):
        CompareConfig(sources=["random", "mix250"])
