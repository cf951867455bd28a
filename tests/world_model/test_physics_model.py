"""The physics baselines against hand-computed values, and the graph model (a learned simulator)
against them: integration, zero-output = constant velocity, learning a known system."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from envs.regimes import Regime
from world_model.config import WorldModelConfig
from world_model.evaluation import (
    constant_velocity,
    constant_velocity_rollout,
    nothing_moves,
    one_step_metrics,
    reach_mask,
)
from world_model.inference import predict_mean
from world_model.models import GraphPhysicsModel, build_model
from world_model.models.graph_physics import integrate_quat, quat_to_matrix
from world_model.probe import vs_cv
from world_model.replay import Replay
from world_model.toy import DT, toy_layout, toy_transitions
from world_model.trainer import ModelTrainer

torch.set_num_threads(1)


def _entity(pos, quat=(1.0, 0, 0, 0), vel=(0, 0, 0), ang=(0, 0, 0)) -> np.ndarray:
    return np.array([*pos, *quat, *vel, *ang], np.float32)


def test_constant_velocity_matches_hand_computed_values() -> None:
    layout = toy_layout(1)
    # agent at rest; object at (0.1, 0.2, 0.05) moving (1, -2, 0.5) m/s, spinning pi rad/s about z
    obs = np.concatenate(
        [_entity((0, 0, 0.05)), _entity((0.1, 0.2, 0.05), vel=(1, -2, 0.5), ang=(0, 0, np.pi))]
    )[None]
    dt = 0.1
    pred = constant_velocity(obs, layout, dt)[0].reshape(2, 13)
    np.testing.assert_allclose(pred[1, 0:3], [0.2, 0.0, 0.1], atol=1e-6)
    # a turn of pi * 0.1 rad about z: q = (cos(pi/20), 0, 0, sin(pi/20))
    np.testing.assert_allclose(
        pred[1, 3:7], [np.cos(np.pi / 20), 0, 0, np.sin(np.pi / 20)], atol=1e-6
    )
    np.testing.assert_allclose(pred[1, 7:13], obs[0, 13 + 7 : 26], atol=1e-7)  # velocities kept
    np.testing.assert_allclose(pred[0], obs[0, :13], atol=1e-7)  # a body at rest stays put
    np.testing.assert_array_equal(nothing_moves(obs), obs)
    # three steps of a rollout = three single steps
    roll = constant_velocity_rollout(obs, layout, dt, 3)
    np.testing.assert_allclose(roll[0, 2, 13:16], [0.4, -0.4, 0.2], atol=1e-5)


def test_torch_integration_matches_the_baseline_and_the_rotation_matrix() -> None:
    layout = toy_layout(1)
    rng = np.random.default_rng(0)
    q = rng.normal(size=(7, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    w = rng.normal(size=(7, 3)) * 3
    obs = np.zeros((7, 26), np.float32)
    obs[:, 3:7], obs[:, 16:20], obs[:, 23:26] = 1.0, q, w
    expected = constant_velocity(obs, layout, 0.05)[:, 16:20]
    got = integrate_quat(torch.tensor(q, dtype=torch.float32), torch.tensor(w).float(), 0.05)
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-5)
    # quarter turn about z maps x to y
    quarter = torch.tensor([np.cos(np.pi / 4), 0, 0, np.sin(np.pi / 4)], dtype=torch.float32)
    rot = quat_to_matrix(quarter)
    np.testing.assert_allclose(rot @ torch.tensor([1.0, 0, 0]), [0, 1, 0], atol=1e-6)


def test_reach_mask_and_ratios() -> None:
    layout = toy_layout(1)
    obs = np.concatenate([_entity((0, 0, 0.05)), _entity((0, 0, 0.05), vel=(0.3, 0, 0.2))])
    nxt = np.concatenate([_entity((0, 0, 0.05)), _entity((0, 0, 0.05), vel=(0.3, 0, 0.01))])
    flat = np.concatenate([_entity((0, 0, 0.05)), _entity((0, 0, 0.05), vel=(0.3, 0, 0.0))])
    mask = reach_mask(np.stack([obs, flat]), np.stack([nxt, flat]), layout)
    np.testing.assert_array_equal(mask, [[True, False], [True, True]])
    ratios = vs_cv(
        {
            "probe/impact/pos_mm": 1.0,
            "baseline/constant_velocity/impact/pos_mm": 4.0,
            "probe/rollout/impact_seq/final_mm": 3.0,
            "baseline/constant_velocity/rollout/impact_seq/final_mm": 6.0,
            "probe/free/pos_mm": 1.0,  # no baseline: no ratio
        }
    )
    assert ratios == {"probe/impact/vs_cv": 0.25, "probe/rollout/impact_seq/final_vs_cv": 0.5}


def test_graph_model_with_zero_output_is_constant_velocity() -> None:
    layout = toy_layout(2)
    cfg = WorldModelConfig(kind="graph", hidden=16, entity_latent_dim=8, n_members=2, depth=1)
    model = build_model(cfg, layout, 2, dt=DT)
    assert isinstance(model, GraphPhysicsModel)
    with torch.no_grad():
        model.decoder.out.weight.zero_()
        model.decoder.out.bias.zero_()  # type: ignore[union-attr]
    t = toy_transitions(3, 4, np.random.default_rng(0), n_objects=2)
    pred = model.predict(torch.from_numpy(t.obs), torch.from_numpy(t.action)).detach().numpy()
    cv = constant_velocity(t.obs, layout, DT)
    np.testing.assert_allclose(pred[0], cv, atol=1e-5)
    np.testing.assert_allclose(pred[1], cv, atol=1e-5)


def test_graph_model_needs_dt_and_refuses_jepa() -> None:
    with pytest.raises(ValueError, match="kind=graph needs the env step length dt"):
        build_model(WorldModelConfig(kind="graph"), toy_layout(), 2)
    with pytest.raises(ValueError, match="kind=graph trains with objective=reconstructive"):
        WorldModelConfig(kind="graph", objective="jepa")


def test_graph_model_learns_bounces_and_beats_constant_velocity() -> None:
    """The toy scene: balls glide and bounce elastically off walls. Constant velocity is exact
    in free flight and wrong at every bounce; a model that learnt the walls beats it there."""
    torch.manual_seed(0)
    layout = toy_layout(1)
    rng = np.random.default_rng(1)
    train = toy_transitions(400, 10, rng, n_objects=1, speed=2.0)
    test = toy_transitions(100, 10, np.random.default_rng(2), n_objects=1, speed=2.0)
    cfg = WorldModelConfig(
        kind="graph", hidden=64, entity_latent_dim=32, n_members=2, depth=1, horizon=1, lr=3e-3,
        message_steps=1, input_noise=0.3,
    )  # fmt: skip
    model = build_model(cfg, layout, 2, dt=DT)
    trainer = ModelTrainer(model, cfg)
    rep = Replay(len(train), layout.obs_dim, 2, layout.n_entities, np.random.default_rng(3))
    rep.extend(train)
    for _ in range(1000):
        trainer.update(rep.sample_sequences(128, 1))
    model.eval()
    pred = predict_mean(model, test.obs, test.action)
    args = (test.obs, test.next_obs)
    got = one_step_metrics(*args, pred, test.regime, test.pair_kind, layout)
    cv = one_step_metrics(
        *args, constant_velocity(test.obs, layout, DT), test.regime, test.pair_kind, layout
    )
    assert got["probe/impact/count"] >= 30
    assert (test.regime[:, 1] == Regime.IMPACT).sum() == got["probe/impact/count"]
    # A bounce: constant velocity misses the position by up to 2 v dt (64 mm on average here)
    # and the velocity by 2 v_perp; the model must have learnt where the walls are (measured:
    # 0.55 and 0.51 of constant velocity's errors)...
    assert got["probe/impact/pos_mm"] < 0.75 * cv["probe/impact/pos_mm"]
    assert got["probe/impact/vel"] < 0.75 * cv["probe/impact/vel"]
    # ...while staying close to exact in free flight (constant velocity's 0 mm; a ball moves
    # ~70 mm a step; measured 3.7 mm).
    assert got["probe/free/pos_mm"] < 6.0
