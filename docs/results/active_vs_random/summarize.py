"""Tables for the issue-4 result from the run folders of ``run.sh``.

Usage: ``python docs/results/active_vs_random/summarize.py [/tmp/active_vs_random]``
Writes ``results.md`` and ``summary.json`` next to this file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from agent.stats import align, bootstrap_band, bootstrap_ci

HERE = Path(__file__).parent
RATES = ("moved1", "moved2", "airborne", "flipped")


def load(run: Path) -> tuple[list[dict], dict]:
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return rows, json.loads((run / "summary.json").read_text())


def rates(summary: dict) -> dict[str, float]:
    totals = summary["interaction_totals"]
    return {k: totals.get(k, 0.0) / totals["steps"] for k in (*RATES, "distractor")}


def aligned(groups: dict[str, list[Path]], key: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Every run's ``key`` on the union of all runs' evaluation steps (``agent.stats.align``):
    the steps ``(T,)`` and, per group, a ``(runs, T)`` array (NaN where a run has no value)."""
    curves = []
    for runs in groups.values():
        for run in runs:
            rows = [row for row in load(run)[0] if row.get(key) is not None]
            curves.append((np.array([r["step"] for r in rows]), np.array([r[key] for r in rows])))
    steps, values = align(curves)
    bounds = np.cumsum([0] + [len(runs) for runs in groups.values()])
    return steps, {name: values[bounds[i] : bounds[i + 1]] for i, name in enumerate(groups)}


def fmt(mean: float, low: float, high: float, digits: int = 3) -> str:
    if not np.isfinite(low):  # one run: no interval
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/active_vs_random") / "runs"
    groups = {
        "mpc+disagreement": sorted(root.glob("mpc-disagreement-s*")),
        "random": sorted(root.glob("random-s*")),
    }
    out: dict = {"groups": {}}
    lines = ["# Active (disagreement + MPC) vs random actions, PushBlocks, 20k env steps", ""]
    lines += [
        "Mean over seeds with a 95% bootstrap interval.",
        "Command: `bash docs/results/active_vs_random/run.sh`",
        "",
    ]
    lines += [
        "## Interaction rates (fraction of all env steps)",
        "",
        "| metric | " + " | ".join(groups) + " | ratio |",
        "|---|---|---|---|",
    ]
    per_group_rates = {}
    for name, runs in groups.items():
        per_group_rates[name] = {k: np.array([rates(load(r)[1])[k] for r in runs]) for k in RATES}
        out["groups"][name] = {"runs": [r.name for r in runs]}
    for k in RATES:
        a, b = per_group_rates["mpc+disagreement"][k], per_group_rates["random"][k]
        ratio = a.mean() / b.mean() if b.mean() > 0 else None
        shown = f"{ratio:.1f}x" if ratio is not None else ("-" if a.mean() == 0 else "random: 0")
        row = f"| {k} | {fmt(*bootstrap_ci(a), 4)} | {fmt(*bootstrap_ci(b), 4)} | {shown} |"
        lines.append(row)
        out[f"ratio/{k}"] = ratio
    lines += ["", "## Probe error over time (position error, mm; mean over seeds)", ""]
    for regime in ("impact", "contact", "free"):
        key = f"probe/{regime}/pos_mm"
        steps, values = aligned(groups, key)
        bands = {name: bootstrap_band(v) for name, v in values.items()}
        lines += [
            f"### {regime}",
            "",
            "| env steps | " + " | ".join(groups) + " |",
            "|---|---|---|",
        ]
        for i, step in enumerate(steps.astype(int).tolist()):
            cells = [
                fmt(*(float(b[i]) for b in band), 2) if np.isfinite(band[0][i]) else "-"
                for band in bands.values()
            ]
            lines.append(f"| {step} | " + " | ".join(cells) + " |")
            out.setdefault(f"curve/{regime}", []).append(
                {"step": step, **dict(zip(groups, cells, strict=True))}
            )
        lines.append("")
    tv = sorted(root.glob("tv-*"))
    if tv:
        lines += ["## Noisy TV (distractor=teleport, 3k steps, MPC): time spent attending it", ""]
        lines += ["| curiosity | steps with the TV on | final impact error (mm) |", "|---|---|---|"]
        for run in tv:
            rows, summary = load(run)
            on = rates(summary)["distractor"]
            lines.append(f"| {run.name[3:]} | {on:.3f} | {rows[-1]['probe/impact/pos_mm']:.2f} |")
            out[f"tv/{run.name[3:]}"] = on
    (HERE / "results.md").write_text("\n".join(lines) + "\n")
    (HERE / "summary.json").write_text(json.dumps(out, indent=2) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
