"""Shared test set-up: headless rendering through EGL unless the caller chose a backend."""

import os

os.environ.setdefault("MUJOCO_GL", "egl")


def pytest_collection_modifyitems(config, items):  # noqa: ANN001, ANN201
    """Under pytest-xdist (``-n 2 --dist loadgroup``, the README's test command), keep every
    test of ``tests/sweep`` on one worker: they share one local Ray (a session fixture) and the
    Ray token file, so a second worker would start a second cluster for nothing."""
    import pytest

    for item in items:
        if "tests/sweep/" in item.nodeid or item.nodeid.startswith("sweep/"):
            item.add_marker(pytest.mark.xdist_group("ray"))
