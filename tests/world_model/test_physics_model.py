"""The physics baselines against hand-computed values, and the graph model (a learned simulator)
against them: integration, zero-output = constant velocity, learning a known system."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from envs.layout import Entity, EntityLayout
from envs.regimes import Regime
from world_model.config import WorldModelConfig
from world_model.dataset import layout_identity
from world_model.evaluation import (
    constant_velocity,
    constant_velocity_rollout,
    nothing_moves,
    one_step_metrics,
    reach_mask,
)
from world_model.inference import predict_mean
from world_model.models import GraphPhysicsModel, build_model
from world_model.models.graph_physics import (
    box_separation,
    box_separation_local,
    integrate_quat,
    quat_to_matrix,
    shape_separation,
    shape_support_point,
)
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


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"shape_features": True, "huber": 1.0},
        {"shape_features": True, "contact_features": True},
        {"shape_features": True, "contact_features": True, "switch_time": True},
        {"shape_features": True, "contact_features": True, "geom_shapes": True},
        {"shape_features": True, "contact_features": True, "inner_steps": 3},
    ],
)
def test_graph_model_with_zero_output_is_constant_velocity(options: dict) -> None:
    layout = toy_layout(2)
    cfg = WorldModelConfig(
        kind="graph", hidden=16, entity_latent_dim=8, n_members=2, depth=1, **options
    )
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


def test_switch_time_integrates_the_position_at_the_predicted_fraction() -> None:
    """``switch_time``: ``pos' = pos + dt (tau v + (1 - tau) v') + corr`` with ``tau`` the
    sigmoid of the tenth output; tau = 1 keeps the old velocity over the step, tau = 0 moves
    at the new one from the start, tau = 1/2 is the trapezoid of the default model."""
    layout = toy_layout(1)
    cfg = WorldModelConfig(kind="graph", hidden=16, entity_latent_dim=8, n_members=1, depth=1)
    plain = build_model(cfg, layout, 2, dt=DT)
    model = build_model(dataclasses.replace(cfg, switch_time=True), layout, 2, dt=DT)
    assert isinstance(model, GraphPhysicsModel) and isinstance(plain, GraphPhysicsModel)
    obs = torch.from_numpy(
        np.concatenate([_entity((0, 0, 0.05)), _entity((0.1, 0, 0.05), vel=(1.0, 0, 0))])
    )[None, None]
    out = torch.zeros(1, 1, 2, 10)
    out[..., 3] = -2.0  # dv_x: the object stops from 1 m/s to -1 m/s within the step
    out[..., 0:3] = torch.tensor([0.0, 0.001, 0.0])  # a correction, added as it is
    for logit, expected_x in ((30.0, 0.1 + DT), (-30.0, 0.1 - DT), (0.0, 0.1)):
        out[..., 9] = logit
        got = model._integrate(obs, out).reshape(2, 13)
        np.testing.assert_allclose(got[1, 0:3], [expected_x, 0.001, 0.05], atol=1e-6)
        np.testing.assert_allclose(got[1, 7:10], [-1.0, 0, 0], atol=1e-6)
    trapezoid = plain._integrate(obs, out[..., :9]).reshape(2, 13)
    np.testing.assert_allclose(trapezoid[1, 0:3], [0.1, 0.001, 0.05], atol=1e-6)
    # The head is trained: a few updates move its output off the trapezoid's 0.5.
    t = toy_transitions(4, 16, np.random.default_rng(0), n_objects=1)
    replay = Replay(len(t), layout.obs_dim, 2, layout.n_entities, np.random.default_rng(0))
    replay.extend(t)
    trainer = ModelTrainer(model, dataclasses.replace(cfg, switch_time=True, horizon=1))
    before = [p.detach().clone() for p in model.switch.parameters()]
    for _ in range(5):
        trainer.update(replay.sample_sequences(16, 1))
    assert any(
        not torch.equal(a, b) for a, b in zip(before, model.switch.parameters(), strict=True)
    )


def test_inner_steps_apply_the_network_at_a_finer_step() -> None:
    """``inner_steps=2`` over ``dt`` is the same network stepped twice over ``dt / 2``: every
    feature and the integration use the inner step, each application sees the state the one
    before it integrated. A bad value is refused, naming the key."""
    layout = toy_layout(2)
    base = dict(kind="graph", hidden=16, entity_latent_dim=8, n_members=2, depth=1,
                shape_features=True, contact_features=True, switch_time=True)  # fmt: skip
    twice = build_model(WorldModelConfig(**base, inner_steps=2), layout, 2, dt=DT)
    half = build_model(WorldModelConfig(**base), layout, 2, dt=DT / 2)
    half.load_state_dict(twice.state_dict())
    with torch.no_grad():  # a network that does something: random decoder and switch heads
        for p in twice.parameters():
            p.normal_(0.0, 0.3)
        half.load_state_dict(twice.state_dict())
    t = toy_transitions(3, 4, np.random.default_rng(0), n_objects=2)
    obs = twice.members(torch.from_numpy(t.obs))
    act = torch.from_numpy(t.action)
    with torch.no_grad():
        got = twice.step(obs, act)
        want = half.step(half.step(obs, act), act)
        once = half.step(obs, act)
    torch.testing.assert_close(got, want)
    assert (got - once).abs().max() > 1e-3  # the second inner step did something
    with pytest.raises(ValueError, match="inner_steps"):
        WorldModelConfig(**base, inner_steps=0)


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


def _two_boxes(extents: tuple[float, float, float] | None) -> EntityLayout:
    return EntityLayout(
        entities=(
            Entity("a", "object", 1, (1.0, 0.1, 0.5), extents),
            Entity("b", "object", 2, (1.0, 0.1, 0.5), extents),
        )
    )


def _box_models(base: dict, extra: dict, dt: float) -> tuple[GraphPhysicsModel, GraphPhysicsModel]:
    """Two tiny graph models of two boxes (half-sizes 0.05, 0.02, 0.01): with the options
    ``base``, and with ``extra`` on top of them (the features under test)."""
    cfg = WorldModelConfig(
        kind="graph", hidden=8, entity_latent_dim=8, n_members=1, depth=1, **base
    )
    layout = _two_boxes((0.05, 0.02, 0.01))
    plain = build_model(cfg, layout, 0, dt=dt)
    model = build_model(WorldModelConfig(**{**cfg.__dict__, **extra}), layout, 0, dt=dt)
    assert isinstance(model, GraphPhysicsModel) and isinstance(plain, GraphPhysicsModel)
    return plain, model


def test_shape_features_give_the_gap_between_boxes_and_to_the_floor() -> None:
    """Two boxes of half-sizes (0.05, 0.02, 0.01), the second 0.13 m along x of the first and
    closing at 1 m/s: their faces are 0.13 - 0.05 - 0.05 = 0.03 m apart (a bounding-sphere gap
    would say 0.13 - 2 * 0.0548 = 0.020), 0.02 m closer after a step of 0.02 s. Turned 90
    degrees about z, the second box's half-size along x is 0.02: the gap is 0.06 m."""
    dt = 0.02
    plain, model = _box_models({}, {"shape_features": True}, dt)
    obs = np.zeros((2, 2, 13), np.float32)
    obs[:, :, 3] = 1.0  # identity quaternions
    obs[:, 0, 0:3] = (0.0, 0.0, 0.011)  # lowest point 1 mm above z = 0
    obs[:, 1, 0:3] = (0.13, 0.0, 0.2)
    obs[:, 0, 7:10] = (0.5, 0.0, -0.1)
    obs[:, 1, 7:10] = (-0.5, 0.0, 0.0)
    half_turn = np.sqrt(0.5)
    obs[1, 1, 3:7] = (half_turn, 0.0, 0.0, half_turn)  # 90 degrees about z
    x = torch.from_numpy(obs.reshape(1, 2, -1))
    nodes, edges = model._graph_inputs(x, x.new_zeros(1, 2, 0))
    n0, e0 = plain._graph_inputs(x, x.new_zeros(1, 2, 0))
    assert nodes.shape[-1] == n0.shape[-1] + 5 and edges.shape[-1] == e0.shape[-1] + 3
    length = model.length
    node = nodes[0, :, 0, -5:].numpy() * length  # entity a: half-sizes, low, low after a step
    np.testing.assert_allclose(node[0], [0.05, 0.02, 0.01, 0.001, 0.001 - 0.1 * dt], atol=1e-6)
    node_b = nodes[0, 1, 1, -5:].numpy() * length  # the turned box: x and y half-sizes swap
    np.testing.assert_allclose(node_b[:3], [0.02, 0.05, 0.01], atol=1e-6)
    # Edge 0 is b seen from a; b is 0.189 m higher, so the centre line is tilted: the gap is
    # the distance less both boxes' support along it.
    dp = obs[:, 1, 0:3] - obs[:, 0, 0:3]
    dist = np.linalg.norm(dp, axis=-1)
    u = dp / dist[:, None]
    support_a = np.abs(u) @ np.array([0.05, 0.02, 0.01])
    support_b = np.abs(u) @ np.array([[0.05, 0.02, 0.01], [0.02, 0.05, 0.01]]).T
    gap = dist - support_a - np.diag(support_b)
    closing = -((obs[:, 1, 7:10] - obs[:, 0, 7:10]) * u).sum(-1) * dt
    got = edges[0, :, 0, -3:].numpy() * length
    np.testing.assert_allclose(got[:, 0], gap, atol=1e-6)
    np.testing.assert_allclose(got[:, 1], closing, atol=1e-6)
    np.testing.assert_allclose(got[:, 2], gap - closing, atol=1e-6)


def test_shape_features_on_level_boxes_are_the_face_gap() -> None:
    dt = 0.02
    cfg = WorldModelConfig(
        kind="graph", hidden=8, entity_latent_dim=8, n_members=1, depth=1, shape_features=True
    )
    model = build_model(cfg, _two_boxes((0.05, 0.02, 0.01)), 0, dt=dt)
    obs = np.zeros((1, 2, 13), np.float32)
    obs[:, :, 3] = 1.0
    obs[0, 1, 0] = 0.13
    obs[0, 1, 7] = -1.0  # b closes at 1 m/s
    x = torch.from_numpy(obs.reshape(1, 1, -1))
    _, edges = model._graph_inputs(x, x.new_zeros(1, 1, 0))
    got = edges[0, 0, 0, -3:].numpy() * model.length  # type: ignore[union-attr]
    np.testing.assert_allclose(got, [0.03, 0.02, 0.01], atol=1e-6)


def _rot_z(deg: float) -> torch.Tensor:
    c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
    return torch.tensor([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]], dtype=torch.float32)


@pytest.mark.parametrize(
    ("dp", "turn", "want", "axis"),
    [
        # unit cubes (half 0.5) 1.3 apart along x: faces 0.3 apart
        ((1.3, 0.0, 0.0), 0.0, 0.3, (1, 0, 0)),
        # overlapping by 0.2 along -y: minus the penetration depth, normal toward s
        ((0.0, -0.8, 0.0), 0.0, -0.2, (0, -1, 0)),
        # s turned 45 degrees about z: its edge points at r, support 0.5 * sqrt(2) along x
        ((2.0, 0.0, 0.0), 45.0, 2.0 - 0.5 - 0.5 * np.sqrt(2), (1, 0, 0)),
        # corner to corner along the diagonal: a face axis bounds the true distance (sqrt 2)
        ((2.0, 2.0, 0.0), 0.0, 1.0, None),
    ],
)
@pytest.mark.parametrize("separation", [box_separation, box_separation_local])
def test_box_separation_against_hand_computed_values(
    dp: tuple[float, ...], turn: float, want: float, axis: tuple[int, ...] | None, separation
) -> None:
    half = torch.full((3,), 0.5)
    sep, normal = separation(torch.tensor(dp), torch.eye(3), _rot_z(turn), half, half)
    assert sep.item() == pytest.approx(want, abs=1e-6)
    assert normal.norm().item() == pytest.approx(1.0)
    if axis is not None:
        np.testing.assert_allclose(normal.numpy(), axis, atol=1e-6)


@pytest.mark.parametrize("separation", [box_separation, box_separation_local])
def test_box_separation_is_symmetric_and_finite_for_parallel_edges(separation) -> None:
    """Two boxes with every edge parallel (all 9 edge cross products vanish): the face axes
    decide; seen from either side the distance is the same, the normal reversed."""
    half_r, half_s = torch.tensor([0.05, 0.02, 0.01]), torch.tensor([0.03, 0.03, 0.03])
    dp = torch.tensor([0.02, 0.09, 0.01])
    a, na = separation(dp, torch.eye(3), torch.eye(3), half_r, half_s)
    b, nb = separation(-dp, torch.eye(3), torch.eye(3), half_s, half_r)
    assert torch.isfinite(a).all() and a.item() == pytest.approx(0.09 - 0.02 - 0.03)
    assert b.item() == pytest.approx(a.item()) and torch.allclose(na, -nb)


@pytest.mark.parametrize("separation", [box_separation, box_separation_local])
@pytest.mark.parametrize(("turn_r", "turn_s"), [(0.0, 0.0), (17.0, 63.0)])
def test_box_separation_has_finite_gradients_for_parallel_edges(
    separation, turn_r: float, turn_s: float
) -> None:
    """Boxes turned about z only (every resting block) have parallel edge pairs whose cross
    product vanishes; when the features are differentiated (multi-step training rolls the
    model's own predictions through them) every gradient must stay finite. The receiver-frame
    test gave NaN here (sqrt's infinite slope at 0 times a masked zero)."""
    dp = torch.tensor([0.1, 0.02, 0.0], requires_grad=True)
    rot_r = _rot_z(turn_r).clone().requires_grad_(True)
    rot_s = _rot_z(turn_s).clone().requires_grad_(True)
    half = torch.full((3,), 0.03)
    sep, normal = separation(dp, rot_r, rot_s, half, half)
    (sep.sum() + normal.sum()).backward()
    for grad in (dp.grad, rot_r.grad, rot_s.grad):
        assert grad is not None and torch.isfinite(grad).all()
    assert dp.grad.abs().sum() > 0  # the separation does depend on where the boxes are


def test_box_separation_local_equals_the_world_frame_reference() -> None:
    """The receiver-frame test (``fast_separation``) gives the reference's separation and axis
    on 20,000 random pairs: free orientations, level boxes (every edge pair parallel), one box
    turned about z only (some pairs parallel), overlapping and apart, boxes of any shape."""
    gen = torch.Generator().manual_seed(0)
    n = 5000
    quats = []
    for kind in range(4):
        q = torch.nn.functional.normalize(torch.randn(2, n, 4, generator=gen), dim=-1)
        if kind == 1:  # both level
            q = torch.tensor([1.0, 0, 0, 0]).expand(2, n, 4)
        elif kind == 2:  # both turned about z only
            q = q * torch.tensor([1.0, 0, 0, 1.0])
        elif kind == 3:  # s level, r free
            q = torch.stack([q[0], torch.tensor([1.0, 0, 0, 0]).expand(n, 4)])
        quats.append(torch.nn.functional.normalize(q, dim=-1))
    q = torch.cat(quats, dim=1)
    rot_r, rot_s = quat_to_matrix(q[0]), quat_to_matrix(q[1])
    dp = torch.randn(4 * n, 3, generator=gen) * 0.08
    ext_r = torch.rand(4 * n, 3, generator=gen) * 0.05 + 0.005
    ext_s = torch.rand(4 * n, 3, generator=gen) * 0.05 + 0.005
    sep, axis = box_separation(dp, rot_r, rot_s, ext_r, ext_s)
    sep_l, axis_l = box_separation_local(dp, rot_r, rot_s, ext_r, ext_s)
    assert (sep < 0).any() and (sep > 0).any()  # both overlapping and separated pairs
    torch.testing.assert_close(sep_l, sep, rtol=0, atol=1e-6)
    # where two axes tie the choice may differ; the separation along the chosen one may not
    along = ((dp * axis_l).sum(-1, keepdim=True)).abs()

    def support(rot: torch.Tensor, ext: torch.Tensor) -> torch.Tensor:
        return ((rot.transpose(-1, -2) @ axis_l.unsqueeze(-1)).squeeze(-1).abs() * ext).sum(
            -1, keepdim=True
        )

    torch.testing.assert_close(
        along - support(rot_r, ext_r) - support(rot_s, ext_s), sep, rtol=0, atol=1e-5
    )
    same = (axis_l - axis).abs().max(-1).values < 1e-4
    assert same.float().mean() > 0.999
    torch.testing.assert_close(axis_l.norm(dim=-1), torch.ones(4 * n))


_BOX = (0.03, 0.03, 0.03, 0.0, 0.0)  # a cube of half-size 0.03
_CYL = (0.0, 0.0, 0.02, 0.0, 0.025)  # PushBlocks' pusher: radius 0.025, half-height 0.02
_BALL = (0.0, 0.0, 0.0, 0.025, 0.0)


def _box_point_gap(dp: torch.Tensor, turn: float, radius: float) -> float:
    """Distance from a cube (half 0.03, turned about z) to a ball or an upright cylinder of
    ``radius`` level with it, by hand: the centre clamped into the cube, minus the radius."""
    local = _rot_z(turn).T @ dp
    return float((local - local.clamp(-0.03, 0.03)).norm()) - radius


@pytest.mark.parametrize("turn", [0.0, 17.0, 45.0])
@pytest.mark.parametrize(
    "dp", [(0.08, 0.0, 0.0), (0.06, 0.06, 0.0), (0.045, 0.05, 0.0), (-0.02, 0.07, 0.0)]
)
@pytest.mark.parametrize("other", [_CYL, _BALL])
def test_shape_separation_is_exact_for_a_cylinder_or_ball_beside_a_turned_box(
    turn: float, dp: tuple[float, ...], other: tuple[float, ...]
) -> None:
    """Beside a face, an edge or a corner of a box turned about z, the distance to an upright
    cylinder or a ball, by hand (the box test alone is off by up to 41% of the cylinder's
    radius along its bounding box's diagonal); the normal points from the box to the other."""
    d = torch.tensor(dp)
    sep, normal = shape_separation(
        d, _rot_z(turn), torch.eye(3), torch.tensor(_BOX), torch.tensor(other)
    )
    assert sep.item() == pytest.approx(_box_point_gap(d, turn, 0.025), abs=1e-6)
    assert normal.norm().item() == pytest.approx(1.0) and (normal @ d).item() > 0
    back, normal_back = shape_separation(
        -d, torch.eye(3), _rot_z(turn), torch.tensor(other), torch.tensor(_BOX)
    )
    assert back.item() == pytest.approx(sep.item(), abs=1e-6)
    torch.testing.assert_close(normal_back, -normal, atol=1e-5, rtol=0)


def test_shape_separation_of_spheres_is_the_centre_distance_minus_the_radii() -> None:
    gen = torch.Generator().manual_seed(0)
    dp = torch.randn(500, 3, generator=gen) * 0.06
    rot = quat_to_matrix(
        torch.nn.functional.normalize(torch.randn(2, 500, 4, generator=gen), dim=-1)
    )
    ball = torch.tensor(_BALL)
    sep, normal = shape_separation(dp, rot[0], rot[1], ball, ball)
    dist = dp.norm(dim=-1, keepdim=True)
    torch.testing.assert_close(sep, dist - 0.05, atol=1e-6, rtol=0)
    torch.testing.assert_close(normal, dp / dist, atol=1e-5, rtol=0)


def test_shape_separation_of_boxes_tightens_the_box_test_and_keeps_gradients_finite() -> None:
    """Boxes as shapes: never below the 15-axis test (more axes, each a lower bound of the
    distance), equal where that one is exact (level boxes side by side), and finite gradients
    for yaw-only pairs (parallel edges)."""
    gen = torch.Generator().manual_seed(1)
    n = 2000
    q = torch.nn.functional.normalize(torch.randn(2, n, 4, generator=gen), dim=-1)
    rot_r, rot_s = quat_to_matrix(q[0]), quat_to_matrix(q[1])
    dp = torch.randn(n, 3, generator=gen) * 0.08
    ext_r = torch.rand(n, 3, generator=gen) * 0.05 + 0.005
    ext_s = torch.rand(n, 3, generator=gen) * 0.05 + 0.005
    zeros = torch.zeros(n, 2)
    box, _ = box_separation(dp, rot_r, rot_s, ext_r, ext_s)
    shape, _ = shape_separation(
        dp, rot_r, rot_s, torch.cat([ext_r, zeros], -1), torch.cat([ext_s, zeros], -1)
    )
    assert (shape >= box - 1e-6).all() and (shape > box + 1e-3).any()
    dp = torch.tensor([0.1, 0.02, 0.0], requires_grad=True)
    rot = _rot_z(30.0).clone().requires_grad_(True)
    sep, normal = shape_separation(dp, torch.eye(3), rot, torch.tensor(_BOX), torch.tensor(_BOX))
    assert sep.item() == pytest.approx(
        box_separation(dp, torch.eye(3), rot, torch.full((3,), 0.03), torch.full((3,), 0.03))[
            0
        ].item()
    )
    (sep.sum() + normal.sum()).backward()
    assert torch.isfinite(dp.grad).all() and torch.isfinite(rot.grad).all()


def test_shape_support_point_is_the_lowest_point_and_the_lever() -> None:
    down = torch.tensor([0.0, 0.0, -1.0])
    np.testing.assert_allclose(shape_support_point(down, torch.tensor(_BOX)), [0, 0, -0.03])
    np.testing.assert_allclose(shape_support_point(down, torch.tensor(_CYL)), [0, 0, -0.02])
    tilted = torch.tensor([0.6, 0.0, -0.8])  # a tilted cylinder's lowest point is on its rim
    np.testing.assert_allclose(
        shape_support_point(tilted, torch.tensor(_CYL)), [0.025, 0, -0.02], atol=1e-6
    )
    np.testing.assert_allclose(
        shape_support_point(tilted, torch.tensor(_BALL)), [0.015, 0, -0.02], atol=1e-6
    )


def test_geom_shapes_change_nothing_for_boxes_and_follow_a_spinning_ball() -> None:
    """With ``geom_shapes`` a layout of boxes gets its box features (the shapes are the
    extents); a ball's lowest point no longer turns with it: its height feature is the same
    for any orientation, where the bounding cube's corner moves with the spin."""
    dt = 0.02
    ref, geom = _box_models(
        {"shape_features": True, "contact_features": True}, {"geom_shapes": True}, dt
    )
    geom.load_state_dict(ref.state_dict())
    gen = np.random.default_rng(0)
    obs = np.zeros((16, 2, 13), np.float32)
    obs[:, 1, 0] = gen.uniform(-0.2, 0.2, 16)  # level boxes side by side along x (face to
    obs[:, 1, 1] = gen.uniform(-0.01, 0.01, 16)  # face: the box test is exact there)
    obs[:, :, 2] = gen.uniform(0.0, 0.005, (16, 2))
    obs[:, :, 3] = 1.0
    obs[:, :, 7:13] = gen.normal(0, 0.5, (16, 2, 6))
    x = torch.from_numpy(obs.reshape(1, 16, -1))
    for a, b in zip(
        ref._graph_inputs(x, x.new_zeros(1, 16, 0)),
        geom._graph_inputs(x, x.new_zeros(1, 16, 0)),
        strict=True,
    ):
        torch.testing.assert_close(b, a, atol=1e-5, rtol=1e-4)
    balls = EntityLayout(
        entities=tuple(
            Entity(n, "object", i + 1, (0.17, 0.025, 0.05), (0.025,) * 3, _BALL)
            for i, n in enumerate("ab")
        )
    )
    cfg = WorldModelConfig(
        kind="graph",
        hidden=8,
        entity_latent_dim=8,
        n_members=1,
        depth=1,
        shape_features=True,
        contact_features=True,
    )
    heights = {}
    for on in (False, True):
        model = build_model(WorldModelConfig(**{**cfg.__dict__, "geom_shapes": on}), balls, 0, dt)
        q = np.stack([[1.0, 0, 0, 0], [np.cos(0.4), np.sin(0.4), 0, 0]])
        obs = np.zeros((2, 2, 13), np.float32)
        obs[:, :, 2] = 0.025
        obs[:, :, 3:7] = q[:, None]
        obs[:, 1, 0] = 0.2
        x = torch.from_numpy(obs.reshape(1, 2, -1))
        nodes, _ = model._graph_inputs(x, x.new_zeros(1, 2, 0))
        heights[on] = nodes[0, :, 0, -2].numpy() * model.length  # height after the step
    assert heights[True] == pytest.approx([0.0, 0.0], abs=1e-6)
    assert abs(heights[False][1] - heights[False][0]) > 1e-3


def test_fast_separation_gives_the_same_contact_features() -> None:
    """``world_model.fast_separation`` changes how the features are computed, not what they
    are: the graph_contact model's inputs agree with the reference's on PushBlocks-like boxes."""
    dt = 0.02
    ref, fast = _box_models(
        {"contact_features": True}, {"contact_features": True, "fast_separation": True}, dt
    )
    fast.load_state_dict(ref.state_dict())
    gen = np.random.default_rng(0)
    obs = np.zeros((64, 2, 13), np.float32)
    obs[:, :, 0:3] = gen.normal(0, 0.06, (64, 2, 3))
    q = gen.normal(size=(64, 2, 4))
    obs[:, :, 3:7] = q / np.linalg.norm(q, axis=-1, keepdims=True)
    obs[:, :, 7:13] = gen.normal(0, 0.5, (64, 2, 6))
    x = torch.from_numpy(obs.reshape(1, 64, -1))
    n_ref, e_ref = ref._graph_inputs(x, x.new_zeros(1, 64, 0))
    n_fast, e_fast = fast._graph_inputs(x, x.new_zeros(1, 64, 0))
    torch.testing.assert_close(n_fast, n_ref)
    torch.testing.assert_close(e_fast, e_ref, rtol=1e-4, atol=1e-4)


def _level_pair(a_pos, a_vel, b_pos, b_vel) -> np.ndarray:
    """``(1, 2, 13)`` observation of two level (unturned) bodies at rest in spin."""
    obs = np.zeros((1, 2, 13), np.float32)
    obs[:, :, 3] = 1.0
    obs[0, 0, 0:3], obs[0, 0, 7:10] = a_pos, a_vel
    obs[0, 1, 0:3], obs[0, 1, 7:10] = b_pos, b_vel
    return obs


def test_contact_features_give_the_floor_corner_and_when_contacts_begin() -> None:
    """Box a (half-sizes 0.05, 0.02, 0.01), level, its bottom 4 mm above the floor, falling at
    0.4 m/s: it reaches the floor half-way through a 0.02 s step. Box b 0.13 m along x, closing
    at 2 m/s: faces 0.03 m apart, reached 0.75 of the way through the step."""
    dt = 0.02
    plain, model = _box_models({"shape_features": True}, {"contact_features": True}, dt)
    obs = _level_pair((0.0, 0.0, 0.014), (1.0, 0.0, -0.4), (0.13, 0.0, 0.014), (-1.0, 0.0, -0.4))
    x = torch.from_numpy(obs.reshape(1, 1, -1))
    nodes, edges = model._graph_inputs(x, x.new_zeros(1, 1, 0))
    n0, e0 = plain._graph_inputs(x, x.new_zeros(1, 1, 0))
    assert nodes.shape[-1] == n0.shape[-1] + 6 and edges.shape[-1] == e0.shape[-1] + 13
    length = model.length
    node = nodes[0, 0, 0, -6:].numpy()
    # lowest point of a level box: the bottom face's centre, 0.01 below the centre
    np.testing.assert_allclose(node[:3] * length, [0.0, 0.0, -0.01], atol=1e-4)
    drop = -0.4 * dt
    np.testing.assert_allclose(node[3:5] * length, [drop, 0.004 + drop], atol=1e-6)
    assert node[5] == pytest.approx(0.5, abs=1e-4)  # reaches the floor half-way
    edge = edges[0, 0, 0, -13:].numpy()  # b seen from a
    np.testing.assert_allclose(edge[0] * length, 0.03, atol=1e-6)  # face gap
    np.testing.assert_allclose(edge[1:4], [1, 0, 0], atol=1e-6)  # normal, world
    np.testing.assert_allclose(edge[4:7], [1, 0, 0], atol=1e-6)  # normal, a's frame
    np.testing.assert_allclose(edge[7:9] * length, [0.04, -0.01], atol=1e-6)
    assert edge[9] == pytest.approx(0.75, abs=1e-5)
    np.testing.assert_allclose(edge[10:13] * length, [0.05, 0.0, 0.0], atol=1e-4)  # a's face
    # moving apart: no contact within the step
    obs[0, 1, 7] = 1.0
    obs[0, 0, 7] = -1.0
    x = torch.from_numpy(obs.reshape(1, 1, -1))
    _, edges = model._graph_inputs(x, x.new_zeros(1, 1, 0))
    assert edges[0, 0, 0, -4].item() == 2.0


def test_contact_and_floor_scales_add_the_gaps_at_millimetre_scales() -> None:
    """``contact_scales`` appends ``tanh(x / s)`` of the pair gap and the gap after a step per
    edge, ``floor_scales`` of the lowest point's height and that height after a step per node;
    nothing else changes. Box b 0.4 mm into box a (faces overlapping), closing at 0.1 m/s; box a's
    bottom 0.3 mm above the floor, falling at 0.01 m/s."""
    dt = 0.02
    scales = (0.0005, 0.002)
    base = {"contact_features": True}
    extra = {"contact_scales": list(scales), "floor_scales": list(scales)}
    plain, model = _box_models(base, extra, dt)
    assert model.cfg.contact_scales == scales  # a YAML or JSON list becomes a tuple
    obs = _level_pair(
        (0.0, 0.0, 0.0103), (0.05, 0.0, -0.01), (0.0996, 0.0, 0.0103), (-0.05, 0.0, -0.01)
    )
    x = torch.from_numpy(obs.reshape(1, 1, -1))
    nodes, edges = model._graph_inputs(x, x.new_zeros(1, 1, 0))
    n0, e0 = plain._graph_inputs(x, x.new_zeros(1, 1, 0))
    k = 2 * len(scales)
    assert nodes.shape[-1] == n0.shape[-1] + k and edges.shape[-1] == e0.shape[-1] + k
    torch.testing.assert_close(nodes[..., :-k], n0)
    torch.testing.assert_close(edges[..., :-k], e0)
    low, low_after = 0.0003, 0.0003 - 0.01 * dt
    gap, gap_after = -0.0004, -0.0004 - 0.1 * dt
    want_node = [np.tanh(v / sc) for sc in scales for v in (low, low_after)]
    want_edge = [np.tanh(v / sc) for sc in scales for v in (gap, gap_after)]
    np.testing.assert_allclose(nodes[0, 0, 0, -k:].numpy(), want_node, atol=2e-3)
    np.testing.assert_allclose(edges[0, 0, 0, -k:].numpy(), want_edge, atol=2e-3)
    _, edges_only = _box_models(base, {"contact_scales": list(scales)}, dt)
    nodes, edges = edges_only._graph_inputs(x, x.new_zeros(1, 1, 0))
    torch.testing.assert_close(nodes, n0)
    np.testing.assert_allclose(edges[0, 0, 0, -k:].numpy(), want_edge, atol=2e-3)


def test_contact_velocity_gives_the_contact_points_closing_and_slip() -> None:
    """Box a (half-sizes 0.05, 0.02, 0.01) spins about z at 4 rad/s; box b touches its +x face
    (centres 0.1 m apart) and moves at (-1, 0.5, 0) m/s. At a's support point (0.05, 0, 0) a
    moves at 4 x 0.05 = 0.2 m/s along +y; b's point moves at its own velocity. So b's point
    closes on a's at 1 m/s and slips past it at 0.5 - 0.2 = 0.3 m/s along +y."""
    dt = 0.02
    base = {"contact_features": True}
    plain, model = _box_models(base, {"contact_velocity": True}, dt)
    obs = _level_pair((0.0, 0.0, 0.2), (0.0, 0.0, 0.0), (0.1, 0.0, 0.2), (-1.0, 0.5, 0.0))
    obs[0, 0, 10:13] = (0.0, 0.0, 4.0)
    x = torch.from_numpy(obs.reshape(1, 1, -1))
    nodes, edges = model._graph_inputs(x, x.new_zeros(1, 1, 0))
    n0, e0 = plain._graph_inputs(x, x.new_zeros(1, 1, 0))
    torch.testing.assert_close(nodes, n0)
    torch.testing.assert_close(edges[..., :-5], e0)
    got = edges[0, 0, 0, -5:].numpy() * model.length / dt  # b seen from a, in m/s
    np.testing.assert_allclose(got, [1.0, 0.0, 0.3, 0.0, 0.3], atol=1e-4)
    seen_from_b = edges[0, 0, 1, -5:].numpy() * model.length / dt  # a seen from b
    np.testing.assert_allclose(seen_from_b, [1.0, 0.0, -0.3, 0.0, 0.3], atol=1e-4)
    with pytest.raises(ValueError, match="contact_velocity needs kind=graph"):
        WorldModelConfig(kind="graph", contact_velocity=True)


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"contact_features": True, "contact_scales": [0.001, -0.002]}, "(0, 10) m"),
        ({"contact_features": True, "contact_scales": "0.001"}, "list of lengths"),
        ({"contact_scales": [0.001]}, "contact_features=true"),
        ({"contact_features": True, "floor_scales": [True]}, "(0, 10) m"),
        ({"floor_scales": [0.001]}, "contact_features=true"),
    ],
)
def test_contact_scales_refuse_bad_values(options: dict, words: str) -> None:
    with pytest.raises(ValueError, match="_scales") as err:
        WorldModelConfig(kind="graph", **options)
    assert words in str(err.value)


def test_layout_extents_round_trip_and_fall_back_to_the_bounding_sphere() -> None:
    new = _two_boxes((0.05, 0.02, 0.01))
    old = _two_boxes(None)
    assert EntityLayout.from_dict(new.to_dict()) == new
    assert EntityLayout.from_dict(old.to_dict()) == old
    assert "extents" not in old.to_dict()["entities"][0]
    np.testing.assert_allclose(old.extents_array(), 0.1)
    assert layout_identity(old.to_dict()) == layout_identity(new.to_dict())


def test_scene_extents_come_from_the_geoms() -> None:
    """PushBlocks' boxes and pusher cylinder; a box geom placed off the body origin and turned
    90 degrees about z in a body of its own."""
    import mujoco

    from envs.entities import body_extents
    from envs.push_blocks import PushBlocksEnv

    env = PushBlocksEnv()
    ext = {e.name: e.extents for e in env.layout.entities}
    env.close()
    assert ext["pusher"] == pytest.approx((0.025, 0.025, 0.02))
    assert ext["block_d"] == pytest.approx((0.06, 0.03, 0.03))
    m = mujoco.MjModel.from_xml_string(
        '<mujoco><worldbody><body name="b"><freejoint/>'
        '<geom type="box" size="0.1 0.02 0.03" pos="0.2 0 0" euler="0 0 90"/>'
        '<geom type="sphere" size="0.01" pos="0 0 -0.1"/></body></worldbody></mujoco>'
    )
    body = m.body("b").id
    got = body_extents(m, np.flatnonzero(m.geom_bodyid == body))
    assert got == pytest.approx((0.22, 0.1, 0.11))


def test_scene_shapes_come_from_the_geoms() -> None:
    """PushBlocks' pusher is an upright cylinder, its blocks boxes; a ball, a capsule; an
    offset geom, a turned box, two geoms: no shape (the box of the extents instead)."""
    import mujoco

    from envs.entities import body_shape
    from envs.push_blocks import PushBlocksEnv

    env = PushBlocksEnv()
    layout = env.layout
    env.close()
    shapes = {e.name: e.shape for e in layout.entities}
    assert shapes["pusher"] == pytest.approx(_CYL)
    assert shapes["block_d"] == pytest.approx((0.06, 0.03, 0.03, 0.0, 0.0))
    np.testing.assert_allclose(layout.shapes_array()[0], _CYL, atol=1e-7)
    assert EntityLayout.from_dict(layout.to_dict()) == layout  # shapes: neither saved nor compared
    bodies = {
        "ball": '<geom type="sphere" size="0.02" euler="10 20 30"/>',
        "capsule": '<geom type="capsule" size="0.01 0.05"/>',
        "offset": '<geom type="sphere" size="0.02" pos="0 0 0.1"/>',
        "turned": '<geom type="box" size="0.1 0.02 0.03" euler="0 0 90"/>',
        "two": '<geom type="box" size="0.1 0.02 0.03"/><geom type="sphere" size="0.01"/>',
    }
    xml = "".join(f'<body name="{k}"><freejoint/>{v}</body>' for k, v in bodies.items())
    m = mujoco.MjModel.from_xml_string(f"<mujoco><worldbody>{xml}</worldbody></mujoco>")
    got = {k: body_shape(m, np.flatnonzero(m.geom_bodyid == m.body(k).id)) for k in bodies}
    assert got["ball"] == pytest.approx((0, 0, 0, 0.02, 0))
    assert got["capsule"] == pytest.approx((0, 0, 0.05, 0.01, 0))
    assert got["offset"] is None and got["turned"] is None and got["two"] is None


def test_huber_loss_is_squared_error_near_zero_and_smaller_far_out() -> None:
    layout = toy_layout(2)
    t = toy_transitions(20, 4, np.random.default_rng(0), n_objects=2, speed=2.0)
    rep = Replay(len(t), layout.obs_dim, 2, layout.n_entities, np.random.default_rng(1))
    rep.extend(t)
    batch = rep.sample_sequences(64, 1)
    losses = {}
    for delta in (0.0, 1.0, 900.0):
        torch.manual_seed(0)
        cfg = WorldModelConfig(
            kind="graph", hidden=16, entity_latent_dim=8, n_members=1, depth=1, horizon=1,
            huber=delta,
        )  # fmt: skip
        model = build_model(cfg, layout, 2, dt=DT)
        model.update_normalizers(batch)  # type: ignore[arg-type]
        losses[delta] = float(model.loss(batch)["recon"].detach())  # type: ignore[arg-type]
    assert losses[1.0] < losses[900.0] <= losses[0.0]
    assert losses[900.0] == pytest.approx(losses[0.0], rel=0.1)
    assert losses[1.0] < 0.9 * losses[0.0]
    with pytest.raises(ValueError, match="huber"):
        WorldModelConfig(huber=-1.0)


def test_learning_rate_decays_along_a_cosine_and_stays() -> None:
    cfg = WorldModelConfig(kind="mlp", hidden=8, latent_dim=4, n_members=1, horizon=1, lr=1e-3,
                           lr_decay_updates=10)  # fmt: skip
    trainer = ModelTrainer(build_model(cfg, toy_layout(1), 2), cfg)
    got = []
    for updates in (0, 5, 10, 20):
        trainer.updates = updates
        got.append(trainer.current_lr())
    assert got == pytest.approx([1e-3, 0.55e-3, 1e-4, 1e-4])
    flat = WorldModelConfig(kind="mlp", hidden=8, latent_dim=4, n_members=1, horizon=1)
    assert ModelTrainer(build_model(flat, toy_layout(1), 2), flat).current_lr() == flat.lr
    with pytest.raises(ValueError, match="lr_decay_updates"):
        WorldModelConfig(lr_decay_updates=-1)
