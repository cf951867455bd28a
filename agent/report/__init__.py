"""Reports: what the model learned and where the explorer went (``docs/report.md``).

* :mod:`agent.report.viz`: real vs imagined rollouts to video (``contactlab viz``);
* :mod:`agent.report.plots`: the figures (bands across seeds from :mod:`agent.stats`);
* :mod:`agent.report.html`: ``report.html`` per run and per comparison (``contactlab report``).

Imports are deferred so that ``agent.run`` can call :func:`write_run_report_or_warn` without
loading matplotlib until a run ends.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path


def write_run_report_or_warn(run_dir: str | Path) -> Path | None:
    """Write the run's ``report.html``; on any failure print a warning and return ``None``.

    Called at the end of ``contactlab run``: a report is never worth failing a run for.
    """
    try:
        from agent.report.html import write_run_report

        path = write_run_report(run_dir)
    except Exception as exc:  # noqa: BLE001 - the run's results are already safe on disk
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        print(f"warning: no report for {run_dir}: {last}", file=sys.stderr)
        return None
    print(f"report: {path}")
    return path
