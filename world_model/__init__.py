"""Transition storage, latent dynamics ensembles, their training and contact-stratified evaluation.

Imports only ``envs.layout`` / ``envs.regimes`` from the rest of contactlab.
"""

from __future__ import annotations

import importlib
from typing import Any

# Public names and the modules that define them; loaded on first use (PEP 562), so that
# importing a config module does not import torch.
_EXPORTS = {
    "SequenceBatch": "world_model.batch",
    "TransitionBatch": "world_model.batch",
    "CheckpointError": "world_model.checkpoint",
    "load_checkpoint": "world_model.checkpoint",
    "save_checkpoint": "world_model.checkpoint",
    "WorldModelConfig": "world_model.config",
    "DatasetError": "world_model.dataset",
    "DatasetMeta": "world_model.dataset",
    "DatasetWriter": "world_model.dataset",
    "Transitions": "world_model.dataset",
    "load_dataset": "world_model.dataset",
    "one_step_metrics": "world_model.evaluation",
    "rollout_metrics": "world_model.evaluation",
    "given_mask_for": "world_model.inference",
    "predict_mean": "world_model.inference",
    "rollout_mean": "world_model.inference",
    "MetricsLogger": "world_model.metrics_log",
    "InteractionNetModel": "world_model.models",
    "LatentDynamicsModel": "world_model.models",
    "LatentMLPModel": "world_model.models",
    "build_model": "world_model.models",
    "RunningNormalizer": "world_model.normalizer",
    "WorldModel": "world_model.protocol",
    "Replay": "world_model.replay",
    "ModelTrainer": "world_model.trainer",
    "NonFiniteUpdateError": "world_model.trainer",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
