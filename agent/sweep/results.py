"""A sweep's results: one row per trial, written to ``results.csv`` and printed as a table."""

from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path
from typing import Any

#: final metrics (``summary.json`` ``final``) shown for every trial, and their column titles
METRICS = {
    "probe/impact/pos_mm": "impact_mm",
    "probe/free/pos_mm": "free_mm",
    "probe/contact_gap": "contact_gap",
    "explore/moved1": "moved1",
}


def trial_row(
    name: str, point: dict[str, str], status: str, summary: dict[str, Any] | None
) -> dict[str, Any]:
    """The row of one trial; metrics are empty unless it finished."""
    final = (summary or {}).get("final") or {}
    row: dict[str, Any] = {"trial": name, **point}
    for key, column in METRICS.items():
        row[column] = final.get(key)
    row["env_steps"] = (summary or {}).get("env_steps")
    row["status"] = status
    row["seconds"] = (summary or {}).get("seconds")
    row["attempts"] = (summary or {}).get("attempt")
    return row


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    """``results.csv``, written atomically."""
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(buf.getvalue())
    os.replace(tmp, path)


def format_table(rows: list[dict[str, Any]], axes: list[str]) -> str:
    """Fixed-width text: axis values, the final metrics, env steps and status."""
    columns = [*axes, *METRICS.values(), "env_steps", "status"] if axes else None
    columns = columns or ["trial", *METRICS.values(), "env_steps", "status"]
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    return str(value)
