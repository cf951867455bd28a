"""The world model (and curiosity signal) of a run folder, restored from its checkpoint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from agent.parts import build_parts
from agent.report.run_folder import CHECKPOINT, ReportError, RunFolder, typed_section
from curiosity.config import CuriosityConfig
from envs.layout import EntityLayout
from world_model.checkpoint import load_checkpoint
from world_model.config import WorldModelConfig
from world_model.probe import agent_motion
from world_model.protocol import WorldModel


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
    trainer_state = state.get("learner", {}).get("trainer", state.get("trainer"))
    if trainer_state is None:
        raise ReportError(f"{path}: holds no world-model trainer state")
    ccfg = typed_section(CuriosityConfig, run.config.curiosity) if run.is_active_run else None
    parts = build_parts(
        run.env_config(),
        typed_section(WorldModelConfig, run.config.world_model),
        ccfg,
        observe_actions=run.condition == "action",
    )  # the run's own parts, built as contactlab run builds them
    parts.env.close()
    if parts.layout.obs_dim != layout.obs_dim or (
        run.condition == "action" and parts.action_dim != action_dim
    ):
        raise ReportError(
            f"{run.path}: its config.yaml builds a scene of {parts.layout.obs_dim} observation "
            f"and {parts.action_dim} action dims, not the probe set's {layout.obs_dim} and "
            f"{action_dim}"
        )
    parts.trainer.load_state_dict(trainer_state)
    model = parts.model
    model.eval()
    signal = parts.signal
    if signal is not None:
        saved = state.get("learner", {}).get("curiosity")
        if saved is not None:
            signal.load_state_dict(saved)
    name = ccfg.name if ccfg is not None else None
    return RestoredModel(model, run.condition, signal, name)


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
