"""Shared test set-up: headless rendering through EGL unless the caller chose a backend."""

import os
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")

SWEEP_TESTS = Path(__file__).parent / "sweep"


def pytest_collection_modifyitems(config, items):  # noqa: ANN001, ANN201
    """Under pytest-xdist (``-n 2 --dist loadgroup``, the README's test command), keep every
    test of ``tests/sweep`` on one worker: they share one local Ray (a session fixture) and the
    Ray token file, so a second worker would start a second cluster for nothing."""
    import pytest

    for item in items:
        if item.path.is_relative_to(SWEEP_TESTS):
            item.add_marker(pytest.mark.xdist_group("ray"))
