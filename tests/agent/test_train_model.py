"""``contactlab probe make``, ``collect`` and ``train-model`` end to end, with real files."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import gymnasium as gym
import pytest

import envs  # noqa: F401
from envs.layout import EntityLayout
from world_model.dataset import load_dataset
from world_model.probe import ProbeMismatch, content_hash, load_probe_set

SMALL_PROBE = ["probe.min_per_regime=40", "probe.seq_len=5"]
TINY_MODEL = ["world_model.hidden=32", "world_model.latent_dim=16", "world_model.n_members=2"]


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    out = subprocess.run(
        [sys.executable, "-m", "agent.cli", *args], cwd=cwd, capture_output=True, timeout=600
    )
    # Decoded here: text=True would turn a progress bar's "\r" into "\n", and the checks
    # below that no bar is drawn into a log could never fail.
    out.stdout, out.stderr = out.stdout.decode(), out.stderr.decode()
    return out


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a 1,000-step random dataset and the PushBlocks probe set."""
    root = tmp_path_factory.mktemp("train")
    out = cli("collect", "steps=1000", "out=data", cwd=root)
    assert out.returncode == 0, out.stderr
    assert "\r" not in out.stdout + out.stderr  # not a terminal: no progress-bar stream
    out = cli("probe", "make", *SMALL_PROBE, cwd=root)
    assert out.returncode == 0, out.stderr
    assert "content hash" in out.stdout and "\r" not in out.stdout + out.stderr
    return root


def test_collect_writes_a_verified_dataset(workdir: Path) -> None:
    data = load_dataset(workdir / "data")
    assert len(data) == 1000 and data.meta.env_id == "contactlab/PushBlocks-v0"
    scene = gym.make("contactlab/PushBlocks-v0").unwrapped
    assert data.meta.mjcf_sha256 == scene.scene_hash
    assert data.episode.max() == 4 and data.truncated.sum() == 5  # 200-step episodes


def test_collect_with_the_probe_policy_differs_from_the_probe_set(workdir: Path) -> None:
    out = cli("collect", "policy=probe", "steps=400", "seed=7", "out=pdata", cwd=workdir)
    assert out.returncode == 0, out.stderr
    assert "\r" not in out.stdout + out.stderr
    data = load_dataset(workdir / "pdata")
    assert len(data) == 400 and data.meta.extra["policy"] == "probe"
    assert data.episode.max() == 39 and data.truncated.sum() == 40  # one episode per sequence
    # the probe policy launches and drops objects: some fly, which random pushing never does
    layout = EntityLayout.from_dict(data.meta.layout)
    objects = layout.split(data.next_obs)[:, layout.indices("object")]
    assert (abs(objects[..., 9]) > 0.05).any()
    probe = load_probe_set(workdir / "probes/push_blocks-none-n40-h5-s1000003")
    assert not (data.obs[:5] == probe.data.obs[:5]).all()  # another seed: other sequences


def test_probe_set_is_balanced_hashed_and_refuses_another_scene(workdir: Path) -> None:
    scene = gym.make("contactlab/PushBlocks-v0").unwrapped
    probe = load_probe_set(
        workdir / "probes/push_blocks-none-n40-h5-s1000003", scene.spec.id, scene.scene_hash
    )
    objects = probe.layout.indices("object")
    for code in range(4):
        assert (probe.data.regime[:, objects] == code).sum() >= 40
    assert len(probe.data) % 5 == 0 and len(probe.content_hash) == 64
    with pytest.raises(ProbeMismatch, match="another version"):
        load_probe_set(workdir / "probes/push_blocks-none-n40-h5-s1000003", scene.spec.id, "0" * 64)
    with pytest.raises(ProbeMismatch, match="Billiards"):
        load_probe_set(
            workdir / "probes/push_blocks-none-n40-h5-s1000003", "contactlab/Billiards-v0"
        )
    again = cli("probe", "make", *SMALL_PROBE, cwd=workdir)
    assert again.returncode == 2 and "exists" in again.stderr  # never silently rebuilt over
    # With the set's hash pinned (what the results scripts do): kept, exit 0; another: exit 2.
    digest = content_hash(workdir / "probes/push_blocks-none-n40-h5-s1000003")
    kept = cli("probe", "make", *SMALL_PROBE, f"probe.expect_hash={digest}", cwd=workdir)
    assert kept.returncode == 0 and "kept" in kept.stdout and digest in kept.stdout, kept.stderr
    other = "f" * 12 if not digest.startswith("f") else "e" * 12
    refused = cli("probe", "make", *SMALL_PROBE, f"probe.expect_hash={other}", cwd=workdir)
    assert refused.returncode == 2 and f"probe.expect_hash={other}" in refused.stderr


def test_train_model_logs_the_curve_and_reuses_the_probe(workdir: Path) -> None:
    args = ["train-model", "dataset=data", *SMALL_PROBE, *TINY_MODEL, "run_name=tiny"]
    out = cli(
        *args, "train.updates=20", "train.eval_every=10", "train.checkpoint_every=10", cwd=workdir
    )
    assert out.returncode == 0, out.stderr
    assert "building" not in out.stdout  # the probe set from the fixture was reused
    # Not a terminal (a log file): one plain line per evaluation, no progress-bar stream
    # (a 4,000-update run's log was once ~1 MB of bar redraws).
    assert "\r" not in out.stdout + out.stderr
    assert [ln.split()[1] for ln in out.stdout.splitlines() if ln.startswith("update ")] == [
        "10/20",
        "20/20",
    ]
    run = workdir / "runs/tiny"
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [0, 10, 20]
    for key in (
        "probe/impact/pos_mm",
        "probe/free/pos_mm",
        "probe/contact_gap",
        "probe/rollout/impact/pos_mm",
    ):
        assert rows[-1][key] is not None and rows[-1][key] > 0, key
    summary = json.loads((run / "summary.json").read_text())
    probe = load_probe_set(workdir / "probes/push_blocks-none-n40-h5-s1000003")
    assert summary["probe"]["content_hash"] == probe.content_hash
    assert (
        (run / "checkpoint.pt").exists()
        and (run / "config.yaml").exists()
        and (run / "run.json").exists()
    )
    changed = cli(
        *args, "train.updates=30", "train.eval_every=10", "train.checkpoint_every=10", cwd=workdir
    )
    assert (
        changed.returncode == 2
        and "updates: 20" in changed.stderr
        and "updates: 30" in changed.stderr
    )


def test_train_model_killed_midway_resumes_rather_than_restarts(workdir: Path) -> None:
    args = [
        sys.executable,
        "-m",
        "agent.cli",
        "train-model",
        "dataset=data",
        *SMALL_PROBE,
        *TINY_MODEL,
        "run_name=killed",
        "train.updates=100",
        "train.eval_every=20",
        "train.checkpoint_every=20",
    ]
    proc = subprocess.Popen(
        args, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    checkpoint = workdir / "runs/killed/checkpoint.pt"
    deadline = time.time() + 300
    while not checkpoint.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert checkpoint.exists()
    out = subprocess.run(args, cwd=workdir, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert "resuming" in out.stdout and "at update 0/" not in out.stdout
    steps = [
        json.loads(line)["step"]
        for line in (workdir / "runs/killed/metrics.jsonl").read_text().splitlines()
    ]
    assert steps == sorted(set(steps)) and steps[-1] == 100 and steps[0] == 0


def test_train_model_refuses_a_dataset_from_another_scene(workdir: Path) -> None:
    out = cli("train-model", "dataset=data", "env=billiards", *SMALL_PROBE, cwd=workdir)
    assert out.returncode == 2 and "PushBlocks" in out.stderr and "Billiards" in out.stderr
