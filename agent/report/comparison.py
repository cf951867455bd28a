"""The comparison page: several runs grouped by data source, ``OUT_DIR/report.html``."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agent.report import plots
from agent.report.page import REPORT_NAME, esc, figure_section, fmt, page, table, write_text
from agent.report.run_folder import RunFolder, final_metrics
from agent.stats import bootstrap_band

COMPARED_FINAL = {
    "probe/impact/pos_mm": "impact mm",
    "probe/contact/pos_mm": "contact mm",
    "probe/free/pos_mm": "free mm",
    "probe/rest/pos_mm": "rest mm",
    "probe/rollout/all/pos_mm": "rollout mm",
    "probe/contact_gap": "contact gap",
}


def write_comparison_report(
    out_dir: str | Path, run_dirs_by_source: Mapping[str, Sequence[str | Path]]
) -> Path:
    """Write ``OUT_DIR/report.html`` comparing runs grouped by data source.

    Args:
        out_dir: folder for the page (created).
        run_dirs_by_source: source name (e.g. ``"active/disagreement/mpc"``, ``"random"``)
            -> run folders of that source (one per seed).

    Returns:
        the path of the page. Curves are means over each source's runs with 95% bootstrap
        bands; the table gives each final metric's mean and 95% bootstrap interval.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    runs = {src: [RunFolder.load(d) for d in dirs] for src, dirs in run_dirs_by_source.items()}
    groups = {src: [r.metrics() for r in rs] for src, rs in runs.items()}
    figs: dict[str, bytes] = {}
    sections = ["<h2>Probe error per regime</h2>"]
    sections.append(
        figure_section(
            plots.compare_probe_errors(groups),
            "probe_errors",
            "Mean over each source's seeds, with a 95% percentile-bootstrap band over seeds "
            "where a source has two or more runs.",
            figs,
        )
    )
    table_rows = []
    for src, rs in runs.items():
        row: list[Any] = [src, len(rs)]
        for key in COMPARED_FINAL:
            values = np.array([[final_metrics(r).get(key, math.nan)] for r in rs])
            mean, lo, hi = bootstrap_band(values)
            cell = fmt(float(mean[0]))
            if math.isfinite(lo[0]):
                cell += f" [{fmt(float(lo[0]))}, {fmt(float(hi[0]))}]"
            row.append(cell)
        table_rows.append(row)
    sections.append(
        "<h3>Final values: mean [95% bootstrap interval]</h3>"
        + table(["source", "runs", *COMPARED_FINAL.values()], table_rows)
        + '<p class="cap">Probe errors of the objects at the end of each run (summary.json '
        "final: " + ", ".join(COMPARED_FINAL) + ").</p>"
    )
    sections.append("<h2>What each source collected</h2>")
    sections.append(
        figure_section(
            plots.regimes_by_source(groups),
            "regimes_by_source",
            "Fraction of collected object entity-transitions per regime, over the whole run.",
            figs,
        )
    )
    links = []
    for src, rs in runs.items():
        for r in rs:
            target = r.path / REPORT_NAME
            rel = os.path.relpath(target, out)
            name = f'<a href="{esc(rel)}">{esc(r.name)}</a>' if target.exists() else esc(r.name)
            links.append(f"<tr><td>{esc(src)}</td><td>{name}</td></tr>")
    sections.append(
        "<h2>Runs</h2><table><tr><th>source</th><th>run</th></tr>" + "".join(links) + "</table>"
    )
    n = sum(len(rs) for rs in runs.values())
    subtitle = f"{len(runs)} sources, {n} runs"
    path = out / REPORT_NAME
    write_text(path, page("contactlab comparison", subtitle, "\n".join(sections)))
    (out / "comparison.json").write_text(
        json.dumps({src: [str(r.path) for r in rs] for src, rs in runs.items()}, indent=2)
    )
    return path
