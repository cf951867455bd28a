"""Atomic, pickle-safe checkpoints of nested state (tensors, numpy arrays, JSON-able values).

Saving walks the state first and refuses any non-finite float (a NaN-poisoned model is worse
than no checkpoint), then writes with ``torch.save`` to a temp file in the same folder, fsyncs
and ``os.replace``s it. The version it replaces is kept as ``<name>.prev<suffix>`` (a hard
link, so at every instant both names hold a complete file), and temp files of writers that
died mid-write are removed. :func:`load_latest_checkpoint` falls back to that previous one,
naming both, when the latest is missing or unreadable. Loading always uses
``torch.load(weights_only=True)``, which refuses arbitrary Python objects, so a crafted file
cannot run code. numpy arrays are stored as tensors
tagged with :data:`_ARRAY_TAG` and come back as numpy arrays.

Every checkpoint carries a sha256 of its content (each tensor's dtype, shape and bytes, every
key and value, in order), checked on load: a flipped bit anywhere, in a weight, in Adam's
moments or in a counter, makes the file unloadable (:class:`CheckpointError`), so
:func:`load_latest_checkpoint` falls back to the previous checkpoint instead of resuming from
silently wrong state. Files of the first format (no checksum) still load, and their floats are
checked to be finite.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from world_model.atomic import remove_stale_temps, write_atomic
from world_model.errors import CheckpointError

FORMAT = "contactlab-checkpoint/2"
_LEGACY_FORMAT = "contactlab-checkpoint/1"  # before the content checksum
_FORMAT_KEY = "__format__"
_DIGEST_KEY = "__sha256__"
_ARRAY_TAG = "__ndarray__"


def _pack(value: Any, key: str, path: Path) -> Any:
    """Check finiteness and convert numpy arrays to tagged tensors, recursively."""
    if isinstance(value, torch.Tensor):
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            raise CheckpointError(f"{path}: refusing to save non-finite tensor at {key!r}")
        return value.detach().cpu()
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise CheckpointError(f"{path}: array at {key!r} has unsupported dtype {value.dtype}")
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            raise CheckpointError(f"{path}: refusing to save non-finite array at {key!r}")
        return {_ARRAY_TAG: torch.from_numpy(np.array(value, order="C", copy=True))}
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str | int):
                raise CheckpointError(f"{path}: key {k!r} under {key!r} is not a str or int")
            out[k] = _pack(v, f"{key}/{k}" if key else str(k), path)
        return out
    if isinstance(value, list | tuple):
        packed = [_pack(v, f"{key}[{i}]", path) for i, v in enumerate(value)]
        return packed if isinstance(value, list) else tuple(packed)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CheckpointError(f"{path}: refusing to save non-finite value {value} at {key!r}")
        return value
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, np.generic):
        return _pack(value.item(), key, path)
    raise CheckpointError(f"{path}: value at {key!r} has unsupported type {type(value).__name__}")


def _digest(value: Any, h: Any) -> None:
    """Feed the content of packed ``value`` to the hash ``h``, in a fixed order."""
    if isinstance(value, torch.Tensor):
        flat = value.detach().reshape(-1).contiguous()
        h.update(f"T{flat.dtype}{tuple(value.shape)}".encode())
        h.update(flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b"")
    elif isinstance(value, dict):
        h.update(f"D{len(value)}".encode())
        for k, v in value.items():
            h.update(f"K{type(k).__name__}:{k!r}".encode())
            _digest(v, h)
    elif isinstance(value, list | tuple):
        h.update(f"{'L' if isinstance(value, list) else 'U'}{len(value)}".encode())
        for v in value:
            _digest(v, h)
    else:
        h.update(f"S{type(value).__name__}:{value!r}".encode())


def content_digest(packed: dict[str, Any]) -> str:
    """sha256 of a packed state (without the format and digest entries)."""
    h = hashlib.sha256()
    _digest({k: v for k, v in packed.items() if k not in (_FORMAT_KEY, _DIGEST_KEY)}, h)
    return h.hexdigest()


def _unpack(value: Any, key: str, source: Path) -> Any:
    if isinstance(value, torch.Tensor):
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            raise CheckpointError(f"{source}: non-finite values at {key!r} (a damaged file)")
        return value
    if isinstance(value, dict):
        if set(value) == {_ARRAY_TAG}:
            return _unpack(value[_ARRAY_TAG], key, source).numpy()
        return {k: _unpack(v, f"{key}/{k}" if key else str(k), source) for k, v in value.items()}
    if isinstance(value, list):
        return [_unpack(v, f"{key}[{i}]", source) for i, v in enumerate(value)]
    if isinstance(value, tuple):
        return tuple(_unpack(v, f"{key}[{i}]", source) for i, v in enumerate(value))
    if isinstance(value, float) and not math.isfinite(value):
        raise CheckpointError(f"{source}: non-finite value at {key!r} (a damaged file)")
    return value


def save_checkpoint(path: str | os.PathLike[str], state: dict[str, Any]) -> None:
    """Write ``state`` atomically to ``path``.

    Args:
        path: destination file (its folder is created if needed).
        state: nested dicts/lists of tensors, numpy arrays and JSON-able values.

    Raises:
        CheckpointError: a non-finite tensor/array/float, or an unsupported value (names the key).
    """
    target = Path(path)
    packed = _pack(state, "", target)
    packed[_DIGEST_KEY] = content_digest(packed)
    packed[_FORMAT_KEY] = FORMAT
    buf = io.BytesIO()
    torch.save(packed, buf)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(target)
    write_atomic(target, buf.getvalue(), before_replace=lambda: _keep_previous(target))


def previous_path(path: str | os.PathLike[str]) -> Path:
    """Where the checkpoint replaced by the last save of ``path`` is kept."""
    p = Path(path)
    return p.with_name(f"{p.stem}.prev{p.suffix}")


def _keep_previous(target: Path) -> None:
    if not target.exists():
        return
    prev = previous_path(target)
    link = prev.with_name(f".{prev.name}.link")
    link.unlink(missing_ok=True)
    try:
        os.link(target, link)
    except OSError:  # a filesystem without hard links: a copy, still complete before replace
        shutil.copyfile(target, link)
    os.replace(link, prev)


def load_latest_checkpoint(path: str | os.PathLike[str]) -> tuple[dict[str, Any], Path, str]:
    """Load ``path``, or the previous checkpoint if ``path`` is missing or unreadable.

    Returns:
        ``(state, the file loaded, a warning)``: the warning is ``""`` when ``path`` loaded,
        else it names the bad latest checkpoint, why, and the previous one used instead.

    Raises:
        CheckpointError: neither loads; the message names both files.
    """
    latest, prev = Path(path), previous_path(path)
    try:
        return load_checkpoint(latest), latest, ""
    except CheckpointError as exc:
        if not prev.is_file():
            raise CheckpointError(f"{exc}; no previous checkpoint {prev} to fall back to") from None
        try:
            state = load_checkpoint(prev)
        except CheckpointError as exc_prev:
            raise CheckpointError(f"{exc}; the previous one is bad too: {exc_prev}") from None
        kept = ""
        if latest.exists():  # out of the way, or the next save would keep it as "previous"
            bad = latest.with_name(f"{latest.stem}.bad{latest.suffix}")
            os.replace(latest, bad)
            kept = f" (the bad file is kept as {bad})"
        warning = (
            f"warning: {exc}; using the previous good checkpoint {prev} instead{kept}; the "
            "work done after it is redone"
        )
        return state, prev, warning


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` without executing any code.

    Raises:
        CheckpointError: the file is missing, is not a contactlab checkpoint, or holds objects
            that ``weights_only`` loading refuses (e.g. a crafted pickle).
    """
    source = Path(path)
    if not source.is_file():
        raise CheckpointError(f"{source}: checkpoint file not found")
    try:
        raw = torch.load(source, map_location="cpu", weights_only=True)
    except Exception as e:  # weights_only refusal, corrupt zip, truncated file...
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise CheckpointError(
            f"{source}: not a loadable contactlab checkpoint ({type(e).__name__}: {first[:200]})"
        ) from None
    if not isinstance(raw, dict) or raw.get(_FORMAT_KEY) not in (FORMAT, _LEGACY_FORMAT):
        raise CheckpointError(
            f"{source}: not a contactlab checkpoint (missing {_FORMAT_KEY!r} = {FORMAT!r})"
        )
    if raw[_FORMAT_KEY] == FORMAT:
        stored = raw.get(_DIGEST_KEY)
        actual = content_digest(raw)
        if stored != actual:
            raise CheckpointError(
                f"{source}: content checksum mismatch (stored {str(stored)[:12]}..., content "
                f"{actual[:12]}...): the file is damaged"
            )
    raw = {k: v for k, v in raw.items() if k not in (_FORMAT_KEY, _DIGEST_KEY)}
    return _unpack(raw, "", source)
