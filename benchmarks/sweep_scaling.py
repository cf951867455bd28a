"""Sweep scaling on the local Ray: 2 trials at once vs the same 2 one after another, and
collection throughput of 1 vs 2 collector actors.

Trials go through the real ``contactlab sweep`` driver (``run_sweep``) on one local Ray with
2 CPUs: the same two ``experiment=debug agent=random`` runs (seeds 0 and 1), first with
``sweep.max_concurrent=1`` (one after another), then both at once, each into its own sweep
folder, each trial a Ray Tune trial in a fresh worker process. The probe set is built
beforehand, so neither side pays for it. ``parallel_speedup`` = sequential wall time /
parallel wall time.

Collection: uniform-random PushBlocks episodes from a :class:`CollectorPool` of 1 and of 2
actors (after one warm-up episode each, so actor start-up is not timed), and from the same
collector code stepping in this process, for the cost of Ray's hand-over.

A parallel speedup means nothing without what the machine could give at that moment (on a
machine shared with other jobs both drop), so the headline figure is relative: two plain
CPU-bound processes at once vs one after another (``machine_speedup``, 2.0 on 2 idle cores)
are measured in the same run, before and after the trials, and ``parallel_efficiency`` =
``parallel_speedup`` / mean ``machine_speedup`` (goal >= 0.9: the sweep gets at least 90% of
the parallelism the machine offers). Last line: one JSON object.
Usage: ``python benchmarks/sweep_scaling.py [--budget 2000]``
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import tempfile
import time
from pathlib import Path

from agent.config import EnvConfig, RunConfig, load_config
from agent.make_env import make_env
from agent.probes import ensure_probe_set
from agent.sweep.cluster import connect
from agent.sweep.collectors import CollectorPool, EnvCollector, episode_steps
from agent.sweep.config import SweepConfig, SweepSettings
from agent.sweep.driver import run_sweep


def _spin(seconds: float) -> None:
    end, x = time.process_time() + seconds, 0
    while time.process_time() < end:  # CPU time, so a busy machine stretches the wall time
        x += 1


def machine_speedup(seconds: float = 2.0) -> float:
    """Wall time of two CPU-bound processes one after another / at once."""
    ctx = multiprocessing.get_context("spawn")

    def wall(parallel: bool) -> float:
        start = time.perf_counter()
        procs = [ctx.Process(target=_spin, args=(seconds,)) for _ in range(2)]
        for p in procs:
            p.start()
            if not parallel:
                p.join()
        for p in procs:
            p.join()
        return time.perf_counter() - start

    return wall(False) / wall(True)


def timed_sweep(overrides: list[str], out_dir: str, max_concurrent: int | None) -> float:
    settings = SweepConfig(sweep=SweepSettings(out_dir=out_dir, max_concurrent=max_concurrent))
    start = time.perf_counter()
    assert run_sweep(settings, overrides) == 0
    return time.perf_counter() - start


def pool_steps_per_s(n_actors: int, episodes: int) -> float:
    pool = CollectorPool(EnvConfig(), seed=0, n=n_actors)
    try:
        it = pool.episodes(start=0)
        for _ in range(n_actors):  # actors started and warm
            next(it)
        start = time.perf_counter()
        steps = sum(len(list(episode_steps(next(it)))) for _ in range(episodes))
        return steps / (time.perf_counter() - start)
    finally:
        pool.close()


def inprocess_steps_per_s(episodes: int) -> float:
    collector = EnvCollector(EnvConfig(), seed=0)
    collector.episode(0)
    start = time.perf_counter()
    steps = sum(len(list(episode_steps(collector.episode(i)))) for i in range(1, episodes + 1))
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--budget", type=int, default=2000, help="env steps per trial")
    parser.add_argument("--episodes", type=int, default=20, help="episodes per throughput run")
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        overrides = [
            "experiment=debug", "agent=random", f"budget={args.budget}", "seed=0,1",
            f"probe.root={tmp}/probes",
        ]  # fmt: skip
        cfg, _ = load_config("run", RunConfig, [o for o in overrides if o != "seed=0,1"])
        ensure_probe_set(cfg.probe, cfg.env, make_env(cfg.env).unwrapped)  # type: ignore[arg-type]
        session = connect("local", num_cpus=2)
        try:
            machine = [machine_speedup()]
            sequential = timed_sweep(overrides, f"{tmp}/seq", max_concurrent=1)
            parallel = timed_sweep(overrides, f"{tmp}/par", max_concurrent=None)
            machine.append(machine_speedup())
            inprocess = inprocess_steps_per_s(args.episodes)
            actors = {n: pool_steps_per_s(n, args.episodes) for n in (1, 2)}
        finally:
            session.stop()
            os.chdir(Path(__file__).resolve().parents[1])
    load_after = os.getloadavg()
    speedup = sequential / parallel
    machine_mean = sum(machine) / 2
    print(f"2 trials one after another: {sequential:6.1f} s")
    print(f"2 trials at once:           {parallel:6.1f} s   speedup {speedup:.2f}")
    print(f"2 busy processes at once:   speedup {machine[0]:.2f} before, {machine[1]:.2f} after")
    print(f"parallel_efficiency:        {speedup / machine_mean:.2f} of the machine's (goal 0.9)")
    print(f"collection in-process:      {inprocess:7.0f} steps/s")
    print(f"collection, 1 actor:        {actors[1]:7.0f} steps/s")
    print(f"collection, 2 actors:       {actors[2]:7.0f} steps/s   x{actors[2] / actors[1]:.2f}")
    print(f"load average (1 min) before/after: {load_before[0]:.1f} / {load_after[0]:.1f}")
    print(
        json.dumps(
            {
                "parallel_speedup": round(speedup, 3),
                "sequential_s": round(sequential, 2),
                "parallel_s": round(parallel, 2),
                "budget_per_trial": args.budget,
                "machine_speedup": [round(m, 3) for m in machine],
                "parallel_efficiency": round(speedup / machine_mean, 3),
                "collect_steps_per_s": {
                    "in_process": round(inprocess),
                    "actors_1": round(actors[1]),
                    "actors_2": round(actors[2]),
                },
                "collect_speedup_2_vs_1": round(actors[2] / actors[1], 3),
                "load_avg_1min": [round(load_before[0], 2), round(load_after[0], 2)],
                "cpus": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
