"""``contactlab viz`` and ``contactlab report``: run folders plus ``key=value`` options.

``contactlab viz RUN_DIR [sequences=4 panel_width=320 panel_height=240 fps=5 hold=3 out=FILE]``
``contactlab report RUN_DIR [RUN_DIR ...] [video=true out=DIR]``: one ``report.html`` per run;
with several runs also a comparison page (runs grouped by data source) in ``out`` (default
``<common parent>/comparison``).
"""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

from agent.report.run_folder import ReportError, RunFolder


def _split(args: list[str], allowed: dict[str, type], command: str) -> tuple[list[Path], dict]:
    """Run folders and typed options; raises :class:`ReportError` naming a bad one."""
    runs: list[Path] = []
    options: dict = {}
    for arg in args:
        if "=" not in arg:
            runs.append(Path(arg))
            continue
        key, value = arg.split("=", 1)
        if key not in allowed:
            raise ReportError(f"unknown option {key!r}; {command} takes {sorted(allowed)}")
        kind = allowed[key]
        try:
            if kind is bool:
                if value.lower() not in ("true", "false"):
                    raise ValueError(value)
                options[key] = value.lower() == "true"
            else:
                options[key] = kind(value)
        except ValueError:
            raise ReportError(f"{key}={value!r} is not a valid {kind.__name__}") from None
    if not runs:
        raise ReportError(f"{command} needs at least one RUN_DIR")
    for run in runs:
        RunFolder.load(run)  # fails fast, naming the folder
    return runs, options


def viz_command(args: list[str]) -> int:
    """``contactlab viz``; returns the exit status."""
    from agent.report.viz import VizConfig, write_viz_video

    fields = {f.name: int for f in dataclasses.fields(VizConfig)}
    try:
        runs, options = _split(args, {**fields, "out": str}, "viz")
        out = options.pop("out", None)
        if out is not None and len(runs) > 1:
            raise ReportError("out= names one file: give one RUN_DIR with it")
        cfg = VizConfig(**options)
        for run in runs:
            result = write_viz_video(run, out, cfg)
            h, w = result.frame_size
            print(
                f"{result.path}: {result.frames} frames {w}x{h}, probe sequences "
                f"{[s['probe_sequence'] for s in result.sequences]}, panels rendered at "
                f"{result.renders / max(result.render_seconds, 1e-9):.0f}/s"
            )
    except (ReportError, ValueError) as exc:
        print(f"contactlab viz: error: {exc}", file=sys.stderr)
        return 2
    return 0


def report_command(args: list[str]) -> int:
    """``contactlab report``; returns the exit status."""
    from agent.report.html import write_comparison_report, write_run_report

    try:
        runs, options = _split(args, {"video": bool, "out": str}, "report")
        for run in runs:
            print(f"report: {write_run_report(run, video=options.get('video', True))}")
        if len(runs) > 1:
            groups: dict[str, list[Path]] = {}
            for run in runs:
                groups.setdefault(RunFolder.load(run).source, []).append(run)
            parent = Path(os.path.commonpath([str(r.resolve()) for r in runs]))
            out = Path(options.get("out") or parent / "comparison")
            print(f"comparison: {write_comparison_report(out, groups)}")
    except (ReportError, ValueError) as exc:
        print(f"contactlab report: error: {exc}", file=sys.stderr)
        return 2
    return 0
