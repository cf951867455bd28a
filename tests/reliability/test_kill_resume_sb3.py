"""Kill -9 an SB3 run (PPO, SAC) and resume it with the same command: it must end where an
uninterrupted run ends.

Compared with the uninterrupted run at the same (final) step: the stored transitions and metric
rows, and every part of the checkpoint bitwise: the world model and its optimizer, and of SB3
the policy parameters, every optimizer's state (PPO's; SAC's actor, critic and entropy
optimizers), SAC's ``log_ent_coef`` and replay buffer, ``num_timesteps``, update and episode
counts and the random streams. One thing differs and is not compared: the bytes of SB3's
saved zip, whose ``data`` member holds the wall-clock ``start_time`` of ``learn`` and the
Monitor's episode times; its parameter members are compared after loading them back.
"""

from __future__ import annotations

import io
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from stable_baselines3.common.save_util import load_from_zip_file

from world_model.checkpoint import load_checkpoint
from world_model.dataset import load_dataset

# ~85 s each: run with `pytest -m slow` (CI's default selection stays under ~10 min)
pytestmark = pytest.mark.slow

BUDGET = 1000
AGENT_ARGS = {
    # PPO checkpoints at rollout starts that are also episode starts: n_steps = one episode.
    "ppo": ["agent=ppo", "agent.sb3_n_steps=200", "agent.sb3_batch_size=50"],
    # SAC trains from step 200, every 4 steps (episode ends are rollout starts).
    "sac": ["agent=sac", "agent.sb3_learning_starts=200"],
}


def _cli(algo: str, name: str) -> list[str]:
    args = ["run", "experiment=debug", f"budget={BUDGET}", "probe.root=../probes"]
    return [sys.executable, "-m", "agent.cli", *args, *AGENT_ARGS[algo], f"run_name={name}"]


def _equal(a: Any, b: Any, where: str = "") -> None:
    if isinstance(a, dict):
        assert set(a) == set(b), where
        for k in a:
            _equal(a[k], b[k], f"{where}/{k}")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _equal(x, y, f"{where}[{i}]")
    elif isinstance(a, torch.Tensor):
        assert torch.equal(a, b), where
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=where)
    else:
        assert a == b, where


def _sb3_params(state: dict[str, Any]) -> tuple[dict, dict]:
    """SB3's parameter and optimizer state dicts and pytorch variables, from its saved zip."""
    _, params, variables = load_from_zip_file(
        io.BytesIO(state["sb3"].pop("zip").tobytes()), device="cpu", load_data=False
    )
    return params, variables


def _kill_and_resume(root: Path, algo: str) -> int:
    """Twice: start (or resume), wait until a new checkpoint is written, kill -9 0.3 s later
    (inside the next stretch of collection and training); then finish. Returns the kills."""
    ckpt, kills = root / "runs/killed/checkpoint.pt", 0
    for _ in range(2):
        before = ckpt.stat().st_mtime_ns if ckpt.exists() else None
        proc = subprocess.Popen(
            _cli(algo, "killed"), cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        while proc.poll() is None and (not ckpt.exists() or ckpt.stat().st_mtime_ns == before):
            time.sleep(0.02)
        time.sleep(0.3)
        proc.kill()
        _, err = proc.communicate(timeout=600)
        if proc.returncode == 0:  # finished before the kill landed
            break
        assert proc.returncode == -9, err[-2000:]
        kills += 1
    out = subprocess.run(_cli(algo, "killed"), cwd=root, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "resuming" in out.stdout
    return kills


@pytest.mark.parametrize("algo", ["ppo", "sac"])
def test_sb3_kill_resume_matches_an_uninterrupted_run(tmp_path: Path, algo: str) -> None:
    root = tmp_path / "a"
    root.mkdir()
    ref = subprocess.run(_cli(algo, "ref"), cwd=root, capture_output=True, text=True)
    assert ref.returncode == 0, ref.stderr[-2000:]
    assert _kill_and_resume(root, algo) >= 1
    run, want = root / "runs/killed", root / "runs/ref"

    data, data_ref = load_dataset(run / "data"), load_dataset(want / "data")
    assert len(data) == BUDGET
    for name in ("obs", "action", "next_obs", "reward", "episode", "step"):
        np.testing.assert_array_equal(getattr(data, name), getattr(data_ref, name), err_msg=name)
    assert (run / "metrics.jsonl").read_text() == (want / "metrics.jsonl").read_text()

    got, ref_state = load_checkpoint(run / "checkpoint.pt"), load_checkpoint(want / "checkpoint.pt")
    assert got["sb3"]["num_timesteps"] == ref_state["sb3"]["num_timesteps"] == BUDGET
    params, variables = _sb3_params(got)
    params_ref, variables_ref = _sb3_params(ref_state)
    optimizers = {"ppo": {"policy.optimizer"}, "sac": {"actor.optimizer", "critic.optimizer"}}
    assert optimizers[algo] <= set(params)
    assert params["policy"].keys() == params_ref["policy"].keys()
    _equal(params, params_ref, "sb3 params")  # weights and optimizer moments, bitwise
    _equal(variables, variables_ref, "sb3 variables")
    if algo == "sac":
        assert "log_ent_coef" in variables and got["sb3"]["replay"]["pos"] == BUDGET - 1
    _equal(got, ref_state)  # the rest of the checkpoint (learner, RNGs, SB3 counters, replay)
