"""Config validation, the composition helper, the normalising wrapper and the state metric."""

from __future__ import annotations

import pytest
import torch

from curiosity import (
    RND,
    SIGNAL_NAMES,
    CuriosityConfig,
    CuriositySignal,
    Disagreement,
    LearningProgress,
    PredictionError,
    StateMetric,
    build_curiosity,
)


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("name", "surprise", "CuriosityConfig.name must be one of"),
        ("clip", 0.0, "CuriosityConfig.clip must be > 0"),
        ("rnd_hidden", 0, "CuriosityConfig.rnd_hidden must be an integer >= 1"),
        ("lp_refresh_every", 2.5, "CuriosityConfig.lp_refresh_every"),
        ("entity_kinds", ("robot",), "CuriosityConfig.entity_kinds"),
        ("scale_floor", 2.0, "CuriosityConfig.scale_floor must be in"),
        ("normalize", "yes", "CuriosityConfig.normalize must be true or false"),
    ],
)
def test_config_errors_name_the_field(field: str, value: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        CuriosityConfig(**{field: value})  # type: ignore[arg-type]


def test_config_accepts_yaml_lists() -> None:
    assert CuriosityConfig(entity_kinds=["object"]).entity_kinds == ("object",)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("prediction_error", PredictionError),
        ("disagreement", Disagreement),
        ("rnd", RND),
        ("learning_progress", LearningProgress),
    ],
)
def test_build_gives_the_named_signal(kit, familiar_model, name: str, cls: type) -> None:
    sig = build_curiosity(CuriosityConfig(name=name), familiar_model, 26, 2, kit.layout)
    assert isinstance(sig, CuriositySignal) and isinstance(sig.reward, cls)
    assert sig.name == name and sig.normalizer is not None
    raw = build_curiosity(
        CuriosityConfig(name=name, normalize=False), familiar_model, 26, 2, kit.layout
    )
    assert raw.normalizer is None


def test_build_rejects_mismatched_sizes(kit, familiar_model) -> None:
    cfg = CuriosityConfig()
    with pytest.raises(ValueError, match="obs_dim 25"):
        build_curiosity(cfg, familiar_model, 25, 2, kit.layout)
    with pytest.raises(ValueError, match="action_dim 3"):
        build_curiosity(cfg, familiar_model, 26, 3, kit.layout)
    with pytest.raises(ValueError, match="match no entity"):
        build_curiosity(
            CuriosityConfig(entity_kinds=("distractor",)), familiar_model, 26, 2, kit.layout
        )


def test_wrapper_normalises_logs_and_round_trips(kit, familiar_model) -> None:
    cfg = CuriosityConfig(name="prediction_error", clip=3.0)
    sig = build_curiosity(cfg, familiar_model, 26, 2, kit.layout)
    batch = kit.transitions(kit.familiar, 128, 70)
    metrics = sig.update(batch)
    raw = sig.raw(batch.obs, batch.action, batch.next_obs)
    assert metrics["curiosity/raw_mean"] == pytest.approx(raw.mean().item(), rel=1e-5)
    assert metrics["curiosity/raw_std"] == pytest.approx(raw.std(unbiased=False).item(), rel=1e-4)
    assert metrics["curiosity/running_std"] == pytest.approx(metrics["curiosity/raw_std"], rel=1e-4)
    expected = (raw / (raw.std(unbiased=False) + 1e-8)).clamp(-3.0, 3.0)
    torch.testing.assert_close(sig(batch.obs, batch.action, batch.next_obs), expected)
    assert metrics["curiosity/norm_mean"] == pytest.approx(expected.mean().item(), rel=1e-4)
    novel = kit.transitions(kit.novel, 64, 71)
    assert sig(novel.obs, novel.action, novel.next_obs).max().item() == pytest.approx(3.0)

    other = build_curiosity(cfg, familiar_model, 26, 2, kit.layout)
    other.load_state_dict(sig.state_dict())
    assert torch.equal(other(batch.obs, batch.action), sig(batch.obs, batch.action))


@pytest.mark.parametrize("name", SIGNAL_NAMES)
def test_every_built_signal_state_round_trips(kit, familiar_model, name: str) -> None:
    cfg = CuriosityConfig(name=name, lp_refresh_every=2)
    sig = build_curiosity(cfg, familiar_model, 26, 2, kit.layout)
    for seed in range(3):
        sig.update(kit.transitions(kit.familiar, 32, 80 + seed))
    other = build_curiosity(cfg, familiar_model, 26, 2, kit.layout)
    other.load_state_dict(sig.state_dict())
    probe = kit.transitions(kit.novel, 32, 90)
    assert torch.equal(other(*probe[:3]), sig(*probe[:3]))
    assert torch.equal(other(probe.obs, probe.action), sig(probe.obs, probe.action))


def test_state_metric_floor_and_fallback_scale(kit, familiar_model) -> None:
    model_scale = familiar_model.delta_scale()
    metric = StateMetric(kit.layout, familiar_model, rel_floor=0.1)
    torch.testing.assert_close(metric.raw_scale(), model_scale)
    # the ball's velocity never changes in the data: floored at 0.1 x the agent's velocity scale
    ball_vel = slice(13 + 7, 13 + 9)
    assert model_scale[ball_vel].max() < 1e-4
    torch.testing.assert_close(metric.scale()[ball_vel], 0.1 * model_scale[7:9].max().expand(2))
    torch.testing.assert_close(metric.scale()[7:9], model_scale[7:9])  # the largest is kept
    unfloored = StateMetric(kit.layout, familiar_model, rel_floor=0.0)
    torch.testing.assert_close(unfloored.scale(), model_scale)

    fallback = StateMetric(kit.layout, model=None, kinds=("object",), rel_floor=0.0)
    assert not fallback.uses_model_scale and fallback.weight[:13].sum() == 0
    batch = kit.transitions(kit.familiar, 500, 91)
    fallback.update(batch)
    delta = batch.next_obs - batch.obs
    torch.testing.assert_close(fallback.scale()[:2], delta[:, :2].std(0, unbiased=False))
    diff = torch.zeros(26)
    diff[13] = 0.3
    assert fallback.sq(diff).item() == pytest.approx(
        0.09 / fallback.scale()[13].item() ** 2, rel=1e-5
    )
