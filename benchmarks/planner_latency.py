"""Explorer cost per executed action, with the default world model: the ``seek`` explorer (the
default) and the MPC planner at their default settings.

Builds the parts of the default ``contactlab run`` (PushBlocks, the graph world model,
disagreement curiosity as ``configs/`` compose them, e.g. its ``entity_kinds``) with the run's
own builder (:mod:`agent.parts`), with ``agent.mpc`` replaced by the planner settings timed,
acts from real observations through the MPC explorer (which replans every ``action_repeat``
actions and holds the plan in between) and times each call
after a warm-up, with 1 torch thread (the run default) and with 2: per plan and per executed
action. For scale it also times the naive CEM the design notes warn about (population 500,
horizon 15, 5 iterations, replanning every action) on the same model, and prints the ratio.
The ``seek`` explorer is timed the same way over real observations: most actions are its
controller, one in ~25-60 a choice of the next goal (a batched imagination of every candidate).
Last line: JSON with ``ms_per_action`` (the default explorer, ``seek``, 1 thread, the run
default) and ``mpc_ms_per_action``. Goal: <= 20.

Usage: ``python benchmarks/planner_latency.py [--actions 200] [--world-model graph_contact]``
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
from agent.explorers.seek import SeekExplorer
from agent.parts import build_explorer, build_parts


def time_planner(
    cfg: MPCConfig, n: int, threads: int, world_model: str = "graph"
) -> tuple[float, float]:
    """Median ms per planning call, and mean ms per executed action (the explorer replans
    every ``cfg.action_repeat`` actions and holds the plan in between)."""
    torch.set_num_threads(threads)
    run_cfg, _ = load_config("run", RunConfig, ["agent=mpc", f"world_model={world_model}"])
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


def time_seek(n: int, threads: int, world_model: str = "graph") -> tuple[float, float, float]:
    """Mean ms per executed action of the default ``seek`` explorer, median ms of the actions
    that chose a new goal, and the fraction of actions that did."""
    torch.set_num_threads(threads)
    run_cfg, _ = load_config("run", RunConfig, ["agent=seek", f"world_model={world_model}"])
    parts = build_parts(run_cfg.env, run_cfg.world_model, run_cfg.curiosity)
    parts.model.eval()
    rng = np.random.default_rng(run_cfg.seed)
    explorer = build_explorer(run_cfg, parts, RandomExplorer(parts.action_dim, rng), rng, lambda: 0)
    assert isinstance(explorer, SeekExplorer), explorer
    env = parts.scene
    obs, _ = env.reset(seed=0)
    choices, acts = [], []
    for i in range(n + 10):
        chosen = sum(explorer.chosen.values())
        start = time.perf_counter()
        action = explorer.act(obs)
        elapsed = time.perf_counter() - start
        if i >= 10:
            acts.append(elapsed)
            if sum(explorer.chosen.values()) > chosen:
                choices.append(elapsed)
        obs, *_ = env.step(action)
    return float(np.mean(acts) * 1000), float(np.median(choices) * 1000), len(choices) / n


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--actions", type=int, default=200)
    parser.add_argument(
        "--world-model",
        default="graph_contact",
        help="configs/world_model/<name>.yaml (the run default graph_contact, or graph)",
    )
    args = parser.parse_args()
    wm = args.world_model
    seek1, choice1, rate = time_seek(args.actions * 5, threads=1, world_model=wm)
    seek2, choice2, _ = time_seek(args.actions * 5, threads=2, world_model=wm)
    default = MPCConfig()
    plan1, act1 = time_planner(default, args.actions, threads=1, world_model=wm)
    plan2, act2 = time_planner(default, args.actions, threads=2, world_model=wm)
    naive_cfg = MPCConfig(population=500, horizon=15, iterations=5, elites=50, action_repeat=1)
    naive, _ = time_planner(naive_cfg, 5, threads=1, world_model=wm)
    d = default
    shape = f"{d.iterations} it x {d.horizon} x {d.action_repeat} steps x {d.population} seqs"
    print(f"seek (default explorer), a new goal every {1 / max(rate, 1e-9):.0f} actions:")
    print(f"  1 thread : {choice1:7.1f} ms per goal choice, {seek1:6.2f} ms per action")
    print(f"  2 threads: {choice2:7.1f} ms per goal choice, {seek2:6.2f} ms per action")
    print(f"mpc planner ({shape}), replanning every {default.action_repeat} actions:")
    print(f"  1 thread : {plan1:7.1f} ms per plan, {act1:6.1f} ms per action")
    print(f"  2 threads: {plan2:7.1f} ms per plan, {act2:6.1f} ms per action")
    print(f"naive CEM (5 it x 15 steps x 500 seqs, every action), 1 thread: {naive:.1f} ms")
    result = {
        "ms_per_action": round(seek1, 2), "ms_per_goal_choice": round(choice1, 2),
        "ms_per_action_2_threads": round(seek2, 2), "actions_per_goal": round(1 / rate, 1),
        "mpc_ms_per_action": round(act1, 2), "mpc_ms_per_plan": round(plan1, 2),
        "mpc_ms_per_action_2_threads": round(act2, 2), "naive_cem_ms_per_action": round(naive, 1),
        "mpc_speedup_vs_naive": round(naive / act1, 1), "goal": 20, "world_model": wm,
    }  # fmt: skip
    print(json.dumps(result))


if __name__ == "__main__":
    main()
