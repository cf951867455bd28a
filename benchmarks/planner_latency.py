"""MPC planner latency per action at its default settings, with the default world model.

Builds the parts of the default ``contactlab run`` (PushBlocks, the graph world model,
disagreement curiosity as ``configs/`` compose them, e.g. its ``entity_kinds``) with the run's
own builder (:mod:`agent.parts`), with ``agent.mpc`` replaced by the planner settings timed,
acts from real observations through the MPC explorer (which replans every ``action_repeat``
actions and holds the plan in between) and times each call
after a warm-up, with 1 torch thread (the run default) and with 2: per plan and per executed
action. For scale it also times the naive CEM the design notes warn about (population 500,
horizon 15, 5 iterations, replanning every action) on the same model, and prints the ratio.
Last line: JSON with ``ms_per_action`` (1 thread, the run default). Goal: <= 20.

Usage: ``python benchmarks/planner_latency.py [--actions 200]``
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

import numpy as np
import torch

from agent.config import RunConfig, load_config
from agent.explorers.base import MPCExplorer, RandomExplorer
from agent.explorers.mpc_config import MPCConfig
from agent.parts import build_explorer, build_parts


def time_planner(cfg: MPCConfig, n: int, threads: int) -> tuple[float, float]:
    """Median ms per planning call, and mean ms per executed action (the explorer replans
    every ``cfg.action_repeat`` actions and holds the plan in between)."""
    torch.set_num_threads(threads)
    run_cfg, _ = load_config("run", RunConfig, [])
    run_cfg = dataclasses.replace(run_cfg, agent=dataclasses.replace(run_cfg.agent, mpc=cfg))
    parts = build_parts(run_cfg.env, run_cfg.world_model, run_cfg.curiosity)
    parts.model.eval()
    rng = np.random.default_rng(run_cfg.seed)
    warmup = RandomExplorer(parts.action_dim, rng)
    explorer = build_explorer(run_cfg, parts, warmup, rng, lambda: 0)
    assert isinstance(explorer, MPCExplorer), explorer
    env = parts.scene
    obs, _ = env.reset(seed=0)
    plans, acts = [], []
    for i in range(n + 10):
        replans = explorer._held == 0
        start = time.perf_counter()
        action = explorer.act(obs)
        elapsed = time.perf_counter() - start
        if i >= 10:
            acts.append(elapsed)
            if replans:
                plans.append(elapsed)
        obs, *_ = env.step(action)
    return float(np.median(plans) * 1000), float(np.mean(acts) * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--actions", type=int, default=200)
    args = parser.parse_args()
    default = MPCConfig()
    plan1, act1 = time_planner(default, args.actions, threads=1)
    plan2, act2 = time_planner(default, args.actions, threads=2)
    naive_cfg = MPCConfig(population=500, horizon=15, iterations=5, elites=50, action_repeat=1)
    naive, _ = time_planner(naive_cfg, 5, threads=1)
    d = default
    shape = f"{d.iterations} it x {d.horizon} x {d.action_repeat} steps x {d.population} seqs"
    print(f"default planner ({shape}), replanning every {default.action_repeat} actions:")
    print(f"  1 thread : {plan1:7.1f} ms per plan, {act1:6.1f} ms per action")
    print(f"  2 threads: {plan2:7.1f} ms per plan, {act2:6.1f} ms per action")
    print(f"naive CEM (5 it x 15 steps x 500 seqs, every action), 1 thread: {naive:.1f} ms")
    result = {
        "ms_per_action": round(act1, 2), "ms_per_plan": round(plan1, 2),
        "ms_per_action_2_threads": round(act2, 2), "naive_cem_ms_per_action": round(naive, 1),
        "speedup_vs_naive": round(naive / act1, 1), "goal": 20,
    }  # fmt: skip
    print(json.dumps(result))


if __name__ == "__main__":
    main()
