"""Trainer: the non-finite guard, normaliser updates and exact resume through a checkpoint."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from world_model.batch import SequenceBatch
from world_model.checkpoint import load_checkpoint, save_checkpoint
from world_model.config import WorldModelConfig
from world_model.models import build_model
from world_model.replay import Replay
from world_model.toy import toy_layout, toy_transitions
from world_model.trainer import ModelTrainer, NonFiniteUpdateError

torch.set_num_threads(1)
SMALL = {"hidden": 32, "latent_dim": 16, "entity_latent_dim": 8, "n_members": 2, "depth": 1}


def _setup(objective: str = "reconstructive", kind: str = "mlp", **kw):
    torch.manual_seed(0)
    cfg = WorldModelConfig(kind=kind, objective=objective, **{**SMALL, **kw})
    model = build_model(cfg, toy_layout(), 2)
    rep = Replay(1000, 39, 2, 3, np.random.default_rng(0))
    rep.extend(toy_transitions(6, 20, np.random.default_rng(1)))
    return cfg, model, ModelTrainer(model, cfg), rep


def _poisoned(batch: SequenceBatch) -> SequenceBatch:
    obs = batch.obs.clone()
    obs[0, 1, 5] = float("nan")
    return batch._replace(obs=obs)


def _params(model: torch.nn.Module) -> list[torch.Tensor]:
    return [t.detach().clone() for t in model.state_dict().values()]


@pytest.mark.parametrize("objective", ["reconstructive", "jepa"])
def test_nan_batch_is_skipped_and_weights_stay_finite(objective: str) -> None:
    _, model, trainer, rep = _setup(objective)
    for _ in range(3):
        trainer.update(rep.sample_sequences(16, 2))
    before = _params(model)
    count = model.obs_norm.count.clone()
    metrics = trainer.update(_poisoned(rep.sample_sequences(16, 2)))
    assert metrics["wm/skipped_nonfinite"] == 1.0 and metrics["wm/updates"] == 3.0
    assert not np.isfinite(metrics["wm/loss/total"])
    after = _params(model)
    assert all(torch.equal(a, b) for a, b in zip(before, after, strict=True))  # incl. normalisers
    assert torch.equal(model.obs_norm.count, count)
    metrics = trainer.update(rep.sample_sequences(16, 2))  # training goes on
    assert metrics["wm/updates"] == 4.0 and np.isfinite(metrics["wm/loss/total"])
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_bad_parameters_are_restored_from_the_last_good_snapshot() -> None:
    _, model, trainer, rep = _setup(snapshot_every=1)
    trainer.update(rep.sample_sequences(16, 2))
    with torch.no_grad():
        model.decoder.out.weight.fill_(float("inf"))  # parameters themselves went bad
    metrics = trainer.update(rep.sample_sequences(16, 2))
    assert metrics["wm/skipped_nonfinite"] == 1.0
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert np.isfinite(trainer.update(rep.sample_sequences(16, 2))["wm/loss/total"])


def test_consecutive_failures_raise_naming_update_and_term() -> None:
    _, _, trainer, rep = _setup(max_nonfinite=3)
    trainer.update(rep.sample_sequences(16, 2))
    bad = _poisoned(rep.sample_sequences(16, 2))
    trainer.update(bad)
    trainer.update(bad)
    with pytest.raises(
        NonFiniteUpdateError, match=r"update 4: 3 consecutive .* loss term 'recon' is nan"
    ):
        trainer.update(bad)


def test_normalizers_follow_the_data() -> None:
    _, model, trainer, rep = _setup()
    batch = rep.sample_sequences(32, 3)
    trainer.update(batch)
    obs = batch.obs.reshape(-1, 39).double()
    torch.testing.assert_close(model.obs_norm.mean, obs.mean(0))
    assert float(model.obs_norm.count) == 32 * 4


@pytest.mark.parametrize(
    ("kind", "objective"), [("mlp", "jepa"), ("interaction", "reconstructive")]
)
def test_resume_through_a_checkpoint_continues_identically(
    tmp_path: Path, kind: str, objective: str
) -> None:
    cfg, _, trainer, rep = _setup(objective, kind)
    for _ in range(3):
        trainer.update(rep.sample_sequences(16, 2))
    save_checkpoint(
        tmp_path / "ck.pt", {"trainer": trainer.state_dict(), "replay": rep.state_dict()}
    )

    torch.manual_seed(123)  # a different init, fully overwritten by the checkpoint
    model2 = build_model(cfg, toy_layout(), 2)
    trainer2 = ModelTrainer(model2, cfg)
    rep2 = Replay(1000, 39, 2, 3, np.random.default_rng(99))
    state = load_checkpoint(tmp_path / "ck.pt")
    trainer2.load_state_dict(state["trainer"])
    rep2.load_state_dict(state["replay"])
    for _ in range(2):
        a = trainer.update(rep.sample_sequences(16, 2))
        b = trainer2.update(rep2.sample_sequences(16, 2))
        assert a == b
    for x, y in zip(_params(trainer.model), _params(model2), strict=True):
        assert torch.equal(x, y)
