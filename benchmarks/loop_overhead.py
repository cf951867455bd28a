"""Active-learning loop overhead per env step vs raw physics.

Runs the real loop of ``contactlab run`` (labels, intrinsic reward, replay, on-disk dataset,
interaction metrics, checkpoints) on PushBlocks with the ``random`` explorer and the world
model's training switched off (no update round falls within the budget), so what is timed is
the loop's own machinery, and compares its wall time per env step with a raw
``mj_step(m, d, nstep=10)`` loop of the same model, measured in the same process before and
after. Planning and training are model compute, measured by ``planner_latency.py`` and
``world_model_throughput.py``. Last line: JSON with ``overhead_ratio``. Goal: <= 10.

Usage: ``python benchmarks/loop_overhead.py [--steps 4000]``
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import mujoco
import numpy as np

from agent.config import RunConfig, load_config
from agent.loop import run_loop
from agent.run import build_run, intrinsic_reward


def raw_physics_s_per_step(model: mujoco.MjModel, steps: int) -> float:
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    rng = np.random.default_rng(0)
    ctrl = rng.uniform(-0.5, 0.5, (steps, model.nu))
    start = time.perf_counter()
    for i in range(steps):
        data.ctrl[:] = ctrl[i]
        mujoco.mj_step(model, data, nstep=10)
        if (i + 1) % 200 == 0:
            mujoco.mj_resetData(model, data)
            mujoco.mj_forward(model, data)
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=4000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        overrides = [
            "agent=random", f"budget={args.steps}", f"loop.update_every={args.steps + 1}",
            f"loop.eval_every={args.steps}", "loop.checkpoint_every=1000", f"out_dir={tmp}/runs",
            f"probe.root={tmp}/probes", "probe.min_per_regime=40", "probe.seq_len=5",
        ]  # fmt: skip
        cfg, resolved = load_config("run", RunConfig, overrides)
        r = build_run(cfg, resolved)
        scene_model = r.env.unwrapped.model
        raw = raw_physics_s_per_step(scene_model, args.steps)
        start = time.perf_counter()
        run_loop(
            r.env, r.explorer, r.warmup, r.learner,
            lambda o, a, n: intrinsic_reward(r.signal, o, a, n), cfg.budget, cfg.seed, lambda: None,
        )  # fmt: skip
        loop = (time.perf_counter() - start) / args.steps
        raw = (raw + raw_physics_s_per_step(scene_model, args.steps)) / 2  # before and after
        assert Path(tmp, "runs").exists()
    ratio = loop / raw
    print(f"raw physics        : {raw * 1e3:7.3f} ms/step")
    print(f"loop (random, no training): {loop * 1e3:7.3f} ms/step  -> overhead_ratio {ratio:.2f}")
    print(
        json.dumps(
            {
                "overhead_ratio": round(ratio, 2),
                "loop_ms_per_step": round(loop * 1e3, 3),
                "raw_ms_per_step": round(raw * 1e3, 3),
                "goal": 10,
            }
        )
    )


if __name__ == "__main__":
    main()
