"""Soak: does a long run's memory stay steady? RSS growth per hour of the real run loop.

Runs ``contactlab run``'s loop in-process (PushBlocks, MPC on ensemble disagreement with the
default model, world-model training, probe evaluations, checkpoints, the on-disk dataset) for
``--minutes`` minutes of wall time, sampling the process's resident set size after every
chunk of env steps. The replay is preallocated for the whole budget, and its pages become
resident as it fills, which is expected growth: it is reported separately
(``replay_mb_per_hour``) and subtracted (``unexplained_mb_per_hour``), from a least-squares
fit over the second half of the samples (after start-up allocations settle).

Usage: ``python benchmarks/soak_memory.py [--minutes 10] [--agent mpc]``. Last line: JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from agent.config import RunConfig, load_config
from agent.loop import run_loop
from agent.run import build_run, intrinsic_reward


def rss_mb() -> float:
    """Resident set size of this process in MB (Linux ``/proc/self/status``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def main() -> None:
    os.environ.setdefault("TQDM_DISABLE", "1")  # one progress bar per chunk would flood
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--agent", default="mpc")
    parser.add_argument("--chunk", type=int, default=1000, help="env steps between samples")
    args = parser.parse_args()
    budget = 2_000_000
    with tempfile.TemporaryDirectory() as tmp:
        cfg, resolved = load_config(
            "run",
            RunConfig,
            [f"agent={args.agent}", f"budget={budget}", f"out_dir={tmp}", "run_name=soak",
             f"probe.root={tmp}/probes", "probe.min_per_regime=100", "loop.eval_every=5000",
             "loop.checkpoint_every=5000"],
        )  # fmt: skip
        r = build_run(cfg, resolved)
        learner = r.learner
        row_bytes = sum(a.nbytes // a.shape[0] for a in vars(learner.replay).values()
                        if isinstance(a, np.ndarray) and a.shape[:1] == (budget,))  # fmt: skip
        assert r.explorer is not None
        samples: list[tuple[float, float, int]] = []
        start = time.perf_counter()
        target = 0
        while time.perf_counter() - start < 60 * args.minutes:
            target += args.chunk
            run_loop(
                r.env, r.explorer, r.warmup, learner,
                lambda o, a, n: intrinsic_reward(r.signal, o, a, n),
                target, cfg.seed, lambda: None,
            )  # fmt: skip
            samples.append((time.perf_counter() - start, rss_mb(), learner.env_step))
        learner.logger.close()
    t, rss, steps = (np.array(x, dtype=float) for x in zip(*samples, strict=True))
    half = len(t) // 2
    hours = t[half:] / 3600
    growth = float(np.polyfit(hours, rss[half:], 1)[0]) if len(t) - half >= 2 else float("nan")
    steps_per_hour = float(np.polyfit(hours, steps[half:], 1)[0]) if len(t) - half >= 2 else 0.0
    replay = steps_per_hour * row_bytes / 2**20
    for ts, mb, n in samples:
        print(f"{ts:8.0f} s  {n:8d} steps  RSS {mb:8.1f} MB")
    print(
        json.dumps(
            {
                "minutes": args.minutes,
                "env_steps": int(steps[-1]),
                "rss_start_mb": round(float(rss[0]), 1),
                "rss_end_mb": round(float(rss[-1]), 1),
                "rss_mb_per_hour": round(growth, 1),
                "replay_mb_per_hour": round(replay, 1),
                "unexplained_mb_per_hour": round(growth - replay, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
