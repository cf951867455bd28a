"""Is the curious agent's data drawn to the walls, and does its model then know the walls
better than the open floor? Two tables for PushBlocks (inner wall faces at +-0.40 m):

1. per dataset, the share of object impacts and sustained contacts with the block's centre
   within ``--near`` (5 cm) of a wall face, and the blocks' median speed in those impacts;
2. per trained run, the one-step object position error on the probe set per regime, split
   into near a wall and the open floor, with constant velocity's beside them.

    python docs/results/seek_variants/walls.py PROBE_DIR [--data LABEL=DATASET ...]
        [--run LABEL=RUN_DIR ...] [--model LABEL=MODEL_PT ...]

``RUN_DIR``: a ``contactlab run`` folder (its config.yaml and checkpoint.pt), restored and
stepped as reports restore it (a video-source run's model on the agent's observed motion).
``MODEL_PT``: a model saved by docs/results/watching_advantage/train_cond.py (the run
defaults' world model, trained offline), stepped on what it was conditioned on.

The last table splits the impacts further by the pair kind behind them (agent-object,
object-object, object-static: a wall or the floor).
"""

from __future__ import annotations

import argparse

import gymnasium as gym
import numpy as np
import torch

import envs  # noqa: F401  (registers the scenes)
from agent.config.load import load_config
from agent.config.run import RunConfig
from agent.report.model import restore_model
from agent.report.run_folder import RunFolder
from envs.layout import EntityLayout
from envs.regimes import PairKind, Regime
from world_model.dataset import Transitions, load_dataset
from world_model.evaluation import constant_velocity
from world_model.inference import predict_mean
from world_model.models import build_model
from world_model.probe import ProbeSet, agent_motion, load_probe_set

REGIMES = ((Regime.IMPACT, "impact"), (Regime.CONTACT, "contact"), (Regime.FREE, "free"))


def wall_gap(obs: np.ndarray, layout: EntityLayout, wall: float) -> np.ndarray:
    """``(N, E)`` distance (m) from each entity's centre to the nearest wall face."""
    pos = layout.split(obs)[..., layout.features["pos"]]
    return wall - np.abs(pos[..., :2]).max(-1)


def data_row(label: str, t: Transitions, wall: float, near: float) -> str:
    layout = EntityLayout.from_dict(t.meta.layout)
    objs = layout.indices("object")
    close = (wall_gap(t.obs, layout, wall) < near)[:, objs]
    speed = np.linalg.norm(
        layout.split(t.obs)[:, objs][..., layout.features["linvel"]][..., :2], axis=-1
    )
    cells = [label, f"{len(t):,}"]
    for regime in (Regime.IMPACT, Regime.CONTACT):
        m = t.regime[:, objs] == int(regime)
        cells.append(f"{m.sum():,}: {close[m].mean():.0%}")
    m = t.regime[:, objs] == int(Regime.IMPACT)
    cells.append(f"{np.median(speed[m]):.2f}")
    return "| " + " | ".join(cells) + " |"


def offline_model(path: str, probe: ProbeSet, dt: float) -> np.ndarray:
    """Predictions on the probe set of a model saved by train_cond.py."""
    saved = torch.load(path, weights_only=True)
    cfg, _ = load_config("run", RunConfig, [])
    d, layout = probe.data, probe.layout
    model = build_model(cfg.world_model, layout, int(saved["action_dim"]), dt)
    model.load_state_dict(saved["state"])
    model.eval()
    motion = saved["condition"] == "agent_motion"
    cond = agent_motion(layout, d.next_obs) if motion else d.action
    with torch.no_grad():
        return predict_mean(model, d.obs, cond)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("probe")
    parser.add_argument("--data", action="append", default=[])
    parser.add_argument("--run", action="append", default=[])
    parser.add_argument("--model", action="append", default=[])
    parser.add_argument("--wall", type=float, default=0.40)
    parser.add_argument("--near", type=float, default=0.05)
    args = parser.parse_args()
    probe = load_probe_set(args.probe)
    d, layout = probe.data, probe.layout
    env = gym.make(d.meta.env_id)
    dt = env.unwrapped.dt  # type: ignore[attr-defined]
    env.close()
    objs = layout.indices("object")
    near = (wall_gap(d.obs, layout, args.wall) < args.near)[:, objs]
    cm = f"{args.near * 100:.0f} cm"
    print(
        f"Object impacts and contacts with the block within {cm} of a wall (count: share), "
        "and the blocks' median x-y speed in impacts (m/s):\n"
    )
    print("| data | steps | impacts | contacts | impact speed |\n|---|---|---|---|---|")
    print(data_row("probe set", d, args.wall, args.near))
    for item in args.data:
        label, _, path = item.rpartition("=")
        print(data_row(label or path, load_dataset(path), args.wall, args.near))
    preds = {"constant velocity": constant_velocity(d.obs, layout, dt)}
    for item in args.run:
        label, _, path = item.rpartition("=")
        restored = restore_model(RunFolder.load(path), layout, d.meta.action_dim)
        cond = restored.conditioning(layout, np.stack([d.obs, d.next_obs], 1), d.action[:, None])
        with torch.no_grad():
            preds[label or path] = predict_mean(restored.model, d.obs, cond[:, 0])
    for item in args.model:
        label, _, path = item.rpartition("=")
        preds[label or path] = offline_model(path, probe, dt)
    pos = layout.features["pos"]
    true = layout.split(d.next_obs)[:, objs][..., pos]
    errs = {
        k: np.linalg.norm(layout.split(p)[:, objs][..., pos] - true, axis=-1) * 1000
        for k, p in preds.items()
    }
    columns = []  # (header, mask)
    for regime, name in REGIMES:
        m = d.regime[:, objs] == int(regime)
        columns += [(f"{name} open", m & ~near), (f"{name} near", m & near)]
    table(
        f"Probe one-step object position error, mm, open floor / within {cm} of a wall "
        "(entity-transitions in brackets on the first row)",
        errs,
        columns,
        3,
    )
    impact = d.regime[:, objs] == int(Regime.IMPACT)
    columns = []
    for kind in PairKind:
        m = impact & (d.pair_kind[:, objs] == int(kind))
        if m.any():
            name = kind.name.lower().replace("_", "-")
            columns += [(f"{name} open", m & ~near), (f"{name} near", m & near)]
    table("Probe impacts by pair kind, open floor / near a wall, mm", errs, columns, 2)


def table(title: str, errs: dict[str, np.ndarray], columns: list, digits: int) -> None:
    """One markdown table: a row per model, a column per ``(header, mask)``."""
    print(f"\n{title}:\n")
    print("| model | " + " | ".join(h for h, _ in columns) + " |\n|" + "---|" * (len(columns) + 1))
    for i, (label, err) in enumerate(errs.items()):
        cells = [label]
        for _, m in columns:
            n = f" ({m.sum()})" if i == 0 else ""
            cells.append(f"{err[m].mean():.{digits}f}{n}" if m.any() else "-")
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
