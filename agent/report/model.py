"""The world model (and curiosity signal) of a run folder, restored from its checkpoint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from agent.make_env import make_env
from agent.report.run_folder import CHECKPOINT, ReportError, RunFolder, typed_section
from curiosity import build_curiosity
from curiosity.config import CuriosityConfig
from envs.layout import EntityLayout
from world_model.checkpoint import load_checkpoint
from world_model.config import WorldModelConfig
from world_model.models import build_model
from world_model.probe import agent_motion
from world_model.protocol import WorldModel
from world_model.trainer import ModelTrainer


@dataclass
class RestoredModel:
    """A run's world model in eval mode, and its curiosity signal (``None`` for train-model).

    Attributes:
        model: the trained world model.
        condition: ``"action"`` or ``"agent_motion"`` (see :func:`conditioning`).
        signal: ``signal(obs (B,D), action (B,A), next_obs (B,D)) -> (B,)`` normalised
            intrinsic reward, with the running normaliser the run ended with.
        curiosity_name: e.g. ``"disagreement"``; ``None`` without a signal.
    """

    model: WorldModel
    condition: str
    signal: Any
    curiosity_name: str | None

    def conditioning(
        self, layout: EntityLayout, obs_seq: np.ndarray, actions: np.ndarray
    ) -> np.ndarray:
        """What the model steps on: the actions ``(..., H, A)``, or for a video-source model the
        agent's observed next states ``(..., H, 13 * n_agents)`` taken from ``obs_seq
        (..., H + 1, D)``."""
        if self.condition == "agent_motion":
            return np.asarray(agent_motion(layout, obs_seq[..., 1:, :]), dtype=np.float32)
        return actions


def restore_model(run: RunFolder, layout: EntityLayout, action_dim: int) -> RestoredModel:
    """Build the run's model from ``config.yaml`` and load ``checkpoint.pt`` into it.

    Args:
        action_dim: the scene's action size; a video-source model is sized for the agent's
            motion instead.

    Raises:
        ReportError: no checkpoint, or one without trainer state.
    """
    path = run.path / CHECKPOINT
    if not path.is_file():
        raise ReportError(f"{run.path}: no {CHECKPOINT} (the run saved no model yet)")
    if run.config.get("loop", {}).get("observation", "states") == "pixels":
        raise ReportError(
            f"{run.path}: a pixel world model (source video_pixels) imagines latents, not "
            "states; the real-vs-imagined video is drawn for state models only"
        )
    state = load_checkpoint(path)
    cfg = typed_section(WorldModelConfig, run.config.world_model)
    if run.condition == "agent_motion":
        action_dim = layout.feature_dim * len(layout.indices("agent"))
    dt = _env_dt(run) if cfg.kind == "graph" else None
    model = build_model(cfg, layout, action_dim, dt)
    trainer_state = state.get("learner", {}).get("trainer", state.get("trainer"))
    if trainer_state is None:
        raise ReportError(f"{path}: holds no world-model trainer state")
    ModelTrainer(model, cfg).load_state_dict(trainer_state)
    model.eval()
    signal, name = None, None
    if run.is_active_run:
        ccfg = typed_section(CuriosityConfig, run.config.curiosity)
        signal = build_curiosity(
            ccfg, model, layout.obs_dim, action_dim, layout,
            make_model=lambda: build_model(cfg, layout, action_dim, dt),
        )  # fmt: skip
        saved = state.get("learner", {}).get("curiosity")
        if saved is not None:
            signal.load_state_dict(saved)
        name = ccfg.name
    return RestoredModel(model, run.condition, signal, name)


@torch.no_grad()
def _env_dt(run: RunFolder) -> float:
    """Seconds per env step of the run's scene (the graph model integrates over it)."""
    env = make_env(run.env_config())
    try:
        return float(env.unwrapped.dt)  # type: ignore[attr-defined]
    finally:
        env.close()


def intrinsic_rewards(signal: Any, obs_seq: np.ndarray, actions: np.ndarray) -> np.ndarray:
    """Normalised intrinsic reward of each real transition of a sequence.

    Args:
        obs_seq: ``(H + 1, D)``; actions: ``(H, A)``, what the model is conditioned on
            (:meth:`RestoredModel.conditioning`).

    Returns:
        ``(H,)`` numpy array.
    """
    o = torch.as_tensor(obs_seq[:-1], dtype=torch.float32)
    n = torch.as_tensor(obs_seq[1:], dtype=torch.float32)
    a = torch.as_tensor(actions, dtype=torch.float32)
    return np.asarray(signal(o, a, n).numpy(), dtype=np.float64)
