"""``contactlab collect``: record a fixed policy's transitions into a dataset folder."""

from __future__ import annotations

from pathlib import Path

import mujoco
import numpy as np
from tqdm import tqdm

from agent.config import CollectConfig
from agent.make_env import make_env
from envs.probe import ProbeConfig, probe_episodes
from envs.scene import ContactSceneEnv
from envs.scripted import RandomPolicy
from world_model.dataset import DatasetMeta, DatasetWriter

_LABELS = ("regime", "pair_kind", "critical", "approach_speed", "impulse")


def default_out(cfg: CollectConfig) -> Path:
    return Path("data") / f"{cfg.env.name}-{cfg.policy}-{cfg.steps}-seed{cfg.seed}"


def dataset_meta(scene: ContactSceneEnv, kind: str, extra: dict) -> DatasetMeta:
    """Identity of data collected from ``scene``: env id and version, scene hash, layout."""
    spec = scene.spec
    return DatasetMeta(
        env_id=spec.id if spec is not None else "contactlab/MJCFScene-v0",
        env_version=f"v{spec.version}" if spec is not None and spec.version is not None else "v0",
        mjcf_sha256=scene.scene_hash,
        mujoco_version=mujoco.__version__,
        layout=scene.layout.to_dict(),
        action_dim=scene.model.nu,
        kind=kind,
        extra=extra,
    )


def collect(cfg: CollectConfig) -> Path:
    """Record ``cfg.steps`` transitions; unstable steps are dropped, never stored."""
    out = Path(cfg.out) if cfg.out else default_out(cfg)
    env = make_env(cfg.env)
    scene = env.unwrapped
    assert isinstance(scene, ContactSceneEnv)
    rng = np.random.default_rng(cfg.seed)
    meta = dataset_meta(
        scene, "train", {"policy": cfg.policy, "seed": cfg.seed, "distractor": cfg.env.distractor}
    )
    episode = 0
    with DatasetWriter(out, meta) as writer:
        if writer.total:
            raise FileExistsError(
                f"{out} already holds {writer.total} transitions; choose another out="
            )
        if cfg.policy == "probe":
            _collect_probe_policy(scene, writer, cfg.steps, rng)
            env.close()
            return out
        policy = RandomPolicy(scene.model.nu, rng)
        obs, _ = env.reset(seed=cfg.seed)
        t = 0
        for _ in tqdm(range(cfg.steps), desc="collect", unit="step", disable=None):
            action = policy(obs)
            next_obs, reward, terminated, truncated, info = env.step(action)
            if not info["sim_unstable"]:
                labels = info["contact"]
                writer.append(
                    obs=obs,
                    action=action,
                    next_obs=next_obs,
                    reward=np.float32(reward),
                    terminated=terminated,
                    truncated=truncated,
                    episode=episode,
                    step=t,
                    **{k: labels[k] for k in _LABELS},
                )
            obs, t = next_obs, t + 1
            if terminated or truncated:
                obs, _ = env.reset()
                episode, t = episode + 1, 0
    env.close()
    return out


def _collect_probe_policy(
    scene: ContactSceneEnv, writer: DatasetWriter, steps: int, rng: np.random.Generator
) -> None:
    """The probe set's own policy (strikes, random actions, launches, drops), one episode per
    sequence: training data from the probe's distribution, never the probe set itself (the
    seed differs)."""
    bar = tqdm(total=steps, desc="collect", unit="step", disable=None)
    written = episode = 0
    sequences = (
        seq for _, episode, _ in probe_episodes(scene, ProbeConfig(), rng) for seq in episode
    )
    for seq in sequences:
        n = min(len(seq["obs"]), steps - written)
        for t in range(n):
            writer.append(
                obs=seq["obs"][t],
                action=seq["action"][t],
                next_obs=seq["next_obs"][t],
                reward=np.float32(0.0),
                terminated=False,
                truncated=t == n - 1,
                episode=episode,
                step=t,
                **{k: seq[k][t] for k in _LABELS},
            )
        written, episode = written + n, episode + 1
        bar.update(n)
        if written >= steps:
            break
    bar.close()
