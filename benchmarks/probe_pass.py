"""The probe evaluation's model pass: ``predict_members`` at several chunk sizes, side by side.

Every probe evaluation of a run (18 in a 20k-step run) predicts every probe transition with
every ensemble member (:func:`world_model.inference.predict_members`), in chunks. This times
that pass for the default model (``graph_contact``, untrained: the cost does not depend on
the weights) on ``N`` transitions of each built-in scene (random actions), for each chunk size
in alternating rounds in one process (so machine noise hits all alike), and checks that every
chunk size gives the same predictions, bit for bit, as the first.

Prints one line per scene and chunk (median seconds over rounds, ratio to the first chunk
size, identical or not) and, last, one JSON object. Usage:

    python benchmarks/probe_pass.py [--n 8192] [--rounds 5] [--chunks 4096,1024,512,256]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import torch

from agent.config import RunConfig, load_config
from agent.make_env import make_env
from envs.layout import EntityLayout
from world_model.inference import predict_members
from world_model.models import build_model

SCENES = ("push_blocks", "billiards", "tower")


def transitions(cfg: RunConfig, n: int) -> tuple[np.ndarray, np.ndarray, float, EntityLayout]:
    env = make_env(cfg.env)
    rng = np.random.default_rng(0)
    obs, _ = env.reset(seed=0)
    xs, acts = [], []
    for _ in range(n):
        a = rng.uniform(-1, 1, env.action_space.shape).astype(np.float32)
        xs.append(obs)
        acts.append(a)
        obs, _, term, trunc, _ = env.step(a)
        if term or trunc:
            obs, _ = env.reset()
    scene = env.unwrapped
    env.close()
    dt, layout = scene.dt, scene.layout  # type: ignore[attr-defined]
    return np.array(xs, np.float32), np.array(acts, np.float32), dt, layout


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=8192)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--chunks", default="4096,1024,512,256")
    args = p.parse_args()
    chunks = [int(c) for c in args.chunks.split(",")]
    torch.set_num_threads(1)
    out: dict[str, dict[str, object]] = {}
    for name in SCENES:
        cfg, _ = load_config("run", RunConfig, [f"env={name}"])
        obs, act, dt, layout = transitions(cfg, args.n)
        torch.manual_seed(0)
        model = build_model(cfg.world_model, layout, act.shape[1], dt)
        model.eval()
        with torch.no_grad():
            ref = predict_members(model, obs, act, chunks[0])
            same = {c: bool(torch.equal(ref, predict_members(model, obs, act, c))) for c in chunks}
            times: dict[int, list[float]] = {c: [] for c in chunks}
            for _ in range(args.rounds):
                for c in chunks:
                    start = time.perf_counter()
                    predict_members(model, obs, act, c)
                    times[c].append(time.perf_counter() - start)
        med = {c: statistics.median(v) for c, v in times.items()}
        for c in chunks:
            print(
                f"{name:12s} chunk {c:5d}: {med[c]:.3f} s  x{med[chunks[0]] / med[c]:.2f} "
                f"vs chunk {chunks[0]}  identical: {same[c]}"
            )
        out[name] = {
            "seconds": {str(c): med[c] for c in chunks},
            "speedup_vs_first": {str(c): med[chunks[0]] / med[c] for c in chunks},
            "identical": {str(c): same[c] for c in chunks},
        }
    print(json.dumps({"n": args.n, "rounds": args.rounds, "scenes": out}))


if __name__ == "__main__":
    main()
