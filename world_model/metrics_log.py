"""Append-only metric curves: ``metrics.jsonl``, ``metrics.csv`` and TensorBoard.

Each :meth:`MetricsLogger.log` call writes one row (the env step plus a flat dict of floats) and
flushes it, so a crash loses at most the row being written. The CSV header comes from the first
row; when a later row brings new keys (e.g. impact metrics the first probe lacked) the CSV is
rewritten once, atomically, with the wider header. On resume the existing files are extended;
:meth:`MetricsLogger.truncate_after` drops rows logged after the checkpoint that is resumed.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path
from typing import Any

from world_model.atomic import remove_stale_temps, write_atomic, writing


def _step(line: str) -> float:
    """The step of a JSONL row; a row cut short by a crash (no valid JSON) sorts last."""
    try:
        return float(json.loads(line)["step"])
    except (json.JSONDecodeError, KeyError, TypeError):
        return float("inf")


def _json_value(v: float) -> float | None:
    return v if math.isfinite(v) else None  # JSON has no NaN/inf


class MetricsLogger:
    """Writes metric rows under ``run_dir``.

    Args:
        run_dir: the run folder (created if needed).
        tensorboard: also write scalars to ``run_dir/tb`` with the step as x axis.
    """

    def __init__(self, run_dir: str | os.PathLike[str], tensorboard: bool = True) -> None:
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.jsonl_path = self.run_dir / "metrics.jsonl"
        self.csv_path = self.run_dir / "metrics.csv"
        for path in (self.jsonl_path, self.csv_path):  # left by a writer killed mid-write
            remove_stale_temps(path)
        self._header: list[str] = self._read_header()
        self._tb: Any = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter  # heavy import, only when used

            self._tb = SummaryWriter(log_dir=str(self.run_dir / "tb"))

    def _read_header(self) -> list[str]:
        if not self.csv_path.exists():
            return []
        with open(self.csv_path, newline="") as f:
            return next(csv.reader(f), [])

    def _read_rows(self) -> list[dict[str, str]]:
        if not self.csv_path.exists():
            return []
        with open(self.csv_path, newline="") as f:
            return list(csv.DictReader(f))

    def _rewrite_csv(self, header: list[str], rows: list[dict[str, Any]]) -> None:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=header, restval="")
        writer.writeheader()
        writer.writerows(rows)
        write_atomic(self.csv_path, buf.getvalue().encode())
        self._header = header

    def log(self, step: int, metrics: dict[str, float]) -> None:
        """Append one row at env step ``step``.

        Args:
            step: environment steps so far (the x axis of every curve).
            metrics: flat ``{namespaced key: value}``.
        """
        row: dict[str, Any] = {"step": int(step), **{k: float(v) for k, v in metrics.items()}}
        with writing(self.jsonl_path), open(self.jsonl_path, "a") as f:
            f.write(
                json.dumps({k: _json_value(v) if k != "step" else v for k, v in row.items()}) + "\n"
            )
            f.flush()
            os.fsync(f.fileno())
        new = [k for k in row if k not in self._header]
        if new:
            self._rewrite_csv(
                [*self._header, *new] if self._header else list(row), self._read_rows()
            )
        with writing(self.csv_path), open(self.csv_path, "a", newline="") as f:
            csv.DictWriter(f, fieldnames=self._header, restval="").writerow(row)
            f.flush()
            os.fsync(f.fileno())
        if self._tb is not None:
            for k, v in metrics.items():
                self._tb.add_scalar(k, float(v), global_step=int(step))
            self._tb.flush()

    def truncate_after(self, step: int) -> None:
        """Drop rows with a step greater than ``step`` from the JSONL and CSV files."""
        if self.jsonl_path.exists():
            lines = [ln for ln in self.jsonl_path.read_text().splitlines() if ln.strip()]
            kept = [ln for ln in lines if _step(ln) <= step]
            write_atomic(self.jsonl_path, "".join(ln + "\n" for ln in kept).encode())
            # The CSV is rebuilt from the JSONL: a CSV row cut short by a crash cannot be told
            # from a whole one, a JSONL row can.
            rows = [json.loads(ln) for ln in kept]
            header = list(dict.fromkeys(k for row in rows for k in row))
            self._rewrite_csv(
                header, [{k: "nan" if v is None else v for k, v in r.items()} for r in rows]
            )
        elif self.csv_path.exists():
            self._rewrite_csv([], [])

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()
            self._tb = None
