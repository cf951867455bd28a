"""The clean-up of a local Ray that contactlab started, which happens however the driver ends.

``ray.init`` starts Ray's servers (GCS, raylet, dashboard, log monitor) as children of the
driver, and the raylet starts its agents (dashboard agent, runtime-env agent) and the workers.
After a ``kill -9`` of the driver nothing in it runs, and the agents were measured to outlive
it by ~2 minutes (one listening on loopback), leaving ``/tmp/ray/session_*`` behind.

So before starting Ray, the driver starts this reaper, in its own session (a Ctrl-C or a
signal to the driver's process group does not reach it), with a pipe from the driver on its
stdin, and marks its own environment with a random token, which every Ray process inherits.
The driver then writes the Ray session folder to the pipe. When the pipe closes (the driver
called :meth:`~agent.sweep.cluster.RaySession.stop`, exited, or was killed, even by
``SIGKILL``), the reaper sends ``SIGTERM`` to every process carrying the token (never the
driver itself), ``SIGKILL`` to those still alive after a grace period, and removes the session
folder (and ``session_latest`` if it points there).

Usage (by :mod:`agent.sweep.cluster` only): ``python -m agent.sweep.reaper TOKEN DRIVER_PID``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import time
from pathlib import Path

MARKER_ENV = "CONTACTLAB_RAY_SESSION"
GRACE_S = 5.0


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


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def reap(token: str, driver: int, session_dir: str | None) -> int:
    """Stop every process of the session and remove its folder; return how many were alive."""
    exclude = {os.getpid(), driver}
    pids = marked_pids(token, exclude)
    for sig, wait in ((signal.SIGTERM, GRACE_S), (signal.SIGKILL, 2.0)):
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while any(_alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        pids = [p for p in marked_pids(token, exclude) if _alive(p)]
        if not pids:
            break
    if session_dir:
        session = Path(session_dir)
        latest = session.parent / "session_latest"
        if latest.is_symlink() and os.path.realpath(latest) == str(session.resolve()):
            latest.unlink(missing_ok=True)
        shutil.rmtree(session, ignore_errors=True)
    return len(pids)


def main() -> None:
    token, driver = sys.argv[1], int(sys.argv[2])
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    session_dir = None
    for line in sys.stdin:  # until the driver closes the pipe or dies
        session_dir = line.strip() or session_dir
    reap(token, driver, session_dir)


if __name__ == "__main__":
    main()
