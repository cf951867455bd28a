"""Append-only metric curves: ``metrics.jsonl``, ``metrics.csv`` and TensorBoard.

Each :meth:`MetricsLogger.log` call writes one row (the env step plus a flat dict of floats) and
flushes it, so a crash loses at most the row being written. The CSV header comes from the first
row; when a later row brings new keys (e.g. impact metrics the first probe lacked) the CSV is
rewritten once, atomically, with the wider header.

The logger also keeps every JSONL line it wrote (:attr:`MetricsLogger.lines`); a run puts them
in its checkpoints, so on resume :meth:`MetricsLogger.restore` rewrites both files exactly as
they were at the checkpoint, repairing a damaged file (a bad row, a truncated or deleted file,
non-UTF-8 bytes) with a warning that names it. Without such a copy (an offline training run)
:meth:`MetricsLogger.truncate_after` drops the rows after the checkpoint and refuses a damaged
file with :class:`MetricsError` naming the file and the line. :func:`read_metrics` is the
validating reader of reports.
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
from world_model.dataset import DatasetError


class MetricsError(DatasetError, ValueError):
    """A damaged metrics file; the message names the file and the line."""


def parse_lines(path: Path, data: bytes) -> list[dict[str, Any]]:
    """The rows of a JSONL metrics file's bytes, each checked: UTF-8, a JSON object with an
    integer ``step``, steps increasing. A last line without its newline (cut short by a crash)
    is dropped.

    Raises:
        MetricsError: naming ``path`` and the line.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        at = data[: exc.start].count(b"\n") + 1
        raise MetricsError(f"{path}: line {at} is not UTF-8 text (byte {exc.start})") from None
    lines = text.split("\n")
    complete = lines[:-1]  # the last piece is "" after a final newline, else a cut row
    rows: list[dict[str, Any]] = []
    for i, line in enumerate(complete, start=1):
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            row = None
        if not isinstance(row, dict) or type(row.get("step")) is not int:
            raise MetricsError(f"{path}: line {i} is not a metrics row: {line[:80]!r}")
        if rows and row["step"] <= rows[-1]["step"]:
            raise MetricsError(
                f"{path}: line {i} has step {row['step']}, not after {rows[-1]['step']}"
            )
        rows.append(row)
    return rows


def read_metrics(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Validated rows of a ``metrics.jsonl`` (``[]`` if there is none); see :func:`parse_lines`."""
    path = Path(path)
    if not path.is_file():
        return []
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MetricsError(f"{path}: cannot read it ({exc.strerror})") from None
    return parse_lines(path, data)


def format_row(step: int, metrics: dict[str, float]) -> str:
    """One JSONL line (no newline) of the row logged at ``step``."""
    row = {"step": int(step), **{k: _json_value(float(v)) for k, v in metrics.items()}}
    return json.dumps(row)


def csv_text(rows: list[dict[str, Any]]) -> str:
    """``metrics.csv`` as rebuilt from JSONL rows (``null`` written as ``nan``)."""
    header = list(dict.fromkeys(k for row in rows for k in row))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header, restval="")
    writer.writeheader()
    writer.writerows([{k: "nan" if v is None else v for k, v in r.items()} for r in rows])
    return buf.getvalue() if header else ""


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
        self.lines: list[str] = []  #: JSONL lines written (or restored), without newlines
        self._tb: Any = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter  # heavy import, only when used

            self._tb = SummaryWriter(log_dir=str(self.run_dir / "tb"))

    def _read_header(self) -> list[str]:
        if not self.csv_path.exists():
            return []
        try:
            with open(self.csv_path, newline="", encoding="utf-8") as f:
                return next(csv.reader(f), [])
        except (UnicodeDecodeError, csv.Error):
            return []  # damaged: rebuilt from the JSONL by restore/truncate_after

    def _read_rows(self) -> list[dict[str, str]]:
        if not self.csv_path.exists():
            return []
        with open(self.csv_path, newline="", encoding="utf-8") as f:
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
        line = format_row(step, metrics)
        with writing(self.jsonl_path), open(self.jsonl_path, "a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())
        self.lines.append(line)
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
        """Drop rows with a step greater than ``step`` from the JSONL and CSV files.

        Raises:
            MetricsError: the JSONL file is damaged before ``step`` (names the file and line).
        """
        if self.jsonl_path.exists():
            rows = read_metrics(self.jsonl_path)
            kept = [r for r in rows if r["step"] <= step]
            self._write_both([json.dumps(r) for r in kept])
        elif self.csv_path.exists():
            self._rewrite_csv([], [])

    def restore(self, lines: list[str], extra: list[str] | None = None) -> str:
        """Make both files hold exactly ``lines`` (from a checkpoint) then ``extra``.

        Returns:
            ``""`` if ``metrics.jsonl`` already held those rows first, else a warning naming
            the damaged file and what was wrong with it (it has been rewritten).
        """
        want = [*lines, *(extra or [])]
        problem = self._check(want)
        have = [] if problem else [json.dumps(r) for r in read_metrics(self.jsonl_path)]
        if problem or len(have) != len(want):  # damaged, or rows logged after the checkpoint
            self._write_both(want)
        elif not self._csv_matches(have):  # the same rows: the JSONL is kept as it is
            self._write_both(have)
        else:
            self.lines = have
        if problem:
            final = " and the final evaluation of summary.json" if extra else ""
            return (
                f"warning: {problem}; rewrote it and {self.csv_path.name} from the checkpoint's "
                f"{len(lines)} rows{final}"
            )
        return ""

    def _check(self, want: list[str]) -> str:
        """What differs between ``metrics.jsonl`` and ``want`` (rows after them aside)."""
        if not self.jsonl_path.exists():
            return f"{self.jsonl_path}: missing" if want else ""
        try:
            rows = read_metrics(self.jsonl_path)
        except MetricsError as exc:
            return str(exc)
        have = [json.dumps(r) for r in rows]
        for i, line in enumerate(want):
            if i >= len(have):
                return f"{self.jsonl_path}: {len(have)} rows, {len(want)} expected (truncated)"
            if json.loads(have[i]) != json.loads(line):
                return f"{self.jsonl_path}: line {i + 1} differs from the checkpoint's row"
        return ""

    def _csv_matches(self, want: list[str]) -> bool:
        try:
            return self.csv_path.read_text(encoding="utf-8") == csv_text(
                [json.loads(ln) for ln in want]
            ) and self.jsonl_path.read_text(encoding="utf-8") == "".join(ln + "\n" for ln in want)
        except (OSError, UnicodeDecodeError):
            return False

    def _write_both(self, lines: list[str]) -> None:
        write_atomic(self.jsonl_path, "".join(ln + "\n" for ln in lines).encode())
        # The CSV is rebuilt from the JSONL: a CSV row cut short by a crash cannot be told
        # from a whole one, a JSONL row can.
        rows = [json.loads(ln) for ln in lines]
        write_atomic(self.csv_path, csv_text(rows).encode())
        self._header = list(dict.fromkeys(k for row in rows for k in row))
        self.lines = list(lines)

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()
            self._tb = None
