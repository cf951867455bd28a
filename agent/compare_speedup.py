"""Steps-to-threshold, per-seed speedups and the goals of a comparison (``summary.json``).

Two thresholds per contact regime (impact, contact, free):

* ``baseline_final``: the baseline source's (normally ``random``) final error, mean over its
  seeds;
* ``constant_velocity``: constant velocity's error on the same probe set (the
  ``baseline/constant_velocity/<regime>/pos_mm`` key of every metrics row): the level at which
  a model starts to know more than physics extrapolation. Reported whether or not any source
  reaches it.

For each source, regime and threshold: the first evaluation step at which each seed's error
is at or below the threshold (``None``: never within the budget), and the per-seed paired
speedup over the baseline source (:func:`agent.stats.speedup`: baseline steps / source steps
for each seed both have, the median of the defined ratios and its bootstrap interval).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agent.stats import align, speedup, steps_to_threshold

THRESHOLD_REGIMES = ("impact", "contact", "free")
KINDS = ("baseline_final", "constant_velocity")
SPEEDUP_GOAL = 10.0  #: the issue's goal for active's median speedup over the baseline
DEMONSTRATOR = "video_states"  #: the watched source that active must beat


def column(run: dict, key: str) -> tuple[np.ndarray, np.ndarray]:
    """A run's evaluation steps and ``key`` at each (NaN where the row lacks it)."""
    steps = np.array([row["step"] for row in run["rows"]])
    values = [np.nan if row.get(key) is None else row[key] for row in run["rows"]]
    return steps, np.array(values, np.float64)


def _finite_mean(values: np.ndarray) -> float | None:
    x = values[np.isfinite(values)]
    return float(x.mean()) if len(x) else None


def thresholds(
    data: dict[str, list[dict]], baseline: str, physics: dict[str, dict[str, float]]
) -> dict[str, dict[str, float | None]]:
    """``{kind: {regime: mm or None}}`` for the two kinds of threshold.

    Args:
        data: per source, its loaded runs (``rows``: the metrics rows).
        baseline: the source whose final error is the ``baseline_final`` threshold.
        physics: the physics baselines' errors (``{"constant_velocity": {regime: mm}}``);
            without them the ``constant_velocity`` thresholds are ``None``.
    """
    out: dict[str, dict[str, float | None]] = {kind: {} for kind in KINDS}
    cv = physics.get("constant_velocity", {})
    for regime in THRESHOLD_REGIMES:
        _, vals = align([column(r, f"probe/{regime}/pos_mm") for r in data[baseline]])
        out["baseline_final"][regime] = _finite_mean(vals[:, -1]) if vals.size else None
        out["constant_velocity"][regime] = cv.get(regime)
    return out


def reach(
    runs: list[dict], base_runs: list[dict], regime: str, threshold: float | None
) -> dict[str, Any]:
    """Per-seed steps to ``threshold`` on ``regime`` and the paired speedup over the baseline.

    Seeds are paired by their seed number (``run["seed"]``), so a seed missing from one source
    leaves out only that pair.

    Returns:
        ``threshold_mm``; ``seeds``, ``steps`` (per seed, ``None`` = never reached) and
        ``seeds_reached``; ``mean_curve_steps`` (the seed-mean curve's first step there, a
        secondary figure); ``speedup``: see :func:`speedup_dict` (``None`` without a threshold
        or without a seed shared with the baseline).
    """
    key = f"probe/{regime}/pos_mm"
    seeds = [r["seed"] for r in runs]
    if threshold is None:
        return {
            "threshold_mm": None,
            "seeds": seeds,
            "steps": [None] * len(runs),
            "seeds_reached": 0,
            "mean_curve_steps": None,
            "speedup": None,
        }
    curves = {r["seed"]: column(r, key) for r in runs}
    per_seed = [steps_to_threshold(*curves[s], threshold) for s in seeds]
    steps, vals = align(list(curves.values()))
    means = [_finite_mean(col) for col in vals.T]  # the seed-mean curve (secondary)
    mean = np.array([np.nan if m is None else m for m in means], np.float64)
    base = {r["seed"]: column(r, key) for r in base_runs}
    paired = [s for s in seeds if s in base]
    sp = None
    if paired:
        sp = speedup_dict(
            speedup([curves[s] for s in paired], [base[s] for s in paired], threshold), paired
        )
    return {
        "threshold_mm": threshold,
        "seeds": seeds,
        "steps": per_seed,
        "seeds_reached": sum(s is not None for s in per_seed),
        "mean_curve_steps": steps_to_threshold(steps, mean, threshold) if len(steps) else None,
        "speedup": sp,
    }


def speedup_dict(sp: Any, seeds: list[int]) -> dict[str, Any]:
    """A :class:`agent.stats.Speedup` as ``summary.json`` writes it.

    Keys: ``median`` (of the defined per-seed ratios; ``None`` if none), ``interval``
    (``[low, high]``, ``[None, None]`` with fewer than 2 ratios), ``per_seed`` (ratios, baseline
    steps / source steps; ``None`` where either run never reached the threshold),
    ``seeds_with_a_ratio``, ``seeds`` (the paired seed numbers), ``source_steps``,
    ``baseline_steps``, ``threshold_mm``.
    """
    d = sp.to_dict()
    return {
        "median": d["median"],
        "interval": d["interval"],
        "per_seed": d["ratios"],
        "seeds_with_a_ratio": d["seeds_with_a_ratio"],
        "seeds": seeds,
        "source_steps": d["source_steps"],
        "baseline_steps": d["baseline_steps"],
        "threshold_mm": d["threshold"],
    }


def steps_to_thresholds(
    runs: list[dict], base_runs: list[dict], limits: dict[str, dict[str, float | None]]
) -> dict[str, dict[str, dict[str, Any]]]:
    """``{kind: {regime: reach(...)}}`` of one source for every threshold."""
    return {
        kind: {r: reach(runs, base_runs, r, limits[kind][r]) for r in THRESHOLD_REGIMES}
        for kind in KINDS
    }


def contrast(a: list[float] | tuple, b: list[float] | tuple) -> str:
    """How two ``(mean, low, high)`` intervals compare.

    Returns:
        ``"lower"`` / ``"higher"``: ``a`` wholly below / above ``b``; ``"overlap"``;
        ``"no_value"``: a mean is missing; ``"one_seed"``: an interval is missing (fewer than 2
        seeds with a value); ``"zero_width"``: an interval has no width (every seed equal), so
        "apart" would claim a certainty the seeds do not give.
    """
    if not (np.isfinite(a[0]) and np.isfinite(b[0])):
        return "no_value"
    if not all(np.isfinite(x) for x in (*a[1:], *b[1:])):
        return "one_seed"
    if a[1] == a[2] or b[1] == b[2]:
        return "zero_width"
    return "lower" if a[2] < b[1] else "higher" if a[1] > b[2] else "overlap"


def goals(out: dict[str, Any], baseline: str) -> dict[str, dict[str, Any]]:
    """The issue's three goals, each ``met``: ``True`` / ``False`` / ``None`` (not measurable),
    with the figures it was judged on and ``why`` in words."""
    sources = out["sources"]
    return {
        "median_speedup_at_least_10x": _speedup_goal(out, baseline),
        "interaction_rate_at_least_demonstrator": _rate_goal(sources),
        "beats_demonstrator_on_impact_and_contact": _beats_goal(sources),
    }


def _speedup_goal(out: dict[str, Any], baseline: str) -> dict[str, Any]:
    sp = out.get("active_vs_random_speedup")
    goal: dict[str, Any] = {"goal": SPEEDUP_GOAL, "median": None, "interval": [None, None]}
    if sp is None:
        return {**goal, "met": None, "why": "no active source (or no seed paired with it)"}
    goal.update(median=sp["median"], interval=sp["interval"])
    goal["seeds_with_a_ratio"] = sp["seeds_with_a_ratio"]
    if sp["median"] is not None:
        met = sp["median"] >= SPEEDUP_GOAL
        why = f"median {sp['median']:.2f}x {'>=' if met else '<'} {SPEEDUP_GOAL:g}x"
        return {**goal, "met": met, "why": why}
    active_reached = sum(s is not None for s in sp["source_steps"])
    base_reached = sum(s is not None for s in sp["baseline_steps"])
    if active_reached == 0 and base_reached > 0:
        why = f"active never reached the threshold; {baseline} did in {base_reached} seeds"
        return {**goal, "met": False, "why": why}
    why = "no seed in which both active and the baseline reached the threshold"
    return {**goal, "met": None, "why": why}


def _rate_goal(sources: dict[str, Any]) -> dict[str, Any]:
    if "active" not in sources or DEMONSTRATOR not in sources:
        return {"met": None, "why": f"needs both active and {DEMONSTRATOR}"}
    a, d = sources["active"]["rates"]["moved1"], sources[DEMONSTRATOR]["rates"]["moved1"]
    out = {"active_moved1": list(a), f"{DEMONSTRATOR}_moved1": list(d), "verdict": contrast(a, d)}
    if not (np.isfinite(a[0]) and np.isfinite(d[0])):
        return {**out, "met": None, "why": "a rate is missing"}
    met = bool(a[0] >= d[0])  # the goal is on the mean rate; the seeds' spread is said beside
    sign = ">=" if met else "<"
    why = f"active moves an object in {a[0]:.1%} of its steps {sign} {DEMONSTRATOR}'s {d[0]:.1%}"
    spread = {
        "higher": "intervals apart, active's above",
        "lower": "intervals apart, active's below",
        "overlap": "intervals overlap",
        "zero_width": "a zero-width interval: every seed equal",
    }.get(str(out["verdict"]), "one seed: no interval")
    why += f" (mean over seeds; {spread})"
    return {**out, "met": met, "why": why}


def _beats_goal(sources: dict[str, Any]) -> dict[str, Any]:
    if "active" not in sources or DEMONSTRATOR not in sources:
        return {"met": None, "why": f"needs both active and {DEMONSTRATOR}"}
    out: dict[str, Any] = {}
    for regime in ("impact", "contact"):
        a = sources["active"]["final"][regime]
        d = sources[DEMONSTRATOR]["final"][regime]
        out[regime] = {"active": list(a), DEMONSTRATOR: list(d), "verdict": contrast(a, d)}
    verdicts = [out[r]["verdict"] for r in ("impact", "contact")]
    if all(v == "lower" for v in verdicts):
        met, why = True, "active's final error is lower on both, intervals apart"
    elif any(v in ("higher", "overlap") for v in verdicts):
        met = False
        why = "; ".join(f"{r}: {out[r]['verdict']}" for r in ("impact", "contact"))
    else:
        met, why = None, "; ".join(f"{r}: {out[r]['verdict']}" for r in ("impact", "contact"))
    return {**out, "met": met, "why": why}
