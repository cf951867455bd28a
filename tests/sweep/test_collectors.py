"""Parallel collection (``loop.collectors > 1``): Ray actors step env copies; the data are
exact, deterministic and independent of the number of actors; one collector means no Ray."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from agent.config import EnvConfig, RunConfig, load_config
from agent.run import run
from agent.sweep.cluster import RaySession
from agent.sweep.collectors import CollectorPool, episode_steps
from world_model.dataset import load_dataset


def _episodes(n_actors: int, start: int, count: int) -> list[list]:
    pool = CollectorPool(EnvConfig(), seed=5, n=n_actors)
    try:
        it = pool.episodes(start=start)
        return [list(episode_steps(next(it))) for _ in range(count)]
    finally:
        pool.close()


def test_episodes_do_not_depend_on_the_number_of_actors(ray_session: RaySession) -> None:
    one, two = _episodes(1, 2, 3), _episodes(2, 2, 3)
    for a, b in zip(one, two, strict=True):
        assert len(a) == len(b) == 200
        for (o1, a1, n1, *_), (o2, a2, n2, *_) in zip(a, b, strict=True):
            assert np.array_equal(o1, o2) and np.array_equal(a1, a2) and np.array_equal(n1, n2)
    assert not np.array_equal(one[0][0][1], one[1][0][1])  # episodes differ from each other
    assert one[0][-1][4] and not one[0][0][4]  # truncated at the horizon only


def _run(tmp_path: Path, probe_root: str, *overrides: str) -> Path:
    cfg, resolved = load_config(
        "run",
        RunConfig,
        ["experiment=debug", f"probe.root={probe_root}", f"out_dir={tmp_path}", *overrides],
    )
    return run(cfg, resolved)


@pytest.mark.parametrize(
    ("agent", "budget", "from_actors"),
    [("random", 500, 500), ("seek", 600, 200)],  # random: all of it; seek: the warm-up episode
)
def test_run_with_two_collectors_stores_every_transition_once(
    ray_session: RaySession,
    probe_root: str,
    tmp_path: Path,
    agent: str,
    budget: int,
    from_actors: int,
) -> None:
    run_dir = _run(
        tmp_path, probe_root, f"agent={agent}", f"budget={budget}", "loop.collectors=2", "seed=5"
    )
    data = load_dataset(run_dir / "data")
    assert len(data) == budget
    pairs = list(zip(data.episode.tolist(), data.step.tolist(), strict=True))
    assert len(set(pairs)) == budget
    expected = [(e, s) for e in range(budget // 200 + 1) for s in range(200)][:budget]
    assert pairs == expected  # whole episodes in order (no instability in these short runs)
    # The actors' episodes are exactly what the run stored.
    actor_steps = [step for episode in _episodes(1, 0, 3) for step in episode][:from_actors]
    stored = data.obs[:from_actors], data.action[:from_actors]
    assert np.array_equal(np.stack([s[0] for s in actor_steps]), stored[0])
    assert np.array_equal(np.stack([s[1] for s in actor_steps]), stored[1])
    if from_actors < budget:  # after the warm-up the planner acts, on the driver
        assert not np.array_equal(data.action[from_actors:400], np.stack(
            [s[1] for s in _episodes(1, 1, 1)[0]]
        ))  # fmt: skip


def test_one_collector_never_imports_ray(tmp_path: Path, probe_root: str) -> None:
    code = (
        "import sys\n"
        "from agent.cli import main\n"
        f"rc = main(['run', 'experiment=debug', 'agent=random', 'budget=250', "
        f"'probe.root={probe_root}', 'run_name=x'])\n"
        "assert rc == 0, rc\n"
        "print('ray imported:', 'ray' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "ray imported: False" in out.stdout
