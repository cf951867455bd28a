"""Score the final model of every video_pixels run with both readouts (docs/compare.md).

The curves of the committed runs were scored with the default ``delta`` readout. This loads
each run's final ``checkpoint.pt`` and scores it on the same probe set with ``delta`` and with
the strict, perception-only ``state`` readout, next to the "nothing moves" baseline.

    MUJOCO_GL=egl python docs/results/pushblocks_headline/rescore_pixels.py \\
        RUNS_DIR PROBE_DIR READOUT_PROBE_DIR > pixel_readouts.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch
from omegaconf import OmegaConf

from agent.config import EnvConfig
from agent.make_env import make_env
from agent.pixel_learner import pixel_view
from agent.report.run_folder import typed_section
from world_model.checkpoint import load_checkpoint
from world_model.config import PixelModelConfig
from world_model.evaluation import one_step_metrics
from world_model.pixels import PixelWorldModel, evaluate_pixel_model
from world_model.probe import load_probe_set

KEYS = ("impact", "contact", "free", "rest")


def main(runs_dir: str, probe_dir: str, readout_dir: str) -> None:
    torch.set_num_threads(1)
    probe, readout = load_probe_set(probe_dir), load_probe_set(readout_dir)
    env = make_env(EnvConfig(), render_mode="rgb_array", width=64, height=64).unwrapped
    probe_view, readout_view = pixel_view(env, probe), pixel_view(env, readout)
    d, layout = probe.data, probe.layout
    still = one_step_metrics(d.obs, d.next_obs, d.obs, d.regime, d.pair_kind, layout)
    out: dict = {"nothing_moves": {k: still[f"probe/{k}/pos_mm"] for k in KEYS}, "runs": {}}
    for run in sorted(Path(runs_dir).glob("video_pixels-s*")):
        if not (run / "summary.json").exists():  # unfinished
            continue
        cfg = typed_section(PixelModelConfig, OmegaConf.load(run / "config.yaml").pixels)
        model = PixelWorldModel(cfg, probe_view.cond.shape[1])
        model.load_state_dict(load_checkpoint(run / "checkpoint.pt")["learner"]["trainer"]["model"])
        model.eval()
        scores = {}
        for name in ("delta", "state"):
            m = evaluate_pixel_model(
                model, readout_view, probe_view, d.regime, d.pair_kind, probe.seq_len, layout,
                cfg.readout_ridge, readout=name,
            )  # fmt: skip
            scores[name] = {k: m[f"probe/{k}/pos_mm"] for k in KEYS}
        out["runs"][run.name] = scores
        print(run.name, json.dumps(scores), file=sys.stderr)
    for name in ("delta", "state"):
        out[f"mean_{name}"] = {
            k: float(np.mean([r[name][k] for r in out["runs"].values()])) for k in KEYS
        }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main(*sys.argv[1:4])
