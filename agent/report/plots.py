"""The report's figures (matplotlib, Agg backend): what the model learned, where the explorer went.

Every function takes plain data (metric rows, transitions) and returns a ``Figure``, or
``None`` when the run lacks what the figure shows; :func:`png_bytes` turns it into a PNG.
``docs/report.md`` explains each figure.
"""

from __future__ import annotations

import io
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from agent.report.run_folder import column  # noqa: E402
from agent.stats import align, bootstrap_band  # noqa: E402
from envs.layout import EntityLayout  # noqa: E402
from envs.regimes import REGIME_NAMES  # noqa: E402
from envs.render import REGIME_COLORS  # noqa: E402

Rows = list[dict[str, float]]
#: regime name -> matplotlib colour, the same as the video tints
REGIME_RGB = {name: REGIME_COLORS[i][:3] for i, name in enumerate(REGIME_NAMES)}
CALIBRATION_GROUPS = ("all", *REGIME_NAMES)


def png_bytes(fig: Figure, dpi: int = 100) -> bytes:
    """The figure as PNG bytes (the figure is left open)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)  # every figure is already tight_layout-ed
    return buf.getvalue()


def _finish(ax: plt.Axes, ylabel: str, log: bool = False) -> None:
    ax.set_xlabel("env steps")
    ax.set_ylabel(ylabel)
    if log:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)


#: physics baselines drawn as reference lines: metric-key prefix -> (label, line style)
BASELINES = {
    "baseline/constant_velocity/": ("constant velocity", "--"),
    "baseline/nothing_moves/": ("nothing moves", ":"),
}


def baseline_key(key: str, prefix: str) -> str:
    """``probe/impact/pos_mm`` -> ``baseline/constant_velocity/impact/pos_mm``."""
    return prefix + key.removeprefix("probe/")


def _baseline_lines(ax: plt.Axes, rows: Rows, key: str, color: object) -> bool:
    """Dashed/dotted reference lines of the physics baselines of ``key`` where logged."""
    drawn = False
    for prefix, (_, style) in BASELINES.items():
        steps, values = column(rows, baseline_key(key, prefix))
        if len(steps):
            ax.plot(steps, values, ls=style, lw=1.1, color=color, alpha=0.8)
            drawn = True
    return drawn


def _baseline_legend(ax: plt.Axes) -> None:
    from matplotlib.lines import Line2D

    handles, _ = ax.get_legend_handles_labels()
    handles += [
        Line2D([], [], color="grey", ls=style, label=label) for label, style in BASELINES.values()
    ]
    ax.legend(handles=handles, fontsize=7)


def regime_errors(rows: Rows) -> Figure | None:
    """One run: one-step and open-loop probe error per regime, and the contact gap, vs steps;
    the physics baselines (constant velocity dashed, nothing moves dotted, same colours) where
    the rows carry them."""
    if not any(k.startswith("probe/") for r in rows for k in r):
        return None
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    for ax, template, title in (
        (axes[0], "probe/{}/pos_mm", "one-step position error"),
        (axes[1], "probe/rollout/{}/pos_mm", "open-loop rollout position error"),
    ):
        baselines = False
        for name in REGIME_NAMES:
            steps, values = column(rows, template.format(name))
            if len(steps):
                ax.plot(steps, values, marker="o", ms=3, color=REGIME_RGB[name], label=name)
                baselines |= _baseline_lines(ax, rows, template.format(name), REGIME_RGB[name])
        ax.set_title(title)
        _finish(ax, "mm (objects, log scale)", log=True)
        if baselines:
            _baseline_legend(ax)
        else:
            ax.legend(fontsize=8)
    steps, gap = column(rows, "probe/contact_gap")
    axes[2].plot(steps, gap, marker="o", ms=3, color="k")
    axes[2].axhline(1.0, color="grey", ls="--", lw=1)
    axes[2].set_title("contact gap: impact error / free error")
    _finish(axes[2], "ratio (1 = impacts as easy as free motion)")
    fig.tight_layout()
    return fig


COMPARED = (
    ("probe/impact/pos_mm", "impact: one-step error (mm)"),
    ("probe/contact/pos_mm", "contact: one-step error (mm)"),
    ("probe/free/pos_mm", "free: one-step error (mm)"),
    ("probe/rest/pos_mm", "rest: one-step error (mm)"),
    ("probe/rollout/all/pos_mm", "open-loop rollout error (mm)"),
    ("probe/contact_gap", "contact gap (impact / free)"),
)


def compare_probe_errors(groups: dict[str, list[Rows]], level: float = 0.95) -> Figure | None:
    """Several runs grouped by source: per metric of :data:`COMPARED`, the mean over each
    group's runs (seeds) with a ``level`` bootstrap band where a group has 2+ runs."""
    if not groups:
        return None
    fig, axes = plt.subplots(2, 3, figsize=(14, 7), sharex=True)
    colors = plt.get_cmap("tab10")
    for ax, (key, title) in zip(axes.flat, COMPARED, strict=True):
        for g, (name, runs) in enumerate(groups.items()):
            steps, values = align([column(rows, key) for rows in runs])
            if not len(steps):
                continue
            mean, lo, hi = bootstrap_band(values, confidence=level)
            label = f"{name} (n={len(runs)})"
            ax.plot(steps, mean, color=colors(g % 10), lw=1.8, label=label)
            if np.isfinite(lo).any():
                ax.fill_between(steps, lo, hi, color=colors(g % 10), alpha=0.2, lw=0)
        every = [rows for runs in groups.values() for rows in runs]
        for prefix, (label, style) in BASELINES.items():
            steps, values = align([column(rows, baseline_key(key, prefix)) for rows in every])
            keep = np.isfinite(values).any(axis=0)
            if keep.any():  # the same probe set for every source: one line
                mean = np.nanmean(values[:, keep], axis=0)
                ax.plot(steps[keep], mean, ls=style, color="k", lw=1, label=label)
        ax.set_title(title, fontsize=10)
        _finish(ax, "", log=key.endswith("pos_mm"))
    axes.flat[0].legend(fontsize=8)
    fig.suptitle(f"probe error per regime: mean over seeds, {level:.0%} bootstrap band")
    fig.tight_layout()
    return fig


def summary_errors(summary: dict) -> Figure:
    """``errors.png`` of ``contactlab compare``, from its ``summary.json``: per regime, every
    source's mean error curve with its interval band, and the physics baselines the runs logged
    (``summary["physics_baselines"]``) as grey reference lines in :data:`BASELINES`' styles,
    the bar every model must clear."""
    from matplotlib.ticker import FuncFormatter

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for ax, regime in zip(axes, ("impact", "contact", "free"), strict=True):
        for source, e in summary["sources"].items():
            c = e["curves"][regime]
            m, lo, hi = (np.array([x[k] for x in c["ci"]]) for k in range(3))
            ax.plot(c["steps"], m, label=source)
            ax.fill_between(c["steps"], lo, hi, alpha=0.2)
        for prefix, (label, style) in BASELINES.items():
            name = prefix.split("/")[1]  # "baseline/constant_velocity/" -> "constant_velocity"
            level = summary.get("physics_baselines", {}).get(name, {}).get(regime)
            if level is not None and np.isfinite(level):
                ax.axhline(level, color="grey", ls=style, lw=1, label=label)
        ax.set_title(f"{regime}: one-step position error")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x / 1000:g}k"))
        ax.set_xlabel("env steps")
        ax.set_ylabel("mm")
    axes[0].legend(fontsize="small")
    fig.tight_layout()
    return fig


def visitation(obs: np.ndarray, layout: EntityLayout, bins: int = 60) -> Figure | None:
    """Where things went: 2-D histograms of object and agent x-y positions over the data.

    Args:
        obs: ``(N, D)`` observations (a run's collected transitions).
    """
    if len(obs) == 0:
        return None
    blocks = layout.split(obs)
    kinds = [k for k in ("object", "agent") if len(layout.indices(k))]
    xy = {k: blocks[:, layout.indices(k), 0:2].reshape(-1, 2) for k in kinds}
    every = np.concatenate(list(xy.values()))
    lo, hi = np.percentile(every, 0.5, axis=0), np.percentile(every, 99.5, axis=0)
    pad = 0.05 * (hi - lo).max() + 1e-3
    extent = [[lo[0] - pad, hi[0] + pad], [lo[1] - pad, hi[1] + pad]]
    fig, axes = plt.subplots(1, len(kinds), figsize=(5.2 * len(kinds), 4.4), squeeze=False)
    for ax, kind in zip(axes[0], kinds, strict=True):
        counts, xe, ye = np.histogram2d(xy[kind][:, 0], xy[kind][:, 1], bins=bins, range=extent)
        image = ax.imshow(
            counts.T,
            origin="lower",
            extent=(xe[0], xe[-1], ye[0], ye[-1]),
            norm=LogNorm(vmin=1, vmax=max(counts.max(), 1)),
            cmap="magma",
            aspect="equal",
        )
        fig.colorbar(image, ax=ax, label="entity-steps (log)")
        n = len(layout.indices(kind))
        ax.set_title(f"{kind} positions ({n} {'bodies' if n > 1 else 'body'}, {len(obs)} steps)")
        ax.set_xlabel("x (m)")
        ax.set_ylabel("y (m)")
    fig.tight_layout()
    return fig


def regimes_over_time(rows: Rows) -> Figure | None:
    """Fractions of object entity-transitions per regime in the collected data, per evaluation
    window (``explore/regime/*``): the non-rest regimes stacked on their own scale (objects
    rest most of the time, which would flatten the rest), the rest share in the title."""
    keys = [f"explore/regime/{n}" for n in REGIME_NAMES]
    rows = [r for r in rows if all(k in r for k in keys)]
    if not rows:
        return None
    moving = [n for n in REGIME_NAMES if n != "rest"]
    # Row i covers the window (step_{i-1}, step_i]: drawn as steps ending at each row, from 0.
    steps = np.array([0.0] + [r["step"] for r in rows])
    fractions = np.array([[r[f"explore/regime/{n}"] for r in rows[:1] + rows] for n in moving])
    fractions = np.nan_to_num(fractions)
    fig, ax = plt.subplots(figsize=(8, 3.8))
    ax.stackplot(
        steps,
        fractions,
        labels=moving,
        colors=[REGIME_RGB[n] for n in moving],
        alpha=0.85,
        step="pre",
    )
    top = float(fractions.sum(axis=0).max())
    ax.set_ylim(0, max(top * 1.15, 1e-3))
    ax.set_xlim(0, steps.max())
    rest = [r["explore/regime/rest"] for r in rows if math.isfinite(r["explore/regime/rest"])]
    rest_text = f"; at rest (not drawn): {np.mean(rest):.0%} on average" if rest else ""
    ax.set_title(f"regimes the data holds, objects moving{rest_text}", fontsize=10)
    _finish(ax, "fraction of object entity-transitions")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    fig.tight_layout()
    return fig


def regimes_by_source(groups: dict[str, list[Rows]]) -> Figure | None:
    """Several sources: the fraction of collected object entity-transitions per regime over
    the whole run (mean over windows and seeds), one stacked bar per source."""
    names, shares = [], []
    for name, runs in groups.items():
        per_run = []
        for rows in runs:
            fr = [[r.get(f"explore/regime/{n}", math.nan) for n in REGIME_NAMES] for r in rows]
            fr = [f for f in fr if all(math.isfinite(v) for v in f)]
            if fr:
                per_run.append(np.mean(fr, axis=0))
        if per_run:
            names.append(name)
            shares.append(np.mean(per_run, axis=0))
    if not names:
        return None
    fig, ax = plt.subplots(figsize=(1.6 * len(names) + 3, 3.8))
    bottom = np.zeros(len(names))
    data = np.array(shares)
    for i, regime in enumerate(REGIME_NAMES):
        ax.bar(names, data[:, i], bottom=bottom, color=REGIME_RGB[regime], label=regime)
        bottom += data[:, i]
    ax.set_ylabel("fraction of object entity-transitions")
    ax.set_title("what each source collected")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    ax.tick_params(axis="x", labelrotation=20)
    fig.tight_layout()
    return fig


def calibration(rows: Rows) -> Figure | None:
    """Spearman's rho between the curiosity signal and the model's true error, per regime
    (``curiosity/calibration/*``); ``None`` when the run logged none."""
    present = [
        g for g in CALIBRATION_GROUPS if any(f"curiosity/calibration/{g}" in r for r in rows)
    ]
    if not present:
        return None
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for g in present:
        steps, rho = column(rows, f"curiosity/calibration/{g}")
        color = "k" if g == "all" else REGIME_RGB[g]
        ax.plot(steps, rho, marker="o", ms=3, color=color, label=g)
    ax.axhline(0.0, color="grey", lw=1)
    ax.set_ylim(-1, 1)
    ax.set_title("curiosity calibration: rank correlation of signal and true error")
    _finish(ax, "Spearman's rho")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


LOSS_NOTE = (
    "Each term is measured on the training batches, which come from a replay that grows and "
    "changes as the explorer finds more contact: a loss that rises while the probe error falls "
    "means harder data, not a worse model. The probe errors above are the held-out measure."
)


def training(rows: Rows) -> Figure | None:
    """World-model loss terms (``wm/loss/*``), one panel each on its own scale, and the raw
    curiosity reward, vs steps (see :data:`LOSS_NOTE` for how to read them)."""
    loss_keys = sorted({k for r in rows for k in r if k.startswith("wm/loss/")})
    if not loss_keys:
        return None
    has_reward = any("curiosity/raw_mean" in r for r in rows)
    n = len(loss_keys) + int(has_reward)
    cols = min(n, 4)
    nrows = math.ceil(n / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(3.6 * cols, 2.9 * nrows), squeeze=False)
    flat = list(axes.flat)
    for ax, key in zip(flat, loss_keys, strict=False):
        steps, values = column(rows, key)
        positive = bool(len(values)) and bool(np.all(values[np.isfinite(values)] > 0))
        ax.plot(steps, values, marker="o", ms=2, color="tab:blue")
        ax.set_title(f"loss: {key.removeprefix('wm/loss/')}", fontsize=10)
        _finish(ax, "log scale" if positive else "", log=positive)
    if has_reward:
        ax = flat[len(loss_keys)]
        steps, values = column(rows, "curiosity/raw_mean")
        ax.plot(steps, values, marker="o", ms=2, color="tab:orange")
        ax.set_title("raw intrinsic reward (batch mean)", fontsize=10)
        _finish(ax, "raw reward")
    for ax in flat[n:]:
        ax.axis("off")
    fig.tight_layout()
    return fig
