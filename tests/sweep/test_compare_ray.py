"""``contactlab compare executor=ray``: the comparison's runs as Ray tasks on the local Ray."""

from __future__ import annotations

import json
from pathlib import Path
from typing import cast

import pytest
from omegaconf import DictConfig, OmegaConf

from agent.compare import CompareConfig, compare
from agent.config import load_config
from agent.sweep.cluster import RaySession
from world_model.dataset import load_dataset


def test_compare_through_ray_runs_every_source_and_seed(  # two runs at once on 2 CPUs
    ray_session: RaySession, probe_root: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    own = ["sources=[random,video_states]", "seeds=1", "budget=300", "name=c"]
    own += ["executor=ray", "max_concurrent=2"]
    run_overrides = ["experiment=debug", "loop.warmup=100", "loop.eval_every=100"]
    run_overrides.append(f"probe.root={probe_root}")
    cfg, own_resolved = load_config("compare", CompareConfig, own)
    container = cast(dict, OmegaConf.to_container(own_resolved, resolve=True))
    resolved = cast(DictConfig, OmegaConf.create({**container, "run_overrides": run_overrides}))
    folder = compare(cfg, resolved, run_overrides)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["protocol"]["equal"] and summary["protocol"]["env_steps"] == [300]
    assert {s: e["seeds"] for s, e in summary["sources"].items()} == {
        "random": 1,
        "video_states": 1,
    }
    for name in ("random-s0", "video_states-s0"):
        run = folder / "runs" / name
        assert len(load_dataset(run / "data")) == 300
        assert "=== attempt 1" in (run / "trial.log").read_text()  # it ran as a Ray task
