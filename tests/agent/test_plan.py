"""``compare``/``sweep`` say what they are about to do: the plan, ``--dry-run``, the budget."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from agent.config import RunConfig, load_config
from agent.learner import ActiveLearner
from agent.plan import PlanItem, calibrate
from agent.schedule import eval_steps


def contactlab(*args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "agent.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_compare_dry_run_prints_the_plan_and_runs_nothing(tmp_path: Path) -> None:
    out = contactlab(
        "compare", "sources=[random,active]", "seeds=2", "run.experiment=debug", "--dry-run",
        cwd=tmp_path,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    plan = out.stdout
    for name in ("random-s0", "random-s1", "active-s0", "active-s1"):
        assert f"{name}      600 steps  new" in plan  # run.experiment=debug set the budget
    assert "4 runs: 0 reused, 4 to run (2400 env steps)" in plan
    assert "estimated wall time: ~0:" in plan and "calibration" in plan
    assert "nothing was run" in plan
    assert not (tmp_path / "runs").exists(), "a dry run creates no run or comparison folder"


def test_plan_reuses_finished_runs_and_times_them(tmp_path: Path) -> None:
    common = ("compare", "sources=[random]", "run.experiment=debug", "name=c")
    first = contactlab(*common, "seeds=1", cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    assert "1 runs: 0 reused, 1 to run (600 env steps)" in first.stdout
    summary = json.loads((tmp_path / "runs/c/runs/random-s0/summary.json").read_text())
    assert summary["wall_s"] > 0 and summary["wall_steps"] == 600
    before = sorted(p.name for p in (tmp_path / "runs/c/runs").iterdir())
    again = contactlab(*common, "seeds=3", "--dry-run", cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "random-s0      600 steps  finished earlier, reused" in again.stdout
    assert "3 runs: 1 reused, 2 to run (1200 env steps)" in again.stdout
    # Both new runs are timed from the finished one, at its measured speed.
    expected = 2 * 600 * summary["wall_s"] / summary["wall_steps"]
    line = next(s for s in again.stdout.splitlines() if s.startswith("estimated wall time"))
    h, m, s = (int(x) for x in line.split("~")[1].split(" ")[0].split(":"))
    assert abs(3600 * h + 60 * m + s - expected) <= 1 and "finished runs" in line
    assert sorted(p.name for p in (tmp_path / "runs/c/runs").iterdir()) == before


def test_run_level_experiment_sets_the_compare_budget(tmp_path: Path) -> None:
    shown = contactlab("compare", "run.experiment=debug", "--print-config", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert yaml.safe_load(shown.stdout)["budget"] == 600
    shown = contactlab("compare", "run.budget=1500", "--print-config", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert yaml.safe_load(shown.stdout)["budget"] == 1500
    explicit = contactlab(
        "compare", "budget=400", "run.experiment=debug", "--print-config", cwd=tmp_path
    )
    assert yaml.safe_load(explicit.stdout)["budget"] == 400  # the compare's own key wins
    default = contactlab("compare", "--print-config", cwd=tmp_path)
    assert yaml.safe_load(default.stdout)["budget"] == 20_000


def test_sweep_dry_run_prints_the_trials(tmp_path: Path) -> None:
    out = contactlab(
        "sweep", "experiment=debug", "agent=random", "seed=0,1", "sweep.max_concurrent=1",
        f"sweep.out_dir={tmp_path / 'sweeps'}", "--dry-run", cwd=tmp_path,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert "plan: 2 trials in" in out.stdout and "seed-0" in out.stdout
    assert "2 runs: 0 reused, 2 to run (1200 env steps)" in out.stdout
    assert "estimated wall time: ~0:" in out.stdout
    assert not (tmp_path / "sweeps").exists()


def test_calibration_counts_the_probe_evaluations_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The short calibration run evaluates on its way (after its warm-up, at its end); that
    time is not per-step time: the evaluation enters once, over the real run's schedule. It
    was counted in the steps too, which made a 20k-step run's estimate several times too long.
    A clock that moves only while the probe is evaluated (by 2 s per evaluation) makes every
    other cost zero, so the estimate is exact, whatever the machine's load."""
    monkeypatch.chdir(tmp_path)
    cfg, resolved = load_config("run", RunConfig, ["experiment=debug", "source=random"])
    slow, steps = 2.0, 50
    clock = [0.0]
    evaluate = ActiveLearner.evaluate

    def slow_evaluate(self: ActiveLearner) -> dict[str, float]:
        clock[0] += slow
        return evaluate(self)

    monkeypatch.setattr(ActiveLearner, "evaluate", slow_evaluate)
    monkeypatch.setattr(time, "perf_counter", lambda: clock[0])
    per_step, fixed = calibrate(PlanItem("r", "r", cfg, resolved, tmp_path / "r"), steps=steps)
    n_evals = len(eval_steps(cfg.loop, cfg.budget))
    # once per evaluation of the real run (5 in 600 steps), nothing for the short run's own
    # two (the old code added 2 x 2 s over its 100 steps: 24 s over the budget)
    assert per_step * cfg.budget == pytest.approx(slow * n_evals)
    assert fixed == 0.0


@pytest.mark.parametrize(
    ("algo", "settings", "steps_per_train"),
    [
        ("ppo", ["agent.sb3_n_steps=64"], 65),  # one rollout of 64 steps and its training
        ("sac", ["agent.sb3_learning_starts=30", "agent.sb3_train_freq=4"], 4),
    ],
)
def test_calibration_of_an_sb3_explorer_times_its_gradient_updates(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    algo: str,
    settings: list[str],
    steps_per_train: int,
) -> None:
    """SB3 trains PPO once per rollout and SAC only after its learning starts: a calibration
    of fewer steps than that never saw a gradient update and told SB3 runs as cheap as random
    ones. A clock that moves only while SB3 trains (1 s a call) makes the estimate its
    training's share per step."""
    import stable_baselines3

    monkeypatch.chdir(tmp_path)
    cfg, resolved = load_config(
        "run", RunConfig, ["experiment=debug", "source=active", f"agent={algo}", *settings]
    )
    cls = getattr(stable_baselines3, algo.upper())
    clock = [0.0]
    train = cls.train

    def timed_train(self: object, *args: object, **kwargs: object) -> None:
        clock[0] += 1.0
        train(self, *args, **kwargs)

    monkeypatch.setattr(cls, "train", timed_train)
    monkeypatch.setattr(time, "perf_counter", lambda: clock[0])
    per_step, _ = calibrate(PlanItem("r", "r", cfg, resolved, tmp_path / "r"), steps=20)
    # the old calibration (40 steps from the start) saw no training: 0 s per step
    assert per_step == pytest.approx(1.0 / steps_per_train, rel=0.25)
