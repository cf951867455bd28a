"""The README's test command (``-n 2 --dist loadgroup``) keeps the Ray tests on one worker."""

from __future__ import annotations

import pytest


def test_the_sweep_tests_run_as_one_xdist_group(request: pytest.FixtureRequest) -> None:
    """xdist groups a test by renaming its node id to ``...@group``; pytest 9.2 moved the node
    id where xdist 3.8 renames it, and every group silently fell apart (pyproject pins pytest
    below 9.2). This fails whenever the grouping does not take effect."""
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("not under pytest-xdist --dist loadgroup")
    assert request.node.nodeid.endswith("@ray"), request.node.nodeid
