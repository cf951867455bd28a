"""The comparison's outputs: ``summary.json``, ``table.md``, ``errors.png`` and a plain-language
summary that says where active collection wins and where it does not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from agent.run_dir import write_json_atomic
from agent.stats import align, bootstrap_ci, speedup, steps_to_threshold

REGIMES = ("impact", "contact", "free", "rest")
RATES = ("moved1", "moved2", "airborne", "flipped")


def _load_runs(folder: Path, source: str, seeds: int) -> list[dict[str, Any]]:
    """The finished runs of ``source`` with seeds ``0 .. seeds-1`` (a comparison folder may
    hold more seeds from an earlier, larger command)."""
    runs = []
    for run in (folder / "runs" / f"{source}-s{k}" for k in range(seeds)):
        if not (run / "summary.json").exists():
            continue
        rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
        summary = json.loads((run / "summary.json").read_text())
        runs.append({"name": run.name, "rows": rows, "summary": summary})
    return runs


def _curve(runs: list[dict], key: str) -> tuple[np.ndarray, np.ndarray]:
    """Steps (the union of the runs' evaluation steps) and a ``(seeds, steps)`` array of
    ``key`` (NaN where a run did not log it)."""
    return align([_column(run, key) for run in runs])


def _column(run: dict, key: str) -> tuple[np.ndarray, np.ndarray]:
    """A run's evaluation steps and ``key`` at each (NaN where the row lacks it)."""
    steps = np.array([row["step"] for row in run["rows"]])
    values = [np.nan if row.get(key) is None else row[key] for row in run["rows"]]
    return steps, np.array(values, np.float64)


def _protocol(data: dict[str, list[dict]]) -> dict[str, Any]:
    """The protocol equalities: same transitions, same updates, same probe set for every run."""
    summaries = [r["summary"] for runs in data.values() for r in runs]
    budgets = sorted({s["env_steps"] for s in summaries})
    updates = sorted({s["world_model_updates"] for s in summaries})
    probes = sorted({s["probe"]["content_hash"] for s in summaries})
    equal = len(budgets) == len(updates) == len(probes) == 1
    return {
        "env_steps": budgets,
        "world_model_updates": updates,
        "probe_content_hashes": probes,
        "equal": equal,
    }


def _source_entry(runs: list[dict], threshold: float) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "seeds": len(runs),
        "final": {},
        "curves": {},
        "rates": {},
        "calibration": {},
    }
    for regime in REGIMES:
        steps, vals = _curve(runs, f"probe/{regime}/pos_mm")
        entry["final"][regime] = bootstrap_ci(vals[:, -1])
        intervals = [bootstrap_ci(vals[:, j]) for j in range(len(steps))]
        entry["curves"][regime] = {"steps": steps.tolist(), "ci": intervals}
    _, gap = _curve(runs, "probe/contact_gap")
    entry["final"]["contact_gap"] = bootstrap_ci(gap[:, -1])
    steps, impact = _curve(runs, "probe/impact/pos_mm")
    per_seed = [steps_to_threshold(steps, impact[i], threshold) for i in range(len(runs))]
    mean_curve = steps_to_threshold(steps, np.nanmean(impact, 0), threshold)
    entry["steps_to_threshold"] = {"per_seed": per_seed, "mean_curve": mean_curve}
    totals = [r["summary"]["interaction_totals"] for r in runs]
    for rate in RATES:
        entry["rates"][rate] = bootstrap_ci(
            np.array([t.get(rate, 0.0) / t["steps"] for t in totals])
        )
    for group in ("all", *REGIMES):
        _, cal = _curve(runs, f"curiosity/calibration/{group}")
        entry["calibration"][group] = bootstrap_ci(cal[:, -1])
    return entry


def summarize(folder: Path, sources: list[str], baseline: str, seeds: int) -> dict[str, Any]:
    """Write ``summary.json``, ``table.md`` and ``errors.png`` in ``folder`` for seeds
    ``0 .. seeds-1`` of ``sources``; return the summary."""
    data = {s: _load_runs(folder, s, seeds) for s in sources}
    missing = [s for s, runs in data.items() if not runs]
    if missing:
        raise RuntimeError(f"{folder}: no finished runs for sources {missing}")
    _, base_impact = _curve(data[baseline], "probe/impact/pos_mm")
    threshold = float(np.nanmean(base_impact[:, -1]))
    out: dict[str, Any] = {"protocol": _protocol(data), "threshold_impact_mm": threshold}
    out["physics_baselines"] = _physics_baselines(data[baseline][0]["rows"][-1])
    out["sources"] = {source: _source_entry(runs, threshold) for source, runs in data.items()}
    base_reach = out["sources"][baseline]["steps_to_threshold"]["mean_curve"]
    base_curves = [_column(run, "probe/impact/pos_mm") for run in data[baseline]]
    for source, entry in out["sources"].items():  # env steps the baseline needs / this needs
        reach = entry["steps_to_threshold"]["mean_curve"]
        ok = reach is not None and reach > 0 and base_reach is not None
        entry["speedup_vs_baseline"] = base_reach / reach if ok else None
        curves = [_column(run, "probe/impact/pos_mm") for run in data[source]]
        paired = len(curves) == len(base_curves)  # per-seed ratios need paired seeds
        entry["speedup_per_seed"] = (
            speedup(curves, base_curves, threshold).to_dict() if paired else None
        )
    if "active" in out["sources"]:
        out["active_vs_random_speedup"] = out["sources"]["active"]["speedup_vs_baseline"]
    out["plain_summary"] = plain_summary(out, baseline)
    write_json_atomic(folder / "summary.json", out)
    (folder / "table.md").write_text(table(out, baseline))
    _plot(folder, out)
    print(table(out, baseline))
    return out


def _contrast(a: tuple[float, float, float], b: tuple[float, float, float]) -> int:
    """-1 if interval ``a`` lies wholly below ``b``, 1 if wholly above, 0 if they overlap."""
    return -1 if a[2] < b[1] else 1 if a[1] > b[2] else 0


def plain_summary(out: dict[str, Any], baseline: str) -> list[str]:
    """Sentences that say where each source wins or loses against the baseline, and where
    active wins or loses against every other source, honestly."""
    lines = []
    overlap = "not distinguishable (intervals overlap)"
    pairs = [(s, baseline) for s in out["sources"] if s != baseline]
    if "active" in out["sources"]:  # where acting wins, and where it does not
        pairs += [("active", s) for s in out["sources"] if s not in ("active", baseline)]
    for first, second in pairs:
        words = (
            {-1: "lower (better), intervals apart", 1: "higher (worse), intervals apart"}
            if second == baseline
            else {-1: f"{first} wins (intervals apart)", 1: f"{second} wins (intervals apart)"}
        )
        for regime in ("impact", "contact", "free"):
            a, b = out["sources"][first]["final"][regime], out["sources"][second]["final"][regime]
            verdict = words.get(_contrast(a, b), overlap)
            lines.append(
                f"{first} vs {second}, final {regime} error {a[0]:.2f} vs {b[0]:.2f} mm: {verdict}."
            )
    if "active_vs_random_speedup" in out:
        speedup = out["active_vs_random_speedup"]
        target = f"{baseline}'s final impact error ({out['threshold_impact_mm']:.2f} mm)"
        if speedup is None:
            lines.append(f"active never reached {target} within the budget.")
        else:
            lines.append(
                f"active reached {target} in {speedup:.1f}x fewer env steps than {baseline}."
            )
    return lines


def _physics_baselines(row: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Final one-step errors of the physics baselines, mm per regime (the same probe set for
    every run: read from one run's last row); empty for runs logged without them."""
    out: dict[str, dict[str, float]] = {}
    for name in ("constant_velocity", "nothing_moves"):
        values = {r: row.get(f"baseline/{name}/{r}/pos_mm") for r in ("impact", "contact", "free")}
        if all(isinstance(v, (int, float)) for v in values.values()):
            out[name] = {r: float(v) for r, v in values.items()}  # type: ignore[arg-type]
    return out


def table(out: dict[str, Any], baseline: str) -> str:
    """A Markdown table of final errors, interaction rates and steps-to-threshold."""

    def ci(t: tuple[float, float, float], d: int = 2) -> str:
        if not np.isfinite(t[0]):
            return "-"
        if not np.isfinite(t[1]):  # one seed: no interval
            return f"{t[0]:.{d}f}"
        return f"{t[0]:.{d}f} [{t[1]:.{d}f}, {t[2]:.{d}f}]"

    columns = ["source", "seeds", "impact mm", "contact mm", "free mm", "contact gap"]
    columns += ["moved1", "moved2", "steps to threshold"]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for source, e in out["sources"].items():
        final, rates = e["final"], e["rates"]
        reach = e["steps_to_threshold"]["mean_curve"]
        cells = [
            source,
            str(e["seeds"]),
            ci(final["impact"]),
            ci(final["contact"]),
            ci(final["free"]),
        ]
        cells += [ci(final["contact_gap"]), ci(rates["moved1"], 3), ci(rates["moved2"], 3)]
        cells.append("not reached" if reach is None else str(reach))
        lines.append("| " + " | ".join(cells) + " |")
    for name, errs in out.get("physics_baselines", {}).items():  # the bar to clear
        label = name.replace("_", " ") + " (no learning)"
        row = [label, "-", *(f"{errs[r]:.2f}" for r in ("impact", "contact", "free"))]
        lines.append("| " + " | ".join(row + ["-"] * (len(columns) - len(row))) + " |")
    lines += [
        "",
        f"Threshold: {baseline}'s final impact error, {out['threshold_impact_mm']:.2f} mm.",
        "",
    ]
    lines += [f"- {s}" for s in out["plain_summary"]]
    return "\n".join(lines) + "\n"


def _plot(folder: Path, out: dict[str, Any]) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FuncFormatter
    except ImportError:  # plots are optional; the tables carry the numbers
        return
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for ax, regime in zip(axes, ("impact", "contact", "free"), strict=True):
        for source, e in out["sources"].items():
            c = e["curves"][regime]
            m = np.array([x[0] for x in c["ci"]])
            lo = np.array([x[1] for x in c["ci"]])
            hi = np.array([x[2] for x in c["ci"]])
            ax.plot(c["steps"], m, label=source)
            ax.fill_between(c["steps"], lo, hi, alpha=0.2)
        ax.set_title(f"{regime}: one-step position error")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x / 1000:g}k"))
        ax.set_xlabel("env steps")
        ax.set_ylabel("mm")
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(folder / "errors.png", dpi=110)
    plt.close(fig)
