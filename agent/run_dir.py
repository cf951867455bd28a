"""Run folders: every run records what it ran, so a result can be traced and repeated.

A run folder holds ``config.yaml`` (the resolved config), ``run.json`` (git commit and dirty
flag, package and MuJoCo versions, seed, command line, host, start time) and the run's outputs.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

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


class RunConfigChanged(ValueError):
    """A run folder exists for this run name but was made with another config."""


def config_hash(config: DictConfig) -> str:
    """Short sha256 of the resolved config: same config, same default run folder."""
    return hashlib.sha256(OmegaConf.to_yaml(config, resolve=True).encode()).hexdigest()[:10]


def open_run_dir(parent: str | Path, name: str, config: DictConfig, seed: int) -> tuple[Path, bool]:
    """Open ``parent/name`` for a resumable run; return ``(run_dir, resumed)``.

    A new folder gets ``config.yaml`` and ``run.json``. An existing one is resumed only if its
    ``config.yaml`` is the same config; otherwise :class:`RunConfigChanged` shows the
    difference, before any work starts.
    """
    run_dir = Path(parent) / name
    saved = run_dir / "config.yaml"
    text = OmegaConf.to_yaml(config, resolve=True)
    if saved.exists():
        old = saved.read_text()
        if old != text:
            diff = "".join(
                difflib.unified_diff(
                    old.splitlines(keepends=True),
                    text.splitlines(keepends=True),
                    str(saved),
                    "this command",
                )
            )
            raise RunConfigChanged(
                f"{run_dir} was started with another config; resume it with the same command, or "
                f"choose another run_name. Difference:\n{diff}"
            )
        return run_dir, True
    run_dir.mkdir(parents=True, exist_ok=True)
    _write_run_files(run_dir, text, seed)
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
    _write_run_files(run_dir, OmegaConf.to_yaml(config, resolve=True), seed)
    return run_dir


def _write_run_files(run_dir: Path, config_yaml: str, seed: int) -> None:
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
        },
    )
    # config.yaml last: its presence marks a complete run folder.
    tmp = run_dir / ".config.yaml.tmp"
    tmp.write_text(config_yaml)
    os.replace(tmp, run_dir / "config.yaml")
