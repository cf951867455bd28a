"""Per seed, each source's final model against constant velocity on the reach and beyond parts
of the probe (``probe/{reach,beyond}/<regime>/vs_cv``; < 1 beats constant velocity): what 20k
transitions of each source teach the default model (issue "the world model must learn
physics", goal (b)).

Usage: ``python docs/results/pushblocks_headline/reach_table.py [COMPARE_FOLDER]``
(default ``/tmp/pushblocks_headline/runs/pushblocks_headline``). Prints a markdown table; "-"
where a source's runs did not log the figure (the pixel model of ``video_pixels`` is scored
through its readout on the whole probe only).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from agent.stats import bootstrap_ci

REGIMES = ("impact", "contact", "free")


def main() -> None:
    folder = Path(
        sys.argv[1] if len(sys.argv) > 1 else "/tmp/pushblocks_headline/runs/pushblocks_headline"
    )
    runs: dict[str, list[dict]] = {}
    for run in sorted((folder / "runs").iterdir()):
        if not (run / "summary.json").exists():
            continue
        last = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])
        runs.setdefault(run.name.rsplit("-s", 1)[0], []).append(last)
    cols = [f"{part} {r}" for part in ("whole", "reach", "beyond") for r in REGIMES]
    print("| source (seeds) | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for source, rows in runs.items():
        cells = []
        for part in ("", "reach/", "beyond/"):
            for r in REGIMES:
                key = f"probe/{part}{r}/vs_cv"
                if not all(key in row for row in rows):  # a pixel model logs no such split
                    cells.append("-")
                    continue
                x = np.array([row[key] for row in rows])
                mean, lo, hi = bootstrap_ci(x)
                per = "/".join(f"{v:.2f}" for v in x)
                ci = f" [{lo:.2f}, {hi:.2f}]" if np.isfinite(lo) else ""
                cells.append(f"{mean:.2f}{ci} ({per})")
        print(f"| {source} ({len(rows)}) | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
