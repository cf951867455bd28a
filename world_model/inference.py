"""Batched, gradient-free model predictions as numpy arrays, ready for :mod:`evaluation`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from envs.layout import EntityLayout
from world_model.protocol import WorldModel


def given_mask_for(layout: EntityLayout, kinds: Sequence[str] = ("agent",)) -> np.ndarray:
    """``(D,)`` bool mask of the dims of every entity whose kind is in ``kinds``.

    With ``kinds=("agent",)`` this gives the agent's own true motion in rollouts, so that a
    model trained without actions is scored on the objects only.
    """
    mask = np.zeros((layout.n_entities, layout.feature_dim), bool)
    for i, kind in enumerate(layout.kinds):
        mask[i] = kind in kinds
    return mask.reshape(-1)


@torch.no_grad()
def predict_members(
    model: WorldModel, obs: np.ndarray, action: np.ndarray, chunk: int = 256
) -> torch.Tensor:
    """Every member's one-step predictions, computed in chunks of ``chunk`` transitions
    (small chunks stay in cache: 256 is 1.5-1.7x faster than 4096 for the default model on
    8k transitions, bit for bit the same, ``benchmarks/probe_pass.py``).

    Args:
        obs: ``(N, D)``; action: ``(N, A)``.

    Returns:
        ``(M, N, D)`` float32: what a probe evaluation and a curiosity signal both read, so that
        one model pass serves both (:meth:`agent.learner.ActiveLearner.probe_metrics`).
    """
    out = []
    for s in range(0, len(obs), chunk):
        o = torch.as_tensor(obs[s : s + chunk], dtype=torch.float32)
        a = torch.as_tensor(action[s : s + chunk], dtype=torch.float32)
        out.append(model.predict(o, a))
    if not out:
        return torch.zeros((getattr(model, "n_members", 1), 0, obs.shape[-1]))
    return torch.cat(out, dim=1)


@torch.no_grad()
def predict_mean(
    model: WorldModel, obs: np.ndarray, action: np.ndarray, chunk: int = 256
) -> np.ndarray:
    """Ensemble-mean one-step predictions.

    Args:
        obs: ``(N, D)``; action: ``(N, A)``.

    Returns:
        ``(N, D)`` float32 mean over members of the predicted next observation.
    """
    if len(obs) == 0:
        return np.zeros_like(obs, np.float32)
    return predict_members(model, obs, action, chunk).mean(0).numpy()


@torch.no_grad()
def rollout_mean(
    model: WorldModel,
    obs_seq: np.ndarray,
    actions: np.ndarray,
    given_mask: np.ndarray | None = None,
    chunk: int = 1024,
) -> np.ndarray:
    """Ensemble-mean open-loop rollouts from the first observation of each sequence.

    Args:
        obs_seq: ``(N, H + 1, D)`` true observations (``o_0`` starts the rollout; ``o_1..o_H``
            fill the dims of ``given_mask``).
        actions: ``(N, H, A)``.
        given_mask: ``(D,)`` bool dims given from the truth at every step, or ``None``.

    Returns:
        ``(N, H, D)`` float32 mean over members of the imagined ``o_1 .. o_H``.
    """
    mask = None if given_mask is None else torch.as_tensor(given_mask, dtype=torch.bool)
    out = []
    for s in range(0, len(obs_seq), chunk):
        seq = torch.as_tensor(obs_seq[s : s + chunk], dtype=torch.float32)
        act = torch.as_tensor(actions[s : s + chunk], dtype=torch.float32)
        given = seq[:, 1:] if mask is not None else None
        out.append(model.rollout(seq[:, 0], act, given=given, given_mask=mask).mean(0).numpy())
    n, h1, d = obs_seq.shape
    return np.concatenate(out) if out else np.zeros((0, h1 - 1, d), np.float32)
