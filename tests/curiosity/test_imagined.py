"""Imagined rewards (``next_obs=None``): finite, ``(B,)``, per-sample, and consistent."""

from __future__ import annotations

import pytest
import torch

from curiosity import SIGNAL_NAMES, CuriosityConfig, IntrinsicReward, build_curiosity


@pytest.mark.parametrize("name", SIGNAL_NAMES)
def test_imagined_rewards_are_finite_per_sample_and_batched(kit, familiar_model, name) -> None:
    cfg = CuriosityConfig(name=name, normalize=False, rnd_hidden=16, rnd_out=8)
    sig = build_curiosity(cfg, familiar_model, 26, kit.action_dim, kit.layout)
    assert isinstance(sig, IntrinsicReward) and isinstance(sig.reward, IntrinsicReward)
    batch = kit.transitions(kit.novel, 64, 50)
    sig.update(batch)
    for next_obs in (None, batch.next_obs):
        r = sig(batch.obs, batch.action, next_obs)
        assert r.shape == (64,) and r.dtype == torch.float32
        assert torch.isfinite(r).all() and not r.requires_grad
        one = sig(batch.obs[5:6], batch.action[5:6], None if next_obs is None else next_obs[5:6])
        torch.testing.assert_close(one, r[5:6], rtol=1e-4, atol=1e-6)


def test_disagreement_ignores_next_obs_and_equals_imagined_prediction_error(
    kit, familiar_model
) -> None:
    def build(name: str):
        cfg = CuriosityConfig(name=name, normalize=False)
        return build_curiosity(cfg, familiar_model, 26, kit.action_dim, kit.layout)

    dis, pe = build("disagreement"), build("prediction_error")
    batch = kit.transitions(kit.novel, 128, 51)
    imagined = dis(batch.obs, batch.action)
    assert torch.equal(dis(batch.obs, batch.action, batch.next_obs), imagined)
    torch.testing.assert_close(pe(batch.obs, batch.action), imagined)
    assert (imagined > 0).all()
