"""Shared test set-up: headless rendering through EGL unless the caller chose a backend."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("MUJOCO_GL", "egl")
# Runs end without their report.html and viz.mp4 (agent.report.REPORT_ENV): the report is ~30%
# of a debug-sized run. The tests of the report, and the end-to-end run, ask for it
# (the ``with_report`` fixture, or CONTACTLAB_REPORT=1 in a subprocess's environment).
os.environ.setdefault("CONTACTLAB_REPORT", "0")

SWEEP_TESTS = Path(__file__).parent / "sweep"


@pytest.fixture
def with_report(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs started by the test (subprocesses included) write their report."""
    monkeypatch.setenv("CONTACTLAB_REPORT", "1")


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups (its hook is registered later)
def pytest_collection_modifyitems(config, items):  # noqa: ANN001, ANN201
    """Under pytest-xdist (``-n 2 --dist loadgroup``, the README's test command), keep every
    test of ``tests/sweep`` on one worker: they share one local Ray (a session fixture) and the
    Ray token file, so a second worker would start a second cluster for nothing."""
    for item in items:
        if item.path.is_relative_to(SWEEP_TESTS):
            item.add_marker(pytest.mark.xdist_group("ray"))
