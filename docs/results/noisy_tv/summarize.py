"""The noisy-TV table from the run folders of ``run.sh``: per curiosity signal and seed, the
fraction of the explorer's steps (after the random warm-up) with the TV on, and the fraction
in which it moved an object.

Usage: ``python docs/results/noisy_tv/summarize.py [/tmp/noisy_tv]``
Writes ``results.md`` and ``summary.json`` next to this file; ``summary.json`` also records
each run's commit (``run.json``) and its ``world_model=`` choice (its command).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np

from agent.stats import bootstrap_ci

HERE = Path(__file__).parent
NAME = re.compile(r"(?P<agent>[a-z]+)-(?P<signal>[a-z_]+)-s(?P<seed>\d+)")


def explorer_rates(run: Path) -> dict[str, float]:
    """Fractions of the steps after the warm-up: TV on, an object moved. The first metrics
    row (the end of the warm-up) holds the warm-up's own window, which is taken out."""
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    summary = json.loads((run / "summary.json").read_text())
    totals, warmup = summary["interaction_totals"], summary["explorer_steps"]["warmup"]
    first = rows[0]
    assert first["step"] == warmup, f"{run}: first row at {first['step']}, warm-up {warmup}"
    steps = totals["steps"] - warmup
    return {
        key: (totals.get(key, 0.0) - first.get(f"explore/{key}", 0.0) * warmup) / steps
        for key in ("distractor", "moved1")
    }


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/noisy_tv") / "runs"
    per: dict[str, dict[str, dict[str, float]]] = {}
    runs: dict[str, dict] = {}
    for run in sorted(root.iterdir()):
        m = NAME.fullmatch(run.name)
        if m is None or not (run / "summary.json").exists():
            continue
        per.setdefault(f"{m['agent']}+{m['signal']}", {})[f"s{m['seed']}"] = explorer_rates(run)
        info = json.loads((run / "run.json").read_text())
        chosen = [a.split("=", 1)[1] for a in info["command"] if a.startswith("world_model=")]
        runs[run.name] = {
            "commit": info["git"]["commit"],
            "dirty": info["git"]["dirty"],
            "world_model": chosen[-1] if chosen else "default",
        }
    out: dict = {"per_seed": per, "tv_on": {}, "moved": {}, "runs": runs}
    lines = [
        "# Noisy TV: fraction of the explorer's steps with the TV on",
        "",
        "PushBlocks, `env.distractor=teleport`, 3k env steps (1k random warm-up, then the",
        "explorer); fractions over the explorer's 2k steps. Per seed, and the mean with a 95%",
        "bootstrap interval. Command: `bash docs/results/noisy_tv/run.sh`, then",
        "`python docs/results/noisy_tv/summarize.py`.",
        "",
        "| explorer + signal | TV on, per seed | TV on, mean [95%] | object moved, mean |",
        "|---|---|---|---|",
    ]
    for name, seeds in per.items():
        tv = np.array([seeds[s]["distractor"] for s in sorted(seeds)])
        moved = np.array([seeds[s]["moved1"] for s in sorted(seeds)])
        ci, mv = bootstrap_ci(tv), bootstrap_ci(moved)
        out["tv_on"][name], out["moved"][name] = ci, mv
        interval = f"[{ci[1]:.1%}, {ci[2]:.1%}]" if np.isfinite(ci[1]) else "(one seed)"
        per_seed = ", ".join(f"{v:.1%}" for v in tv)
        lines.append(f"| {name} | {per_seed} | {ci[0]:.1%} {interval} | {mv[0]:.1%} |")
    (HERE / "results.md").write_text("\n".join(lines) + "\n")
    (HERE / "summary.json").write_text(json.dumps(out, indent=1) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
