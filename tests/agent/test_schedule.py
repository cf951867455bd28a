"""The evaluation schedule: a curve with a shape at any budget (``agent/schedule.py``)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from agent.config import LoopConfig
from agent.schedule import eval_steps

DEFAULT = LoopConfig()


def test_default_run_is_dense_early_and_keeps_the_grid() -> None:
    steps = eval_steps(DEFAULT, 20_000)
    assert steps[0] == DEFAULT.warmup  # the first trained model is scored at once
    assert steps[-1] == 20_000
    assert set(range(2000, 20_001, 2000)) <= set(steps)  # eval_every still holds
    assert all(s % DEFAULT.update_every == 0 for s in steps)  # one score per trained model
    gaps = np.diff(steps)
    assert gaps[:4].max() <= 500  # steps-to-threshold resolved finely early on
    assert len(steps) <= 25  # bounded probe cost


@pytest.mark.parametrize("budget", [1_500, 4_000, 5_000, 50_000, 200_000])
def test_every_budget_gets_a_curve(budget: int) -> None:
    steps = eval_steps(DEFAULT, budget)
    assert steps == sorted(set(steps)) and steps[-1] == budget and steps[0] >= 1
    assert len(steps) >= min(6, budget // DEFAULT.update_every - 9)
    # log spacing: the first half of the (post-warm-up) run holds more points than the second
    middle = (DEFAULT.warmup + budget) / 2
    assert sum(s <= middle for s in steps) >= sum(s > middle for s in steps)


def test_four_thousand_steps_no_longer_give_a_straight_line() -> None:
    loop = dataclasses.replace(DEFAULT, eval_every=2000)
    assert len(eval_steps(loop, 4_000)) >= 10  # it was 2 rows before loop.eval_points


def test_eval_points_off_keeps_grid_warmup_and_final_only() -> None:
    loop = dataclasses.replace(DEFAULT, eval_points=0)
    assert eval_steps(loop, 7_000) == [1000, 2000, 4000, 6000, 7000]


def test_no_warmup_starts_at_the_first_training_round() -> None:
    loop = dataclasses.replace(DEFAULT, warmup=0, eval_points=3)
    steps = eval_steps(loop, 10_000)
    assert steps[0] == DEFAULT.update_every and 10_000 in steps


def test_negative_eval_points_is_refused() -> None:
    with pytest.raises(ValueError, match="loop.eval_points"):
        LoopConfig(eval_points=-1)


def test_a_runs_batches_hold_the_recent_fraction_from_the_newest_transitions(tmp_path) -> None:
    """A real debug run's learner (``loop.recent_fraction=0.25``, ``loop.recent_window=40``):
    8 of its 32 training sequences start among the 40 newest stored transitions, the other
    24 anywhere."""
    from agent.config import RunConfig, load_config
    from agent.run import build_run

    overrides = [
        "experiment=debug", "agent=random", f"out_dir={tmp_path}", "run_name=r",
        f"probe.root={tmp_path}/probes", "loop.recent_fraction=0.25", "loop.recent_window=40",
    ]  # fmt: skip
    cfg, resolved = load_config("run", RunConfig, overrides)
    run = build_run(cfg, resolved)
    try:
        learner, d = run.learner, run.learner.layout.obs_dim
        for t in range(400):  # one long episode; obs[0] tells the row
            obs = np.full(d, t, np.float32)
            learner.replay.add(
                obs, np.zeros(learner.replay.action_dim, np.float32), obs + 1, 0.0,
                False, False, np.zeros(learner.layout.n_entities, np.int8), 0, t,
            )  # fmt: skip
        starts = np.concatenate([learner.next_batch().obs[:, 0, 0].numpy() for _ in range(20)])
        starts = starts.reshape(20, 32)
        assert learner.recent_count() == 8
        assert starts[:, :8].min() >= 360  # the newest 40 rows: 360 .. 399
        assert starts[:, 8:].min() < 360 and (starts[:, 8:] < 360).mean() > 0.8
    finally:
        run.env.close()
