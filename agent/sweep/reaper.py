"""The clean-up of a local Ray that contactlab started, which happens however the driver ends.

``ray.init`` starts Ray's servers (GCS, raylet, dashboard, log monitor) as children of the
driver, and the raylet starts its agents (dashboard agent, runtime-env agent) and the workers.
After a ``kill -9`` of the driver nothing in it runs, and the agents were measured to outlive
it by ~2 minutes (one listening on loopback), leaving ``/tmp/ray/session_*`` behind.

So before starting Ray, the driver starts this reaper, in its own session (a Ctrl-C or a
signal to the driver's process group does not reach it), with a pipe from the driver on its
stdin, and marks its own environment with a random token, which the Ray processes inherit.
The driver then writes the Ray session folder to the pipe. While the pipe is open the reaper
records, every :data:`SCAN_S` seconds, the processes of the session: those carrying the token
and all their descendants (Ray's agents rewrite their environment area with their process
title, so they are found as the raylet's children), each with its start time so that a
reused PID is never mistaken for one of them. When the pipe closes (the driver called
:meth:`~agent.sweep.cluster.RaySession.stop`, exited, or was killed, even by ``SIGKILL``),
the reaper sends ``SIGTERM`` to every recorded or marked process still alive (never the
driver itself), ``SIGKILL`` to those alive after a grace period, and removes the session folder
(and ``session_latest`` if it points there).

Usage (by :mod:`agent.sweep.cluster` only): ``python -m agent.sweep.reaper TOKEN DRIVER_PID``.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import sys
import time
from pathlib import Path

MARKER_ENV = "CONTACTLAB_RAY_SESSION"
GRACE_S = 5.0
SCAN_S = 1.0

Proc = tuple[int, str]  # (pid, start time in clock ticks since boot)


def _stat(pid: int) -> tuple[int, str, str] | None:
    """``(ppid, start time, state)`` of ``pid``, or None if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), fields[19], fields[0]


def session_processes(token: str, exclude: set[int]) -> set[Proc]:
    """The processes carrying the token and all their descendants."""
    children: dict[int, list[int]] = {}
    starts: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            st = _stat(int(entry.name))
            if st is not None:
                children.setdefault(st[0], []).append(int(entry.name))
                starts[int(entry.name)] = st[1]
    todo = marked_pids(token, exclude)
    found: set[Proc] = set()
    while todo:
        pid = todo.pop()
        if pid in exclude or pid not in starts or (pid, starts[pid]) in found:
            continue
        found.add((pid, starts[pid]))
        todo.extend(children.get(pid, []))
    return found


def marked_pids(token: str, exclude: set[int]) -> list[int]:
    """PIDs of this user's processes whose environment holds ``MARKER_ENV=token``."""
    needle = f"{MARKER_ENV}={token}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in exclude:
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:  # gone, or another user's
            continue
        if needle in environ.split(b"\0"):
            pids.append(int(entry.name))
    return pids


def _alive(proc: Proc) -> bool:
    st = _stat(proc[0])
    return st is not None and st[1] == proc[1] and st[2] != "Z"


def reap(token: str, driver: int, session_dir: str | None, known: set[Proc]) -> int:
    """Stop every process of the session (``known`` ones included) and remove its folder;
    return how many were still alive after ``SIGKILL``."""
    exclude = {os.getpid(), driver}
    procs = {p for p in known | session_processes(token, exclude) if _alive(p)}
    for sig, wait in ((signal.SIGTERM, GRACE_S), (signal.SIGKILL, 2.0)):
        for pid, _ in procs:
            with contextlib.suppress(OSError):
                os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while any(_alive(p) for p in procs) and time.monotonic() < deadline:
            time.sleep(0.05)
        procs = {p for p in procs | session_processes(token, exclude) if _alive(p)}
        if not procs:
            break
    if session_dir:
        session = Path(session_dir)
        latest = session.parent / "session_latest"
        if latest.is_symlink() and os.path.realpath(latest) == str(session.resolve()):
            latest.unlink(missing_ok=True)
        shutil.rmtree(session, ignore_errors=True)
    return len(procs)


def main() -> None:
    token, driver = sys.argv[1], int(sys.argv[2])
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    exclude = {os.getpid(), driver}
    session_dir: str | None = None
    known: set[Proc] = set()
    buffer = b""
    fd = sys.stdin.fileno()
    while True:  # until the driver closes the pipe or dies
        ready, _, _ = select.select([fd], [], [], SCAN_S)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            session_dir = next((ln.decode() for ln in reversed(lines) if ln), session_dir)
        known = {p for p in known if _alive(p)} | session_processes(token, exclude)
    reap(token, driver, session_dir, known)


if __name__ == "__main__":
    main()
