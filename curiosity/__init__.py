"""Intrinsic rewards computed from a world model: prediction error, ensemble disagreement, RND,
learning progress; their running normalisation and their calibration against true error.

Imports ``envs`` and ``world_model`` only.
"""

from __future__ import annotations

import importlib
from typing import Any

# Public names and the modules that define them; loaded on first use (PEP 562), so that
# importing a config module does not import torch.
_EXPORTS = {
    "build_curiosity": "curiosity.build",
    "calibration_by_regime": "curiosity.calibration",
    "rank_correlation": "curiosity.calibration",
    "SIGNAL_NAMES": "curiosity.config",
    "CuriosityConfig": "curiosity.config",
    "CuriositySignal": "curiosity.curiosity_signal",
    "Disagreement": "curiosity.disagreement",
    "LearningProgress": "curiosity.learning_progress",
    "RewardNormalizer": "curiosity.normalize",
    "PredictionError": "curiosity.prediction_error",
    "IntrinsicReward": "curiosity.protocol",
    "RND": "curiosity.rnd",
    "SIGNALS": "curiosity.registry",
    "register_signal": "curiosity.registry",
    "StateMetric": "curiosity.state_metric",
    "entity_weight": "curiosity.state_metric",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
