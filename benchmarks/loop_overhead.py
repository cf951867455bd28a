"""Active-learning loop overhead per env step vs raw physics of the same trajectory.

Runs the real loop of ``contactlab run`` (labels, intrinsic reward, replay, on-disk dataset,
interaction metrics, and real checkpoints: the run's own checkpointer writes ``checkpoint.pt``
every ``--checkpoint-every`` env steps, at the next episode end) on PushBlocks with the
``random`` explorer and the world model's training switched off (no update round falls within
the budget), so what is timed is the loop's own machinery. The baseline replays the very
trajectory the loop simulated: every episode's reset state (``mj_getState`` of the integration
state, warm-start included) and every control the env applied, recorded during the loop, are
stepped by ``mj_step(m, d, nstep=10)``, and its final state is checked against the env's.
Recording costs one small array copy per step, inside the loop's time. Planning and training
are model compute, measured by ``planner_latency.py`` and ``world_model_throughput.py``.
Last line: JSON with ``overhead_ratio``. Goal: <= 10.

Usage: ``python benchmarks/loop_overhead.py [--steps 4000] [--checkpoint-every 1000]``
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np

from agent.config import RunConfig, load_config
from agent.loop import run_loop
from agent.run import CHECKPOINT, _checkpointer, build_run, intrinsic_reward

STATE = mujoco.mjtState.mjSTATE_INTEGRATION  # includes the solver warm-start


class Recorder(gym.Wrapper):
    """Keeps each episode's reset state and the controls the env applied at every step."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        scene: Any = env.unwrapped
        self.model, self.data = scene.model, scene.data
        self.episodes: list[tuple[np.ndarray, list[np.ndarray]]] = []
        self.end_qpos: list[np.ndarray] = []  # per episode, the state after its last step

    def reset(self, **kwargs: Any) -> tuple[Any, dict]:
        out = self.env.reset(**kwargs)
        state = np.empty(mujoco.mj_stateSize(self.model, STATE))
        mujoco.mj_getState(self.model, self.data, state, STATE)
        self.episodes.append((state, []))
        self.end_qpos.append(self.data.qpos.copy())
        return out

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        out = self.env.step(action)
        self.episodes[-1][1].append(self.data.ctrl.copy())
        if out[2] or out[3]:
            self.end_qpos[-1] = self.data.qpos.copy()
        return out


def raw_physics_s_per_step(rec: Recorder, frame_skip: int) -> float:
    """Wall time per step of replaying ``rec``'s episodes with bare ``mj_step``."""
    model, data = rec.model, mujoco.MjData(rec.model)
    steps, elapsed = 0, 0.0
    for (state, ctrls), end in zip(rec.episodes, rec.end_qpos, strict=True):
        mujoco.mj_setState(model, data, state, STATE)
        start = time.perf_counter()
        for c in ctrls:
            data.ctrl[:] = c
            mujoco.mj_step(model, data, nstep=frame_skip)
        elapsed += time.perf_counter() - start
        steps += len(ctrls)
        if ctrls and not np.allclose(data.qpos, end, atol=1e-6):
            raise RuntimeError("the raw replay diverged from the loop's trajectory: unfair")
    return elapsed / steps


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--checkpoint-every", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        overrides = [
            "agent=random", f"budget={args.steps}", f"loop.update_every={args.steps + 1}",
            f"loop.eval_every={args.steps}", f"loop.checkpoint_every={args.checkpoint_every}",
            f"out_dir={tmp}/runs", f"probe.root={tmp}/probes", "probe.min_per_regime=40",
            "probe.seq_len=5",
        ]  # fmt: skip
        cfg, resolved = load_config("run", RunConfig, overrides)
        r = build_run(cfg, resolved)
        rec = Recorder(r.env)
        checkpoint = _checkpointer(r)
        saves = []

        path = r.run_dir / CHECKPOINT

        def counted() -> None:  # the run's checkpointer, counting the files it writes
            before = path.stat().st_ino if path.exists() else None
            checkpoint()
            if path.exists() and path.stat().st_ino != before:
                saves.append(r.learner.env_step)

        start = time.perf_counter()
        run_loop(
            rec, r.explorer, r.warmup, r.learner,
            lambda o, a, n: intrinsic_reward(r.signal, o, a, n), cfg.budget, cfg.seed, counted,
        )  # fmt: skip
        loop = (time.perf_counter() - start) / args.steps
        raw = raw_physics_s_per_step(rec, r.env.unwrapped.frame_skip)
        assert saves, "no checkpoint was written: the benchmark would not measure them"
        checkpoint_mb = (r.run_dir / CHECKPOINT).stat().st_size / 1e6
        assert Path(tmp, "runs").exists()
    ratio = loop / raw
    print(f"raw physics, same trajectory: {raw * 1e3:7.3f} ms/step")
    print(
        f"loop (random, no training, {len(saves)} checkpoints of {checkpoint_mb:.1f} MB): "
        f"{loop * 1e3:7.3f} ms/step  -> overhead_ratio {ratio:.2f}"
    )
    print(
        json.dumps(
            {
                "overhead_ratio": round(ratio, 2),
                "loop_ms_per_step": round(loop * 1e3, 3),
                "raw_ms_per_step": round(raw * 1e3, 3),
                "checkpoints": len(saves),
                "goal": 10,
            }
        )
    )


if __name__ == "__main__":
    main()
