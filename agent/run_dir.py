"""Run folders: every run records what it ran, so a result can be traced and repeated.

A run folder holds ``config.yaml`` (the resolved config), ``run.json`` (git commit and dirty
flag, package and MuJoCo versions, seed, command line, host, start time, the config's keys) and
the run's outputs.

One process owns a run folder at a time (:func:`lock_run_dir`: an OS-level ``flock`` on
``.lock``, released by the kernel however the owner dies, so a lock left by ``kill -9`` is
simply taken over). A folder holding outputs but no readable ``config.yaml`` is refused, never
treated as a new run (:func:`open_run_dir`).
"""

from __future__ import annotations

import contextlib
import difflib
import errno
import fcntl
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

PACKAGES = (
    "contactlab",
    "mujoco",
    "gymnasium",
    "numpy",
    "torch",
    "stable-baselines3",
    "hydra-core",
    "ray",
)
REPO_ROOT = Path(__file__).resolve().parents[1]


def git_commit(repo: Path = REPO_ROOT) -> dict[str, Any]:
    """``{"commit": sha or None, "dirty": bool or None}`` of the source tree."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout
        return {"commit": sha, "dirty": bool(status.strip())}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write JSON so that a crash never leaves a half-written file at ``path``."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class RunDirError(ValueError):
    """A run folder that cannot be used as it is; the message names the folder or file."""


class RunConfigChanged(RunDirError):
    """A run folder exists for this run name but was made with another config."""


class RunDirBusy(RunDirError):
    """Another live process owns the run folder."""


LOCK_FILE = ".lock"
#: config keys that say where a run folder lies, not what runs in it
LOCATION_KEYS = ("out_dir", "run_name")
#: config keys that check a run's inputs rather than set anything (at any depth: a compare's
#: ``run.probe.expect_hash`` too): they neither name a default run folder nor stop a resume
CHECK_KEYS = ("probe.expect_hash",)


def is_check_key(key: str) -> bool:
    """Whether a dotted config key is one of :data:`CHECK_KEYS` (at any depth)."""
    return any(key == c or key.endswith("." + c) for c in CHECK_KEYS)


#: what a started run leaves in its folder: with any of these, a missing config.yaml is damage
RUN_OUTPUTS = (
    "data",
    "checkpoint.pt",
    "checkpoint.prev.pt",
    "checkpoint.bad.pt",
    "metrics.jsonl",
    "metrics.csv",
    "summary.json",
)


@contextlib.contextmanager
def lock_run_dir(run_dir: Path) -> Iterator[Path]:
    """Own ``run_dir`` (created if needed) for the duration of the ``with`` block.

    The lock is ``flock(LOCK_EX | LOCK_NB)`` on ``run_dir/.lock``, which holds the owner's
    PID and host. The kernel drops it when the owner exits or is killed, so a stale lock is
    never in the way; a live owner makes this fail at once. A folder this call created and
    that holds nothing but the lock when the block fails is removed again.

    Raises:
        RunDirBusy: another process holds the lock (the message names its PID).
        RunDirError: the folder cannot be created.
    """
    created = not run_dir.exists()
    lock = run_dir / LOCK_FILE
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunDirError(f"{run_dir}: cannot create the run folder ({exc.strerror})") from None
    fd = _take_lock(run_dir, lock)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}@{platform.node()}\n".encode(), 0)
        yield run_dir
    except BaseException:
        if created and [p.name for p in run_dir.iterdir()] == [LOCK_FILE]:
            lock.unlink()  # still ours: a waiter that opened it re-checks the inode
            run_dir.rmdir()
        raise
    finally:
        os.close(fd)  # releases the lock; the file stays (removing it would race a waiter)


def _take_lock(run_dir: Path, lock: Path) -> int:
    for _ in range(10):
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise RunDirError(f"{lock}: cannot create the lock file ({exc.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise RunDirError(f"{lock}: cannot lock it ({exc.strerror})") from None
            raise RunDirBusy(
                f"{run_dir} is in use by another contactlab process (pid@host: {holder}); "
                "wait for it to end (a run resumes with the same command), or choose another "
                "run_name"
            ) from None
        try:
            if os.fstat(fd).st_ino == os.stat(lock).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)  # locked a file its owner removed as we opened it: try again
        run_dir.mkdir(parents=True, exist_ok=True)
    raise RunDirError(f"{lock}: could not take the lock (the file kept being replaced)")


def read_config_text(path: Path) -> str:
    """The text of a run folder's ``config.yaml``, checked to be a plain YAML mapping.

    Raises:
        RunDirError: unreadable, not UTF-8, not YAML, or holding tags (``!!python/...``) that
            no contactlab config has; the message names the file.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RunDirError(
            f"{path}: not UTF-8 text (bad byte at offset {exc.start}); contactlab writes it as "
            "UTF-8 YAML: restore it, or move the run folder away"
        ) from None
    except OSError as exc:
        raise RunDirError(f"{path}: cannot read it ({exc.strerror})") from None
    try:
        loaded = OmegaConf.create(text)
    # AssertionError: OmegaConf's answer to a bare scalar; RecursionError: absurd nesting
    except (
        yaml.YAMLError,
        OmegaConfBaseException,
        ValueError,
        AssertionError,
        RecursionError,
    ) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RunDirError(
            f"{path}: not a contactlab config (plain YAML, no tags such as !!python/...): "
            f"{first[:200]}"
        ) from None
    if not isinstance(loaded, DictConfig) or len(loaded) == 0:
        raise RunDirError(
            f"{path}: not a contactlab config (a non-empty YAML mapping of keys): restore it, "
            "or move the run folder away"
        )
    if dotted := _dotted_keys(OmegaConf.to_container(loaded, resolve=False)):
        raise RunDirError(
            f"{path}: not a contactlab config (no key of one holds a dot): {dotted[:3]}"
        )
    return text


def _dotted_keys(node: Any) -> list[str]:
    """Keys holding a dot (or not strings), anywhere in a nested mapping."""
    if not isinstance(node, dict):
        return []
    bad = [str(k) for k in node if not isinstance(k, str) or "." in k]
    return bad + [k for v in node.values() for k in _dotted_keys(v)]


def read_run_config(path: Path) -> DictConfig:
    """``config.yaml`` of a run folder as a ``DictConfig``; :class:`RunDirError` naming the file
    when it cannot be (see :func:`read_config_text`)."""
    loaded = OmegaConf.create(read_config_text(path))
    assert isinstance(loaded, DictConfig)
    return loaded


def config_hash(config: DictConfig) -> str:
    """Short sha256 of the resolved config without its :data:`CHECK_KEYS`: same settings, same
    default run folder (a check added to a command, or a check key added to the schema, does
    not move it)."""
    container = OmegaConf.to_container(config, resolve=True)
    text = OmegaConf.to_yaml(OmegaConf.create(_drop_check_keys(container)))
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def _drop_check_keys(node: Any, prefix: str = "") -> Any:
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        dotted = f"{prefix}.{key}" if prefix else str(key)
        if not is_check_key(dotted):
            out[key] = _drop_check_keys(value, dotted)
    return out


def _flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    """``{dotted key: value}`` of a nested container (a list, or an empty mapping, is one
    value)."""
    if not isinstance(node, dict) or not node:
        return {prefix: node}
    out: dict[str, Any] = {}
    for key, value in node.items():
        out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def config_keys(config: DictConfig) -> list[str]:
    """The sorted dotted keys of a config (what ``run.json`` records as ``config_keys``)."""
    return sorted(_flatten(OmegaConf.to_container(config, resolve=False)))


def _read_run_json(run_json: Path) -> dict[str, Any] | None:
    """A run folder's ``run.json`` as the JSON object contactlab wrote; ``None`` if absent.

    Raises:
        RunDirError: ``run.json`` is there but not that object.
    """
    try:
        text = run_json.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise RunDirError(f"{run_json}: cannot read it ({exc})") from None
    try:
        info = json.loads(text)
    except ValueError as exc:
        raise RunDirError(
            f"{run_json}: damaged (not JSON: {exc}); it records what the run began with. "
            "Restore it, or move the run folder away"
        ) from None
    if not isinstance(info, dict):
        raise RunDirError(f"{run_json}: damaged (not a JSON object); restore it")
    return info


def _recorded_keys(info: dict[str, Any] | None, run_json: Path) -> set[str] | None:
    """The ``config_keys`` a run's ``run.json`` (``info``, read from ``run_json``) recorded when
    the run began: every setting the code of that time had. ``None`` for a folder from before
    they were recorded (or without a ``run.json``).

    Raises:
        RunDirError: ``config_keys`` is not a list of keys.
    """
    keys = None if info is None else info.get("config_keys")
    if keys is None:
        return None
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise RunDirError(f"{run_json}: damaged ('config_keys' is not a list of keys)")
    return set(keys)


def config_differences(old_text: str, new: DictConfig) -> dict[str, list[str]]:
    """The dotted keys in which a saved config's text and ``new`` differ, as
    ``{"changed": [...], "added": [...], "removed": [...]}`` (``added``: in ``new`` only).
    A list, or a mapping on one side and a value on the other, is one key."""

    old = _flatten(OmegaConf.to_container(OmegaConf.create(old_text), resolve=False))
    now = _flatten(OmegaConf.to_container(new, resolve=True))
    return {
        "changed": sorted(
            k
            for k in old.keys() & now.keys()
            if type(old[k]) is not type(now[k]) or old[k] != now[k]
        ),
        "added": sorted(now.keys() - old.keys()),
        "removed": sorted(old.keys() - now.keys()),
    }


def check_resumable(
    saved: Path,
    config: DictConfig,
    unread: Callable[[str], bool] | None = None,
    defaults: DictConfig | None = None,
    record: bool = True,
) -> None:
    """Check that a run folder's saved ``config.yaml`` holds the settings of ``config``,
    where these differences do not count:

    * settings the run never reads (``unread(dotted_key)`` is true; e.g. ``agent.seek.*`` in a
      run of the ``random`` source), changed, added or removed;
    * where the folder lies (:data:`LOCATION_KEYS`: a folder moved elsewhere resumes there);
    * checks of the run's inputs (:data:`CHECK_KEYS`, e.g. ``probe.expect_hash``), which set
      nothing;
    * settings newer than the run (in ``config``, not in the saved one) at their value in
      ``defaults`` (the schema's defaults: a new setting is added with the behaviour that was
      there before it). Set to anything else they count. They are added to the saved file
      (with the values the run goes on with), so a later change of such a default is refused
      like any other difference (``record=False``, for a dry run, writes nothing). Newer
      means not among the ``config_keys`` that ``run.json`` recorded when the run began: a
      recorded setting missing from ``config.yaml`` is damage, refused (for a folder from
      before ``config_keys`` existed the two read the same, and the warning names it).

    Those are named in a warning on stderr; the rest of the saved file is left as it is (it
    describes the data the run holds).

    Raises:
        RunConfigChanged: any other difference, naming the keys and showing the diff.
        RunDirError: the saved file is unreadable or not a config, it lost settings that
            ``run.json`` recorded, or ``run.json`` is damaged.
    """
    old = read_config_text(saved)
    text = OmegaConf.to_yaml(config, resolve=True)
    if old == text:
        return
    diffs = config_differences(old, config)
    missing = object()

    def at_default(key: str) -> bool:
        if defaults is None:
            return False
        default = OmegaConf.select(defaults, key, default=missing)
        return default is not missing and default == OmegaConf.select(config, key)

    quiet = {  # differences that do not change what the run does
        kind: [
            k
            for k in keys
            if k in LOCATION_KEYS or is_check_key(k) or (unread is not None and unread(k))
        ]
        for kind, keys in diffs.items()
    }
    added = [k for k in diffs["added"] if k not in quiet["added"]]
    # run.json is read only to judge added settings (a moved folder resumes without it)
    run_json = saved.parent / "run.json"
    recorded = _recorded_keys(_read_run_json(run_json), run_json) if added else None
    lost = [k for k in added if recorded and k in recorded]
    if lost:
        raise RunDirError(
            f"{saved} lost settings the run was started with ({saved.parent / 'run.json'} "
            f"records them): {lost}. The file is damaged: restore those lines (this command "
            "would use "
            + ", ".join(f"{k}={OmegaConf.select(config, k)!r}" for k in lost)
            + ", which need not be the run's), or move the run folder away"
        )
    newer = [k for k in added if at_default(k)]
    blocking = sorted(
        k
        for kind, keys in diffs.items()
        for k in keys
        if k not in quiet[kind] and not (kind == "added" and k in newer)
    )
    if blocking:
        diff = "".join(
            difflib.unified_diff(
                old.splitlines(keepends=True),
                text.splitlines(keepends=True),
                str(saved),
                "this command",
            )
        )
        raise RunConfigChanged(
            f"{saved.parent} was started with another config (differing: {blocking}); resume "
            f"it with the same command, or choose another run_name. Difference:\n{diff}"
        )
    notes = []
    if newer:  # recorded now, so a later change of their default cannot slip in
        if record:
            _record_settings(saved, old, config, newer)
        written = " (added to it)" if record else ""
        notes.append(f"settings newer than the run, at their defaults{written}: {newer}")
    if ignored := sorted(k for keys in quiet.values() for k in keys):
        notes.append(
            "settings that do not change this run (never read, checks of its inputs, or where "
            "the folder lies), "
            f"differing: {ignored}"
        )
    print(
        f"{saved.parent} is the same run: "
        + ("; ".join(notes) if notes else "the same settings, written differently"),
        file=sys.stderr,
    )


def _record_settings(saved: Path, old_text: str, config: DictConfig, keys: list[str]) -> None:
    """Add ``keys`` (settings newer than the run, at their defaults) with their values in
    ``config`` to the saved ``config.yaml``, atomically; every other line stays as it was."""
    loaded = OmegaConf.create(old_text)
    for key in keys:
        OmegaConf.update(loaded, key, OmegaConf.select(config, key), force_add=True)
    tmp = saved.with_name(".config.yaml.tmp")
    tmp.write_text(OmegaConf.to_yaml(loaded))
    os.replace(tmp, saved)
    # Then run.json's record, so a later loss of these lines is told from a newer setting
    # (a crash between the two leaves the keys in config.yaml: nothing reads as lost).
    run_json = (saved.parent / "run.json").resolve()  # a link's target, not the link
    info = _read_run_json(run_json)
    recorded = _recorded_keys(info, run_json)
    if info is not None and recorded is not None:
        info["config_keys"] = sorted(recorded | set(keys))
        write_json_atomic(run_json, info)


def open_run_dir(
    parent: str | Path,
    name: str,
    config: DictConfig,
    seed: int,
    unread: Callable[[str], bool] | None = None,
    defaults: DictConfig | None = None,
) -> tuple[Path, bool]:
    """Open ``parent/name`` for a resumable run; return ``(run_dir, resumed)``.

    A new folder gets ``config.yaml`` and ``run.json``. An existing one is resumed if its
    ``config.yaml`` holds the same settings (:func:`check_resumable`, with ``unread`` and
    ``defaults``); otherwise :class:`RunConfigChanged` names the keys and shows the
    difference, before any work starts. A folder holding run outputs (``data/``, checkpoints,
    metrics, summary) without a readable ``config.yaml`` raises :class:`RunDirError`.
    """
    run_dir = Path(parent) / name
    saved = run_dir / "config.yaml"
    if saved.exists() or saved.is_symlink():
        check_resumable(saved, config, unread, defaults)
        return run_dir, True
    found = [n for n in RUN_OUTPUTS if (run_dir / n).exists()]
    if found:
        raise RunDirError(
            f"{run_dir} holds {', '.join(found)} but no config.yaml: it is a damaged run "
            "folder, not a new one (its data would be mixed with a new run's). Restore its "
            "config.yaml to resume it, or move the folder away or choose another run_name"
        )
    run_dir.mkdir(parents=True, exist_ok=True)
    _write_run_files(run_dir, config, seed)
    return run_dir, False


def create_run_dir(parent: str | Path, name: str, config: DictConfig, seed: int) -> Path:
    """Create ``parent/<name>-<timestamp>`` with ``config.yaml`` and ``run.json``; return it."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    run_dir = Path(parent) / f"{name}-{stamp}"
    suffix = 1
    while run_dir.exists():
        run_dir = Path(parent) / f"{name}-{stamp}-{suffix}"
        suffix += 1
    run_dir.mkdir(parents=True)
    _write_run_files(run_dir, config, seed)
    return run_dir


def _write_run_files(run_dir: Path, config: DictConfig, seed: int) -> None:
    config_yaml = OmegaConf.to_yaml(config, resolve=True)
    write_json_atomic(
        run_dir / "run.json",
        {
            "command": [Path(sys.argv[0]).name, *sys.argv[1:]],
            "seed": seed,
            "git": git_commit(),
            "versions": package_versions(),
            "python": platform.python_version(),
            "host": platform.node(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            # every setting of the code that began the run: on a resume, one missing from
            # config.yaml is damage, not a setting newer than the run (check_resumable)
            "config_keys": config_keys(config),
        },
    )
    # config.yaml last: its presence marks a complete run folder.
    tmp = run_dir / ".config.yaml.tmp"
    tmp.write_text(config_yaml)
    os.replace(tmp, run_dir / "config.yaml")
