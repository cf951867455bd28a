"""Files and configs from strangers: crafted pickles and Hydra ``_target_`` entries run nothing.

Each payload would create a marker file if it ever ran; every load must fail with a message
naming the file (or key) and leave no marker.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from world_model.checkpoint import CheckpointError, load_checkpoint
from world_model.dataset import DatasetError, DatasetMeta, DatasetWriter, load_dataset
from world_model.probe import load_probe_set


def _payloads(marker: Path) -> list[bytes]:
    """Protocol-0 pickles that would create ``marker`` through different callables."""
    m = str(marker).encode()
    return [
        b"cbuiltins\nopen\n(V" + m + b"\nVw\ntR.",
        b"cos\nsystem\n(Vtouch " + m + b"\ntR.",
        b"cbuiltins\nexec\n(Vopen('" + m + b"', 'w')\ntR.",
        b"csubprocess\ncall\n((Vtouch\nV" + m + b"\nltR.",
        b"cbuiltins\neval\n(V__import__('os').system('touch " + m + b"')\ntR.",
    ]


class _Evil:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (open, (str(self.marker), "w"))


def test_crafted_checkpoints_run_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    files = []
    for i, payload in enumerate(_payloads(marker)):
        files.append(tmp_path / f"raw{i}.pt")
        files[-1].write_bytes(payload)
    zipped = tmp_path / "zipped.pt"  # torch's zip format with a malicious object inside
    torch.save({"learner": _Evil(marker)}, zipped)
    files.append(zipped)
    for path in files:
        with pytest.raises(CheckpointError, match=path.name):
            load_checkpoint(path)
    assert not marker.exists(), f"0 of {len(files)} crafted checkpoints may run code"


def _dataset(path: Path) -> Path:
    meta = DatasetMeta(
        env_id="contactlab/PushBlocks-v0", env_version="0", mjcf_sha256="0" * 64,
        mujoco_version="4.0.0",
        layout={
            "feature_dim": 13,
            "features": {"pos": [0, 3], "quat": [3, 7], "linvel": [7, 10], "angvel": [10, 13]},
            "entities": [{"name": "a", "kind": "object", "body_id": 1, "props": [1.0, 0.1, 1.0]}],
        },
        action_dim=2, kind="probe", extra={"seq_len": 2},
    )  # fmt: skip
    rows = {
        "obs": np.zeros((4, 13)), "action": np.zeros((4, 2)), "next_obs": np.zeros((4, 13)),
        "reward": np.zeros(4), "terminated": np.zeros(4, bool), "truncated": np.zeros(4, bool),
        "regime": np.zeros((4, 1)), "pair_kind": np.zeros((4, 1)), "critical": np.zeros((4, 1)),
        "approach_speed": np.zeros((4, 1)), "impulse": np.zeros((4, 1)),
        "episode": np.zeros(4), "step": np.arange(4),
    }  # fmt: skip
    with DatasetWriter(path, meta) as w:
        w.extend(**rows)
    return path


def test_crafted_dataset_and_probe_shards_run_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    tried = 0
    for i, payload in enumerate(_payloads(marker)):
        folder = _dataset(tmp_path / f"d{i}")
        shard = folder / "shard_00000.npz"
        # Swap one field for a pickled object array (what np.save writes for dtype=object).
        with zipfile.ZipFile(shard) as z:
            members = {n: z.read(n) for n in z.namelist()}
        buf = io.BytesIO()
        np.save(buf, np.zeros(1))
        header = buf.getvalue()[: buf.getvalue().index(b"\n") + 1]
        header = header.replace(b"'<f8'", b"'|O' ").replace(b"(1,)", b"(4,)")
        members["obs.npy"] = header + payload
        with zipfile.ZipFile(shard, "w") as z:
            for name, data in members.items():
                z.writestr(name, data)
        # The attacker fixes meta.json's sha256 too, so the pickle reaches the loader.
        meta = json.loads((folder / "meta.json").read_text())
        meta["shards"][0]["sha256"] = hashlib.sha256(shard.read_bytes()).hexdigest()
        (folder / "meta.json").write_text(json.dumps(meta))
        for load in (load_dataset, load_probe_set):
            with pytest.raises(DatasetError, match="shard_00000.npz.*Object arrays"):
                load(folder)
            tried += 1
    assert tried == 10 and not marker.exists(), "0 of 10 crafted shards may run code"


@pytest.mark.parametrize(
    "override",
    [
        "+_target_=os.system",
        "+world_model._target_=os.system",
        "+agent._target_=subprocess.call",
        "+hydra.callbacks.x._target_=os.system",
    ],
)
def test_hydra_target_entries_are_refused_and_never_called(tmp_path: Path, override: str) -> None:
    marker = tmp_path / "pwned"
    out = subprocess.run(
        [sys.executable, "-m", "agent.cli", "run", override, f"+args=[touch {marker}]"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 2, out.stderr[-1500:]
    assert "error" in out.stderr and "Traceback" not in out.stderr
    assert not marker.exists() and not (tmp_path / "runs").exists()
