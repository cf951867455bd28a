"""One variant's active runs against the committed PushBlocks headline, on the headline's terms.

The headline (docs/results/pushblocks_headline/summary.json) holds every source's per-seed final
errors, interaction rates and the random baseline's per-seed steps to its own mean final impact
error. This script scores a folder of new ``active-s<K>`` runs (same scene, source, budget,
updates, probe set and world model: checked) with the same statistics (:mod:`agent.stats`:
mean and percentile-bootstrap interval over seeds; per-seed steps to the threshold; the
paired speedup, its median and interval) and sets them beside the committed sources, so that
the variant can be judged on the issue's three goals without re-running the other sources.

    python docs/results/seek_variants/summarize.py RUNS_FOLDER [HEADLINE_SUMMARY] > table.md

``RUNS_FOLDER`` holds ``active-s0`` ... (each with ``metrics.jsonl`` and ``summary.json``);
``--write PATH`` also writes the summary as JSON (an interval from one seed as ``null``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from agent.compare_speedup import column, contrast
from agent.stats import CONFIDENCE, N_RESAMPLES, _interval, bootstrap_ci, steps_to_threshold

HERE = Path(__file__).resolve().parent
HEADLINE = HERE.parent / "pushblocks_headline" / "summary.json"
REGIMES = ("impact", "contact", "free")


def load_runs(folder: Path) -> list[dict[str, Any]]:
    """The finished ``active-s<K>`` runs in ``folder``, ordered by seed."""
    runs = []
    for run in sorted(folder.glob("active-s*"), key=lambda p: int(p.name.split("-s")[-1])):
        if not (run / "summary.json").exists():
            continue
        rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
        summary = json.loads((run / "summary.json").read_text())
        git = json.loads((run / "run.json").read_text()).get("git", {})
        runs.append(
            {"seed": int(run.name.split("-s")[-1]), "rows": rows, "summary": summary, "git": git}
        )
    if not runs:
        raise SystemExit(f"{folder}: no finished active-s<K> runs")
    return runs


def check_protocol(runs: list[dict[str, Any]], headline: dict[str, Any], folder: Path) -> None:
    """Stop unless every run has the headline's budget, updates and probe set, is the
    ``active`` source on PushBlocks without a distractor, and trained the world model that
    ``contactlab run`` composes by default (the headline's, ``graph_contact``)."""
    from omegaconf import OmegaConf

    from agent.config.load import load_config
    from agent.config.run import RunConfig

    _, default = load_config("run", RunConfig, [])
    want_wm = OmegaConf.to_container(default.world_model)
    want = headline["protocol"]
    for run in runs:
        cfg = OmegaConf.load(folder / f"active-s{run['seed']}" / "config.yaml")
        loop = (cfg.loop.observe_actions, cfg.loop.passive_fraction, cfg.loop.observation)
        if (cfg.agent.name, *loop) != ("seek", True, 0.0, "states"):
            raise SystemExit(f"active-s{run['seed']}: not the active source (seek, states)")
        if (cfg.env.name, cfg.env.distractor) != ("push_blocks", "none"):
            raise SystemExit(f"active-s{run['seed']}: not plain PushBlocks")
        if OmegaConf.to_container(cfg.world_model) != want_wm:
            raise SystemExit(f"active-s{run['seed']}: world_model differs from the run default")
        s = run["summary"]
        got = (s["env_steps"], s["world_model_updates"], s["probe"]["content_hash"])
        ref = (want["env_steps"][0], want["world_model_updates"][0])
        if got[:2] != ref or got[2] not in want["probe_content_hashes"]:
            raise SystemExit(f"active-s{run['seed']}: protocol {got} differs from {want}")


def summarize(runs: list[dict[str, Any]], headline: dict[str, Any]) -> dict[str, Any]:
    seeds = [r["seed"] for r in runs]
    final_per_seed = {
        g: [float(column(r, f"probe/{g}/pos_mm")[1][-1]) for r in runs] for g in REGIMES
    }
    final = {g: list(bootstrap_ci(np.array(v))) for g, v in final_per_seed.items()}
    moved = [
        r["summary"]["interaction_totals"]["moved1"] / r["summary"]["interaction_totals"]["steps"]
        for r in runs
    ]
    threshold = headline["threshold_impact_mm"]
    base = headline["active_vs_random_speedup"]
    base_steps = dict(zip(base["seeds"], base["baseline_steps"], strict=True))
    steps = [steps_to_threshold(*column(r, "probe/impact/pos_mm"), threshold) for r in runs]
    ratios = [
        base_steps[s] / n if n and base_steps.get(s) is not None else None
        for s, n in zip(seeds, steps, strict=True)
    ]
    x = np.array([q for q in ratios if q is not None], np.float64)
    low, high = _interval(x, np.median, CONFIDENCE, N_RESAMPLES, 0)
    out: dict[str, Any] = {
        "seeds": seeds,
        "commits": [
            f"{r['git'].get('commit', '?')[:7]}{'+dirty' if r['git'].get('dirty') else ''}"
            for r in runs
        ],
        "final": final,
        "final_per_seed": final_per_seed,
        "moved1": list(bootstrap_ci(np.array(moved))),
        "moved1_per_seed": moved,
        "speedup_vs_random": {
            "threshold_mm": threshold,
            "source_steps": steps,
            "baseline_steps": [base_steps.get(s) for s in seeds],
            "per_seed": ratios,
            "median": float(np.median(x)) if len(x) else None,
            "interval": [low, high],
            "seeds_with_a_ratio": len(x),
        },
        "versus": {},
    }
    for other in ("video_states", "active", "random"):
        ref = headline["sources"][other]["final"]
        out["versus"][other] = {g: contrast(final[g], ref[g]) for g in REGIMES}
    demo = out["versus"]["video_states"]
    out["goals"] = {
        "median_speedup_at_least_10x": out["speedup_vs_random"]["median"] is not None
        and out["speedup_vs_random"]["median"] >= 10,
        "interaction_rate_at_least_demonstrator": out["moved1"][0]
        >= headline["sources"]["video_states"]["rates"]["moved1"][0],
        "beats_demonstrator_on_impact_and_contact": demo["impact"] == demo["contact"] == "lower",
    }
    return out


def table(out: dict[str, Any], headline: dict[str, Any], name: str) -> str:
    def ci(t: list[float], d: int = 2) -> str:
        return f"{t[0]:.{d}f} [{t[1]:.{d}f}, {t[2]:.{d}f}]"

    lines = [
        "| source | impact mm | contact mm | free mm | object moved in |",
        "|---|---|---|---|---|",
    ]
    f = out["final"]
    rate = [100 * v for v in out["moved1"]]
    lines.append(
        f"| **{name}** (new runs) | {ci(f['impact'])} | {ci(f['contact'])} | {ci(f['free'])} "
        f"| {ci(rate, 1)}% |"
    )
    for src in ("active", "video_states", "random"):
        e = headline["sources"][src]
        r = [100 * v for v in e["rates"]["moved1"]]
        lines.append(
            f"| {src} (committed headline) | {ci(e['final']['impact'])} "
            f"| {ci(e['final']['contact'])} | {ci(e['final']['free'])} | {ci(r, 1)}% |"
        )
    sp = out["speedup_vs_random"]
    per = " / ".join("never" if s is None else f"{s:,}" for s in sp["source_steps"])
    lines += [
        "",
        f"Commits (run.json, per seed): {' / '.join(out['commits'])}",
        f"Per seed {out['seeds']}, impact / contact / free mm: "
        + "; ".join(" / ".join(f"{v:.2f}" for v in out["final_per_seed"][g]) for g in REGIMES),
        f"Steps to random's final impact error ({sp['threshold_mm']:.3f} mm), per seed: {per}; "
        f"speedup median {sp['median']}, interval {sp['interval']}, "
        f"{sp['seeds_with_a_ratio']} seeds with a ratio.",
        f"Against the committed sources (interval contrast): {out['versus']}",
        f"Goals: {out['goals']}",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", type=Path)
    parser.add_argument("headline", type=Path, nargs="?", default=HEADLINE)
    parser.add_argument("--name", default="variant")
    parser.add_argument("--write", type=Path, help="also write the summary (JSON) here")
    args = parser.parse_args()
    headline = json.loads(args.headline.read_text())
    runs = load_runs(args.runs)
    check_protocol(runs, headline, args.runs)
    out = summarize(runs, headline)
    if args.write:  # NaN (an interval from one seed) as null, as compare's summary.json
        clean = json.loads(json.dumps(out), parse_constant=lambda c: None)
        args.write.write_text(json.dumps(clean, indent=1) + "\n")
    print(table(out, headline, args.name))


if __name__ == "__main__":
    main()
