"""Checkpoints: round trip, refusal of non-finite state, and no code execution on load."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

from world_model.checkpoint import CheckpointError, load_checkpoint, save_checkpoint


def test_round_trip_of_nested_state(tmp_path: Path) -> None:
    state = {
        "model": {"w": torch.randn(3, 4), "step": torch.tensor(7)},
        "replay": {
            "obs": np.arange(6, dtype=np.float32).reshape(2, 3),
            "flags": np.array([True, False]),
            "ids": np.array([1, 2], np.int64),
            "n": np.array(5, np.int64),
        },
        "counters": [1, 2.5, "x", None, True],
        "name": "run",
    }
    save_checkpoint(tmp_path / "ck" / "a.pt", state)
    out = load_checkpoint(tmp_path / "ck" / "a.pt")
    assert torch.equal(out["model"]["w"], state["model"]["w"]) and int(out["model"]["step"]) == 7
    for k, v in state["replay"].items():
        assert isinstance(out["replay"][k], np.ndarray)
        assert out["replay"][k].dtype == v.dtype and out["replay"][k].shape == v.shape
        assert np.array_equal(out["replay"][k], v)
    assert out["counters"] == state["counters"] and out["name"] == "run"
    assert sorted(p.name for p in (tmp_path / "ck").iterdir()) == ["a.pt"]  # no temp left


@pytest.mark.parametrize(
    ("state", "key"),
    [
        ({"model": {"w": torch.tensor([1.0, float("nan")])}}, "model/w"),
        ({"replay": {"obs": np.array([np.inf], np.float32)}}, "replay/obs"),
        ({"lr": float("nan")}, "lr"),
    ],
)
def test_non_finite_state_is_refused(tmp_path: Path, state: dict, key: str) -> None:
    with pytest.raises(CheckpointError, match=key):
        save_checkpoint(tmp_path / "a.pt", state)
    assert not (tmp_path / "a.pt").exists()


class _Evil:
    """Unpickling this would create a marker file (via builtins.open)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_crafted_pickle_is_not_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "model.pt"
    torch.save({"state": _Evil(marker)}, path)  # a torch-format file with a malicious payload
    assert not marker.exists()
    with pytest.raises(CheckpointError, match="model.pt: not a loadable contactlab checkpoint"):
        load_checkpoint(path)
    assert not marker.exists()

    raw = tmp_path / "raw.pt"  # a bare protocol-0 pickle calling builtins.open(marker, "w")
    raw.write_bytes(b"cbuiltins\nopen\n(V" + str(marker).encode() + b"\nVw\ntR.")
    with pytest.raises(CheckpointError, match="raw.pt"):
        load_checkpoint(raw)
    assert not marker.exists()


def test_missing_and_foreign_files_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="nope.pt: checkpoint file not found"):
        load_checkpoint(tmp_path / "nope.pt")
    torch.save({"w": torch.zeros(2)}, tmp_path / "plain.pt")  # loadable, but not ours
    with pytest.raises(CheckpointError, match="plain.pt: not a contactlab checkpoint"):
        load_checkpoint(tmp_path / "plain.pt")
    (tmp_path / "junk.pt").write_bytes(os.urandom(64))
    with pytest.raises(CheckpointError, match="junk.pt"):
        load_checkpoint(tmp_path / "junk.pt")
