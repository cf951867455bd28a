"""MPC planner latency per action at its default settings, with the default world model.

Builds the default ``contactlab run`` parts for PushBlocks (mlp ensemble, disagreement
curiosity, default ``MPCConfig``), plans from real observations, and times ``plan`` after a
warm-up, with 1 torch thread (the run default) and with 2. For scale it also times one plan of
the naive CEM the design notes warn about (population 500, horizon 15, 5 iterations) on the
same model, and prints the ratio. Last line: JSON with ``ms_per_action`` (default threads).
Goal: ``ms_per_action <= 20``.

Usage: ``python benchmarks/planner_latency.py [--actions 200]``
"""

from __future__ import annotations

import argparse
import json
import time

import gymnasium as gym
import numpy as np
import torch

import envs  # noqa: F401
from agent.explorers.mpc import MPCPlanner
from agent.explorers.mpc_config import MPCConfig
from curiosity import CuriosityConfig, build_curiosity
from world_model.config import WorldModelConfig
from world_model.models import build_model


def time_planner(cfg: MPCConfig, n: int, threads: int) -> float:
    torch.set_num_threads(threads)
    env = gym.make("contactlab/PushBlocks-v0").unwrapped
    layout, action_dim = env.layout, env.model.nu
    model = build_model(WorldModelConfig(), layout, action_dim).eval()
    signal = build_curiosity(CuriosityConfig(), model, layout.obs_dim, action_dim, layout)
    planner = MPCPlanner(
        model.step,
        lambda o, a, p: signal(o, a, None, predicted=p),
        model.n_members,
        action_dim,
        cfg,
        seed=0,
    )
    obs, _ = env.reset(seed=0)
    times = []
    for i in range(n + 10):
        start = time.perf_counter()
        action = planner.plan(obs)
        if i >= 10:
            times.append(time.perf_counter() - start)
        obs, *_ = env.step(action)
    return float(np.median(times) * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--actions", type=int, default=200)
    args = parser.parse_args()
    default = MPCConfig()
    one = time_planner(default, args.actions, threads=1)
    two = time_planner(default, args.actions, threads=2)
    naive = time_planner(
        MPCConfig(population=500, horizon=15, iterations=5, elites=50), 5, threads=1
    )
    shape = f"{default.iterations} it x {default.horizon} steps x {default.population} seqs"
    print(f"default planner ({shape}):")
    print(f"  1 thread : {one:7.1f} ms/action (median)")
    print(f"  2 threads: {two:7.1f} ms/action (median)")
    print(f"naive CEM (5 it x 15 steps x 500 seqs), 1 thread: {naive:7.1f} ms/action")
    print(f"  the default planner is {naive / one:.0f}x cheaper")
    print(
        json.dumps(
            {
                "ms_per_action": round(one, 2),
                "ms_per_action_2_threads": round(two, 2),
                "naive_cem_ms": round(naive, 1),
                "speedup_vs_naive": round(naive / one, 1),
                "goal": 20,
            }
        )
    )


if __name__ == "__main__":
    main()
