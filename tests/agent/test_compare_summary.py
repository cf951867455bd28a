"""The comparison summary on constructed curves, written as real run folders on disk: known
per-seed steps to each threshold give known ratios, medians, counts, goals and words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.compare_summary import summarize

STEPS = list(range(1000, 10_001, 1000))
CV = {"impact": 3.5, "contact": 0.1, "free": 5.0}  # constant velocity's error on the probe


def drop(reach: int | None, low: float, high: float = 10.0, last: float | None = None) -> list:
    """``high`` until step ``reach``, then ``low``; ``reach=None``: never drops (``last``, if
    given, is the value at the final step)."""
    values = [low if reach is not None and s >= reach else high for s in STEPS]
    if reach is None and last is not None:
        values[-1] = last
    return values


def write_run(
    folder: Path,
    source: str,
    seed: int,
    curves: dict[str, list],
    moved1: float = 0.1,
    physics: bool = True,
) -> None:
    """A finished run folder as ``contactlab run`` leaves it (the parts compare reads)."""
    run = folder / "runs" / f"{source}-s{seed}"
    run.mkdir(parents=True)
    rows = []
    for j, step in enumerate(STEPS):
        row: dict[str, float] = {"step": step, "probe/rest/pos_mm": 0.5}
        row.update({f"probe/{r}/pos_mm": v[j] for r, v in curves.items()})
        row["probe/contact_gap"] = curves["impact"][j] / curves["free"][j]
        if physics:  # runs logged before the physics baselines have no such keys
            row.update({f"baseline/constant_velocity/{r}/pos_mm": v for r, v in CV.items()})
            row.update({f"baseline/nothing_moves/{r}/pos_mm": 12.0 for r in CV})
        rows.append(row)
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    totals = {"moved1": moved1 * 1000, "moved2": 0.0, "steps": 1000.0}
    summary = {
        "env_steps": STEPS[-1],
        "world_model_updates": STEPS[-1] // 4,
        "probe": {"content_hash": "abc"},
        "interaction_totals": totals,
    }
    (run / "summary.json").write_text(json.dumps(summary))


def seed_curves(impact: list, contact: float, k: int) -> dict[str, list]:
    return {
        "impact": impact,
        "contact": [contact + 0.01 * k] * len(STEPS),
        "free": [5.0 + 0.01 * k] * len(STEPS),
    }


# random: seeds 0-2 reach 4.0x at 8000, 5000, 10000 steps; seeds 3-4 end at 6.0x, so the
# threshold (random's mean final impact error) is mean(4.00, 4.01, 4.02, 6.03, 6.04) = 4.82.
RANDOM_REACH = [8000, 5000, 10_000, None, None]
# active reaches 3.0x at these steps (seed 3 never): ratios 4, 5, 2, None, None -> median 4.
ACTIVE_REACH = [2000, 1000, 5000, None, 4000]


def build(
    folder: Path,
    seeds: int = 5,
    random_reach: list | None = None,
    active_reach: list | None = None,
    active_contact: float = 2.5,
    active_moved1: float = 0.09,
    demo_impact: float = 2.0,
) -> None:
    random_reach = random_reach or RANDOM_REACH
    active_reach = active_reach or ACTIVE_REACH
    for k in range(seeds):
        random_impact = drop(random_reach[k], 4.0 + 0.01 * k, last=6.0 + 0.01 * k)
        write_run(folder, "random", k, seed_curves(random_impact, 5.5, k), moved1=0.01)
        active = seed_curves(drop(active_reach[k], 3.0 + 0.01 * k), active_contact, k)
        write_run(folder, "active", k, active, active_moved1)
        demo = seed_curves([demo_impact + 0.01 * k] * len(STEPS), 1.5, k)  # flat from the start
        write_run(folder, "video_states", k, demo, moved1=0.34)


SOURCES = ["random", "active", "video_states"]


def test_known_per_seed_steps_give_known_ratios_and_median(tmp_path: Path) -> None:
    build(tmp_path)
    out = summarize(tmp_path, SOURCES, "random", seeds=5)
    assert out["thresholds_mm"]["baseline_final"]["impact"] == pytest.approx(4.82)
    assert out["threshold_impact_mm"] == pytest.approx(4.82)
    impact = out["sources"]["active"]["steps_to_threshold"]["baseline_final"]["impact"]
    assert impact["steps"] == ACTIVE_REACH and impact["seeds_reached"] == 4
    sp = out["active_vs_random_speedup"]
    assert sp["source_steps"] == ACTIVE_REACH and sp["baseline_steps"] == RANDOM_REACH
    assert sp["per_seed"] == [4.0, 5.0, 2.0, None, None]
    assert sp["median"] == 4.0 and sp["seeds_with_a_ratio"] == 3
    assert 2.0 <= sp["interval"][0] < sp["interval"][1] <= 5.0
    assert sp["threshold_mm"] == pytest.approx(4.82) and sp["seeds"] == [0, 1, 2, 3, 4]
    assert out["sources"]["active"]["speedup_vs_baseline"] == sp
    # The seed-mean curve's figure is kept, secondary: random's mean curve first dips to
    # 4.82 mm at 10000 (the mean there is 4.82), active's at 5000 (mean 5.2 at 4000).
    assert out["active_vs_random_speedup_mean_curve"] == pytest.approx(2.0)
    line = next(s for s in out["plain_summary"] if s.startswith("active vs random, env steps to"))
    assert "median speedup 4.00x" in line and "3 of 5 seeds defined a ratio" in line
    assert "active reached it in 4 of 5 seeds, random in 3 of 5; in 1 only active did" in line
    assert "4.00x [" in (tmp_path / "table.md").read_text()
    on_disk = json.loads((tmp_path / "summary.json").read_text())
    assert on_disk["active_vs_random_speedup"]["per_seed"] == [4.0, 5.0, 2.0, None, None]


def test_constant_velocity_threshold_is_reported_even_when_no_source_reaches_it(
    tmp_path: Path,
) -> None:
    build(tmp_path)
    out = summarize(tmp_path, SOURCES, "random", seeds=5)
    assert out["thresholds_mm"]["constant_velocity"] == CV
    # impact: cv 3.5 mm; active reaches 3.0x where it reaches at all; random (4.0x) never.
    cv_impact = out["sources"]["active"]["steps_to_threshold"]["constant_velocity"]["impact"]
    assert cv_impact["steps"] == ACTIVE_REACH and cv_impact["seeds_reached"] == 4
    rand = out["sources"]["random"]["steps_to_threshold"]["constant_velocity"]["impact"]
    assert rand["steps"] == [None] * 5 and rand["seeds_reached"] == 0
    assert (
        cv_impact["speedup"]["median"] is None and cv_impact["speedup"]["seeds_with_a_ratio"] == 0
    )
    # contact: cv 0.1 mm, reached by nobody: every step None, counted, and said.
    for entry in out["sources"].values():
        contact = entry["steps_to_threshold"]["constant_velocity"]["contact"]
        assert contact["steps"] == [None] * 5 and contact["seeds_reached"] == 0
    words = out["plain_summary"]
    assert any(
        s.startswith("constant velocity's contact error (0.10 mm): reached by no source")
        for s in words
    )
    impact_line = next(s for s in words if s.startswith("constant velocity's impact error"))
    assert "active (4 of 5 seeds)" in impact_line and "video_states (5 of 5 seeds)" in impact_line
    assert "never by random" in impact_line


def test_runs_without_physics_baselines_have_no_constant_velocity_threshold(
    tmp_path: Path,
) -> None:
    for k in range(2):
        for source, level in (("random", 6.0), ("active", 3.0)):
            curves = {r: [level + 0.1 * k] * len(STEPS) for r in ("impact", "contact", "free")}
            write_run(tmp_path, source, k, curves, physics=False)
    out = summarize(tmp_path, ["random", "active"], "random", seeds=2)
    assert out["thresholds_mm"]["constant_velocity"] == dict.fromkeys(CV)
    cv = out["sources"]["active"]["steps_to_threshold"]["constant_velocity"]["impact"]
    assert cv["steps"] == [None, None] and cv["speedup"] is None
    assert "constant velocity's impact error: not logged, no threshold." in out["plain_summary"]
    assert "constant velocity's error: impact not logged" in (tmp_path / "table.md").read_text()


def test_the_plot_draws_the_physics_baselines_as_reference_lines(tmp_path: Path) -> None:
    import matplotlib.pyplot as plt

    from agent.report.plots import summary_errors

    for physics in (True, False):
        folder = tmp_path / str(physics)
        for k in range(2):
            for source, level in (("random", 6.0), ("active", 3.0)):
                curves = {r: [level + 0.1 * k] * len(STEPS) for r in ("impact", "contact", "free")}
                write_run(folder, source, k, curves, physics=physics)
        out = summarize(folder, ["random", "active"], "random", seeds=2)
        assert (folder / "errors.png").stat().st_size > 0
        fig = summary_errors(out)
        for ax, regime in zip(fig.axes, ("impact", "contact", "free"), strict=True):
            lines = {line.get_label(): line for line in ax.get_lines()}
            assert {"random", "active"} <= set(lines)
            if physics:  # each at its logged level, across the whole axis
                assert lines["constant velocity"].get_ydata()[0] == CV[regime]
                assert lines["constant velocity"].get_linestyle() == "--"
                assert lines["nothing moves"].get_ydata()[0] == 12.0
            else:  # runs that logged no baselines get no line, rather than a made-up one
                assert "constant velocity" not in lines and "nothing moves" not in lines
        plt.close(fig)


def test_seeds_are_paired_by_number_when_one_is_missing(tmp_path: Path) -> None:
    build(tmp_path)
    (tmp_path / "runs/active-s1/summary.json").unlink()  # active seed 1 unfinished
    out = summarize(tmp_path, SOURCES, "random", seeds=5)
    sp = out["active_vs_random_speedup"]
    assert sp["seeds"] == [0, 2, 3, 4] and sp["per_seed"] == [4.0, 2.0, None, None]
    assert sp["median"] == 3.0 and sp["seeds_with_a_ratio"] == 2


def test_one_seed_never_claims_intervals_apart(tmp_path: Path) -> None:
    build(tmp_path, seeds=1)
    out = summarize(tmp_path, SOURCES, "random", seeds=1)
    text = (tmp_path / "table.md").read_text()
    assert "apart" not in " ".join(out["plain_summary"]) and "apart" not in text
    assert "one seed: no interval" in " ".join(out["plain_summary"])
    sp = out["active_vs_random_speedup"]
    assert sp["per_seed"] == [4.0] and sp["interval"] == [None, None]
    line = next(s for s in out["plain_summary"] if s.startswith("active vs random, env steps to"))
    assert "one seed: no interval" in line and "1 of 1 seeds defined a ratio" in line
    beat = out["goals"]["beats_demonstrator_on_impact_and_contact"]
    assert beat["met"] is None and beat["impact"]["verdict"] == "one_seed"
    assert "NOT MEASURABLE" in next(s for s in out["plain_summary"] if "beats video_states" in s)


def test_equal_seeds_give_a_zero_width_interval_not_intervals_apart(tmp_path: Path) -> None:
    for k in range(2):  # two seeds with identical curves per source
        for source, level in (("random", 6.0), ("active", 3.0)):
            curves = {r: [level] * len(STEPS) for r in ("impact", "contact", "free")}
            write_run(tmp_path, source, k, curves)
    out = summarize(tmp_path, ["random", "active"], "random", seeds=2)
    line = next(s for s in out["plain_summary"] if s.startswith("active vs random, final impact"))
    assert "zero-width interval" in line and "apart" not in line


def test_goals_missed_are_said_plainly(tmp_path: Path) -> None:
    build(tmp_path)
    out = summarize(tmp_path, SOURCES, "random", seeds=5)
    g = out["goals"]
    assert g["median_speedup_at_least_10x"]["met"] is False
    assert g["median_speedup_at_least_10x"]["median"] == 4.0
    rate = g["interaction_rate_at_least_demonstrator"]
    assert rate["met"] is False and rate["active_moved1"][0] == pytest.approx(0.09)
    beat = g["beats_demonstrator_on_impact_and_contact"]
    assert beat["met"] is False and beat["impact"]["verdict"] == "higher"
    assert beat["contact"]["verdict"] == "higher"
    words = [s for s in out["plain_summary"] if s.startswith("Goal")]
    assert len(words) == 3 and all(": MISSED (" in s for s in words)
    assert "video_states wins (intervals apart)" in words[2]
    assert "Goal: active beats video_states" in (tmp_path / "table.md").read_text()


def test_goals_met(tmp_path: Path) -> None:
    # active reaches random's threshold (4.82 mm) at 1000 steps where random needs 10000
    # (10x in every seed with a ratio), moves objects more often than the demonstrator, and
    # ends below it on impact (3.0x vs 3.5x mm) and contact (1.0x vs 1.5x mm).
    build(
        tmp_path,
        random_reach=[10_000, 10_000, 10_000, None, None],
        active_reach=[1000] * 5,
        active_contact=1.0,
        active_moved1=0.5,
        demo_impact=3.5,
    )
    out = summarize(tmp_path, SOURCES, "random", seeds=5)
    g = out["goals"]
    sp = g["median_speedup_at_least_10x"]
    assert sp["met"] is True and sp["median"] == 10.0 and sp["seeds_with_a_ratio"] == 3
    assert g["interaction_rate_at_least_demonstrator"]["met"] is True
    beat = g["beats_demonstrator_on_impact_and_contact"]
    assert beat["met"] is True
    assert beat["impact"]["verdict"] == beat["contact"]["verdict"] == "lower"
    words = [s for s in out["plain_summary"] if s.startswith("Goal")]
    assert all(": MET (" in s for s in words), words
    assert "all 3 ratios equal: zero-width interval" in words[0]  # 10, 10, 10


def test_active_that_never_reaches_misses_the_speedup_goal(tmp_path: Path) -> None:
    build(tmp_path, active_reach=[None] * 5)
    out = summarize(tmp_path, SOURCES, "random", seeds=5)
    sp = out["active_vs_random_speedup"]
    assert sp["source_steps"] == [None] * 5 and sp["median"] is None
    goal = out["goals"]["median_speedup_at_least_10x"]
    assert goal["met"] is False and "active never reached" in goal["why"]
    line = next(s for s in out["plain_summary"] if s.startswith("active vs random, env steps to"))
    assert "no ratio (active reached it in 0 of 5 seeds, random in 3 of 5)" in line


def test_goals_without_the_demonstrator_are_not_measurable(tmp_path: Path) -> None:
    build(tmp_path)
    out = summarize(tmp_path, ["random", "active"], "random", seeds=5)
    g = out["goals"]
    assert g["interaction_rate_at_least_demonstrator"]["met"] is None
    assert g["beats_demonstrator_on_impact_and_contact"]["met"] is None
    assert g["median_speedup_at_least_10x"]["met"] is False


def test_few_seeds_say_the_interval_is_their_range_and_unequal_runs_are_flagged(
    tmp_path: Path,
) -> None:
    for k in range(3):  # three seeds, well apart: "intervals apart" is every seed apart
        for source, level in (("random", 6.0), ("active", 3.0)):
            curves = {r: [level + 0.1 * k] * len(STEPS) for r in ("impact", "contact", "free")}
            write_run(tmp_path, source, k, curves)
    out = summarize(tmp_path, ["random", "active"], "random", seeds=3)
    final = out["sources"]["active"]["final"]["impact"]
    assert final[1] == pytest.approx(3.0) and final[2] == pytest.approx(3.2)  # min and max
    # ... and every seed's own final error, in seed order, whose mean is the reported mean
    per_seed = out["sources"]["active"]["final_per_seed"]["impact"]
    assert per_seed == pytest.approx([3.0, 3.1, 3.2]) and final[0] == pytest.approx(3.1)
    assert out["sources"]["active"]["seed_numbers"] == [0, 1, 2]
    words = out["plain_summary"]
    caveat = next(s for s in words if s.startswith("With 3 seeds"))
    assert "every seed of one source beyond every seed of the other" in caveat
    assert not any(s.startswith("WARNING") for s in words)
    # A run with another budget: the summary says the protocol is not equal.
    summary = tmp_path / "runs/active-s2/summary.json"
    data = json.loads(summary.read_text())
    summary.write_text(json.dumps({**data, "env_steps": 5000}))
    for name in ("summary.json", "table.md", "errors.png"):
        (tmp_path / name).unlink(missing_ok=True)
    out = summarize(tmp_path, ["random", "active"], "random", seeds=3)
    warning = next(s for s in out["plain_summary"] if s.startswith("WARNING"))
    assert "[5000, 10000]" in warning
