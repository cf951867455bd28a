"""What ``contactlab run`` prints when it ends: the run's result in a few lines.

Final one-step object position errors per regime on the probe set, beside the physics
baselines (constant velocity, nothing moves) and the model's ratio to constant velocity when
the evaluation row carries them (``baseline/...`` and ``probe/{regime}/vs_cv`` keys); the
interaction rate of the collected data; env steps, world-model updates, elapsed time and the
probe-evaluation share of it; the paths of what the run wrote.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

REGIMES = ("impact", "contact", "free", "rest", "all")


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def _num(value: Any, fmt: str = ".2f") -> str:
    if value is None or not math.isfinite(float(value)):
        return "-"
    return format(float(value), fmt)


def error_table(final: dict[str, float]) -> list[str]:
    """Rows of the final-error table (an empty list when the row has no probe errors)."""
    rows = []
    for regime in REGIMES:
        model = final.get(f"probe/{regime}/pos_mm")
        if model is None:
            continue
        cv = final.get(f"baseline/constant_velocity/{regime}/pos_mm")
        still = final.get(f"baseline/nothing_moves/{regime}/pos_mm")
        ratio = final.get(f"probe/{regime}/vs_cv")
        if ratio is None and cv:
            ratio = model / cv
        verdict = ""
        if ratio is not None and math.isfinite(ratio):
            # within 1% is a tie: a model that barely moved from its constant-velocity start
            # (the graph model's zero output) has not beaten it
            if ratio < 0.99:
                verdict = "beats constant velocity"
            elif ratio <= 1.01:
                verdict = "level with constant velocity"
            else:
                verdict = "does NOT beat constant velocity"
        rows.append(
            f"  {regime:<8} {_num(model):>8} {_num(cv):>10} {_num(still):>10} "
            f"{_num(ratio):>8}  {verdict}".rstrip()
        )
    if not rows:
        return []
    header = f"  {'regime':<8} {'model':>8} {'const.vel':>10} {'no motion':>10} {'model/cv':>8}"
    return [
        "final one-step object position error on the probe set (mm; lower is better):",
        header,
        *rows,
    ]


def closing_summary(summary: dict[str, Any], run_dir: Path) -> str:
    """The text printed at the end of a run, from its ``summary.json`` content.

    Args:
        summary: what :func:`agent.run.run` writes to ``summary.json`` (``env_steps``,
            ``world_model_updates``, ``final``, ``interaction_totals``, ``explorer_steps``,
            ``wall_s``, ``wall_steps``, ``eval_seconds``).
        run_dir: the run folder (for the paths).
    """
    steps = int(summary.get("env_steps", 0))
    lines = [f"run finished: {steps} env steps, {summary.get('world_model_updates', 0)} "
             "world-model updates"]  # fmt: skip
    wall, wall_steps = summary.get("wall_s"), summary.get("wall_steps")
    if wall is not None:
        timing = f"  this session: {wall_steps} steps in {_clock(wall)}"
        if wall_steps and wall > 0:
            timing += f" ({wall_steps / wall:.1f} steps/s)"
        evals = summary.get("eval_seconds")
        if evals is not None and wall > 0:
            timing += f"; probe evaluations {evals:.1f} s ({100 * evals / wall:.0f}% of it)"
        lines.append(timing)
    table = error_table(summary.get("final") or {})
    lines += table or ["  (no probe evaluation recorded)"]
    totals = summary.get("interaction_totals") or {}
    n = totals.get("steps")
    if n:
        lines.append(
            f"interaction: an object moved in {100 * totals.get('moved1', 0) / n:.0f}% of the "
            f"steps, two or more in {100 * totals.get('moved2', 0) / n:.0f}%, "
            f"one airborne in {100 * totals.get('airborne', 0) / n:.0f}%"
        )
    acted = summary.get("explorer_steps")
    if acted:
        lines.append("acted by: " + ", ".join(f"{k} {v}" for k, v in acted.items()))
    for label, name in (
        ("folder", ""), ("metrics", "metrics.csv"), ("summary", "summary.json"),
        ("report", "report.html"), ("video", "viz.mp4"),
    ):  # fmt: skip
        path = run_dir / name if name else run_dir
        if not name or path.exists():
            lines.append(f"{label:<8} {path}")
    return "\n".join(lines)
