"""Crash-safe file writes: a file is either its old or its new version, never half of one.

Fault injection for the reliability tests (``docs/reliability.md``): with
``CONTACTLAB_KILL_IN_WRITE=N`` in the environment, the process kills itself with ``SIGKILL``
in the middle of its ``N``-th atomic write (half the bytes in the temp file, nothing replaced),
which is the worst moment a real crash could pick.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

KILL_ENV = "CONTACTLAB_KILL_IN_WRITE"
_writes = 0
_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


class StorageFull(OSError):
    """A write failed for lack of space (disk full, quota, file size limit); names the file."""


@contextlib.contextmanager
def writing(path: Path) -> Iterator[None]:
    """Turn a no-space ``OSError`` raised inside into :class:`StorageFull` naming ``path``."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in _FULL or isinstance(exc, StorageFull):
            raise
        raise StorageFull(
            exc.errno,
            f"{os.strerror(exc.errno or 0)} while writing {path}; the files written before "
            "it are intact: free some space and rerun the same command to resume",
        ) from exc


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # some platforms cannot open directories
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, before_replace: Callable[[], None] | None = None) -> None:
    """Write ``data`` to ``path`` via a temp file in the same folder, fsync and ``os.replace``.

    ``before_replace`` runs once the temp file is complete, just before it replaces ``path``
    (checkpoints keep the version being replaced there).
    """
    global _writes
    _writes += 1
    tmp = temp_path(path)
    try:
        with writing(path), open(tmp, "wb") as f:
            if os.environ.get(KILL_ENV) == str(_writes):
                f.write(data[: len(data) // 2])
                f.flush()
                os.kill(os.getpid(), signal.SIGKILL)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except OSError:
        tmp.unlink(missing_ok=True)  # never leave half a file taking the space
        raise
    if before_replace is not None:
        before_replace()
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def temp_path(path: Path) -> Path:
    """The temp file :func:`write_atomic` writes ``path`` through (hidden, per process)."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def remove_stale_temps(path: Path) -> list[Path]:
    """Delete temp files of ``path`` left by writers that died mid-write; return them."""
    stale = sorted(path.parent.glob(f".{path.name}.*.tmp"))
    for tmp in stale:
        tmp.unlink(missing_ok=True)
    return stale
