"""``contactlab demo``: roll out each scene with a scripted poker, render the labels to video.

Every entity is tinted by its regime in each frame (impact red, contact orange, free blue,
rest grey), and the regime counts of the objects are printed and saved to ``summary.json``.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import numpy as np
from omegaconf import DictConfig
from tqdm import tqdm

from agent.config import DemoConfig
from agent.make_env import make_env
from agent.run_dir import create_run_dir, write_json_atomic
from agent.video import write_video
from envs.regimes import REGIME_NAMES
from envs.render import render_labelled
from envs.scene import ContactSceneEnv
from envs.scripted import RandomPolicy, StrikePolicy


def rollout_scene(cfg: DemoConfig, scene: str, video_path: Path) -> dict:
    """Roll out one scene for ``cfg.steps`` steps, write its video, return regime counts."""
    env_cfg = dataclasses.replace(cfg.env, name=scene, mjcf_path=None)
    env = make_env(env_cfg, render_mode="rgb_array", width=cfg.width, height=cfg.height)
    scene_env = env.unwrapped
    assert isinstance(scene_env, ContactSceneEnv)
    rng = np.random.default_rng(cfg.seed)
    action_dim = scene_env.model.nu
    policy = (
        StrikePolicy(scene_env.layout, action_dim, rng)
        if cfg.policy == "strike"
        else RandomPolicy(action_dim, rng)
    )
    objects = scene_env.layout.indices("object")
    counts: Counter[str] = Counter()
    critical = 0

    def frames():
        nonlocal critical
        obs, _ = env.reset(seed=cfg.seed)
        policy.reset()
        for _ in tqdm(range(cfg.steps), desc=scene, unit="step", leave=False):
            obs, _, terminated, truncated, info = env.step(policy(obs))
            regime = info["contact"]["regime"]
            counts.update(REGIME_NAMES[r] for r in regime[objects])
            critical += int(info["contact"]["critical"].sum())
            yield render_labelled(scene_env, regime)
            if terminated or truncated:
                obs, _ = env.reset()
                policy.reset()

    n_frames = write_video(video_path, frames(), fps=scene_env.metadata["render_fps"])
    env.close()
    return {
        "video": video_path.name,
        "frames": n_frames,
        "object_regimes": {name: counts.get(name, 0) for name in REGIME_NAMES},
        "critical_events": critical,
    }


def run_demo(cfg: DemoConfig, resolved: DictConfig) -> Path:
    """Run the demo for every scene in ``cfg.scenes``; returns the run folder."""
    run_dir = create_run_dir(cfg.out_dir, "demo", resolved, cfg.seed)
    summary = {}
    print(f"run folder: {run_dir}")
    print(
        f"{'scene':<12} {'impact':>7} {'contact':>8} {'free':>6} {'rest':>6} {'critical':>9}  video"
    )
    for scene in cfg.scenes:
        result = rollout_scene(cfg, scene, run_dir / f"{scene}.mp4")
        summary[scene] = result
        c = result["object_regimes"]
        print(
            f"{scene:<12} {c['impact']:>7} {c['contact']:>8} {c['free']:>6} {c['rest']:>6} "
            f"{result['critical_events']:>9}  {run_dir / result['video']}"
        )
    write_json_atomic(run_dir / "summary.json", summary)
    return run_dir
