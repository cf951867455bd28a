"""Transition storage, latent dynamics ensembles, their training and contact-stratified evaluation.

Imports only ``envs.layout`` / ``envs.regimes`` from the rest of contactlab.
"""

from world_model.batch import SequenceBatch, TransitionBatch
from world_model.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from world_model.config import WorldModelConfig
from world_model.dataset import DatasetError, DatasetMeta, DatasetWriter, Transitions, load_dataset
from world_model.evaluation import one_step_metrics, rollout_metrics
from world_model.inference import given_mask_for, predict_mean, rollout_mean
from world_model.metrics_log import MetricsLogger
from world_model.models import InteractionNetModel, LatentDynamicsModel, LatentMLPModel, build_model
from world_model.normalizer import RunningNormalizer
from world_model.protocol import WorldModel
from world_model.replay import Replay
from world_model.trainer import ModelTrainer, NonFiniteUpdateError

__all__ = [
    "CheckpointError",
    "DatasetError",
    "DatasetMeta",
    "DatasetWriter",
    "InteractionNetModel",
    "LatentDynamicsModel",
    "LatentMLPModel",
    "MetricsLogger",
    "ModelTrainer",
    "NonFiniteUpdateError",
    "Replay",
    "RunningNormalizer",
    "SequenceBatch",
    "TransitionBatch",
    "Transitions",
    "WorldModel",
    "WorldModelConfig",
    "build_model",
    "given_mask_for",
    "load_checkpoint",
    "load_dataset",
    "one_step_metrics",
    "predict_mean",
    "rollout_mean",
    "rollout_metrics",
    "save_checkpoint",
]
