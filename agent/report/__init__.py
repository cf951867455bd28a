"""Reports: what the model learned and where the explorer went (``docs/report.md``).

* :mod:`agent.report.viz`: real vs imagined rollouts to video (``contactlab viz``);
* :mod:`agent.report.plots`: the figures (bands across seeds from :mod:`agent.stats`);
* :mod:`agent.report.html`: ``report.html`` per run and per comparison (``contactlab report``).

Imports are deferred so that ``agent.run`` can call :func:`write_run_report_or_warn` without
loading matplotlib until a run ends.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

#: ``CONTACTLAB_REPORT=0`` in the environment: runs end without writing their report.
#: ``contactlab run experiment=debug`` took 27.5 s without it and 38.6 s with it (two of each,
#: side by side, on a loaded 2-core machine); the test suite sets it, bar the tests of the
#: report. ``contactlab report RUN_DIR`` writes it later from the run folder.
REPORT_ENV = "CONTACTLAB_REPORT"


def write_run_report_or_warn(run_dir: str | Path) -> Path | None:
    """Write the run's ``report.html``; on any failure print a warning and return ``None``.

    Called at the end of ``contactlab run``: a report is never worth failing a run for.
    With ``CONTACTLAB_REPORT=0`` it writes nothing and says so.
    """
    if os.environ.get(REPORT_ENV, "1").strip() == "0":
        print(f"report: skipped ({REPORT_ENV}=0); write it with `contactlab report {run_dir}`")
        return None
    try:
        from agent.report.html import write_run_report

        path = write_run_report(run_dir)
    except Exception as exc:  # noqa: BLE001 - the run's results are already safe on disk
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        print(f"warning: no report for {run_dir}: {last}", file=sys.stderr)
        return None
    print(f"report: {path}")
    return path
