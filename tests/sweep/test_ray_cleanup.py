"""A local Ray started by contactlab ends with it, however it ends (issue 14, row 11): after a
``kill -9`` or a ``SIGTERM`` of a ``contactlab sweep`` driver, no process of its Ray session
(servers, dashboard and runtime-env agents, workers) is left and its ``/tmp/ray/session_*``
folder is gone."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from agent.sweep.reaper import MARKER_ENV

# ~115 s each (real Ray started and killed): run with `pytest -m slow`
pytestmark = pytest.mark.slow


def _session_pids() -> dict[int, str]:
    """PID -> command line of every process carrying a contactlab Ray session marker, and of
    all their descendants (Ray's agents overwrite their environment with their title)."""
    marked, parent, cmd = set(), {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            environ = (entry / "environ").read_bytes()
            cmd[pid] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            parent[pid] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        if f"{MARKER_ENV}=".encode() in environ:
            marked.add(pid)
    found, todo = set(), list(marked)
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo += [c for c, pp in parent.items() if pp == pid]
    return {pid: cmd[pid] for pid in found if pid in cmd}


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killed_driver_leaves_no_ray_process_or_session_folder(
    sig: signal.Signals,
    probe_root: str,
    tmp_path: Path,
    cli: Callable[..., list[str]],
    cli_env: dict[str, str],
) -> None:
    before = set(_session_pids())
    args = cli(
        "sweep",
        "experiment=debug",
        "agent=random",
        "budget=3000",
        f"probe.root={probe_root}",
        "--no-estimate",
    )
    proc = subprocess.Popen(
        args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env
    )
    deadline = time.monotonic() + 300
    while not list(tmp_path.glob("runs/sweep-*/trial/trial.pid")):  # a trial is running
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "the trial never started"
        time.sleep(0.1)
    ours = {p: c for p, c in _session_pids().items() if p not in before}
    agents = [c for c in ours.values() if "Agent" in c]
    assert agents, f"no Ray agent found among {sorted(ours.values())}"
    sessions = {m for c in ours.values() for m in re.findall(r"/tmp/ray/session_[\w.-]+", c)}
    assert len(sessions) == 1, sessions
    session = Path(sessions.pop())
    assert session.is_dir()

    proc.send_signal(sig)
    proc.communicate(timeout=120)
    assert proc.returncode == (-9 if sig == signal.SIGKILL else 130)
    deadline = time.monotonic() + 30
    while any(_alive(p) for p in ours) or session.exists():
        left = {p: c[:80] for p, c in ours.items() if _alive(p)}
        assert time.monotonic() < deadline, f"left after 30 s: {left}, {session.exists()=}"
        time.sleep(0.1)
