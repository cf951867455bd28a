"""Sane bounds for every number, name and path of a config, checked before anything is built.

:func:`check_numbers` walks a typed config (nested frozen dataclasses) and refuses non-finite
floats, integers beyond any sensible size, seeds outside ``[0, 2**32)`` and learning rates
outside ``(0, 1]``, naming the key. :func:`check_folder_name` keeps ``run_name`` a plain
folder name (no ``/``, no ``..``: a run folder never escapes ``out_dir``);
:func:`check_writable_parent` finds out whether ``out_dir`` could be created and written;
:func:`check_run_memory` estimates the memory of a run from its budget, batch and model sizes
and refuses one that would not fit in this machine. Nothing here builds an env or a model.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import tempfile
from pathlib import Path
from typing import Any

MAX_INT = 10**9  #: the largest count any key may hold (steps, sizes, budgets...)
MAX_FLOAT = 1e9  #: the largest magnitude of any float key
MAX_SEED = 2**32 - 1  #: numpy's SeedSequence, torch and the planner all take this range
_FOLDER_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,199}")

#: entities (agent + objects) of the built-in scenes, for the memory estimate
SCENE_ENTITIES = {"push_blocks": 5, "billiards": 7, "tower": 6}
#: entities assumed for a Gymnasium MuJoCo env in the memory estimate (generous: Ant and
#: Humanoid have 14 bodies; Pusher 5 root entities)
GYM_ENTITIES = 32


class LimitError(ValueError):
    """A value outside its sane bounds; the message names the key (a ``ConfigError`` upstream)."""


def check_numbers(config: Any, prefix: str = "") -> None:
    """Refuse any number of ``config`` (a dataclass, walked recursively) beyond sane bounds."""
    if not dataclasses.is_dataclass(config):
        return
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        key = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(value):
            check_numbers(value, f"{key}.")
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, float):
            _check_float(key, f.name, value)
        elif isinstance(value, int):
            _check_int(key, f.name, value)


def _check_float(key: str, leaf: str, value: float) -> None:
    if not math.isfinite(value):
        raise LimitError(f"{key} must be a finite number, got {value!r}")
    if (leaf == "lr" or leaf.endswith("_lr")) and not 0 < value <= 1:
        raise LimitError(f"{key} (a learning rate) must be in (0, 1], got {value!r}")
    if abs(value) > MAX_FLOAT:
        raise LimitError(f"{key}={value!r} is beyond any sensible value (|{key}| <= {MAX_FLOAT:g})")


def _check_int(key: str, leaf: str, value: int) -> None:
    if leaf == "seed" or leaf.endswith("_seed"):
        if not 0 <= value <= MAX_SEED:
            raise LimitError(f"{key} must be in [0, {MAX_SEED}] (2**32 - 1), got {value!r}")
    elif abs(value) > MAX_INT:
        raise LimitError(f"{key}={value!r} is beyond any sensible value ({key} <= {MAX_INT:,})")


def check_folder_name(key: str, value: str | None) -> None:
    """``value`` must be one plain folder name: letters, digits, ``.``, ``_``, ``-``; not
    starting with ``.``; so that ``out_dir/value`` stays inside ``out_dir``."""
    if value is not None and not _FOLDER_NAME.fullmatch(value):
        raise LimitError(
            f"{key}={value!r} must be a plain folder name (letters, digits, '.', '_', '-', at "
            "most 200 characters, not starting with '.'; no '/', '..' or interpolations that "
            "resolve to a path): the run folder is always made inside out_dir"
        )


def check_writable_parent(key: str, value: str) -> None:
    """``value`` is a folder that exists and is writable, or could be created: its nearest
    existing ancestor is a folder in which a (removed at once) test folder can be made."""
    path = Path(value).absolute()
    ancestor = path
    while not ancestor.exists():
        if ancestor.parent == ancestor:
            break
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise LimitError(f"{key}={value!r}: {ancestor} is not a folder")
    try:
        probe = tempfile.mkdtemp(prefix=".contactlab-write-test-", dir=ancestor)
        os.rmdir(probe)
    except OSError as exc:
        raise LimitError(
            f"{key}={value!r}: cannot create the run folders there ({ancestor} refuses new "
            f"folders: {exc.strerror})"
        ) from None


def machine_memory() -> int:
    """Bytes of physical memory of this machine (``CONTACTLAB_MEMORY_BYTES`` overrides it)."""
    override = os.environ.get("CONTACTLAB_MEMORY_BYTES")
    if override:
        return int(override)
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _entities(env: Any) -> int:
    if env.name in SCENE_ENTITIES:
        n = SCENE_ENTITIES[env.name]
    elif env.mjcf_path is None:  # a Gymnasium model (env=gym), not read before the env is built
        n = GYM_ENTITIES
    else:  # a user's MJCF file: at most one entity per body
        try:
            n = max(1, Path(env.mjcf_path).read_text(errors="replace").count("<body"))
        except OSError:
            n = 1
    return n + (env.distractor != "none")


def run_memory(cfg: Any) -> dict[str, tuple[int, str]]:
    """Estimated bytes of the big parts of a ``RunConfig`` run, each with the keys that set it.

    A generous estimate of what dominates: the preallocated replay (``budget`` rows of
    observations, next observations, conditioning and labels), the world-model ensemble and its
    optimizer (parameters, gradients, Adam moments, the JEPA target copy), and the activations
    of one training batch (``loop.batch_size`` sequences of ``horizon + 1`` steps through every
    member; per entity pair for the interaction network).
    """
    e = _entities(cfg.env)
    d = 13 * e
    replay_row = 4 * (2 * d + 13 + 1) + 8 * e + 24
    wm = cfg.world_model
    h, depth, members = wm.hidden, wm.depth, wm.n_members
    per_member = 4 * (depth * h * h + 2 * h * (d + wm.latent_dim + 13))  # encoder, transition...
    params = 4 * members * per_member * 5  # weights, grads, 2 Adam moments, EMA target
    pairs = e * e if wm.kind == "interaction" else 1
    batch = 4 * cfg.loop.batch_size * (wm.horizon + 1) * members * h * (depth + 2) * 4 * pairs
    parts = {
        "replay": (cfg.budget * replay_row, "budget"),
        "model": (params, "world_model.hidden, world_model.depth, world_model.n_members"),
        "training batch": (batch, "loop.batch_size, world_model.hidden, world_model.horizon"),
    }
    if cfg.loop.observation == "pixels":
        px = cfg.pixels
        frames = cfg.budget * 3 * px.size * px.size  # uint8 frames in the replay
        conv = 4 * cfg.loop.batch_size * (wm.horizon + 1) * px.n_members * px.channels
        parts["frames"] = (frames, "budget, pixels.size")
        # strided convolutions: the feature maps of a frame add up to ~channels * size**2 / 2
        parts["pixel batch"] = (conv * px.size * px.size // 2, "loop.batch_size, pixels.size")
    return parts


def check_run_memory(cfg: Any) -> None:
    """Refuse a run whose estimated memory (:func:`run_memory`) exceeds this machine's."""
    parts = run_memory(cfg)
    total = sum(b for b, _ in parts.values())
    have = machine_memory()
    if total > have:
        big = [kv for kv in sorted(parts.items(), key=lambda kv: -kv[1][0]) if kv[1][0] >= 2**28]
        detail = "; ".join(f"{name} {b / 2**30:,.1f} GiB ({keys})" for name, (b, keys) in big)
        raise LimitError(
            f"this run needs an estimated {total / 2**30:,.1f} GiB of memory, more than this "
            f"machine's {have / 2**30:,.1f} GiB: {detail}. Lower the key of the largest part"
        )
