"""The comparison's outputs: ``summary.json``, ``table.md``, ``errors.png`` and a plain-language
summary that says where active collection wins and where it does not, how fast each source
reaches the thresholds (per seed, :mod:`agent.compare_speedup`) and whether the goals are met,
in words that claim no more than the seeds show."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from agent.compare_speedup import (
    DEMONSTRATOR,
    KINDS,
    THRESHOLD_REGIMES,
    column,
    contrast,
    goals,
    steps_to_thresholds,
    thresholds,
)
from agent.run_dir import write_json_atomic
from agent.stats import align, bootstrap_ci

REGIMES = ("impact", "contact", "free", "rest")
RATES = ("moved1", "moved2", "airborne", "flipped")


def _load_runs(folder: Path, source: str, seeds: int) -> list[dict[str, Any]]:
    """The finished runs of ``source`` with seeds ``0 .. seeds-1`` (a comparison folder may
    hold more seeds from an earlier, larger command)."""
    runs = []
    for k in range(seeds):
        run = folder / "runs" / f"{source}-s{k}"
        if not (run / "summary.json").exists():
            continue
        rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
        summary = json.loads((run / "summary.json").read_text())
        runs.append({"name": run.name, "seed": k, "rows": rows, "summary": summary})
    return runs


def _curve(runs: list[dict], key: str) -> tuple[np.ndarray, np.ndarray]:
    """Steps (the union of the runs' evaluation steps) and a ``(seeds, steps)`` array of
    ``key`` (NaN where a run did not log it)."""
    return align([column(run, key) for run in runs])


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


def _source_entry(runs: list[dict]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "seeds": len(runs),
        "seed_numbers": [r["seed"] for r in runs],
        "final": {},
        "final_per_seed": {},
        "curves": {},
        "rates": {},
        "calibration": {},
    }
    for regime in REGIMES:
        steps, vals = _curve(runs, f"probe/{regime}/pos_mm")
        entry["final"][regime] = bootstrap_ci(vals[:, -1])
        entry["final_per_seed"][regime] = vals[:, -1].tolist()
        intervals = [bootstrap_ci(vals[:, j]) for j in range(len(steps))]
        entry["curves"][regime] = {"steps": steps.tolist(), "ci": intervals}
    _, gap = _curve(runs, "probe/contact_gap")
    entry["final"]["contact_gap"] = bootstrap_ci(gap[:, -1])
    entry["final_per_seed"]["contact_gap"] = gap[:, -1].tolist()
    totals = [r["summary"]["interaction_totals"] for r in runs]
    entry["rates_per_seed"] = {}
    for rate in RATES:
        per_seed = np.array([t.get(rate, np.nan) / t["steps"] for t in totals])  # missing: no zero
        entry["rates"][rate] = bootstrap_ci(per_seed)
        entry["rates_per_seed"][rate] = per_seed.tolist()
    for group in ("all", *REGIMES):
        _, cal = _curve(runs, f"curiosity/calibration/{group}")
        entry["calibration"][group] = bootstrap_ci(cal[:, -1])
    return entry


def summarize(folder: Path, sources: list[str], baseline: str, seeds: int) -> dict[str, Any]:
    """Write ``summary.json``, ``table.md`` and ``errors.png`` in ``folder`` for seeds
    ``0 .. seeds-1`` of ``sources``; return the summary (its fields: ``docs/compare.md``)."""
    if baseline not in sources:
        raise ValueError(f"baseline={baseline!r} is not one of sources={sources}")
    data = {s: _load_runs(folder, s, seeds) for s in sources}
    missing = [s for s, runs in data.items() if not runs]
    if missing:
        raise RuntimeError(f"{folder}: no finished runs for sources {missing}")
    out: dict[str, Any] = {"protocol": _protocol(data), "baseline": baseline}
    out["physics_baselines"] = _physics_baselines(data[baseline][0]["rows"][-1])
    limits = thresholds(data, baseline, out["physics_baselines"])
    out["thresholds_mm"] = limits
    out["threshold_impact_mm"] = limits["baseline_final"]["impact"]
    out["sources"] = {source: _source_entry(runs) for source, runs in data.items()}
    for source, entry in out["sources"].items():
        reach = steps_to_thresholds(data[source], data[baseline], limits)
        entry["steps_to_threshold"] = reach
        entry["speedup_vs_baseline"] = reach["baseline_final"]["impact"]["speedup"]
    base_reach = out["sources"][baseline]["steps_to_threshold"]["baseline_final"]["impact"]
    for entry in out["sources"].values():
        reach = entry["steps_to_threshold"]["baseline_final"]["impact"]
        entry["speedup_vs_baseline_mean_curve"] = _mean_curve_ratio(base_reach, reach)
    if "active" in out["sources"]:
        active = out["sources"]["active"]
        out["active_vs_random_speedup"] = active["speedup_vs_baseline"]
        out["active_vs_random_speedup_mean_curve"] = active["speedup_vs_baseline_mean_curve"]
    out["goals"] = goals(out, baseline)
    out["plain_summary"] = plain_summary(out, baseline)
    write_json_atomic(folder / "summary.json", out)
    (folder / "table.md").write_text(table(out, baseline))
    _plot(folder, out)
    print(table(out, baseline))
    return out


def _mean_curve_ratio(base: dict[str, Any], source: dict[str, Any]) -> float | None:
    """The old, secondary figure: the baseline's seed-mean curve's steps to the threshold over
    the source's (``None`` if either never gets there or the source is there at step 0)."""
    b, s = base["mean_curve_steps"], source["mean_curve_steps"]
    return b / s if b is not None and s is not None and s > 0 else None


def _names_without_interval(pairs: list[tuple[str, list | tuple]], zero: bool) -> str:
    """The sources whose interval is missing (``zero``: has no width)."""
    if zero:
        return ", ".join(n for n, t in pairs if np.isfinite(t[1]) and t[1] == t[2])
    return ", ".join(n for n, t in pairs if not np.isfinite(t[1]))


def verdict_words(first: str, second: str, a: list | tuple, b: list | tuple, base: bool) -> str:
    """How ``first``'s interval ``a`` compares with ``second``'s ``b``, in words; "intervals
    apart" only when both have a real interval (2+ seeds, non-zero width)."""
    code = contrast(a, b)
    pairs = [(first, a), (second, b)]
    if code == "lower":
        return "lower (better), intervals apart" if base else f"{first} wins (intervals apart)"
    if code == "higher":
        return "higher (worse), intervals apart" if base else f"{second} wins (intervals apart)"
    if code == "overlap":
        return "not distinguishable (intervals overlap)"
    if code == "one_seed":
        names = _names_without_interval(pairs, zero=False)
        return f"not comparable: one seed: no interval ({names})"
    if code == "zero_width":
        names = _names_without_interval(pairs, zero=True)
        return f"not comparable: zero-width interval, every seed equal ({names})"
    return "not comparable: no value"


def _interval_words(sp: dict[str, Any]) -> str:
    k, (lo, hi) = sp["seeds_with_a_ratio"], sp["interval"]
    if k == 0:
        return "no seed defined a ratio"
    if k == 1:
        return "one seed: no interval"
    if lo == hi:
        return f"all {k} ratios equal: zero-width interval"
    if k < FEW_SEEDS:
        return f"bootstrap interval [{lo:.2f}, {hi:.2f}] of {k} ratios, about their range"
    return f"95% interval [{lo:.2f}, {hi:.2f}]"


FEW_SEEDS = 5  # below this a percentile-bootstrap interval is about the range of the seeds


def _caveat_lines(out: dict[str, Any]) -> list[str]:
    """What the intervals can and cannot say with this many seeds, and an unequal protocol."""
    lines = []
    counts = [entry["seeds"] for entry in out["sources"].values()]
    if counts and 1 < min(counts) < FEW_SEEDS:
        lines.append(
            f"With {min(counts)} seeds a percentile-bootstrap interval is about the range of the "
            "seeds (with 3 or fewer exactly from the lowest to the highest) and covers well "
            "under 95%: read 'intervals apart' as 'every seed of one source beyond every seed "
            "of the other', not as a 95% statement."
        )
    p = out["protocol"]
    if not p["equal"]:
        lines.append(
            "WARNING: the runs do not share one protocol (env steps "
            f"{p['env_steps']}, updates {p['world_model_updates']}, probe sets "
            f"{len(p['probe_content_hashes'])}): the contrasts above compare unlike runs."
        )
    return lines


def _label(kind: str, baseline: str) -> str:
    return f"{baseline}'s final error" if kind == "baseline_final" else "constant velocity's error"


def speedup_sentence(source: str, baseline: str, kind: str, regime: str, r: dict) -> str:
    """One sentence on ``source``'s per-seed steps to a threshold and its speedup."""
    if r["threshold_mm"] is None:
        return f"{_label(kind, baseline)} on {regime}: no threshold (not logged)."
    head = (
        f"{source} vs {baseline}, env steps to {_label(kind, baseline)} on {regime} "
        f"({r['threshold_mm']:.2f} mm)"
    )
    sp = r["speedup"]
    if sp is None:
        return f"{head}: no seed shared with {baseline}, no speedup."
    n = len(sp["seeds"])
    a = sum(s is not None for s in sp["source_steps"])
    b = sum(s is not None for s in sp["baseline_steps"])
    reached = f"{source} reached it in {a} of {n} seeds, {baseline} in {b} of {n}"
    pairs = zip(sp["source_steps"], sp["baseline_steps"], strict=True)
    only = sum(s is not None and t is None for s, t in pairs)
    if only:  # left out of the median, which is conservative for the source
        reached += f"; in {only} only {source} did, which gives no ratio"
    if sp["median"] is None:
        return f"{head}: no ratio ({reached})."
    slower = f"; {source} is slower" if sp["median"] < 1 else ""
    return (
        f"{head}: median speedup {sp['median']:.2f}x ({_interval_words(sp)}; "
        f"{sp['seeds_with_a_ratio']} of {n} seeds defined a ratio; {reached}{slower})."
    )


def _reached_by(out: dict[str, Any], regime: str) -> str:
    """Which sources reach constant velocity's error on ``regime``, in how many seeds."""
    r0 = next(iter(out["sources"].values()))["steps_to_threshold"]["constant_velocity"][regime]
    if r0["threshold_mm"] is None:
        return f"constant velocity's {regime} error: not logged, no threshold."
    head = f"constant velocity's {regime} error ({r0['threshold_mm']:.2f} mm)"
    reach = {
        s: e["steps_to_threshold"]["constant_velocity"][regime] for s, e in out["sources"].items()
    }
    yes = [f"{s} ({r['seeds_reached']} of {len(r['seeds'])} seeds)" for s, r in reach.items()
           if r["seeds_reached"]]  # fmt: skip
    no = [s for s, r in reach.items() if not r["seeds_reached"]]
    if not yes:
        return f"{head}: reached by no source within the budget (steps None for every seed)."
    tail = f"; never by {', '.join(no)} (steps None)" if no else ""
    return f"{head}: reached by {', '.join(yes)}{tail}."


_MET = {True: "MET", False: "MISSED", None: "NOT MEASURABLE"}


def _goal_lines(out: dict[str, Any]) -> list[str]:
    g = out["goals"]
    lines = []
    sp = g["median_speedup_at_least_10x"]
    extra = ""
    if sp["median"] is not None:
        n = len(out["active_vs_random_speedup"]["seeds"])
        sp_words = _interval_words(out["active_vs_random_speedup"])
        extra = f", {sp_words}, {sp['seeds_with_a_ratio']} of {n} seeds defined a ratio"
    lines.append(
        f"Goal: active's median speedup on impact >= {sp['goal']:g}x: "
        f"{_MET[sp['met']]} ({sp['why']}{extra})."
    )
    rate = g["interaction_rate_at_least_demonstrator"]
    lines.append(
        f"Goal: active's object-interaction rate (moved1) >= {DEMONSTRATOR}'s: "
        f"{_MET[rate['met']]} ({rate['why']})."
    )
    beat = g["beats_demonstrator_on_impact_and_contact"]
    parts = []
    for regime in ("impact", "contact"):
        if regime in beat:
            a, d = beat[regime]["active"], beat[regime][DEMONSTRATOR]
            words = verdict_words("active", DEMONSTRATOR, a, d, base=False)
            parts.append(f"{regime} {a[0]:.2f} vs {d[0]:.2f} mm, {words}")
    detail = "; ".join(parts) if parts else beat["why"]
    lines.append(
        f"Goal: active beats {DEMONSTRATOR} on impact and contact error "
        "(its final intervals wholly below): "
        f"{_MET[beat['met']]} ({detail})."
    )
    return lines


def plain_summary(out: dict[str, Any], baseline: str) -> list[str]:
    """Sentences that say where each source wins or loses against the baseline, where active
    wins or loses against every other source, how fast each source reaches the thresholds and
    whether the goals are met, in words that claim no more than the seeds show."""
    lines = []
    pairs = [(s, baseline) for s in out["sources"] if s != baseline]
    if "active" in out["sources"]:  # where acting wins, and where it does not
        pairs += [("active", s) for s in out["sources"] if s not in ("active", baseline)]
    for first, second in pairs:
        for regime in ("impact", "contact", "free"):
            a, b = out["sources"][first]["final"][regime], out["sources"][second]["final"][regime]
            verdict = verdict_words(first, second, a, b, base=second == baseline)
            lines.append(
                f"{first} vs {second}, final {regime} error {a[0]:.2f} vs {b[0]:.2f} mm: {verdict}."
            )
    for source, entry in out["sources"].items():
        if source == baseline:
            continue
        reach = entry["steps_to_threshold"]
        regimes = THRESHOLD_REGIMES if source == "active" else ("impact",)
        for kind in KINDS:
            for regime in regimes:
                lines.append(speedup_sentence(source, baseline, kind, regime, reach[kind][regime]))
    lines += [_reached_by(out, regime) for regime in THRESHOLD_REGIMES]
    if "active" in out["sources"]:
        lines += _goal_lines(out)
    return lines + _caveat_lines(out)


def _physics_baselines(row: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Final one-step errors of the physics baselines, mm per regime (the same probe set for
    every run: read from one run's last row); empty for runs logged without them."""
    out: dict[str, dict[str, float]] = {}
    for name in ("constant_velocity", "nothing_moves"):
        values = {r: row.get(f"baseline/{name}/{r}/pos_mm") for r in ("impact", "contact", "free")}
        if all(isinstance(v, (int, float)) for v in values.values()):
            out[name] = {r: float(v) for r, v in values.items()}  # type: ignore[arg-type]
    return out


def _ci(t: list | tuple, d: int = 2) -> str:
    if not np.isfinite(t[0]):
        return "-"
    if not np.isfinite(t[1]):  # one seed: no interval
        return f"{t[0]:.{d}f} (one seed: no interval)"
    return f"{t[0]:.{d}f} [{t[1]:.{d}f}, {t[2]:.{d}f}]"


def _speedup_cell(sp: dict[str, Any] | None) -> str:
    """``median [lo, hi] (k/n seeds)`` of a per-seed speedup, honest about its interval."""
    if sp is None:
        return "-"
    n = len(sp["seeds"])
    if sp["median"] is None:
        return f"no ratio (0/{n} seeds)"
    k, (lo, hi) = sp["seeds_with_a_ratio"], sp["interval"]
    if k < 2:
        span = "one seed: no interval"
    elif lo == hi:
        span = "zero-width interval"
    else:
        span = f"[{lo:.2f}, {hi:.2f}]"
    return f"{sp['median']:.2f}x {span} ({k}/{n} seeds)"


def table(out: dict[str, Any], baseline: str) -> str:
    """Markdown: final errors and interaction rates per source; per-seed steps to every
    threshold and the speedup over the baseline; the thresholds, goals and plain summary."""
    columns = ["source", "seeds", "impact mm", "contact mm", "free mm", "contact gap"]
    columns += ["moved1", "moved2", f"impact: speedup vs {baseline} (seeds with a ratio)"]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for source, e in out["sources"].items():
        final, rates = e["final"], e["rates"]
        cells = [source, str(e["seeds"])]
        cells += [_ci(final[r]) for r in ("impact", "contact", "free")]
        cells += [_ci(final["contact_gap"]), _ci(rates["moved1"], 3), _ci(rates["moved2"], 3)]
        cells.append("baseline" if source == baseline else _speedup_cell(e["speedup_vs_baseline"]))
        lines.append("| " + " | ".join(cells) + " |")
    for name, errs in out.get("physics_baselines", {}).items():  # the bar to clear
        label = name.replace("_", " ") + " (no learning)"
        row = [label, "-", *(f"{errs[r]:.2f}" for r in ("impact", "contact", "free"))]
        lines.append("| " + " | ".join(row + ["-"] * (len(columns) - len(row))) + " |")
    lines += ["", "Thresholds (mm):", ""]
    for kind in KINDS:
        vals = out["thresholds_mm"][kind]
        words = ", ".join(
            f"{r} {'not logged' if vals[r] is None else format(vals[r], '.2f')}"
            for r in THRESHOLD_REGIMES
        )
        lines.append(f"- {_label(kind, baseline)}: {words}")
    lines += ["", "Steps to threshold per seed (None: never reached within the budget):", ""]
    head = ["source", "threshold", "regime", "steps per seed", "reached", f"speedup vs {baseline}"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for source, e in out["sources"].items():
        for kind in KINDS:
            for regime in THRESHOLD_REGIMES:
                r = e["steps_to_threshold"][kind][regime]
                steps = ", ".join("None" if s is None else str(s) for s in r["steps"])
                cells = [source, _label(kind, baseline), regime, f"[{steps}]"]
                cells += [f"{r['seeds_reached']}/{len(r['seeds'])}", _speedup_cell(r["speedup"])]
                lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines += [f"- {s}" for s in out["plain_summary"]]
    return "\n".join(lines) + "\n"


def _plot(folder: Path, out: dict[str, Any]) -> None:
    import matplotlib.pyplot as plt

    from agent.report.plots import summary_errors  # matplotlib's Agg backend

    fig = summary_errors(out)
    fig.savefig(folder / "errors.png", dpi=110)
    plt.close(fig)
