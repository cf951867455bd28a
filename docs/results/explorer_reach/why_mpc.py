"""Why the MPC explorer rarely reached objects, measured on a trained run's model.

Usage: ``python docs/results/explorer_reach/why_mpc.py RUN_FOLDER [--states 200]``

From ``--states`` start states of the scene (env resets, seed 0..), for every object and 8
approach directions, the agent is put at rest at a gap ``g`` from the object's surface, pushing
toward it at full speed, and the run's curiosity signal (its normaliser included) scores the
imagined steps, exactly as the planners score them:

1. the signal of one imagined step, by gap: where in the scene curiosity is high;
2. the return the MPC planner sees over its look-ahead (``horizon * action_repeat`` steps, each
   scored), by gap: whether an object at that gap shows up in its plans at all;
3. how far objects are from the agent where the explorer takes over: the fraction of start
   states whose nearest object lies beyond the planner's reach (its look-ahead at full speed).

Prints a table and a JSON line.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

import envs  # noqa: F401
from agent.explorers.mpc_config import MPCConfig
from agent.explorers.seek import support
from agent.make_env import make_env
from agent.report.model import restore_model
from agent.report.run_folder import RunFolder

GAPS = (0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.45)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("run")
    parser.add_argument("--states", type=int, default=200)
    args = parser.parse_args()
    run = RunFolder.load(args.run)
    env = make_env(run.env_config())
    scene = env.unwrapped
    layout, action_dim, dt = scene.layout, scene.action_space.shape[0], scene.dt
    restored = restore_model(run, layout, action_dim)
    model, signal = restored.model, restored.signal
    assert signal is not None, "the run has no curiosity signal (a video source?)"
    mpc = MPCConfig()
    lookahead = mpc.horizon * mpc.action_repeat
    agent, objects = int(layout.indices("agent")[0]), layout.indices("object")
    ext = layout.extents_array().astype(np.float64)
    angles = np.linspace(-np.pi, np.pi, 8, endpoint=False)
    dirs = np.stack([np.cos(angles), np.sin(angles), np.zeros(8)], -1)
    starts, acts, gap_of = [], [], []
    nearest = []
    for k in range(args.states):
        obs, _ = env.reset(seed=k)
        b = layout.split(obs.astype(np.float64))
        centre = np.linalg.norm(b[objects, 0:2] - b[agent, 0:2], axis=-1)
        nearest.append(float(centre.min()))
        for o in objects:
            reach = support(b[agent, 3:7], ext[agent], dirs) + support(b[o, 3:7], ext[o], dirs)
            for j in range(8):
                for g in GAPS:
                    s = b.copy()
                    s[agent, 0:2] = b[o, 0:2] - dirs[j, :2] * (reach[j] + g)
                    s[agent, 7:13] = 0.0
                    starts.append(s.reshape(-1))
                    acts.append(np.append(dirs[j, :2], np.zeros(action_dim - 2)))
                    gap_of.append(g)
    x = torch.as_tensor(np.array(starts, np.float32))
    a = torch.as_tensor(np.array(acts, np.float32))
    gap_of = np.array(gap_of)
    one, ret = np.zeros(len(x)), np.zeros(len(x))
    with torch.no_grad():
        for s in range(0, len(x), 2048):
            states = x[s : s + 2048].expand(model.n_members, -1, -1)
            act = a[s : s + 2048]
            total = torch.zeros(len(act))
            for t in range(lookahead):
                nxt = model.step(states, act)
                r = signal(states.mean(0), act, None, predicted=nxt)
                if t == 0:
                    one[s : s + len(act)] = r.numpy()
                total += mpc.discount ** (t // mpc.action_repeat) * r
                states = nxt
            ret[s : s + len(act)] = total.numpy()
    max_speed = 0.5  # m/s at full action in the built-in scenes
    reach_m = lookahead * dt * max_speed
    out = {
        "run": args.run,
        "lookahead_steps": lookahead,
        "lookahead_reach_m": reach_m,
        "gaps_m": list(GAPS),
        "one_step_signal": [float(one[gap_of == g].mean()) for g in GAPS],
        "mpc_return": [float(ret[gap_of == g].mean()) for g in GAPS],
        "nearest_object_m_median": float(np.median(nearest)),
        "starts_with_no_object_in_reach": float(np.mean(np.array(nearest) > reach_m)),
    }
    print(f"{'gap (m)':>8} {'one-step signal':>16} {'MPC return':>11}")
    for g, s1, r in zip(GAPS, out["one_step_signal"], out["mpc_return"], strict=True):
        print(f"{g:8.2f} {s1:16.3f} {r:11.3f}")
    print(
        f"look-ahead {lookahead} steps = {reach_m:.2f} m at full speed; nearest object at reset:"
        f" median {out['nearest_object_m_median']:.2f} m (centre to centre), beyond the"
        f" look-ahead in {out['starts_with_no_object_in_reach']:.0%} of starts"
    )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
