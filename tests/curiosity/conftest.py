"""Shared set-up: synthetic agent-and-ball transitions from chosen regions, a tiny trained model.

The dynamics are the toy scene's without walls (``world_model.toy``): the agent's velocity is
the action, the ball glides at constant velocity; ``x' = x + v' dt``. A *region* is a box of
start positions, a speed range and an action range, so familiar and novel data differ in
where the bodies are and how fast they move.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch

from envs.regimes import Regime
from world_model.batch import TransitionBatch
from world_model.config import WorldModelConfig
from world_model.models import LatentDynamicsModel, build_model
from world_model.toy import DT, HEIGHT, toy_layout
from world_model.trainer import ModelTrainer

torch.set_num_threads(1)

TINY = WorldModelConfig(hidden=32, latent_dim=16, n_members=4, depth=1, lr=3e-3)
LAYOUT = toy_layout(1)  # agent + one ball: E = 2, D = 26, A = 2
ACTION_DIM = 2


@dataclass(frozen=True)
class Region:
    """Start positions in ``[lo, hi]^2``, velocities in ``[-speed, speed]``, actions likewise."""

    lo: float
    hi: float
    speed: float
    act: float


FAMILIAR = Region(-0.5, 0.5, 0.5, 1.0)
NOVEL = Region(1.5, 2.5, 2.0, 3.0)


def _state(pos: np.ndarray, vel: np.ndarray) -> np.ndarray:
    s = np.zeros((*pos.shape[:2], 13), np.float32)
    s[..., 0:2], s[..., 2], s[..., 3], s[..., 7:9] = pos, HEIGHT, 1.0, vel
    return s.reshape(len(pos), -1)


def transitions(region: Region, n: int, seed: int) -> TransitionBatch:
    """``n`` independent transitions from ``region``."""
    rng = np.random.default_rng(seed)
    pos = rng.uniform(region.lo, region.hi, size=(n, 2, 2))
    vel = rng.uniform(-region.speed, region.speed, size=(n, 2, 2))
    act = rng.uniform(-region.act, region.act, size=(n, 2))
    vel_next = vel.copy()
    vel_next[:, 0] = act
    obs, nxt = _state(pos, vel), _state(pos + vel_next * DT, vel_next)
    return TransitionBatch(
        obs=torch.as_tensor(obs),
        action=torch.as_tensor(act, dtype=torch.float32),
        next_obs=torch.as_tensor(nxt),
        terminated=torch.zeros(n, dtype=torch.bool),
        truncated=torch.zeros(n, dtype=torch.bool),
        regime=torch.full((n, 2), int(Regime.FREE), dtype=torch.int8),
    )


def train(model: LatentDynamicsModel, data: TransitionBatch, updates: int, seed: int = 0) -> None:
    """``updates`` Adam steps on minibatches of 64 drawn from ``data``."""
    trainer = ModelTrainer(model, TINY)
    gen = torch.Generator().manual_seed(seed)
    n = data.obs.shape[0]
    for _ in range(updates):
        idx = torch.randint(0, n, (64,), generator=gen)
        trainer.update(TransitionBatch(*(x[idx] for x in data)))


def new_model(seed: int = 0) -> LatentDynamicsModel:
    torch.manual_seed(seed)
    return build_model(TINY, LAYOUT, ACTION_DIM)


class ToyKit:
    """What the curiosity tests share, handed out by the ``kit`` fixture."""

    layout = LAYOUT
    action_dim = ACTION_DIM
    familiar = FAMILIAR
    novel = NOVEL
    Region = Region
    transitions = staticmethod(transitions)
    train = staticmethod(train)
    new_model = staticmethod(new_model)


@pytest.fixture(scope="session")
def kit() -> type[ToyKit]:
    return ToyKit


@pytest.fixture(scope="session")
def familiar_model() -> LatentDynamicsModel:
    """A tiny ensemble trained for 300 updates on familiar transitions (do not mutate)."""
    model = new_model(0)
    train(model, transitions(FAMILIAR, 2000, seed=1), 300)
    return model
