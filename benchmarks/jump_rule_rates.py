"""How often the jump rule of the labeller (``env.labels.jump_speed``) turns a ``contact``
into an ``impact`` in the built-in scenes.

Each scene runs the scripted strike policy for 1,500 steps (seed 0) with the rule off; the
script counts the object entity-steps labelled ``contact`` whose linear velocity jumped by
more than each threshold over the step. Last line: one JSON object.

Usage: ``python benchmarks/jump_rule_rates.py``
"""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np

import envs
from envs.regimes import Regime
from envs.scripted import StrikePolicy

THRESHOLDS = (0.2, 0.3, 0.5, 0.75, 1.0)


def main() -> None:
    results = {}
    for name, env_id in envs.SCENES.items():
        env = gym.make(env_id, label_config={"jump_speed": None})
        scene = env.unwrapped
        policy = StrikePolicy(scene.layout, scene.model.nu, np.random.default_rng(0))
        objects = scene.layout.indices("object")
        obs, _ = env.reset(seed=0)
        policy.reset()
        jumps: list[float] = []
        for _ in range(1500):
            obs, _, terminated, truncated, info = env.step(policy(obs))
            labels = info["contact"]
            contact = labels["regime"][objects] == Regime.CONTACT
            jumps += labels["velocity_jump"][objects][contact].tolist()
            if terminated or truncated:
                obs, _ = env.reset()
                policy.reset()
        j = np.array(jumps)
        results[name] = {"contact_steps": len(j)} | {
            f"above_{t}": int((j > t).sum()) for t in THRESHOLDS
        }
        print(name, results[name])
    print(json.dumps(results))


if __name__ == "__main__":
    main()
