"""Env throughput with contact labelling vs a raw ``mj_step`` loop of the same model.

For every scene, in one process, in alternating chunks of 20 steps (so a load spike on a
shared machine hits a few chunks rather than one side of the comparison):

* ``env``: the env from ``gymnasium.make`` stepping a fixed sequence of random actions, with
  labelling, observation building and instability checks;
* ``raw``: the same compiled model, started from the env's exact state at the start of the
  chunk (``mj_getState``/``mj_setState`` of the integration state, warm-start included) and
  stepped by ``mujoco.mj_step(m, d, nstep=frame_skip)`` with the same controls, so both
  simulate the same trajectory (checked at the end of every chunk).

Prints a table and, as its last line, one JSON object with per-scene figures, ``min_ratio``
(total raw time / total env time, worst scene; goal ``>= 0.9``) and ``min_median_chunk_ratio``
(the median over chunks of the same ratio, worst scene) and ``min_p10_ratio`` (the ratio of
the fastest decile of chunk times of each side: the figures to trust on a busy machine;
``--chunk 1`` times every step on its own), and ``min_cpu_ratio``: the ratio of the two
sides' CPU time (``time.thread_time``), which leaves out the time the process waited for a
core, the bulk of the wall-clock noise on a shared machine.

Usage: ``python benchmarks/env_throughput.py [--episodes 20] [--chunk 20]``
"""

from __future__ import annotations

import argparse
import json
import time

import gymnasium as gym
import mujoco
import numpy as np

import envs

STATE = mujoco.mjtState.mjSTATE_INTEGRATION  # includes the solver warm-start


def measure(env_id: str, episodes: int, chunk: int = 20) -> dict[str, float]:
    env = gym.make(env_id)
    scene = env.unwrapped
    model = scene.model
    raw = mujoco.MjData(model)
    state = np.empty(mujoco.mj_stateSize(model, STATE))
    rng = np.random.default_rng(0)
    t_env = t_raw = cpu_env = cpu_raw = 0.0
    steps = 0
    chunk_ratios: list[float] = []
    chunk_times: list[tuple[float, float]] = []
    for episode in range(episodes + 1):  # episode 0 warms up
        env.reset(seed=episode)
        actions = rng.uniform(-1, 1, (envs.MAX_EPISODE_STEPS, model.nu)).astype(np.float32)
        ctrls = scene._ctrl_mid + actions * scene._ctrl_half
        for first in range(0, len(actions), chunk):
            # Chunks of `chunk` steps, env then raw from the same state: a load spike on a
            # shared machine hits a few chunks, not one side of the whole comparison.
            mujoco.mj_getState(model, scene.data, state, STATE)
            start, cpu_start = time.perf_counter(), time.thread_time()
            for a in actions[first : first + chunk]:
                env.step(a)
            elapsed_env = time.perf_counter() - start
            cpu_elapsed_env = time.thread_time() - cpu_start

            mujoco.mj_setState(model, raw, state, STATE)
            start, cpu_start = time.perf_counter(), time.thread_time()
            for c in ctrls[first : first + chunk]:
                raw.ctrl[:] = c
                mujoco.mj_step(model, raw, nstep=scene.frame_skip)
            elapsed_raw = time.perf_counter() - start
            cpu_elapsed_raw = time.thread_time() - cpu_start

            if not np.allclose(raw.qpos, scene.data.qpos, atol=1e-6):
                raise RuntimeError(f"{env_id}: env and raw loop diverged: the comparison is unfair")
            if episode > 0:
                t_env += elapsed_env
                t_raw += elapsed_raw
                cpu_env += cpu_elapsed_env
                cpu_raw += cpu_elapsed_raw
                steps += len(actions[first : first + chunk])
                chunk_ratios.append(elapsed_raw / elapsed_env)
                chunk_times.append((elapsed_env, elapsed_raw))
    env.close()
    times = np.array(chunk_times)
    return {
        "env_steps_per_s": round(steps / t_env),
        "raw_steps_per_s": round(steps / t_raw),
        "labelling_us_per_step": round((t_env - t_raw) / steps * 1e6, 1),
        "ratio": round(t_raw / t_env, 3),
        "median_chunk_ratio": round(float(np.median(chunk_ratios)), 3),
        "cpu_ratio": round(cpu_raw / cpu_env, 3),
        "cpu_overhead_us_per_step": round((cpu_env - cpu_raw) / steps * 1e6, 1),
        # fastest decile of each side: what the code costs when the machine lets it run
        "p10_ratio": round(
            float(np.percentile(times[:, 1], 10) / np.percentile(times[:, 0], 10)), 3
        ),
        "p10_overhead_us_per_step": round(
            float(np.percentile(times[:, 0], 10) - np.percentile(times[:, 1], 10)) / chunk * 1e6, 1
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--episodes", type=int, default=20, help="200-step episodes per scene")
    parser.add_argument("--chunk", type=int, default=20, help="steps per alternating chunk")
    args = parser.parse_args()
    results = {}
    header = ("scene", "env steps/s", "raw steps/s", "overhead us/step", "ratio", "median", "cpu")
    print(
        f"{header[0]:<12} {header[1]:>12} {header[2]:>12} {header[3]:>17} {header[4]:>7} "
        f"{header[5]:>7} {header[6]:>7}"
    )
    for name, env_id in envs.SCENES.items():
        r = measure(env_id, args.episodes, args.chunk)
        results[name] = r
        print(
            f"{name:<12} {r['env_steps_per_s']:>12} {r['raw_steps_per_s']:>12} "
            f"{r['labelling_us_per_step']:>17} {r['ratio']:>7.3f} {r['median_chunk_ratio']:>7.3f} "
            f"{r['cpu_ratio']:>7.3f}"
        )
    summary = {
        "scenes": results,
        "min_ratio": min(r["ratio"] for r in results.values()),
        "min_median_chunk_ratio": min(r["median_chunk_ratio"] for r in results.values()),
        "min_p10_ratio": min(r["p10_ratio"] for r in results.values()),
        "min_cpu_ratio": min(r["cpu_ratio"] for r in results.values()),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
