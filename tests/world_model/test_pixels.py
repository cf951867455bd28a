"""The pixel world model of ``video_pixels``: frames rendered from states, training, scoring."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from agent.config import EnvConfig
from agent.make_env import make_env
from envs.render import render_states
from envs.scene import ContactSceneEnv
from world_model.config import PixelModelConfig
from world_model.pixels import (
    LinearReadout,
    PixelBatch,
    PixelView,
    PixelWorldModel,
    evaluate_pixel_model,
)
from world_model.trainer import ModelTrainer


@pytest.fixture(scope="module")
def renderer() -> ContactSceneEnv:
    env = make_env(EnvConfig(), render_mode="rgb_array", width=64, height=64).unwrapped
    assert isinstance(env, ContactSceneEnv)
    return env


@pytest.fixture(scope="module")
def stream(renderer: ContactSceneEnv) -> dict[str, np.ndarray]:
    """60 random-action transitions of PushBlocks with their frames."""
    env = make_env(EnvConfig())
    obs, _ = env.reset(seed=3)
    rng = np.random.default_rng(3)
    rows: dict[str, list] = {"obs": [], "next_obs": []}
    for _ in range(60):
        nxt, _, term, trunc, _ = env.step(rng.uniform(-1, 1, 2).astype(np.float32))
        rows["obs"].append(obs)
        rows["next_obs"].append(nxt)
        obs = nxt
    out = {k: np.stack(v).astype(np.float32) for k, v in rows.items()}
    out["frames"] = render_states(renderer, out["obs"])
    out["next_frames"] = render_states(renderer, out["next_obs"])
    out["cond"] = out["next_obs"][:, :13].copy()  # the agent is entity 0
    return out


def test_frames_depend_on_the_state_alone(
    renderer: ContactSceneEnv, stream: dict[str, np.ndarray]
) -> None:
    again = render_states(renderer, stream["obs"][::-1])[::-1]  # other order, other history
    np.testing.assert_array_equal(again, stream["frames"])
    assert stream["frames"].shape == (60, 3, 64, 64) and stream["frames"].dtype == np.uint8
    moved = np.abs(stream["frames"][0].astype(int) - stream["frames"][-1].astype(int)).sum()
    assert moved > 0  # the pusher moved, and the frames show it


def _batch(stream: dict[str, np.ndarray]) -> PixelBatch:
    return PixelBatch(
        frames=torch.from_numpy(np.stack([stream["frames"], stream["next_frames"]], 1)),
        cond=torch.from_numpy(stream["cond"]),
    )


def test_training_reduces_reconstruction_and_every_part_learns(
    stream: dict[str, np.ndarray],
) -> None:
    torch.manual_seed(0)
    cfg = PixelModelConfig(n_members=2, hidden=32, latent_dim=16, channels=8)
    model = PixelWorldModel(cfg, cond_dim=13)
    trainer = ModelTrainer(model, cfg)
    before = {k: p.detach().clone() for k, p in model.named_parameters()}
    first = trainer.update(_batch(stream))
    assert first["wm/loss/latent"] == pytest.approx(1.0)  # starts by predicting no change
    for _ in range(30):
        last = trainer.update(_batch(stream))
    assert last["wm/loss/recon"] < 0.8 * first["wm/loss/recon"]
    assert last["wm/updates"] == 31 and last["wm/skipped_nonfinite"] == 0
    for name, p in model.named_parameters():
        assert not torch.equal(before[name], p), f"{name} never changed"


def test_the_predictor_beats_predicting_no_change(stream: dict[str, np.ndarray]) -> None:
    torch.manual_seed(0)
    cfg = PixelModelConfig(n_members=2, hidden=64, latent_dim=16, channels=8, lr=3e-3)
    model = PixelWorldModel(cfg, cond_dim=13)
    model.encoder.requires_grad_(False)  # a fixed encoder: the latent targets stay put
    model.decoder.requires_grad_(False)
    trainer = ModelTrainer(model, cfg)
    for _ in range(150):
        last = trainer.update(_batch(stream))
    assert last["wm/loss/latent"] < 0.5  # 1.0 is "nothing changes"


def test_readout_fits_its_own_set_better_than_predicting_no_change(
    stream: dict[str, np.ndarray],
) -> None:
    torch.manual_seed(0)
    model = PixelWorldModel(PixelModelConfig(n_members=2, hidden=32), cond_dim=13).eval()
    view = PixelView(stream["frames"], stream["obs"], stream["next_obs"], stream["cond"])
    readout = LinearReadout(ridge=1e-3).fit(model, view)
    with torch.no_grad():
        z = model.encode(torch.from_numpy(view.frames))
        z_next = model.predict_latent(z, torch.from_numpy(view.cond)).mean(0)
        delta = readout.delta(z, z_next).numpy()
    true = view.next_obs - view.obs
    assert delta.shape == true.shape
    assert np.mean((delta - true) ** 2) < np.mean(true**2)


def test_pixel_scores_have_the_state_model_keys(stream: dict[str, np.ndarray]) -> None:
    from envs.layout import EntityLayout

    torch.manual_seed(0)
    env = make_env(EnvConfig()).unwrapped
    assert isinstance(env, ContactSceneEnv)
    layout: EntityLayout = env.layout
    model = PixelWorldModel(PixelModelConfig(n_members=2, hidden=32), cond_dim=13).eval()
    view = PixelView(stream["frames"], stream["obs"], stream["next_obs"], stream["cond"])
    n_ent = layout.n_entities
    regime = np.tile(np.arange(4, dtype=np.int8), (60, 2))[:, :n_ent]
    pair_kind = np.zeros((60, n_ent), np.int8)
    metrics = evaluate_pixel_model(model, view, view, regime, pair_kind, 6, layout, ridge=0.1)
    for key in ("probe/impact/pos_mm", "probe/rest/pos_mm", "probe/contact_gap"):
        assert key in metrics and np.isfinite(metrics[key]), key
    assert any(k.startswith("probe/rollout") for k in metrics)


@pytest.mark.parametrize(
    ("key", "value"), [("size", 60), ("latent_dim", 0), ("readout_ridge", 0.0)]
)
def test_bad_pixel_config_names_the_key(key: str, value: float) -> None:
    with pytest.raises(ValueError, match=f"pixels.{key}"):
        PixelModelConfig(**{key: value})


def test_state_readout_sees_no_dynamics(stream: dict[str, np.ndarray]) -> None:
    """With an untrained predictor (it predicts no change), the strict readout predicts no
    change at all, whatever the labels; the generous one fits the mean change."""
    from world_model.pixels import LinearStateReadout

    torch.manual_seed(0)
    model = PixelWorldModel(PixelModelConfig(n_members=2, hidden=32), cond_dim=13).eval()
    view = PixelView(stream["frames"], stream["obs"], stream["next_obs"], stream["cond"])
    with torch.no_grad():
        z = model.encode(torch.from_numpy(view.frames))
        z_next = model.predict_latent(z, torch.from_numpy(view.cond)).mean(0)
    assert torch.equal(z_next, z)  # the zero-initialised predictor starts at "no change"
    strict = LinearStateReadout(ridge=1e-3).fit(model, view).delta(z, z_next)
    assert torch.count_nonzero(strict) == 0
    generous = LinearReadout(ridge=1e-3).fit(model, view).delta(z, z_next)
    assert torch.count_nonzero(generous) > 0
