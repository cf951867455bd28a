"""On-disk datasets: round trip, atomic resume, and integrity errors that name file and field."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

import numpy as np
import pytest

from world_model.dataset import (
    FIELDS,
    DatasetError,
    DatasetMeta,
    DatasetWriter,
    Transitions,
    load_dataset,
)
from world_model.toy import toy_transitions


def _data(n_episodes: int = 4, length: int = 30) -> Transitions:
    return toy_transitions(n_episodes, length, np.random.default_rng(0))


def _rows(t: Transitions, sl: slice) -> dict[str, np.ndarray]:
    out = {name: getattr(t, name)[sl] for name in FIELDS if name != "action"}
    if t.action is not None:
        out["action"] = t.action[sl]
    return out


def _write(path: Path, t: Transitions, shard_rows: int = 50) -> None:
    with DatasetWriter(path, t.meta, shard_rows=shard_rows) as w:
        for i in range(10):  # row by row ...
            w.append(**{k: v[0] for k, v in _rows(t, slice(i, i + 1)).items()})
        w.extend(**_rows(t, slice(10, None)))  # ... and in bulk


def _assert_same(a: Transitions, b: Transitions) -> None:
    for f in dataclasses.fields(Transitions):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and np.array_equal(x, y), f.name


def _rewrite_shard(path: Path, shard: str, change) -> None:
    """Replace one shard by an edited copy and fix its sha256 so only the edit is detected."""
    with np.load(path / shard, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    change(arrays)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    _replace_bytes(path, shard, buf.getvalue())


def _replace_bytes(path: Path, shard: str, data: bytes) -> None:
    import hashlib

    (path / shard).write_bytes(data)
    meta = json.loads((path / "meta.json").read_text())
    for s in meta["shards"]:
        if s["file"] == shard:
            s["sha256"] = hashlib.sha256(data).hexdigest()
    (path / "meta.json").write_text(json.dumps(meta))


def test_round_trip(tmp_path: Path) -> None:
    t = _data()
    _write(tmp_path / "ds", t)
    loaded = load_dataset(tmp_path / "ds")
    _assert_same(t, loaded)
    meta = json.loads((tmp_path / "ds" / "meta.json").read_text())
    assert meta["total"] == 120 and [s["rows"] for s in meta["shards"]] == [50, 50, 20]
    assert meta["kind"] == "train" and meta["layout"] == t.meta.layout
    assert loaded.meta == t.meta
    assert not list((tmp_path / "ds").glob("*.tmp")) and not list((tmp_path / "ds").glob(".*"))


def test_resume_continues_after_last_shard_and_removes_stale_temp(tmp_path: Path) -> None:
    t = _data()
    path = tmp_path / "ds"
    with DatasetWriter(path, t.meta, shard_rows=50) as w:
        w.extend(**_rows(t, slice(0, 70)))
    stale = path / ".shard_00002.npz.999.tmp"
    stale.write_bytes(b"half a shard")
    with DatasetWriter(path, t.meta, shard_rows=50) as w:
        assert w.total == 70
        w.extend(**_rows(t, slice(70, None)))
    assert not stale.exists()
    _assert_same(t, load_dataset(path))


def test_resume_adopts_a_complete_shard_missing_from_meta(tmp_path: Path) -> None:
    t = _data()
    path = tmp_path / "ds"
    with DatasetWriter(path, t.meta, shard_rows=40) as w:
        w.extend(**_rows(t, slice(0, 80)))
    meta = json.loads((path / "meta.json").read_text())  # crash between shard and meta write
    meta["shards"], meta["total"] = meta["shards"][:1], 40
    (path / "meta.json").write_text(json.dumps(meta))
    with DatasetWriter(path, t.meta, shard_rows=40) as w:
        assert w.total == 80
        w.extend(**_rows(t, slice(80, None)))
    _assert_same(t, load_dataset(path))


def test_resume_with_different_identity_names_the_key(tmp_path: Path) -> None:
    t = _data()
    _write(tmp_path / "ds", t)
    other = dataclasses.replace(t.meta, mjcf_sha256="abc")
    with pytest.raises(DatasetError, match="mjcf_sha256"):
        DatasetWriter(tmp_path / "ds", other)


@pytest.mark.parametrize(
    ("edit", "field_in_message"),
    [
        (lambda a: a.__setitem__("obs", a["obs"].astype(np.float64)), "'obs' has dtype float64"),
        (lambda a: a["next_obs"].__setitem__((3, 5), np.nan), "'next_obs' holds NaN"),
        (lambda a: a["impulse"].__setitem__((0, 0), np.inf), "'impulse' holds NaN or inf"),
        (lambda a: a.pop("regime"), "missing field 'regime'"),
        (lambda a: a.__setitem__("regime", a["regime"][:, :2]), "'regime' has shape"),
    ],
    ids=["wrong-dtype", "nan", "inf", "missing-field", "wrong-shape"],
)
def test_corrupt_shard_errors_name_file_and_field(
    tmp_path: Path, edit, field_in_message: str
) -> None:
    t = _data()
    path = tmp_path / "ds"
    _write(path, t)
    _rewrite_shard(path, "shard_00001.npz", edit)
    with pytest.raises(DatasetError, match="shard_00001.npz") as err:
        load_dataset(path)
    assert field_in_message in str(err.value)


def test_truncated_shard_and_sha_mismatch_name_the_file(tmp_path: Path) -> None:
    t = _data()
    path = tmp_path / "ds"
    _write(path, t)
    data = (path / "shard_00002.npz").read_bytes()
    (path / "shard_00002.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetError, match=r"shard_00002\.npz: sha256 mismatch"):
        load_dataset(path)
    _replace_bytes(path, "shard_00002.npz", data[: len(data) // 2])  # sha now "agrees"
    with pytest.raises(DatasetError, match=r"shard_00002\.npz: truncated or corrupt"):
        load_dataset(path)
    (path / "shard_00002.npz").unlink()
    with pytest.raises(
        DatasetError, match=r"shard_00002\.npz: shard listed in meta.json is missing"
    ):
        load_dataset(path)


def test_meta_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="meta.json"):
        load_dataset(tmp_path)
    (tmp_path / "meta.json").write_text("{not json")
    with pytest.raises(DatasetError, match="not valid JSON"):
        load_dataset(tmp_path)


def test_append_rejects_bad_rows(tmp_path: Path) -> None:
    t = _data(1, 5)
    w = DatasetWriter(tmp_path / "ds", t.meta)
    row = {k: v[0] for k, v in _rows(t, slice(0, 1)).items()}
    with pytest.raises(DatasetError, match="'obs' holds NaN"):
        w.append(**{**row, "obs": np.full_like(row["obs"], np.nan)})
    with pytest.raises(DatasetError, match="missing field 'regime'"):
        w.append(**{k: v for k, v in row.items() if k != "regime"})
    with pytest.raises(DatasetError, match="'action' has row shape"):
        w.append(**{**row, "action": np.zeros(5)})


def test_action_free_dataset(tmp_path: Path) -> None:
    t = _data(2, 10)
    meta = dataclasses.replace(t.meta, has_actions=False, kind="video")
    video = dataclasses.replace(t, meta=meta, action=None)
    _write(tmp_path / "ds", video, shard_rows=8)
    loaded = load_dataset(tmp_path / "ds")
    assert loaded.action is None and loaded.meta.kind == "video"
    _assert_same(video, loaded)
    with pytest.raises(DatasetError, match="unknown field"):
        DatasetWriter(tmp_path / "ds", meta).append(
            action=np.zeros(2), **{k: v[0] for k, v in _rows(video, slice(0, 1)).items()}
        )
    assert isinstance(loaded.meta, DatasetMeta)
