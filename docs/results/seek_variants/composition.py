"""What a source's data holds: impacts and sustained contacts per 1,000 env steps, by the
pair kind behind them (agent-object, object-object, object-static), with the impacts' approach
speeds. Entity-transitions are counted, as the labeller assigns them (an agent pushing a block
is one agent-object contact of the agent and one of the block).

    python docs/results/seek_variants/composition.py [--demo STEPS SEED ...] [[LABEL=]DATASET ...]

``DATASET``: a dataset folder (a run's ``data/``, a ``contactlab collect`` output), named in
the table by ``LABEL`` if given. ``--demo STEPS SEED``: also roll the scripted push
demonstrator (the video sources' behaviour policy, with the loop's 1,000 random warm-up steps
first, as a ``video_states`` run acts, but fresh rollouts, not a run's data) on PushBlocks for
STEPS env steps from SEED; repeatable.

The last column is the share of steps in which the agent's own label is an impact or a
contact with an object (its ``pair_kind``; a step whose label is a wall impact while it also
touches a block is not counted).
"""

from __future__ import annotations

import argparse

import numpy as np

from agent.config.env import EnvConfig
from agent.make_env import make_env
from envs.layout import EntityLayout
from envs.regimes import PairKind, Regime
from envs.scripted import PushDemonstrator
from world_model.dataset import load_dataset

KINDS = (
    (PairKind.AGENT_OBJECT, "agent-object"),
    (PairKind.OBJECT_OBJECT, "object-object"),
    (PairKind.OBJECT_STATIC, "object-static"),
)
WARMUP = 1000  # the loop's default warm-up of uniform random actions


def row(name: str, regime: np.ndarray, pair: np.ndarray, speed: np.ndarray, agent: int) -> str:
    """One table row: ``regime``, ``pair``, ``speed`` are ``(N, E)`` per-step labels;
    ``agent`` the agent entity's index."""
    per_k = 1000.0 / len(regime)
    impact, contact = regime == Regime.IMPACT, regime == Regime.CONTACT
    cells = [name, f"{len(regime):,}", f"{impact.sum() * per_k:.0f}"]
    for kind, _ in KINDS:
        m = impact & (pair == kind)
        q = np.quantile(speed[m], 0.9) if m.any() else float("nan")
        cells.append(f"{m.sum() * per_k:.0f} ({q:.2f})")
    cells.append(f"{contact.sum() * per_k:.0f}")
    cells += [f"{(contact & (pair == kind)).sum() * per_k:.0f}" for kind, _ in KINDS]
    own = (impact | contact)[:, agent] & (pair[:, agent] == PairKind.AGENT_OBJECT)
    cells.append(f"{own.mean():.0%}")
    return "| " + " | ".join(cells) + " |"


def demonstrator(steps: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The push demonstrator's labels over ``steps`` PushBlocks steps (warm-up first)."""
    env = make_env(EnvConfig(name="push_blocks"))
    scene = env.unwrapped
    rng = np.random.default_rng(seed)
    policy = PushDemonstrator(scene.layout, scene.model.nu, rng)  # type: ignore[attr-defined]
    obs, _ = env.reset(seed=seed)
    regime, pair, speed = [], [], []
    for t in range(steps):
        if t < WARMUP:
            action = rng.uniform(-1.0, 1.0, scene.model.nu).astype(np.float32)  # type: ignore[attr-defined]
        else:
            action = policy(obs)
        obs, _, terminated, truncated, info = env.step(action)
        labels = info["contact"]
        regime.append(labels["regime"])
        pair.append(labels["pair_kind"])
        speed.append(labels["approach_speed"])
        if terminated or truncated:
            obs, _ = env.reset()
            policy.reset()
    env.close()
    agent = int(scene.layout.indices("agent")[0])  # type: ignore[attr-defined]
    return np.array(regime), np.array(pair), np.array(speed), agent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("datasets", nargs="*")
    parser.add_argument("--demo", nargs=2, type=int, action="append", default=[])
    args = parser.parse_args()
    head = ["data", "steps", "impact entity-transitions / 1k steps"]
    head += [f"{name} (90th pct approach speed, m/s)" for _, name in KINDS]
    head += ["contact entity-transitions / 1k steps"] + [name for _, name in KINDS]
    head += ["agent touching an object"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for item in args.datasets:
        label, _, path = item.rpartition("=")
        t = load_dataset(path)
        agent = int(EntityLayout.from_dict(t.meta.layout).indices("agent")[0])
        print(row(label or path, t.regime, t.pair_kind, t.approach_speed, agent))
    for steps, seed in args.demo:
        print(row(f"demonstrator, seed {seed}", *demonstrator(steps, seed)))


if __name__ == "__main__":
    main()
