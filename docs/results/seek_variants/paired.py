"""Variants against `boxfast`, seed by seed: run seed K of every variant starts from the same
warm-up and episode seeds, so the per-seed differences are paired.

    python docs/results/seek_variants/paired.py [REFERENCE] > paired.md

Reads the ``summary_<variant>.json`` files here (summarize.py's; the default reference is
``summary_boxfast.json``) and prints, per variant and regime, each common seed's difference
(variant minus reference, mm; negative: the variant is better), their mean and its 95%
percentile-bootstrap interval (:func:`agent.stats.bootstrap_ci`), and how many seeds are lower.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from agent.stats import bootstrap_ci

HERE = Path(__file__).resolve().parent
REGIMES = ("impact", "contact", "free")


def per_seed(summary: dict) -> dict[int, dict[str, float]]:
    """``{seed: {regime: final error}}`` of one summarize.py summary."""
    finals = summary["final_per_seed"]
    return {s: {r: finals[r][i] for r in REGIMES} for i, s in enumerate(summary["seeds"])}


def main() -> None:
    ref_name = sys.argv[1] if len(sys.argv) > 1 else "boxfast"
    ref = per_seed(json.loads((HERE / f"summary_{ref_name}.json").read_text()))
    print(f"Paired differences against `{ref_name}` (variant minus {ref_name}, mm), per seed:\n")
    print("| variant | regime | seeds | per seed | mean [95% interval] | seeds lower |")
    print("|---|---|---|---|---|---|")
    for path in sorted(HERE.glob("summary_*.json")):
        name = path.stem.removeprefix("summary_")
        if name == ref_name:
            continue
        runs = per_seed(json.loads(path.read_text()))
        seeds = sorted(set(runs) & set(ref))
        for regime in REGIMES:
            diff = np.array([runs[s][regime] - ref[s][regime] for s in seeds])
            mean, low, high = bootstrap_ci(diff)
            each = " / ".join(f"{d:+.3f}" for d in diff)
            interval = f"[{low:+.3f}, {high:+.3f}]" if len(diff) > 1 else "(one seed)"
            print(
                f"| `{name}` | {regime} | {','.join(map(str, seeds))} | {each} | "
                f"{mean:+.3f} {interval} | {int((diff < 0).sum())}/{len(diff)} |"
            )


if __name__ == "__main__":
    main()
