"""Where the steps of a behaviour go: getting into position, pushing, staying; and how often the
agent touches an object in each (its own label is a contact or an impact with an object).

The push demonstrator (the video sources' behaviour) is measured as it acts; the seek explorer's
motor skill with its goals taken uniformly at random among the feasible ones (the imagined
dynamics change nothing and every candidate gets a random score), so that what is measured is
the skill, not a model's curiosity. Both after the loop's 1,000 random warm-up steps, on
PushBlocks, on real MuJoCo.

    python docs/results/seek_variants/phases.py STEPS SEED [--seek KEY=VALUE ...]

``--seek``: SeekConfig fields for the seek rows (e.g. ``push_steps=50``); the default is the
fast pushes of the ``boxfast`` variant (``speed_scale=box min_speed=1.0``).
"""

from __future__ import annotations

import argparse
import ast
from typing import Any

import gymnasium as gym
import numpy as np
import torch

import envs  # noqa: F401  (registers the scenes)
from agent.explorers.seek import SeekExplorer
from agent.explorers.seek_config import SeekConfig
from envs.regimes import PAIR_BIT, PairKind
from envs.scripted import PushDemonstrator

WARMUP = 1000


def touching(info: dict[str, Any], agent: int) -> bool:
    """The agent touched an object during the step (any substep; ``pair_mask``'s bit, so a
    step that is also a wall impact still counts)."""
    return bool(info["contact"]["pair_mask"][agent] & PAIR_BIT[PairKind.AGENT_OBJECT])


def measure(kind: str, steps: int, seed: int, seek: dict[str, Any]) -> str:
    env = gym.make("contactlab/PushBlocks-v0")
    layout = env.unwrapped.layout  # type: ignore[attr-defined]
    agent = int(layout.indices("agent")[0])
    rng = np.random.default_rng(seed)
    if kind == "demonstrator":
        demo = PushDemonstrator(layout, 2, rng)
        before = [0]

        def act(obs: np.ndarray) -> np.ndarray:
            before[0] = demo._pushing
            return demo(obs)

        def phase() -> str:  # the action's phase: its last push step resets the counter to 0
            last = before[0] == demo.push_steps - 1
            return "push" if demo._pushing > 0 or last else "position"

        reset = demo.reset
    else:
        g = torch.Generator().manual_seed(seed)
        explorer = SeekExplorer(
            layout,
            2,
            lambda states, action: states,
            lambda obs, action, predicted: torch.rand(len(obs), generator=g),
            2,
            SeekConfig(**seek),
            np.random.default_rng(seed),
        )

        def phase() -> str:  # the phase of the goal that produced the action
            return explorer.phase if explorer.goal is not None else "choose"

        act, reset = explorer.act, explorer.reset
    counts: dict[str, list[int]] = {}
    obs, _ = env.reset(seed=seed)
    for t in range(steps):
        action = rng.uniform(-1.0, 1.0, 2).astype(np.float32) if t < WARMUP else act(obs)
        now = phase()
        obs, _, terminated, truncated, info = env.step(action)
        if t >= WARMUP:
            c = counts.setdefault(now, [0, 0])
            c[0] += 1
            c[1] += touching(info, agent)
        if terminated or truncated:
            obs, _ = env.reset()
            reset()
    env.close()
    n = steps - WARMUP
    total = sum(c[1] for c in counts.values())
    cells = ", ".join(
        f"{k} {c[0] / n:.0%} of steps ({c[1] / c[0]:.0%} touching)" for k, c in counts.items()
    )
    return f"| {kind} {seek if kind == 'seek' else ''} | {seed} | {total / n:.0%} | {cells} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("steps", type=int)
    parser.add_argument("seed", type=int)
    parser.add_argument("--seek", nargs="*", default=[])
    args = parser.parse_args()
    seek: dict[str, Any] = {"speed_scale": "box", "min_speed": 1.0}
    for item in args.seek:
        key, value = item.split("=", 1)
        try:
            seek[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            seek[key] = value
    print("| behaviour | seed | agent touching an object | steps per phase (touching in it) |")
    print("|---|---|---|---|")
    print(measure("demonstrator", args.steps, args.seed, {}))
    print(measure("seek", args.steps, args.seed, seek))


if __name__ == "__main__":
    main()
