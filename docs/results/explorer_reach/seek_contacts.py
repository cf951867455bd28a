"""Does ``seek``'s imagined push reach its object? MuJoCo itself as the imagined dynamics.

For each scene, 3 resets (seeds 0-2, then 5 steps at rest), every push candidate of
:class:`agent.explorers.seek.SeekExplorer` (8 directions per object, speeds uniform in
[0.3, 1]) is put into the simulator at its imagined start state and stepped ``imagine_steps``
times with its push action held. Printed: the fraction of candidates whose object moves more
than 1 mm along the push direction, over all of them and over the slow ones (speed < 0.5),
for the imagined starts tried while fixing the explorer (gap ``standoff`` and step counts; the
code's other parts, the bounding radius for round bodies and the object's height for 3-D
agents, are as committed). Billiards candidates whose staging point lies past the striker's
joint range (it reaches only the table's south half) cannot move their ball: the explorer's
feasibility rule leaves those out once the agent's visited range is known.

Usage: ``python docs/results/explorer_reach/seek_contacts.py`` (~1 min on one core).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch

import envs  # noqa: F401
from agent.explorers.seek import SeekExplorer, simulator_step
from agent.explorers.seek_config import SeekConfig

SETTINGS = [(0.03, 4), (0.005, 6), (0.005, 8), (0.005, 10)]  # (standoff m, imagine_steps)


def main() -> None:
    print("scene       standoff  steps  moved>1mm all  slow(<0.5)")
    for name, action_dim in [("PushBlocks", 2), ("Billiards", 2), ("Tower", 3)]:
        env = gym.make(f"contactlab/{name}-v0")
        layout = env.unwrapped.layout
        for standoff, steps in SETTINGS:
            moved, speeds = [], []
            for seed in range(3):
                obs, _ = env.reset(seed=seed)
                for _ in range(5):
                    obs, *_ = env.step(np.zeros(action_dim, np.float32))
                cfg = SeekConfig(standoff=standoff, imagine_steps=steps, places=0, directions=8)
                explorer = SeekExplorer(
                    layout, action_dim, simulator_step(env), lambda o, a, p: torch.zeros(len(o)),
                    1, cfg, np.random.default_rng(seed),
                )  # fmt: skip
                goals, starts, actions = explorer.candidates(obs)
                states = torch.as_tensor(starts)[None]
                for _ in range(steps):
                    states = explorer.step_fn(states, torch.as_tensor(actions))
                before, after = layout.split(starts), layout.split(states[0].numpy())
                for k, goal in enumerate(goals):
                    e, d = goal["entity"], np.asarray(goal["direction"])
                    moved.append(float((after[k, e, :2] - before[k, e, :2]) @ d) > 1e-3)
                    speeds.append(goal["speed"])
            ok, slow = np.array(moved), np.array(speeds) < 0.5
            print(
                f"{name:<11} {standoff:8.3f} {steps:6d} {ok.mean():14.2f} {ok[slow].mean():11.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
