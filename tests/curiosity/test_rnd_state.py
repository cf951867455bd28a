"""RND: exact resume through a checkpoint, and a NaN batch never poisons the predictor."""

from __future__ import annotations

from pathlib import Path

import torch

from curiosity import RND, entity_weight
from world_model.batch import TransitionBatch
from world_model.checkpoint import load_checkpoint, save_checkpoint


def _rnd(kit, model, seed: int) -> RND:
    weight = entity_weight(kit.layout, ("agent", "object", "distractor"))
    return RND(model, weight, hidden=16, out=8, depth=1, lr=1e-2, seed=seed)


def test_state_round_trip_gives_the_same_rewards_and_training(
    kit, familiar_model, tmp_path: Path
) -> None:
    rnd = _rnd(kit, familiar_model, seed=0)
    batch = kit.transitions(kit.familiar, 64, 60)
    for _ in range(5):
        rnd.update(batch)
    save_checkpoint(tmp_path / "rnd.pt", {"rnd": rnd.state_dict()})
    fresh = _rnd(kit, familiar_model, seed=1)  # different networks until loaded
    probe = kit.transitions(kit.novel, 32, 61)
    assert not torch.equal(fresh(probe.obs, probe.action, probe.next_obs), rnd(*probe[:3]))
    fresh.load_state_dict(load_checkpoint(tmp_path / "rnd.pt")["rnd"])
    for next_obs in (probe.next_obs, None):
        assert torch.equal(
            fresh(probe.obs, probe.action, next_obs), rnd(probe.obs, probe.action, next_obs)
        )
    rnd.update(probe)  # the optimizer state came back too: one more step stays identical
    fresh.update(probe)
    assert torch.equal(fresh(*probe[:3]), rnd(*probe[:3]))
    assert fresh.updates == rnd.updates == 6


def test_same_seed_same_networks_and_global_rng_untouched(kit, familiar_model) -> None:
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    a, b = _rnd(kit, familiar_model, 7), _rnd(kit, familiar_model, 7)
    assert torch.equal(torch.rand(3), expected)
    probe = kit.transitions(kit.novel, 16, 62)
    assert torch.equal(a(*probe[:3]), b(*probe[:3]))


def test_nan_batch_is_skipped(kit, familiar_model) -> None:
    rnd = _rnd(kit, familiar_model, seed=0)
    good = kit.transitions(kit.familiar, 64, 63)
    rnd.update(good)
    before = [p.clone() for p in rnd.predictor.parameters()]
    nxt = good.next_obs.clone()
    nxt[3, 4] = float("nan")
    metrics = rnd.update(TransitionBatch(*good._replace(next_obs=nxt)))
    assert metrics["curiosity/rnd/skipped"] == 1.0 and rnd.updates == 1
    assert all(torch.equal(p, q) for p, q in zip(before, rnd.predictor.parameters(), strict=True))
    assert torch.isfinite(rnd(*good[:3])).all()
