"""One self-contained HTML page per run: ``RUN_DIR/report.html``.

Images are embedded as base64 PNG data URIs; the rollout video is referenced by a relative
path inside the run folder (``viz.mp4``), so copying the folder keeps the page whole. The
figures are also written to the run's TensorBoard (``tb/``, tag ``report/<name>``) at the run's
last env step. ``docs/report.md`` explains every section. The comparison page of several runs
is :func:`agent.report.comparison.write_comparison_report` (re-exported here).
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from agent.report import plots
from agent.report.comparison import write_comparison_report
from agent.report.page import (
    REPORT_NAME,
    esc,
    figure_section,
    page,
    png_b64,
    table,
    video_player,
    write_text,
)
from agent.report.run_folder import ReportError, RunFolder, final_metrics
from agent.report.viz import VizConfig, VizResult, write_viz_video
from envs.layout import EntityLayout
from envs.regimes import REGIME_NAMES

__all__ = ["REPORT_NAME", "write_comparison_report", "write_run_report"]


def regimetable(final: Mapping[str, float]) -> str:
    """Final one-step and rollout probe errors per regime (objects), with the physics
    baselines and the ratio to constant velocity where the run logged them."""
    rows = []
    for name in (*REGIME_NAMES, "all"):
        model = final.get(f"probe/{name}/pos_mm", math.nan)
        cv = final.get(f"baseline/constant_velocity/{name}/pos_mm", math.nan)
        rows.append(
            [
                name,
                model,
                cv,
                final.get(f"baseline/nothing_moves/{name}/pos_mm", math.nan),
                final.get(f"probe/{name}/vs_cv", model / cv if cv else math.nan),
                final.get(f"probe/{name}/vel", math.nan),
                final.get(f"probe/{name}/state", math.nan),
                final.get(f"probe/rollout/{name}/pos_mm", math.nan),
                final.get(f"probe/{name}/count", math.nan),
            ]
        )
    header = [
        *("regime", "pos mm", "constant velocity mm", "nothing moves mm", "model / const. vel."),
        *("vel m/s", "state (norm.)", "rollout pos mm", "count"),
    ]
    return table(header, rows)


def metricstable(final: Mapping[str, float]) -> str:
    """Every final metric, grouped by namespace, in a collapsible block."""
    groups: dict[str, list[tuple[str, float]]] = {}
    for key in sorted(final):
        groups.setdefault(key.split("/")[0], []).append((key, final[key]))
    parts = []
    for ns, items in groups.items():
        parts.append(
            f"<details><summary>{esc(ns)}/ ({len(items)} keys)</summary>"
            f"{table(['key', 'value'], items)}</details>"
        )
    return "".join(parts)


def _log_to_tensorboard(run_dir: Path, pngs: Mapping[str, bytes], step: int) -> None:
    """Add the report's figures to the run's TensorBoard as images ``report/<name>``."""
    from torch.utils.tensorboard import SummaryWriter  # heavy, only when used

    writer = SummaryWriter(log_dir=str(run_dir / "tb"))
    try:
        for name, png in pngs.items():
            image = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
            writer.add_image(f"report/{name}", image, global_step=step, dataformats="HWC")
    finally:
        writer.close()


def write_run_report(
    run_dir: str | Path,
    video: bool = True,
    viz: VizConfig | None = None,
    tensorboard: bool = True,
) -> Path:
    """Write ``RUN_DIR/report.html`` (and ``RUN_DIR/viz.mp4`` unless ``video`` is false).

    Args:
        run_dir: a folder of ``contactlab run`` or ``contactlab train-model``.
        video: render the real-vs-imagined rollout video (needs ``checkpoint.pt`` and the
            probe set); a failure is reported in the page, not raised.
        viz: video settings.
        tensorboard: also add the figures to ``RUN_DIR/tb``.

    Returns:
        the path of ``report.html``.
    """
    run = RunFolder.load(run_dir)
    rows = run.metrics()
    final = final_metrics(run)
    figs: dict[str, bytes] = {}
    sections: list[str] = []

    result: VizResult | None = None
    if video:
        try:
            result = write_viz_video(run.path, cfg=viz)
        except (ReportError, ValueError, OSError) as exc:
            sections.append(f"<h2>Rollouts</h2><p>no video: {esc(exc)}</p>")
    if result is not None:
        rate = result.renders / max(result.render_seconds, 1e-9)
        poster = ""
        if result.poster is not None:
            poster = f' poster="data:image/png;base64,{png_b64(result.poster)}"'
        h, w = result.frame_size
        seq_rows = [
            [s["probe_sequence"], s["object_impacts"], s["final_error_mm"], s["max_error_mm"],
             s["mean_reward"]]
            for s in result.sequences
        ]  # fmt: skip
        sections.append(
            "<h2>Rollouts: real vs imagined</h2>"
            + video_player(
                os.path.relpath(result.path, run.path), w, h, poster, (viz or VizConfig()).fps
            )
            + '<p class="cap">Probe sequences with the most object impacts. Left: MuJoCo. '
            "Middle: the model's open-loop rollout from the same start with the same actions "
            "(the agent's own motion given). Right: the real picture with every pixel where the "
            "imagined one differs laid over it in magenta: a magenta body is where the model "
            "puts an object that is not there (its ghost). "
            "Bodies are tinted by the true regime (impact red, contact orange, free blue, rest "
            "grey); a red frame marks impact steps. Strip: object position error of the "
            "imagined state (blue) and the curiosity signal's normalised reward for the real "
            f"transition (orange). {result.frames} frames of {w}x{h} at "
            f"{(viz or VizConfig()).fps} fps; panels rendered at "
            f"{rate:.0f}/s.</p>"
            + table(
                [
                    "probe sequence",
                    "object impacts",
                    "final error mm",
                    "max error mm",
                    "mean intrinsic reward",
                ],
                seq_rows,
            )  # fmt: skip
        )

    sections.append("<h2>Probe error per contact regime</h2>")
    sections.append(
        figure_section(
            plots.regime_errors(rows),
            "probe_errors",
            "Held-out probe set, objects only. Left: one-step position error per regime; "
            "middle: open-loop rollout error, grouped by the regime of the step; right: the "
            "contact gap (impact error / free-motion error). Where the run logged the physics "
            "baselines, each regime's constant-velocity error is dashed and nothing-moves "
            "error dotted, in the regime's colour: a model under its dashed line beats "
            "physics extrapolation.",
            figs,
        )
    )
    sections.append(regimetable(final))

    sections.append("<h2>Where the explorer went</h2>")
    data = run.dataset()
    if data is not None:
        fig = plots.visitation(data.obs, EntityLayout.from_dict(data.meta.layout))
        caption = (
            "Every collected transition's start state: x-y positions of the objects (pooled) "
            "and of the agent, log colour scale."
        )
        sections.append(figure_section(fig, "visitation", caption, figs))
    else:
        sections.append('<p class="cap">no dataset found for this run.</p>')
    sections.append(
        figure_section(
            plots.regimes_over_time(rows),
            "regimes_visited",
            "Fraction of collected object entity-transitions per regime, per evaluation "
            "window (explore/regime/*): the moving regimes (impact, contact, free) on their "
            "own scale; the share at rest is given in the title.",
            figs,
        )
    )
    cal = plots.calibration(rows)
    if cal is not None:
        sections.append("<h2>Curiosity calibration</h2>")
        sections.append(
            figure_section(
                cal,
                "calibration",
                "Spearman's rho between the intrinsic reward and the model's true error.",
                figs,
            )
        )
    sections.append("<h2>Training</h2>")
    sections.append(
        figure_section(
            plots.training(rows),
            "training",
            "World-model loss terms, one panel each on its own scale, and the raw curiosity "
            "reward of training batches. " + plots.LOSS_NOTE,
            figs,
        )
    )
    sections.append("<h2>Final metrics</h2>")
    summary_rows = [[k, v] for k, v in sorted(run.summary.items()) if not isinstance(v, dict)]
    acted = run.summary.get("explorer_steps") or {}
    summary_rows += [[f"explorer_steps/{k}", v] for k, v in sorted(acted.items())]
    sections.append(table(["summary", "value"], summary_rows) + metricstable(final))
    sections.append("<h2>Run</h2>")
    sections.append(_run_info(run))

    step = int(run.summary.get("env_steps", rows[-1]["step"] if rows else 0))
    if tensorboard and figs:
        _log_to_tensorboard(run.path, figs, step)
    subtitle = (
        f"source <b>{esc(run.source)}</b> · scene <b>{esc(run.config.env.name)}</b> · "
        f"{step} env steps · seed {esc(run.info.get('seed', '?'))} · "
        f"commit {esc((run.info.get('git') or {}).get('commit') or '?')[:12]}"
    )
    path = run.path / REPORT_NAME
    write_text(path, page(f"contactlab report: {run.name}", subtitle, "\n".join(sections)))
    return path


def _run_info(run: RunFolder) -> str:
    info = run.info
    git = info.get("git") or {}
    rows: list[list[Any]] = [
        ["command", " ".join(info.get("command", []))],
        ["seed", info.get("seed", "?")],
        ["git commit", f"{git.get('commit')} (dirty: {git.get('dirty')})"],
        ["python", info.get("python", "?")],
        ["host", info.get("host", "?")],
        ["started", info.get("started", "?")],
        *[[f"version: {k}", v] for k, v in sorted((info.get("versions") or {}).items())],
    ]
    config = (run.path / "config.yaml").read_text()
    return (
        table(["run.json", ""], rows, kv=True)
        + f"<details open><summary>config.yaml (resolved)</summary><pre>{esc(config)}</pre>"
        "</details>"
    )
