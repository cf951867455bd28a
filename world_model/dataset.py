"""On-disk transition datasets: append-only ``.npz`` shards plus a ``meta.json``.

Layout of a dataset folder::

    meta.json            # identity (env, MJCF hash, versions, layout), shard list with sha256
    shard_00000.npz      # np.savez, one array per field, rows in collection order
    shard_00001.npz
    ...

Every file is written atomically (temp file in the same folder, flush + fsync, ``os.replace``),
so a crash leaves either the old or the new version, never half a file. A shard is written
before ``meta.json`` lists it; a writer that resumes adopts such a complete but unlisted shard
and removes stale temp files. Loading never unpickles (``allow_pickle=False``) and checks every
shard against ``meta.json``: sha256, fields, dtypes, shapes and finiteness.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import zipfile
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from world_model.atomic import write_atomic

FORMAT = "contactlab-transitions"
FORMAT_VERSION = 1
META_FILE = "meta.json"
_SHARD_RE = re.compile(r"^shard_(\d{5})\.npz$")

# field -> (dtype, trailing shape in symbols: D obs dim, A action dim, E entities)
FIELDS: dict[str, tuple[np.dtype, tuple[str, ...]]] = {
    "obs": (np.dtype(np.float32), ("D",)),
    "action": (np.dtype(np.float32), ("A",)),
    "next_obs": (np.dtype(np.float32), ("D",)),
    "reward": (np.dtype(np.float32), ()),
    "terminated": (np.dtype(np.bool_), ()),
    "truncated": (np.dtype(np.bool_), ()),
    "regime": (np.dtype(np.int8), ("E",)),
    "pair_kind": (np.dtype(np.int8), ("E",)),
    "critical": (np.dtype(np.bool_), ("E",)),
    "approach_speed": (np.dtype(np.float32), ("E",)),
    "impulse": (np.dtype(np.float32), ("E",)),
    "episode": (np.dtype(np.int64), ()),
    "step": (np.dtype(np.int32), ()),
}
_IDENTITY = ("env_id", "env_version", "mjcf_sha256", "mujoco_version", "layout", "action_dim")


class DatasetError(Exception):
    """A dataset folder is missing, inconsistent or corrupt. The message names file and field."""


@dataclass(frozen=True)
class DatasetMeta:
    """What a dataset holds and where it came from (the body of ``meta.json``).

    Attributes:
        env_id: versioned Gymnasium id of the scene, e.g. ``"contactlab/PushBlocks-v0"``.
        env_version: version string of the scene implementation.
        mjcf_sha256: sha256 of the scene's MJCF, so data from an edited scene is not mixed in.
        mujoco_version: ``mujoco.__version__`` that simulated the data.
        layout: :meth:`envs.layout.EntityLayout.to_dict` of the observation.
        action_dim: ``A``; kept even when ``has_actions`` is false.
        kind: what the data is for: ``"train"``, ``"probe"``, ``"video"``...
        has_actions: false for action-free ("video") sources; shards then have no ``action``.
        extra: free-form JSON-able provenance (seed, policy name, ...).
    """

    env_id: str
    env_version: str
    mjcf_sha256: str
    mujoco_version: str
    layout: dict[str, Any]
    action_dim: int
    kind: str = "train"
    has_actions: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_entities(self) -> int:
        return len(self.layout["entities"])

    @property
    def obs_dim(self) -> int:
        return self.n_entities * int(self.layout["feature_dim"])

    def field_specs(self) -> dict[str, tuple[np.dtype, tuple[int, ...]]]:
        """Expected dtype and trailing shape of every field stored in shards."""
        sizes = {"D": self.obs_dim, "A": self.action_dim, "E": self.n_entities}
        return {
            name: (dtype, tuple(sizes[s] for s in dims))
            for name, (dtype, dims) in FIELDS.items()
            if name != "action" or self.has_actions
        }

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: str = "meta") -> DatasetMeta:
        names = {f.name for f in fields(cls)}
        missing = [n for n in _IDENTITY if n not in d]
        if missing:
            raise DatasetError(f"{source}: missing key(s) {missing}")
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass
class Transitions:
    """A loaded dataset: one numpy array per field, ``N`` rows in collection order.

    Shapes: ``obs``/``next_obs (N, D)`` float32, ``action (N, A)`` float32 or ``None`` for
    action-free data, ``reward (N,)`` float32, ``terminated``/``truncated (N,)`` bool,
    ``regime``/``pair_kind (N, E)`` int8, ``critical (N, E)`` bool, ``approach_speed``/``impulse
    (N, E)`` float32, ``episode (N,)`` int64, ``step (N,)`` int32.
    """

    meta: DatasetMeta
    obs: np.ndarray
    action: np.ndarray | None
    next_obs: np.ndarray
    reward: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    regime: np.ndarray
    pair_kind: np.ndarray
    critical: np.ndarray
    approach_speed: np.ndarray
    impulse: np.ndarray
    episode: np.ndarray
    step: np.ndarray

    def __len__(self) -> int:
        return int(self.obs.shape[0])

    def arrays(self) -> dict[str, np.ndarray]:
        """The per-row fields by name (``action`` left out where the data has none)."""
        return {
            f.name: value
            for f in fields(self)
            if f.name != "meta" and (value := getattr(self, f.name)) is not None
        }

    def head(self, n: int) -> Transitions:
        """The first ``n`` rows: every per-row field cut, the same ``meta``."""
        rows: dict[str, Any] = {k: v[:n] for k, v in self.arrays().items()}
        return replace(self, **rows)


def _identity(key: str, value: Any) -> Any:
    """What must agree between a dataset on disk and a writer appending to it: the value, and
    for the layout :func:`layout_identity`."""
    return layout_identity(value) if key == "layout" and isinstance(value, dict) else value


def layout_identity(layout: dict[str, Any]) -> dict[str, Any]:
    """A layout's ``to_dict()`` without entity extents: they derive from the MJCF (which
    ``mjcf_sha256`` pins) and are absent from layouts saved before they existed, so two layouts
    of one scene compare equal with or without them."""
    entities = [{k: v for k, v in e.items() if k != "extents"} for e in layout.get("entities", [])]
    return layout | {"entities": entities}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_meta(folder: Path) -> dict[str, Any]:
    path = folder / META_FILE
    if not path.is_file():
        raise DatasetError(f"{path}: no {META_FILE} (not a dataset folder?)")
    try:
        raw = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DatasetError(f"{path}: not valid JSON ({e})") from None
    if raw.get("format") != FORMAT:
        raise DatasetError(f"{path}: field 'format' is {raw.get('format')!r}, expected {FORMAT!r}")
    if raw.get("format_version") != FORMAT_VERSION:
        raise DatasetError(
            f"{path}: field 'format_version' is {raw.get('format_version')!r}, "
            f"this code reads {FORMAT_VERSION}"
        )
    return raw


def _load_shard(
    path: Path, meta: DatasetMeta, rows: int | None, sha256: str | None
) -> dict[str, np.ndarray]:
    """Read and fully check one shard. Raises :class:`DatasetError` naming file and field."""
    if not path.is_file():
        raise DatasetError(f"{path}: shard listed in {META_FILE} is missing")
    data = path.read_bytes()
    if sha256 is not None and _sha256(data) != sha256:
        raise DatasetError(f"{path}: sha256 mismatch with {META_FILE} (file changed or corrupt)")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as e:
        raise DatasetError(
            f"{path}: truncated or corrupt shard ({type(e).__name__}: {e})"
        ) from None
    specs = meta.field_specs()
    for name in arrays:
        if name not in specs:
            raise DatasetError(f"{path}: unexpected field {name!r}")
    n = rows
    for name, (dtype, trailing) in specs.items():
        if name not in arrays:
            raise DatasetError(f"{path}: missing field {name!r}")
        a = arrays[name]
        if a.dtype != dtype:
            raise DatasetError(f"{path}: field {name!r} has dtype {a.dtype}, expected {dtype}")
        n = a.shape[0] if n is None and a.ndim > 0 else n
        if a.shape != (n, *trailing):
            raise DatasetError(
                f"{path}: field {name!r} has shape {a.shape}, expected {(n, *trailing)}"
            )
        if dtype.kind == "f" and not np.isfinite(a).all():
            raise DatasetError(f"{path}: field {name!r} holds NaN or inf")
    return arrays


class DatasetWriter:
    """Appends transitions to a dataset folder, one shard per ``shard_rows`` rows.

    Args:
        path: dataset folder (created if needed). If it already holds a dataset, writing
            continues after its last complete shard; the identity fields of ``meta`` must match.
        meta: what the data is; stored in ``meta.json``.
        shard_rows: rows per shard; :meth:`flush` may write a shorter one.
    """

    def __init__(
        self, path: str | os.PathLike[str], meta: DatasetMeta, shard_rows: int = 10_000
    ) -> None:
        if shard_rows < 1:
            raise ValueError(f"shard_rows must be >= 1, got {shard_rows}")
        self.path = Path(path)
        self.meta = meta
        self.shard_rows = int(shard_rows)
        self._specs = meta.field_specs()
        self._buf = {k: np.zeros((shard_rows, *s), d) for k, (d, s) in self._specs.items()}
        self._n = 0
        self._shards: list[dict[str, Any]] = []
        self.path.mkdir(parents=True, exist_ok=True)
        self._resume()

    @property
    def total(self) -> int:
        """Rows written to shards plus rows buffered."""
        return sum(int(s["rows"]) for s in self._shards) + self._n

    def _resume(self) -> None:
        for tmp in self.path.glob(".*.tmp"):
            tmp.unlink()
        if (self.path / META_FILE).exists():
            raw = _read_meta(self.path)
            old = DatasetMeta.from_dict(raw, str(self.path / META_FILE))
            for key in (*_IDENTITY, "has_actions", "kind"):
                if _identity(key, getattr(old, key)) != _identity(key, getattr(self.meta, key)):
                    raise DatasetError(
                        f"{self.path / META_FILE}: key {key!r} is {getattr(old, key)!r} on disk "
                        f"but {getattr(self.meta, key)!r} in this writer"
                    )
            self._shards = list(raw["shards"])
        listed = {s["file"] for s in self._shards}
        orphans = sorted(
            p for p in self.path.iterdir() if _SHARD_RE.match(p.name) and p.name not in listed
        )
        for p in orphans:  # written atomically, but the crash came before meta.json listed it
            arrays = _load_shard(p, self.meta, None, None)
            rows = int(arrays["obs"].shape[0])
            self._shards.append({"file": p.name, "rows": rows, "sha256": _sha256(p.read_bytes())})
        if orphans:
            self._write_meta()

    def append(self, **row: Any) -> None:
        """Buffer one transition given as keyword arrays (``obs=..., action=..., ...``).

        Every field of :data:`FIELDS` is required (``action`` only if ``has_actions``). Values
        are cast to the field dtype; a wrong shape, a missing field or a non-finite float raises
        :class:`DatasetError`.
        """
        self.extend(**{k: np.asarray(v)[None] for k, v in row.items()})

    def extend(self, **rows: Any) -> None:
        """Buffer ``N`` transitions given as keyword arrays with a leading ``N`` axis."""
        unknown = set(rows) - set(self._specs)
        if unknown:
            raise DatasetError(f"{self.path}: unknown field(s) {sorted(unknown)}")
        arrays = {}
        for name, (dtype, trailing) in self._specs.items():
            if name not in rows:
                raise DatasetError(f"{self.path}: append is missing field {name!r}")
            a = np.asarray(rows[name])
            if a.shape[1:] != trailing:
                raise DatasetError(
                    f"{self.path}: field {name!r} has row shape {a.shape[1:]}, expected {trailing}"
                )
            if dtype.kind == "f" and not np.isfinite(a).all():
                raise DatasetError(f"{self.path}: field {name!r} holds NaN or inf")
            arrays[name] = a.astype(dtype, copy=False)
        n = len(arrays["obs"])
        start = 0
        while start < n:
            take = min(n - start, self.shard_rows - self._n)
            for name, a in arrays.items():
                self._buf[name][self._n : self._n + take] = a[start : start + take]
            self._n += take
            start += take
            if self._n == self.shard_rows:
                self.flush()

    def drop_after(self, rows: int) -> None:
        """Keep only the first ``rows`` rows: a run resuming from a checkpoint taken at ``rows``
        forgets shards written after it, and anything buffered.

        Raises :class:`DatasetError` if ``rows`` does not fall on a shard boundary.
        """
        kept: list[dict[str, Any]] = []
        total = 0
        for shard in self._shards:
            if total + int(shard["rows"]) > rows:
                break
            kept.append(shard)
            total += int(shard["rows"])
        if total != rows:
            raise DatasetError(
                f"{self.path}: {rows} rows is not a shard boundary (shards end at {total})"
            )
        for shard in self._shards[len(kept) :]:
            (self.path / shard["file"]).unlink(missing_ok=True)
        self._shards, self._n = kept, 0
        self._write_meta()

    def _next_index(self) -> int:
        indices = [int(m.group(1)) for s in self._shards if (m := _SHARD_RE.match(s["file"]))]
        return max(indices, default=-1) + 1

    def flush(self) -> None:
        """Write buffered rows as a new shard (if any) and update ``meta.json``."""
        if self._n == 0:
            return
        name = f"shard_{self._next_index():05d}.npz"
        buf = io.BytesIO()
        arrays: dict[str, Any] = {k: v[: self._n] for k, v in self._buf.items()}
        np.savez(buf, **arrays)
        data = buf.getvalue()
        write_atomic(self.path / name, data)
        self._shards.append({"file": name, "rows": self._n, "sha256": _sha256(data)})
        self._n = 0
        self._write_meta()

    def close(self) -> None:
        """Flush; the folder is then a complete dataset."""
        self.flush()
        if not (self.path / META_FILE).exists():
            self._write_meta()

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write_meta(self) -> None:
        body = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            **self.meta.to_dict(),
            "fields": {k: [str(d), list(s)] for k, (d, s) in self._specs.items()},
            "shards": self._shards,
            "total": sum(int(s["rows"]) for s in self._shards),
        }
        write_atomic(self.path / META_FILE, (json.dumps(body, indent=1) + "\n").encode())


def load_dataset(path: str | os.PathLike[str]) -> Transitions:
    """Load and verify a dataset folder.

    Raises:
        DatasetError: naming the file and field on a sha256 mismatch, a truncated or corrupt
            shard, a missing or unexpected field, a wrong dtype or shape, a NaN/inf, or totals
            that disagree with ``meta.json``.
    """
    folder = Path(path)
    raw = _read_meta(folder)
    meta = DatasetMeta.from_dict(raw, str(folder / META_FILE))
    specs = meta.field_specs()
    parts: dict[str, list[np.ndarray]] = {k: [] for k in specs}
    total = 0
    for shard in raw.get("shards", []):
        arrays = _load_shard(folder / shard["file"], meta, int(shard["rows"]), shard["sha256"])
        for k in specs:
            parts[k].append(arrays[k])
        total += int(shard["rows"])
    if total != int(raw.get("total", -1)):
        raise DatasetError(
            f"{folder / META_FILE}: field 'total' is {raw.get('total')!r}, shards hold {total} rows"
        )
    out = {
        k: np.concatenate(v) if v else np.zeros((0, *specs[k][1]), specs[k][0])
        for k, v in parts.items()
    }
    return Transitions(meta=meta, action=out.pop("action", None), **out)
