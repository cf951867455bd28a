"""Table of the issue-3 result from the summaries and metric curves next to this file.

Usage: ``python docs/results/wm_random_50k/summarize.py`` (after ``run.sh``); prints Markdown.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).parent
KEYS = [
    ("impact", "probe/impact/pos_mm"),
    ("contact", "probe/contact/pos_mm"),
    ("free", "probe/free/pos_mm"),
    ("rest", "probe/rest/pos_mm"),
    ("contact gap", "probe/contact_gap"),
    ("10-step rollout, impact", "probe/rollout/impact/pos_mm"),
    ("onset within 1 step", "probe/onset_within_1"),
]


def main() -> None:
    print("| model | objective | updates | " + " | ".join(k for k, _ in KEYS) + " |")
    print("|---|---|---|" + "---|" * len(KEYS))
    for kind in ("mlp", "interaction"):
        for objective in ("reconstructive", "jepa"):
            name = f"{kind}-{objective}"
            summary = json.loads((HERE / f"{name}.summary.json").read_text())
            final, updates = summary["final"], str(summary["updates"])
            cells = [
                f"{final[key]:.3f}" if "onset" in key or "gap" in key else f"{final[key]:.2f}"
                for _, key in KEYS
            ]
            print(f"| {kind} | {objective} | {updates} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
