"""The separating-axis test of the graph model's contact features: the world-frame reference
(``box_separation``) against the receiver-frame one (``box_separation_local``, picked by
``world_model.fast_separation``), side by side in one process.

On PushBlocks states (a random-action rollout; 7 entities, 42 ordered pairs) it times, in
alternating rounds:

* the separation alone, on a training batch's shape (``members x batch x pairs``);
* a whole training update of the default ``graph_contact`` model (horizon 1, the run's batch
  size), once with each setting, from identical copies on the same batches.

Prints the per-round median times, the ratios (reference / local, > 1: local faster) and the
largest difference of the separations and axes; the last line is one JSON object.

Usage: ``python benchmarks/contact_features.py [--rounds 5] [--updates 5] [--batch 256]``
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
from agent.make_env import make_env
from world_model.models import build_model
from world_model.models.graph_physics import box_separation, box_separation_local, quat_to_matrix
from world_model.replay import Replay
from world_model.trainer import ModelTrainer


def rollout(steps: int, seed: int) -> tuple[Replay, object, float]:
    """A random-action PushBlocks rollout in a replay buffer, the scene's layout and ``dt``."""
    cfg, _ = load_config("run", RunConfig, ["env=push_blocks"])
    env = make_env(cfg.env)
    scene = env.unwrapped
    rng = np.random.default_rng(seed)
    layout, a_dim = scene.layout, env.action_space.shape[0]
    rep = Replay(steps, layout.obs_dim, a_dim, layout.n_entities, rng)
    obs, _ = env.reset(seed=seed)
    episode, step = 0, 0
    for _ in range(steps):
        action = rng.uniform(-1, 1, a_dim).astype(np.float32)
        nxt, reward, term, trunc, info = env.step(action)
        regime = info["contact"]["regime"]
        rep.add(obs, action, nxt, float(reward), term, trunc, regime, episode, step)
        obs, step = nxt, step + 1
        if term or trunc:
            obs, _ = env.reset()
            episode, step = episode + 1, 0
    env.close()
    return rep, layout, scene.dt


def timed(fn, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds")
    parser.add_argument("--updates", type=int, default=5, help="training updates per round")
    parser.add_argument("--batch", type=int, default=256, help="transitions per batch")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    rep, layout, dt = rollout(1000, seed=0)
    preset = load_config("run", RunConfig, [])[0].world_model  # the run default
    torch.manual_seed(0)
    ref_cfg = dataclasses.replace(preset, fast_separation=False)
    model = build_model(ref_cfg, layout, rep.action_dim, dt)
    batches = [rep.sample_sequences(args.batch, 1) for _ in range(args.updates)]

    # The separation alone, on one batch's pairs and every member.
    obs = model.members(batches[0].obs[:, 0])
    m, n = obs.shape[:2]
    x = obs.reshape(m, n, layout.n_entities, 13)
    rot = quat_to_matrix(torch.nn.functional.normalize(x[..., 3:7], dim=-1))
    r, s, ext = model.receivers, model.senders, model.extents
    dp = x[:, :, s, :3] - x[:, :, r, :3]
    inputs = (dp, rot[:, :, r], rot[:, :, s], ext[r], ext[s])
    sep_ref, axis_ref = box_separation(*inputs)
    sep_loc, axis_loc = box_separation_local(*inputs)
    diff_sep = float((sep_ref - sep_loc).abs().max())
    diff_axis = float((axis_ref - axis_loc).abs().max())

    # Whole updates, identical copies of the model, the same batches.
    trainers = {}
    for fast in (False, True):
        cfg = dataclasses.replace(preset, fast_separation=fast)
        copy_ = build_model(cfg, layout, rep.action_dim, dt)
        copy_.load_state_dict(copy.deepcopy(model.state_dict()))
        trainers[fast] = ModelTrainer(copy_, cfg)
        trainers[fast].update(batches[0])  # warm up

    def run_updates(fast: bool) -> None:
        for b in batches:
            trainers[fast].update(b)

    t = {"sep_ref": [], "sep_loc": [], "upd_ref": [], "upd_loc": []}
    for k in range(args.rounds):
        order = (False, True) if k % 2 == 0 else (True, False)
        for fast in order:
            fn = box_separation_local if fast else box_separation
            t["sep_loc" if fast else "sep_ref"] += timed(lambda fn=fn: fn(*inputs), 1)
        for fast in order:
            t["upd_loc" if fast else "upd_ref"] += timed(lambda f=fast: run_updates(f), 1)
    med = {k: statistics.median(v) for k, v in t.items()}
    sep_ratio = med["sep_ref"] / med["sep_loc"]
    upd_ratio = med["upd_ref"] / med["upd_loc"]
    pairs = f"{m} members x {n} x {dp.shape[2]} pairs"
    print(
        f"separation ({pairs}): reference {1000 * med['sep_ref']:.1f} ms, "
        f"local {1000 * med['sep_loc']:.1f} ms, ratio {sep_ratio:.2f}"
    )
    print(
        f"graph_contact update (batch {args.batch}): reference "
        f"{args.updates / med['upd_ref']:.2f} upd/s, local {args.updates / med['upd_loc']:.2f}"
        f" upd/s, ratio {upd_ratio:.2f}"
    )
    print(f"largest difference: separation {diff_sep:.2e} m, axis {diff_axis:.2e}")
    summary = {
        "separation_ratio": round(sep_ratio, 3),
        "update_ratio": round(upd_ratio, 3),
        "max_diff_separation_m": diff_sep,
        "max_diff_axis": diff_axis,
        **vars(args),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
