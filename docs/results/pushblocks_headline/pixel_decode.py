"""How well does the pixel model's latent locate things? (docs/compare.md, "Limits, measured")

Trains the ``video_pixels`` model (reconstruction only) on the frames of a run's stored
states, then fits a ridge decode of every entity's x, y from the latent on a random half of the
readout set and reports the error on the other half, next to the spread of the positions.

    MUJOCO_GL=egl python docs/results/pushblocks_headline/pixel_decode.py \\
        RUN_DIR READOUT_PROBE_DIR [UPDATES]

RUN_DIR: any PushBlocks run folder with ``data/`` (e.g. a video_states run); READOUT_PROBE_DIR:
the readout set (``probes/push_blocks-none-n200-h10-s1000004``).
"""

from __future__ import annotations

import sys
import time

import numpy as np
import torch

from agent.config import EnvConfig
from agent.make_env import make_env
from envs.render import render_states
from world_model.config import PixelModelConfig
from world_model.dataset import load_dataset
from world_model.pixels import PixelBatch, PixelWorldModel
from world_model.probe import load_probe_set
from world_model.trainer import ModelTrainer


def main(run_dir: str, readout_dir: str, updates: int = 2000) -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    env = make_env(EnvConfig(), render_mode="rgb_array", width=64, height=64).unwrapped
    data = load_dataset(f"{run_dir}/data")
    n = min(len(data), 4000)
    frames = np.stack(
        [render_states(env, data.obs[:n]), render_states(env, data.next_obs[:n])], axis=1
    )
    cond = torch.from_numpy(np.asarray(data.action[:n], np.float32))
    cfg = PixelModelConfig()
    model = PixelWorldModel(cfg, cond.shape[1])
    trainer = ModelTrainer(model, cfg)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(updates):
        idx = rng.integers(0, n, 128)
        trainer.update(PixelBatch(torch.from_numpy(frames[idx]), cond[idx]))
    print(f"{updates} updates on {n} transitions in {time.perf_counter() - start:.0f} s")

    readout = load_probe_set(readout_dir)
    order = rng.permutation(len(readout.data))
    obs = readout.data.obs[order]
    with torch.no_grad():
        z = model.encode(torch.from_numpy(render_states(env, obs))).double()
    layout = readout.layout
    xy = torch.from_numpy(layout.split(obs)[:, :, :2].reshape(len(obs), -1)).double()
    half = len(obs) // 2
    mean, std = z[:half].mean(0), z[:half].std(0).clamp(min=1e-8)
    x = (z - mean) / std
    target_mean = xy[:half].mean(0)
    eye = torch.eye(x.shape[1], dtype=torch.float64) * 1e-3 * half
    w = torch.linalg.solve(x[:half].T @ x[:half] + eye, x[:half].T @ (xy[:half] - target_mean))
    pred = x[half:] @ w + target_mean
    err = (pred - xy[half:]).reshape(-1, layout.n_entities, 2).norm(dim=-1).mean(0) * 1000
    spread = (xy[half:] - target_mean).reshape(-1, layout.n_entities, 2).norm(dim=-1).mean(0)
    for name, e, s in zip(layout.names, err.tolist(), (spread * 1000).tolist(), strict=True):
        print(f"{name:>12}: decode error {e:6.1f} mm, spread {s:6.1f} mm")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], *(int(a) for a in sys.argv[3:4]))
