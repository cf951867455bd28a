"""Tables of docs/results/watching_advantage from the folder run.sh wrote: the 5k-step runs'
final probe errors (per seed), the offline conditioning swap and the impacts each source's
data holds. Usage: ``python docs/results/watching_advantage/summarize.py OUT > tables.md``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from envs.regimes import Regime
from world_model.dataset import load_dataset
from world_model.evaluation import REACH_MAX_VZ
from world_model.probe import load_probe_set

REGIMES = ("impact", "contact", "free")


def _row(metrics: dict, prefix: str = "probe") -> list[float]:
    return [metrics.get(f"{prefix}/{r}/pos_mm", float("nan")) for r in REGIMES]


def _fmt(values: list[float]) -> str:
    return " | ".join(f"{v:.3f}" for v in values)


def impacts(data_dir: Path, layout) -> dict[str, float]:  # noqa: ANN001
    """Objects' impact transitions in a dataset: how many per 1,000 env steps, their speed
    (median and 90th percentile, m/s) and the fraction airborne (|v_z| above the probe's
    reach limit, ``world_model.evaluation.REACH_MAX_VZ``)."""
    d = load_dataset(data_dir)
    objs = layout.indices("object")
    blocks = layout.split(d.obs)[:, objs]
    hit = d.regime[:, objs] == Regime.IMPACT
    vel = blocks[..., layout.features["linvel"]][hit]
    speed, vz = np.linalg.norm(vel, axis=-1), np.abs(vel[:, 2])
    return {
        "per_1000_steps": 1000.0 * hit.sum() / len(d),
        "speed_q50": float(np.median(speed)),
        "speed_q90": float(np.quantile(speed, 0.9)),
        "airborne": float(np.mean(vz > REACH_MAX_VZ)),
    }


def main(out: Path) -> None:
    runs = sorted((out / "runs").glob("*/summary.json"))
    variants: dict[str, dict[int, list[float]]] = {}
    for f in runs:
        name, seed = f.parent.name.rsplit("-s", 1)
        final = json.loads(f.read_text())["final"]
        variants.setdefault(name, {})[int(seed)] = _row(final)
    cv = _row(json.loads(runs[0].read_text())["final"], "baseline/constant_velocity")
    print("## 5k-step runs: final one-step object position error, mm (per seed)\n")
    print("| variant | seeds | impact | contact | free |")
    print("|---|---|---|---|---|")
    for name, per_seed in variants.items():
        seeds = sorted(per_seed)
        cols = []
        for i in range(3):
            vals = [per_seed[s][i] for s in seeds]
            cols.append(f"{np.mean(vals):.3f} ({' / '.join(f'{v:.3f}' for v in vals)})")
        print(f"| {name} | {','.join(map(str, seeds))} | {' | '.join(cols)} |")
    print(f"| constant velocity | - | {_fmt(cv)} |\n")

    for folder, scene in (("cond", "PushBlocks"), ("cond_tower", "Tower")):
        files = sorted((out / folder).glob("*.json"))
        if not files:
            continue
        print(f"## Offline ({scene}): conditioned on the actions or on the agent's motion\n")
        print("| data | condition | seed | updates | impact | contact | free | 10-step rollout |")
        print("|---|---|---|---|---|---|---|---|")
        for f in files:
            r = json.loads(f.read_text())
            m = r["metrics"]
            roll = m.get("probe/rollout/impact_seq/pos_mm", float("nan"))
            print(
                f"| {Path(r['data']).parent.name} ({r['transitions']}) | {r['condition']} | "
                f"{r['seed']} | {r['updates']} | {_fmt(_row(m))} | {roll:.2f} |"
            )
        cv = _row(json.loads(files[0].read_text())["metrics"], "baseline/constant_velocity")
        print(f"| constant velocity | | | | {_fmt(cv)} | |\n")
    probe_dir = next((out / "probe").iterdir()) if (out / "probe").is_dir() else None
    if probe_dir is None:
        return
    layout = load_probe_set(probe_dir).layout
    print("## Impacts in each source's data (objects)\n")
    print("| data | impacts per 1,000 steps | speed median m/s | speed 90th pct | airborne |")
    print("|---|---|---|---|---|")
    rows = [("probe set", probe_dir)] + [(f.parent.name, f.parent / "data") for f in runs]
    for name, path in rows:
        s = impacts(path, layout)
        print(
            f"| {name} | {s['per_1000_steps']:.0f} | {s['speed_q50']:.3f} | "
            f"{s['speed_q90']:.3f} | {s['airborne']:.2f} |"
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
