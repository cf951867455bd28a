"""Getting a Ray to run on: a local one bound to 127.0.0.1, or an existing cluster.

Local (the default): ``ray.init`` with no dashboard and the node address forced to loopback,
so every Ray server (GCS, raylet, object manager, agents) listens on 127.0.0.1 only; this is
checked after start-up, and a Ray that bound elsewhere is stopped with an error. A local Ray
is stopped with all its processes, and its ``/tmp/ray/session_*`` folder removed, however the
driver ends (return, error, Ctrl-C, ``SIGTERM``/``SIGHUP``, even ``kill -9``): see
:mod:`agent.sweep.reaper`. Ray's token
authentication is left as Ray sets it (on by default for local clusters since Ray 2.59; the
token lives in ``~/.ray/auth_token``). Joining a cluster (``ray.address=HOST:PORT`` or
``$RAY_ADDRESS``) starts nothing; ``docs/cluster.md`` says how to run one safely.
"""

from __future__ import annotations

import contextlib
import logging
import os
import platform
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.sweep.reaper import MARKER_ENV

LOOPBACK = "127.0.0.1"
# Ray resolves 127.0.0.1 to the machine's routable address unless multi-node clusters are
# disabled (its own macOS/Windows default), which is what keeps every server on loopback.
_LOOPBACK_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
_NICENESS_ENV = "RAY_worker_niceness"  # read by the raylet that ray.init starts
#: the environment of every worker of this job: progress bars would flood the trial logs
WORKER_ENV = {"env_vars": {"TQDM_DISABLE": "1"}}


class ClusterError(RuntimeError):
    """Ray could not be started or joined as asked; the message says why and what to do."""


class NotSharedStorage(ClusterError):
    """A node of the cluster cannot see the sweep folder at the driver's path."""


@dataclass
class RaySession:
    """The Ray this process is using, and whether it must stop it when done."""

    address: str  #: GCS address
    started_here: bool
    local: bool  #: a single-node Ray on this machine (no shared-storage question)
    reaper: subprocess.Popen | None = None  #: for a local Ray started here
    _handlers: dict[int, Any] | None = None  #: signal handlers replaced while it runs

    def stop(self) -> None:
        """Shut Ray down (if started here); a local one is reaped: every process of its
        session ended and its session folder removed, before this returns."""
        import ray

        if self.started_here and ray.is_initialized():
            ray.shutdown()
        if self.reaper is not None:
            _close_reaper(self.reaper)
            self.reaper = None
        for sig, handler in (self._handlers or {}).items():
            signal.signal(sig, handler)
        self._handlers = None


def connect(address: str | None = None, num_cpus: int | None = None) -> RaySession:
    """Use the Ray already initialised in this process, join ``address`` (or
    ``$RAY_ADDRESS``), or start a local loopback-only Ray (``address`` ``None`` or ``"local"``).
    """
    import ray

    if ray.is_initialized():  # inside a Ray worker, or a caller that started Ray itself
        gcs = ray.get_runtime_context().gcs_address
        return RaySession(gcs, started_here=False, local=_is_loopback(gcs))
    address = address or os.environ.get("RAY_ADDRESS") or "local"
    if address != "local":
        # A loopback address (a Ray started by another `contactlab sweep` on this machine)
        # must stay loopback: Ray would otherwise rewrite 127.0.0.1 to the routable address.
        _check_reachable(address)
        try:
            with _loopback_only(_is_loopback(address)):
                ray.init(address=address, logging_level=logging.WARNING, runtime_env=WORKER_ENV)
        except (ConnectionError, RuntimeError) as exc:
            auth = os.environ.get("RAY_AUTH_MODE", "unset")
            raise ClusterError(
                f"cannot join the Ray cluster at {address}: {str(exc).splitlines()[0]} "
                f"(RAY_AUTH_MODE is {auth}). Is its head running (`ray status --address "
                f"{address}`)? A cluster with token authentication needs RAY_AUTH_MODE=token "
                "here and its token in ~/.ray/auth_token, $RAY_AUTH_TOKEN_PATH or "
                "$RAY_AUTH_TOKEN; see docs/cluster.md"
            ) from exc
        gcs = ray.get_runtime_context().gcs_address
        return RaySession(gcs, started_here=True, local=False)
    # Ray starts its workers at niceness 15, so on a machine doing anything else the runs
    # of a local sweep or comparison crawl (measured: 2.5% of a core next to 3 busy
    # processes). A local Ray exists only to run our trials: give them normal priority.
    os.environ.setdefault(_NICENESS_ENV, "0")
    token = uuid.uuid4().hex
    reaper = subprocess.Popen(
        [sys.executable, "-m", "agent.sweep.reaper", token, str(os.getpid())],
        stdin=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a Ctrl-C or a signal to our process group does not reach it
    )
    os.environ[MARKER_ENV] = token  # inherited by every process of the Ray about to start
    try:
        with _loopback_only(True):
            ray.init(
                address="local",
                num_cpus=num_cpus,
                include_dashboard=False,
                _node_ip_address=LOOPBACK,
                logging_level=logging.WARNING,
                runtime_env=WORKER_ENV,
            )
    except BaseException:
        os.environ.pop(MARKER_ENV, None)
        _close_reaper(reaper)
        raise
    os.environ.pop(MARKER_ENV, None)
    node = ray._private.worker._global_node
    assert reaper.stdin is not None and node is not None
    reaper.stdin.write(node.get_session_dir_path() + "\n")
    reaper.stdin.flush()
    session = RaySession(
        ray.get_runtime_context().gcs_address, started_here=True, local=True, reaper=reaper
    )
    nodes = {n["NodeManagerAddress"] for n in ray.nodes()}
    if not _is_loopback(session.address) or nodes != {LOOPBACK}:
        session.stop()
        raise ClusterError(
            f"the local Ray did not bind to {LOOPBACK} only (GCS {session.address}, nodes "
            f"{sorted(nodes)}); refusing to run with servers reachable from the network"
        )
    session._handlers = _interrupt_on_termination()
    return session


def _close_reaper(reaper: subprocess.Popen) -> None:
    """Close the reaper's pipe (it then reaps) and wait until it has."""
    with contextlib.suppress(OSError):
        if reaper.stdin is not None:
            reaper.stdin.close()
    try:
        reaper.wait(timeout=60)
    except subprocess.TimeoutExpired:
        reaper.kill()


def _interrupt_on_termination() -> dict[int, Any]:
    """Make ``SIGTERM``/``SIGHUP`` raise ``KeyboardInterrupt`` (as Ctrl-C does), so the
    driver's clean-up runs; returns the handlers replaced."""
    if threading.current_thread() is not threading.main_thread():
        return {}

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")

    return {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}


def check_address(address: str | None) -> None:
    """Before any work: fail at once (:class:`ClusterError`) if ``address`` (or
    ``$RAY_ADDRESS``) names a ``HOST:PORT`` where nothing listens; a local Ray passes."""
    address = address or os.environ.get("RAY_ADDRESS") or "local"
    if address != "local":
        _check_reachable(address)


def _check_reachable(address: str) -> None:
    """Fail in seconds where nothing listens at ``HOST:PORT`` (Ray itself retries for minutes)."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or "://" in address:
        return  # "auto", "ray://...": left to Ray
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as exc:
        raise ClusterError(
            f"cannot join the Ray cluster at {address}: nothing answers there ({exc}). Start its "
            "head with `ray start --head ...` (docs/cluster.md), or leave ray.address and "
            "$RAY_ADDRESS unset to run on a local Ray"
        ) from None


@contextlib.contextmanager
def _loopback_only(active: bool) -> Iterator[None]:
    """Keep Ray from resolving 127.0.0.1 to this machine's routable address while it starts."""
    if not active:
        yield
        return
    from ray._private import ray_constants

    saved_env, saved_flag = os.environ.get(_LOOPBACK_ENV), ray_constants.ENABLE_RAY_CLUSTER
    os.environ[_LOOPBACK_ENV] = "0"  # read by the processes ray.init spawns
    ray_constants.ENABLE_RAY_CLUSTER = False  # and by this one, if ray was imported earlier
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = saved_flag
        if saved_env is None:
            os.environ.pop(_LOOPBACK_ENV, None)
        else:
            os.environ[_LOOPBACK_ENV] = saved_env


def _is_loopback(address: str) -> bool:
    return address.rsplit(":", 1)[0] in (LOOPBACK, "localhost")


def cluster_cpus() -> int:
    """CPUs of the alive nodes."""
    import ray

    return int(ray.cluster_resources().get("CPU", 0))


def check_shared_storage(folder: Path) -> None:
    """Refuse a cluster on which some node cannot see ``folder`` (the sweep folder) at the
    same path: a trial there could neither resume from, nor write into, the driver's folder.

    Writes a marker file with a random token into ``folder`` and has one task on every alive
    node read it back.

    Raises:
        NotSharedStorage: naming the folder and the first node that cannot see it.
    """
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex
    marker = folder / f".shared-storage-{token[:8]}"
    marker.write_text(token)
    try:
        probe = ray.remote(num_cpus=0, max_retries=0)(_read_marker)
        refs = {
            node["NodeManagerAddress"]: probe.options(
                scheduling_strategy=NodeAffinitySchedulingStrategy(node["NodeID"], soft=False)
            ).remote(str(marker), token)
            for node in ray.nodes()
            if node["Alive"]
        }
        results = {ip: ray.get(ref, timeout=120) for ip, ref in refs.items()}
    finally:
        marker.unlink(missing_ok=True)
    raise_if_not_shared(folder, results)


def _read_marker(path: str, token: str) -> dict[str, Any]:
    """(On a node.) Whether the marker file at ``path`` holds ``token``."""
    p = Path(path)
    seen = p.read_text() if p.is_file() else None
    return {"host": platform.node(), "ok": seen == token, "exists": p.parent.is_dir()}


def raise_if_not_shared(folder: Path, results: dict[str, dict[str, Any]]) -> None:
    """Raise :class:`NotSharedStorage` for the first node whose probe failed."""
    for ip, result in results.items():
        if not result["ok"]:
            what = (
                "a different folder at that path" if result["exists"] else "no folder at that path"
            )
            raise NotSharedStorage(
                f"sweep folder {folder} is not shared storage visible from node {ip} "
                f"({result['host']}: {what}). Mount the same storage (e.g. NFS) at the same "
                "path on every node and run the sweep from there; see docs/cluster.md"
            )
