"""The progress line (``agent/progress.py``): one plain line per evaluation off a terminal,
a smoothed rate, the latest probe errors beside constant velocity's."""

from __future__ import annotations

import io
import time

import pytest

from agent.progress import Progress, probe_brief


def test_off_a_terminal_one_line_per_evaluation() -> None:
    stream = io.StringIO()
    progress = Progress(1000, cycle=10, stream=stream)  # a StringIO is not a terminal
    assert not progress.interactive
    row1 = {"probe/impact/pos_mm": 9.04, "probe/free/pos_mm": 3.0}
    for step in range(1, 501):
        progress.update(step, row1 if step >= 200 else {})
    row2 = {**row1, "probe/impact/pos_mm": 7.5}
    for step in range(501, 1001):
        progress.update(step, row2)
    progress.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2  # two evaluations, nothing else: no bar stream in a log file
    assert lines[0].startswith("step 200/1000") and "impact 9.0mm" in lines[0]
    assert lines[1].startswith("step 501/1000") and "impact 7.5mm" in lines[1]


def test_rate_is_a_moving_average_over_cycles() -> None:
    progress = Progress(10_000, cycle=100, alpha=0.5, stream=io.StringIO())
    assert progress.rate is None and progress.eta == float("inf")
    progress.update(100)  # the first cycle sets the rate
    first = progress.rate
    assert first is not None and first > 0
    time.sleep(0.05)
    progress.update(200)  # a slow cycle moves the average half-way only
    slow = 100 / 0.05
    assert progress.rate is not None and slow < progress.rate < first
    assert abs(progress.eta - 9800 / progress.rate) < 1e-6


def test_probe_brief_with_and_without_constant_velocity() -> None:
    row = {"probe/impact/pos_mm": 5.12, "baseline/constant_velocity/impact/pos_mm": 8.0}
    row["probe/contact/pos_mm"] = 2.0
    assert probe_brief(row) == "impact 5.1mm (cv 8.0)  contact 2.0mm"
    assert probe_brief({}) == ""


def test_rate_follows_a_slow_phase_after_a_fast_warm_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """200 steps/s of random warm-up, then 2.5 steps/s of planning: within four cycles the
    shown rate (and so the ETA) is the slow one within a factor 2, not the warm-up's."""
    clock = [0.0]
    monkeypatch.setattr("agent.progress.time.perf_counter", lambda: clock[0])
    bar = Progress(10_000, cycle=100, stream=io.StringIO(), interactive=False)
    n = 0
    for _ in range(10):  # warm-up
        n += 100
        clock[0] += 0.5
        bar.update(n)
    for _ in range(4):  # planning
        n += 100
        clock[0] += 40.0
        bar.update(n)
    assert bar.rate is not None and 2.5 <= bar.rate <= 5.0
