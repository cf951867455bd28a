"""One real run folder for the report tests: ``contactlab run experiment=debug`` (~15 s)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

CHROMIUM = Path("/usr/bin/chromium")


@dataclass
class DebugRun:
    """The run folder, the directory the command ran in, and its output."""

    path: Path
    cwd: Path
    stdout: str
    stderr: str


@pytest.fixture(scope="session")
def debug_run(tmp_path_factory: pytest.TempPathFactory) -> DebugRun:
    torch.set_num_threads(1)
    cwd = tmp_path_factory.mktemp("report-run")
    out = subprocess.run(
        [sys.executable, "-m", "agent.cli", "run", "experiment=debug", "run_name=x"],
        cwd=cwd,
        env={**os.environ, "CONTACTLAB_REPORT": "1"},  # the suite's default is 0
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return DebugRun(cwd / "runs/x", cwd, out.stdout, out.stderr)


def metric_rows(scale: float, steps: tuple[int, ...] = (100, 200, 300)) -> list[dict[str, float]]:
    """Synthetic ``metrics.jsonl`` rows: errors falling with steps, scaled by ``scale``."""
    return [
        {
            "step": int(s),
            "probe/impact/pos_mm": scale * 10 / (1 + i),
            "probe/free/pos_mm": scale * 2 / (1 + i),
            "probe/contact_gap": 5.0 / (1 + i),
            "explore/regime/impact": 0.1,
            "explore/regime/contact": 0.2,
            "explore/regime/free": 0.3,
            "explore/regime/rest": 0.4,
        }
        for i, s in enumerate(steps)
    ]


@pytest.fixture(name="make_rows")
def _make_rows() -> Callable[..., list[dict[str, float]]]:
    return metric_rows


@pytest.fixture
def dump_dom(tmp_path: Path) -> Callable[[str], str]:
    """``dump_dom(url)``: the DOM after load and 5 s of virtual time, from headless Chromium
    (the test is skipped, saying why, where Chromium is not installed)."""
    if not CHROMIUM.exists():
        pytest.skip("needs /usr/bin/chromium (Debian package `chromium`, installed by .ci/setup)")
    return lambda url: _chromium_dump_dom(url, tmp_path / "chromium-profile")


def _chromium_dump_dom(url: str, profile: Path) -> str:
    out = subprocess.run(
        [
            str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--no-first-run",
            f"--user-data-dir={profile}", "--virtual-time-budget=5000", "--dump-dom", url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout
