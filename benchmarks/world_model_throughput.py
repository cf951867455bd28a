"""World-model training throughput: our guarded trainer vs a bare torch loop of the same network.

For every model kind (graph_contact, the default, with its settings from
``configs/world_model/graph_contact.yaml``; graph without contact features, ``graph.yaml``; mlp
and interaction)
and objective (reconstructive, jepa; graph: reconstructive only), runs in
alternating rounds in one process (so machine noise hits both sides alike), on the same
pre-sampled batches of the toy scene:

* ``ours``: :meth:`world_model.trainer.ModelTrainer.update` (normaliser updates, gradient
  clipping, the non-finite guard with one host sync, snapshots, metrics as floats);
* ``bare``: ``loss = model.loss(batch)["total"]; zero_grad; backward; Adam step`` (plus the EMA
  target update for jepa, which is part of the objective) on an identical copy of the model.

Prints a table of updates/s and transitions/s (``batch * horizon`` per update) and, as its last
line, one JSON object with per-model figures and ``min_ratio`` (ours / bare updates per second,
worst model; the median over rounds). Goal: ``min_ratio >= 0.9``.

Usage: ``python benchmarks/world_model_throughput.py [--updates 10] [--rounds 5] [--batch 128]``
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import statistics
import time

import numpy as np
import torch

from agent.config import RunConfig, load_config
from world_model.batch import SequenceBatch
from world_model.config import WorldModelConfig
from world_model.models import LatentDynamicsModel, build_model
from world_model.replay import Replay
from world_model.toy import DT, toy_layout, toy_transitions
from world_model.trainer import ModelTrainer


def time_ours(trainer: ModelTrainer, batches: list[SequenceBatch]) -> float:
    start = time.perf_counter()
    for batch in batches:
        trainer.update(batch)
    return time.perf_counter() - start


def time_bare(
    model: LatentDynamicsModel, opt: torch.optim.Optimizer, batches: list[SequenceBatch]
) -> float:
    start = time.perf_counter()
    for batch in batches:
        loss = model.loss(batch)["total"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        model.after_step()
    return time.perf_counter() - start


def bench(kind: str, objective: str, args: argparse.Namespace) -> dict[str, float | str]:
    layout = toy_layout(n_objects=args.objects)
    rep = Replay(100_000, layout.obs_dim, 2, layout.n_entities, np.random.default_rng(0))
    rep.extend(toy_transitions(40, 50, np.random.default_rng(1), n_objects=args.objects))
    batches = [rep.sample_sequences(args.batch, args.horizon) for _ in range(args.updates)]
    torch.manual_seed(0)
    if kind.startswith("graph"):  # the run default (graph_contact) and graph, as configured
        preset = load_config("run", RunConfig, [f"world_model={kind}"])[0].world_model
        cfg = dataclasses.replace(preset, horizon=args.horizon)
    else:
        cfg = WorldModelConfig(kind=kind, objective=objective, horizon=args.horizon)
    ours_model = build_model(cfg, layout, 2, dt=DT)
    bare_model = copy.deepcopy(ours_model)
    trainer = ModelTrainer(ours_model, cfg)
    bare_opt = torch.optim.Adam([p for p in bare_model.parameters() if p.requires_grad], lr=cfg.lr)
    time_ours(trainer, batches[:2])  # warm up both
    time_bare(bare_model, bare_opt, batches[:2])
    ours_t, bare_t, ratios = 0.0, 0.0, []
    for r in range(args.rounds):
        if r % 2 == 0:
            o = time_ours(trainer, batches)
            b = time_bare(bare_model, bare_opt, batches)
        else:
            b = time_bare(bare_model, bare_opt, batches)
            o = time_ours(trainer, batches)
        ours_t, bare_t = ours_t + o, bare_t + b
        ratios.append(b / o)
    n = args.rounds * args.updates
    per_update = args.batch * args.horizon
    return {
        "model": kind,
        "objective": objective,
        "ours_updates_s": n / ours_t,
        "bare_updates_s": n / bare_t,
        "ours_transitions_s": n * per_update / ours_t,
        "bare_transitions_s": n * per_update / bare_t,
        "ratio": statistics.median(ratios),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--updates", type=int, default=10, help="updates per side per round")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds")
    parser.add_argument("--batch", type=int, default=128, help="sequences per batch")
    parser.add_argument("--horizon", type=int, default=5, help="transitions per sequence")
    parser.add_argument("--objects", type=int, default=3, help="objects in the toy scene")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    rows = [bench(g, "reconstructive", args) for g in ("graph", "graph_contact")] + [
        bench(kind, objective, args)
        for kind in ("mlp", "interaction")
        for objective in ("reconstructive", "jepa")
    ]
    header = f"{'model':<14}{'objective':<16}{'ours upd/s':>11}{'bare upd/s':>11}"
    header += f"{'ours trans/s':>14}{'bare trans/s':>14}{'ratio':>8}"
    print(header)
    for r in rows:
        print(
            f"{r['model']:<14}{r['objective']:<16}{r['ours_updates_s']:>11.2f}"
            f"{r['bare_updates_s']:>11.2f}{r['ours_transitions_s']:>14.0f}"
            f"{r['bare_transitions_s']:>14.0f}{r['ratio']:>8.3f}"
        )
    min_ratio = min(float(r["ratio"]) for r in rows)
    summary = {"min_ratio": round(min_ratio, 4), "goal": 0.9, **vars(args), "results": rows}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
