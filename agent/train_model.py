"""``contactlab train-model``: train a world model offline on a dataset, tracking the probe.

The run folder holds ``config.yaml``, ``run.json``, ``metrics.jsonl``/``metrics.csv`` (one row
per evaluation, the whole curve), TensorBoard events, ``checkpoint.pt`` (model, optimizer,
normalisers, RNG states, update count) and, at the end, ``summary.json``. Running the same
command again resumes from the checkpoint; rows logged after it are dropped first, so the
curve has no duplicates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from agent.config import ConfigError, TrainModelConfig
from agent.make_env import make_env
from agent.probes import ensure_probe_set
from agent.progress import probe_brief
from agent.run_dir import config_hash, lock_run_dir, open_run_dir, write_json_atomic
from envs import SCENES
from envs.scene import ContactSceneEnv
from world_model.checkpoint import load_checkpoint, save_checkpoint
from world_model.dataset import Transitions, layout_identity, load_dataset
from world_model.metrics_log import MetricsLogger
from world_model.models import build_model
from world_model.probe import baseline_metrics, evaluate_on_probe, with_baselines
from world_model.replay import Replay
from world_model.trainer import ModelTrainer

CHECKPOINT = "checkpoint.pt"


def check_dataset_fits(data: Transitions, scene: ContactSceneEnv, env_name: str, path: str) -> None:
    """Refuse a dataset recorded on another scene (or another version of it)."""
    expected = SCENES.get(env_name, "contactlab/MJCFScene-v0")
    if data.meta.env_id != expected:
        raise ConfigError(
            f"dataset={path} was recorded on {data.meta.env_id}, but env={env_name} is {expected}"
        )
    if data.meta.mjcf_sha256 != scene.scene_hash:
        raise ConfigError(
            f"dataset={path} was recorded on another version of {expected} (scene hash "
            f"{data.meta.mjcf_sha256[:12]} vs {scene.scene_hash[:12]} now); re-collect it"
        )


def train_model(cfg: TrainModelConfig, resolved: DictConfig) -> Path:
    """Train, evaluate every ``eval_every`` updates, checkpoint; return the run folder.

    The run folder is owned by this process throughout (``RunDirBusy`` if another has it)."""
    name = cfg.run_name or f"train-model-{cfg.env.name}-{config_hash(resolved)}"
    with lock_run_dir(Path(cfg.out_dir) / name):
        return _train_model(cfg, resolved)


def _train_model(cfg: TrainModelConfig, resolved: DictConfig) -> Path:
    data = load_dataset(cfg.dataset)
    env = make_env(cfg.env)
    scene = env.unwrapped
    assert isinstance(scene, ContactSceneEnv)
    check_dataset_fits(data, scene, cfg.env.name, cfg.dataset)
    if data.action is None:
        raise ConfigError(
            f"dataset={cfg.dataset} has no actions; train-model needs action-labelled data"
        )
    if layout_identity(scene.layout.to_dict()) != layout_identity(data.meta.layout):
        raise ConfigError(
            f"dataset={cfg.dataset} has other entities than env={cfg.env.name} with these "
            f"settings ({[e['name'] for e in data.meta.layout['entities']]} vs "
            f"{list(scene.layout.names)}); use the env.entities/env.links it was recorded with"
        )
    probe = ensure_probe_set(cfg.probe, cfg.env, scene)
    dt = scene.dt
    layout = scene.layout  # the dataset's, plus the entity extents older datasets lack
    env.close()

    name = cfg.run_name or f"train-model-{cfg.env.name}-{config_hash(resolved)}"
    run_dir, resumed = open_run_dir(
        cfg.out_dir, name, resolved, cfg.seed, defaults=OmegaConf.structured(TrainModelConfig)
    )
    torch.set_num_threads(cfg.train.threads)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    replay = Replay(len(data), layout.obs_dim, data.meta.action_dim, layout.n_entities, rng)
    replay.extend(data)
    model = build_model(cfg.world_model, layout, data.meta.action_dim, dt)
    baselines = baseline_metrics(probe, dt)
    trainer = ModelTrainer(model, cfg.world_model)
    logger = MetricsLogger(run_dir)

    start = 0
    if resumed and (run_dir / CHECKPOINT).exists():
        state = load_checkpoint(run_dir / CHECKPOINT)
        trainer.load_state_dict(state["trainer"])
        rng.bit_generator.state = state["rng"]
        torch.set_rng_state(torch.from_numpy(state["torch_rng"]))
        start = int(state["update"])
        logger.truncate_after(start)
        print(f"resuming {run_dir} at update {start}/{cfg.train.updates}")
    else:
        if resumed:  # crashed before its first checkpoint: start over, without stale rows
            logger.truncate_after(-1)
        print(f"run folder: {run_dir}")
        logger.log(0, _evaluate(model, probe, baselines))

    tc = cfg.train
    horizon = cfg.world_model.horizon
    last: dict[str, Any] = {}
    bar = tqdm(
        range(start, tc.updates),
        initial=start,
        total=tc.updates,
        desc="train-model",
        unit="upd",
        disable=None,  # None: no bar when stderr is not a terminal (a log file gets lines)
    )
    for update in bar:
        train_metrics = trainer.update(replay.sample_sequences(tc.batch_size, horizon))
        done = update + 1
        if done % tc.eval_every == 0 or done == tc.updates:
            last = {**train_metrics, **_evaluate(model, probe, baselines)}
            logger.log(done, last)
            bar.set_postfix(impact_mm=f"{last.get('probe/impact/pos_mm', float('nan')):.1f}")
            if bar.disable:  # not a terminal: one plain line per evaluation
                print(f"update {done}/{tc.updates}  {probe_brief(last)}".rstrip(), flush=True)
        if done % tc.checkpoint_every == 0 or done == tc.updates:
            save_checkpoint(
                run_dir / CHECKPOINT,
                {
                    "trainer": trainer.state_dict(),
                    "rng": rng.bit_generator.state,
                    "torch_rng": torch.get_rng_state().numpy(),
                    "update": done,
                },
            )
    logger.close()
    if not last and start >= tc.updates:
        print(f"{run_dir} is already complete ({tc.updates} updates)")
    summary = {
        "dataset": str(cfg.dataset),
        "transitions": len(data),
        "probe": {
            "path": str(probe.path),
            "content_hash": probe.content_hash,
            "transitions": len(probe.data),
        },
        "updates": tc.updates,
        "final": last or _evaluate(model, probe, baselines),
    }
    write_json_atomic(run_dir / "summary.json", summary)
    return run_dir


def _evaluate(model: Any, probe: Any, baselines: dict[str, float]) -> dict[str, float]:
    """Probe metrics, the physics baselines beside them and the model's ratio to constant
    velocity (``probe/.../vs_cv``)."""
    model.eval()
    try:
        return with_baselines(evaluate_on_probe(model, probe), baselines)
    finally:
        model.train()
