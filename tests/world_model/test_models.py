"""World models: config validation, shapes, vectorised ensembles, fitting a known system, JEPA."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from world_model.config import WorldModelConfig
from world_model.ensemble import EnsembleMLP
from world_model.evaluation import one_step_metrics
from world_model.inference import given_mask_for, predict_mean, rollout_mean
from world_model.models import InteractionNetModel, LatentMLPModel, build_model
from world_model.protocol import WorldModel
from world_model.replay import Replay
from world_model.toy import toy_layout, toy_transitions
from world_model.trainer import ModelTrainer

torch.set_num_threads(1)
SMALL = {"hidden": 32, "latent_dim": 16, "entity_latent_dim": 8, "n_members": 3, "depth": 1}
KINDS = [
    ("mlp", "reconstructive"),
    ("mlp", "jepa"),
    ("interaction", "reconstructive"),
    ("interaction", "jepa"),
]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"kind": "cnn"},
            r"WorldModelConfig.kind must be one of \('graph', 'mlp', 'interaction'\), got 'cnn'",
        ),
        (
            {"objective": "vae"},
            r"WorldModelConfig.objective must be one of \('reconstructive', 'jepa'\)",
        ),
        ({"n_members": 0}, "WorldModelConfig.n_members must be an integer >= 1, got 0"),
        ({"lr": -1.0}, "WorldModelConfig.lr must be > 0"),
        ({"ema_tau": 0.0}, r"WorldModelConfig.ema_tau must be in \(0, 1\]"),
        ({"cov_weight": -0.1}, "WorldModelConfig.cov_weight must be >= 0"),
    ],
)
def test_config_validation_names_the_field(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WorldModelConfig(**kwargs)


@pytest.mark.parametrize(("kind", "objective"), KINDS)
def test_shapes_and_loss_terms(kind: str, objective: str) -> None:
    torch.manual_seed(0)
    layout = toy_layout()
    cfg = WorldModelConfig(kind=kind, objective=objective, **SMALL)
    model = build_model(cfg, layout, action_dim=2)
    assert isinstance(model, WorldModel)
    assert isinstance(model, InteractionNetModel if kind == "interaction" else LatentMLPModel)
    b, h, d, m = 4, 3, layout.obs_dim, cfg.n_members
    obs, act = torch.randn(b, d), torch.randn(b, h, 2)
    assert model.predict(obs, act[:, 0]).shape == (m, b, d)
    assert model.rollout(obs, act).shape == (m, b, h, d)
    z = model.encode(obs)
    assert z.shape[:2] == (m, b) and z.ndim == 3
    rep = Replay(500, d, 2, layout.n_entities, np.random.default_rng(0))
    rep.extend(toy_transitions(4, 10, np.random.default_rng(1)))
    losses = model.loss(rep.sample_sequences(8, h))
    expected = (
        {"recon", "total"}
        if objective == "reconstructive"
        else {"jepa", "var", "cov", "readout", "total"}
    )
    assert set(losses) == expected and all(
        v.ndim == 0 and torch.isfinite(v) for v in losses.values()
    )


def test_rollout_given_mask_overwrites_agent_dims_only() -> None:
    torch.manual_seed(0)
    layout = toy_layout()
    model = build_model(WorldModelConfig(kind="interaction", **SMALL), layout, 2)
    mask = torch.from_numpy(given_mask_for(layout))
    assert mask.sum() == 13 and mask[:13].all()
    obs, act, given = torch.randn(2, 39), torch.randn(2, 4, 2), torch.randn(2, 4, 39)
    with torch.no_grad():
        out = model.rollout(obs, act, given=given, given_mask=mask)
        free = model.rollout(obs, act)
    assert torch.equal(out[..., :13], given[..., :13].expand(3, -1, -1, -1))
    assert not torch.allclose(out[..., 13:], free[..., 13:])  # objects react to the given agent


def test_ensemble_is_vectorised_and_members_differ() -> None:
    torch.manual_seed(0)
    mlp = EnsembleMLP(4, 5, 3, hidden=8, depth=2, layer_norm=True)
    x = torch.randn(4, 6, 5)
    out = mlp(x)
    for i in range(4):  # member i alone equals slice i of the batched evaluation
        h = x[i]
        for layer, norm in zip(mlp.hidden, mlp.norms, strict=True):
            h = h @ layer.weight[i] + layer.bias[i]
            h = torch.nn.functional.layer_norm(h, (8,)) * norm.weight[i] + norm.bias[i]
            h = torch.nn.functional.silu(h)
        torch.testing.assert_close(out[i], h @ mlp.out.weight[i] + mlp.out.bias[i])
    same = mlp(x[:1].expand(4, -1, -1))
    assert not torch.allclose(same[0], same[1])  # independent init per member


def test_action_free_model_trains() -> None:
    torch.manual_seed(0)
    layout = toy_layout()
    cfg = WorldModelConfig(kind="mlp", **SMALL)
    model = build_model(cfg, layout, action_dim=0)
    t = toy_transitions(3, 10, np.random.default_rng(0))
    rep = Replay(100, 39, 0, 3, np.random.default_rng(0))
    for i in range(len(t)):
        rep.add(
            t.obs[i],
            np.zeros(0),
            t.next_obs[i],
            0.0,
            False,
            bool(t.truncated[i]),
            t.regime[i],
            int(t.episode[i]),
            int(t.step[i]),
        )
    metrics = ModelTrainer(model, cfg).update(rep.sample_sequences(8, 2))
    assert metrics["wm/updates"] == 1.0


def _fit(
    kind: str, objective: str, steps: int, **kw: float
) -> tuple[dict[str, float], dict[str, float], LatentMLPModel]:
    torch.manual_seed(0)
    layout = toy_layout(n_objects=1)
    # Fast objects (up to 2 m/s, ~10 cm per step) so walls are hit often.
    train = toy_transitions(40, 30, np.random.default_rng(0), n_objects=1, speed=2.0)
    test = toy_transitions(20, 30, np.random.default_rng(1), n_objects=1, speed=2.0)
    cfg = WorldModelConfig(
        kind=kind,
        objective=objective,
        hidden=64,
        latent_dim=32,
        entity_latent_dim=16,
        n_members=2,
        depth=1,
        horizon=2,
        lr=3e-3,
        **kw,
    )
    model = build_model(cfg, layout, 2)
    trainer = ModelTrainer(model, cfg)
    rep = Replay(2000, layout.obs_dim, 2, layout.n_entities, np.random.default_rng(2))
    rep.extend(train)
    for _ in range(steps):
        trainer.update(rep.sample_sequences(64, cfg.horizon))
    pred = predict_mean(model, test.obs, test.action)
    got = one_step_metrics(test.obs, test.next_obs, pred, test.regime, test.pair_kind, layout)
    base = one_step_metrics(test.obs, test.next_obs, test.obs, test.regime, test.pair_kind, layout)
    return got, base, model  # type: ignore[return-value]


@pytest.mark.parametrize("kind", ["mlp", "interaction"])
def test_model_fits_a_known_system_with_bounces(kind: str) -> None:
    got, base, model = _fit(kind, "reconstructive", steps=800)
    speed = 1.7  # mean object speed of the data (uniform in [-2, 2] per axis)
    # "No change" misses every free step by the whole motion (~50 mm); the model must do far
    # better, and must have learnt that a wall flips the velocity (impact velocity error well
    # below the "no change" error of twice the speed).
    assert got["probe/free/pos_mm"] < 0.2 * base["probe/free/pos_mm"]
    assert got["probe/free/vel"] < 0.15 * speed  # velocity is unchanged on free steps
    assert got["probe/impact/count"] >= 20
    assert got["probe/impact/vel"] < 0.8 * base["probe/impact/vel"]
    # Open-loop rollouts stay sensible too.
    t = toy_transitions(20, 5, np.random.default_rng(3), n_objects=1, speed=2.0)
    seq = np.concatenate([t.obs.reshape(20, 5, -1)[:, :1], t.next_obs.reshape(20, 5, -1)], axis=1)
    imag = rollout_mean(model, seq, t.action.reshape(20, 5, 2))
    err = np.linalg.norm((imag - seq[:, 1:])[..., 13:16], axis=-1).mean(0)  # (H,) object pos
    moved = np.linalg.norm(seq[:, 1:, 13:16] - seq[:, :1, 13:16], axis=-1).mean(0)
    assert (err < 0.25 * moved).all()


def test_jepa_latents_do_not_collapse() -> None:
    obs = torch.from_numpy(toy_transitions(5, 30, np.random.default_rng(4), n_objects=1).obs)
    got, base, model = _fit("mlp", "jepa", steps=200)
    with torch.no_grad():
        std = model.encode(obs).std(dim=1)  # per member and latent dim, over samples
    assert std.min() > 0.2, std
    assert got["probe/free/pos_mm"] < 0.5 * base["probe/free/pos_mm"]  # the readout decodes
    # The same run without the VICReg terms shrinks its latents: the switch matters.
    _, _, bare = _fit("mlp", "jepa", steps=200, var_weight=0.0, cov_weight=0.0)
    with torch.no_grad():
        assert bare.encode(obs).std(dim=1).min() < 0.5 * std.min()


def test_ema_target_follows_online_encoder() -> None:
    torch.manual_seed(0)
    model = build_model(WorldModelConfig(objective="jepa", ema_tau=0.5, **SMALL), toy_layout(), 2)
    assert model.target_encoder is not None
    tgt = next(model.target_encoder.parameters())
    src = next(model.encoder.parameters())
    assert torch.equal(tgt, src)
    with torch.no_grad():
        src.add_(1.0)
    before = tgt.clone()
    model.after_step()
    torch.testing.assert_close(tgt, before + 0.5)
    assert not tgt.requires_grad
