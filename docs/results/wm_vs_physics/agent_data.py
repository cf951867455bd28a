"""Goal (b) with an agent's own data: the final models of ``contactlab run`` runs (each trained
online on the 20k transitions its explorer collected) scored on a given probe set, whole and
split into the part an agent can reach and the rest, as ratios to constant velocity.

Usage: ``python docs/results/wm_vs_physics/agent_data.py PROBE RUN [RUN ...]``

E.g. PROBE = PushBlocks' probe set ``dd8ca5ab...`` (``run.sh`` here builds it), RUNs = the
``active-s*`` runs of ``docs/results/pushblocks_headline/run.sh``. Prints a markdown table and
a JSON line (per run and mean [95% bootstrap interval]).
"""

from __future__ import annotations

import json
import sys

import numpy as np

import envs  # noqa: F401
from agent.make_env import make_env
from agent.report.model import restore_model
from agent.report.run_folder import RunFolder
from agent.stats import bootstrap_ci
from world_model.probe import baseline_metrics, evaluate_on_probe, load_probe_set, with_baselines

REGIMES = ("impact", "contact", "free")
PARTS = ("", "reach/", "beyond/")


def main() -> None:
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    probe = load_probe_set(sys.argv[1])
    per_run: dict[str, dict[str, float]] = {}
    for path in sys.argv[2:]:
        run = RunFolder.load(path)
        env = make_env(run.env_config())
        scene = env.unwrapped
        restored = restore_model(run, scene.layout, scene.action_space.shape[0])
        metrics = evaluate_on_probe(restored.model, probe, condition=restored.condition)
        row = with_baselines(metrics, baseline_metrics(probe, scene.dt))
        per_run[path] = {
            f"{p}{r}": float(row[f"probe/{p}{r}/vs_cv"]) for p in PARTS for r in REGIMES
        }
        env.close()
    print(f"probe {probe.content_hash[:8]}..., {len(per_run)} runs; ratio to constant velocity")
    print("| part | " + " | ".join(REGIMES) + " |")
    print("|---|---|---|---|")
    summary: dict[str, list[float]] = {}
    for p in PARTS:
        cells = []
        for r in REGIMES:
            x = np.array([v[f"{p}{r}"] for v in per_run.values()])
            mean, lo, hi = bootstrap_ci(x)
            summary[f"{p}{r}"] = [mean, lo, hi]
            per = "/".join(f"{v:.2f}" for v in x)
            ci = f" [{lo:.2f}, {hi:.2f}]" if np.isfinite(lo) else ""
            cells.append(f"{mean:.2f}{ci} ({per})")
        print(f"| {p.rstrip('/') or 'whole'} | " + " | ".join(cells) + " |")
    print(json.dumps({"probe": probe.content_hash, "per_run": per_run, "mean_ci": summary}))


if __name__ == "__main__":
    main()
