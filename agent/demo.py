"""``contactlab demo``: roll out each scene with a scripted poker, render the labels to video.

``env=mjcf env.mjcf_path=X`` or ``env=gym env.id=Hopper-v5`` rolls out that scene alone (with
the env's other keys: entities, support geoms, labels); otherwise every scene in ``scenes``.

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
from envs.scripted import RandomPolicy, ReachStrikePolicy, StrikePolicy, strike_policy


def demo_scenes(cfg: DemoConfig) -> list[str]:
    """The scenes the demo rolls out: the user's own (``env=mjcf``/``env=gym``) or ``scenes``."""
    if cfg.env.name in ("mjcf", "gym"):
        return [cfg.env.name]
    return list(cfg.scenes)


def scene_label(cfg: DemoConfig, scene: str) -> str:
    """Name of a scene in the table and its video file: the MJCF file's stem, the gym id."""
    if scene == "mjcf" and cfg.env.mjcf_path:
        return Path(cfg.env.mjcf_path).stem
    if scene == "gym" and cfg.env.id:
        return cfg.env.id
    return scene


def rollout_scene(cfg: DemoConfig, scene: str, video_path: Path) -> dict:
    """Roll out one scene for ``cfg.steps`` steps, write its video, return regime counts."""
    if scene == cfg.env.name:
        env_cfg = cfg.env
    else:
        env_cfg = dataclasses.replace(cfg.env, name=scene, mjcf_path=None, id=None)
    env = make_env(env_cfg, render_mode="rgb_array", width=cfg.width, height=cfg.height)
    scene_env = env.unwrapped
    assert isinstance(scene_env, ContactSceneEnv)
    rng = np.random.default_rng(cfg.seed)
    action_dim = scene_env.model.nu
    objects = scene_env.layout.indices("object")
    policy: StrikePolicy | ReachStrikePolicy | RandomPolicy = (
        strike_policy(scene_env, rng)
        if cfg.policy == "strike" and len(objects)
        else RandomPolicy(action_dim, rng)
    )
    counts: Counter[str] = Counter()
    critical = 0

    def frames():
        nonlocal critical
        obs, _ = env.reset(seed=cfg.seed)
        policy.reset()
        for _ in tqdm(
            range(cfg.steps), desc=video_path.stem, unit="step", leave=False, disable=None
        ):
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
    for scene in demo_scenes(cfg):
        label = scene_label(cfg, scene)
        result = rollout_scene(cfg, scene, run_dir / f"{label}.mp4")
        summary[label] = result
        c = result["object_regimes"]
        print(
            f"{label:<12} {c['impact']:>7} {c['contact']:>8} {c['free']:>6} {c['rest']:>6} "
            f"{result['critical_events']:>9}  {run_dir / result['video']}"
        )
    write_json_atomic(run_dir / "summary.json", summary)
    return run_dir
