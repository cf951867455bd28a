"""What ``contactlab run`` prints at the end (``agent/closing_summary.py``)."""

from __future__ import annotations

from pathlib import Path

from agent.closing_summary import closing_summary

REGIMES = ("impact", "contact", "free", "rest", "all")


def summary(final: dict[str, float]) -> dict:
    return {
        "env_steps": 5000,
        "world_model_updates": 1250,
        "final": final,
        "interaction_totals": {"steps": 5000.0, "moved1": 1500.0, "moved2": 250.0,
                               "airborne": 50.0},
        "explorer_steps": {"warmup": 1000, "mpc": 4000},
        "wall_s": 250.0,
        "wall_steps": 5000,
        "eval_seconds": 12.5,
    }  # fmt: skip


def test_with_physics_baselines(tmp_path: Path) -> None:
    final = {}
    for i, regime in enumerate(REGIMES):
        final[f"probe/{regime}/pos_mm"] = 2.0 + i
        final[f"baseline/constant_velocity/{regime}/pos_mm"] = 4.0
        final[f"baseline/nothing_moves/{regime}/pos_mm"] = 9.5
        final[f"probe/{regime}/vs_cv"] = (2.0 + i) / 4.0
    (tmp_path / "report.html").write_text("<html>")
    text = closing_summary(summary(final), tmp_path)
    assert text.startswith("run finished: 5000 env steps, 1250 world-model updates")
    assert "5000 steps in 0:04:10 (20.0 steps/s)" in text
    assert "probe evaluations 12.5 s (5% of it)" in text
    rows = {line.split()[0]: line for line in text.splitlines() if line.startswith("  ")}
    assert rows["impact"].split()[1:5] == ["2.00", "4.00", "9.50", "0.50"]
    assert rows["impact"].endswith("beats constant velocity")
    assert rows["rest"].split()[4] == "1.25" and "does NOT beat" in rows["rest"]
    assert rows["free"].endswith("level with constant velocity")  # ratio 1.00: a tie
    assert "an object moved in 30% of the steps, two or more in 5%, one airborne in 1%" in text
    assert "acted by: warmup 1000, mpc 4000" in text
    assert f"report   {tmp_path / 'report.html'}" in text
    assert "viz.mp4" not in text  # only paths that exist


def test_without_baselines_the_ratio_is_left_blank(tmp_path: Path) -> None:
    final = {f"probe/{r}/pos_mm": 3.0 for r in ("impact", "free")}
    text = closing_summary(summary(final), tmp_path)
    rows = {line.split()[0]: line for line in text.splitlines() if line.startswith("  ")}
    assert rows["impact"].split()[1:] == ["3.00", "-", "-", "-"]
    assert "contact" not in rows and "beat" not in text


def test_cv_ratio_computed_when_only_the_baseline_is_logged(tmp_path: Path) -> None:
    final = {"probe/impact/pos_mm": 6.0, "baseline/constant_velocity/impact/pos_mm": 4.0}
    text = closing_summary(summary(final), tmp_path)
    assert "1.50  does NOT beat constant velocity" in text


def test_no_evaluation(tmp_path: Path) -> None:
    text = closing_summary({"env_steps": 0, "world_model_updates": 0, "final": {}}, tmp_path)
    assert "(no probe evaluation recorded)" in text and f"folder   {tmp_path}" in text
