"""Learning progress rewards what the model is learning *now*, and its refresh rule.

Set-up: a model learns set A (familiar region); the old copy is taken; then the model trains on
A and B (a new region, faster bodies) together. Set C holds states of the familiar region whose
outcome is a bounce (the ball's velocity reverses) that no training batch ever shows: a surprise
the model is *not* learning. Afterwards the model's error on B has dropped a lot (being learnt),
on A it barely moved (already learnt) and on C it stays high and unchanged. So LP must rank B
above both A and C, while prediction error ranks C highest (the noisy-TV contrast).
"""

from __future__ import annotations

import torch

from curiosity import LearningProgress, PredictionError, StateMetric
from world_model.batch import TransitionBatch
from world_model.toy import DT


def _cat(a: TransitionBatch, b: TransitionBatch) -> TransitionBatch:
    return TransitionBatch(*(torch.cat([x, y]) for x, y in zip(a, b, strict=True)))


def _bounced(batch: TransitionBatch) -> TransitionBatch:
    """The ball (entity 1) bounces: its velocity reverses and it moves back."""
    nxt = batch.next_obs.clone()
    vel = -batch.obs[:, 13 + 7 : 13 + 9]
    nxt[:, 13 + 7 : 13 + 9] = vel
    nxt[:, 13 : 13 + 2] = batch.obs[:, 13 : 13 + 2] + vel * DT
    return batch._replace(next_obs=nxt)


def _mean(signal, batch: TransitionBatch, imagined: bool = False) -> float:
    return signal(batch.obs, batch.action, None if imagined else batch.next_obs).mean().item()


def test_lp_ranks_the_set_being_learnt_above_learnt_and_unseen_sets(kit) -> None:
    region_a = kit.familiar
    region_b = kit.Region(1.0, 2.0, 1.0, 1.5)
    model = kit.new_model(3)
    kit.train(model, kit.transitions(region_a, 2000, 1), 300)
    metric = StateMetric(kit.layout, model, ("agent", "object"))
    lp = LearningProgress(model, metric, refresh_every=10**6)  # old copy = model after A
    kit.train(
        model, _cat(kit.transitions(region_a, 1000, 2), kit.transitions(region_b, 1000, 3)), 300
    )

    a, b = kit.transitions(region_a, 512, 20), kit.transitions(region_b, 512, 21)
    c = _bounced(kit.transitions(region_a, 512, 22))
    lp_a, lp_b, lp_c = _mean(lp, a), _mean(lp, b), _mean(lp, c)
    assert lp_b > 3 * lp_a and lp_b > 3 * lp_c, (lp_a, lp_b, lp_c)
    # Prediction error alone would prefer the never-seen set C.
    pe = PredictionError(model, metric)
    assert _mean(pe, c) > _mean(pe, b)
    # Imagined: the model changed its predictions on B more than on the learnt set A.
    assert _mean(lp, b, imagined=True) > 3 * _mean(lp, a, imagined=True)


def test_lp_is_clamped_unless_signed_and_refreshes_every_k_updates(kit, familiar_model) -> None:
    model = kit.new_model(4)
    untrained = {k: v.clone() for k, v in model.state_dict().items()}
    metric = StateMetric(kit.layout, model, ("agent", "object"))
    clamped = LearningProgress(model, metric, refresh_every=3)
    signed = LearningProgress(model, metric, refresh_every=3, signed=True)
    batch = kit.transitions(kit.familiar, 256, 30)

    def real(lp: LearningProgress) -> torch.Tensor:
        return lp(batch.obs, batch.action, batch.next_obs)

    model.load_state_dict(familiar_model.state_dict())  # the model learns
    err_old = PredictionError(signed.old, metric)(batch.obs, batch.action, batch.next_obs)
    err_new = PredictionError(model, metric)(batch.obs, batch.action, batch.next_obs)
    torch.testing.assert_close(real(signed), err_old - err_new)
    assert real(signed).mean() > 0
    torch.testing.assert_close(real(clamped), real(signed).clamp(min=0.0))

    signed.refresh()  # old copy = the trained model; then the model forgets
    model.load_state_dict(untrained)
    assert (real(signed) < 0).float().mean() > 0.9
    assert real(clamped).min() >= 0.0

    model.load_state_dict(familiar_model.state_dict())
    for k in (1, 2):
        metrics = clamped.update(batch)
        assert metrics["curiosity/lp/since_refresh"] == k and clamped.refreshes == 0
        assert real(clamped).sum() > 0
    metrics = clamped.update(batch)  # third update: the old copy becomes the current model
    assert metrics["curiosity/lp/refreshes"] == 1 and metrics["curiosity/lp/since_refresh"] == 0
    assert torch.equal(real(clamped), torch.zeros(256))
    assert torch.equal(clamped(batch.obs, batch.action), torch.zeros(256))


def test_lp_state_round_trip_keeps_the_old_copy(kit, familiar_model) -> None:
    model = kit.new_model(5)
    metric = StateMetric(kit.layout, model, ("agent", "object"))
    lp = LearningProgress(model, metric, refresh_every=7, make_model=lambda: kit.new_model(9))
    model.load_state_dict(familiar_model.state_dict())
    batch = kit.transitions(kit.familiar, 64, 40)
    lp.update(batch)
    state = lp.state_dict()
    fresh = LearningProgress(model, metric, refresh_every=7)  # old copy = current model
    assert fresh(batch.obs, batch.action).abs().sum() == 0
    fresh.load_state_dict(state)
    assert fresh.since_refresh == 1
    assert torch.equal(fresh(batch.obs, batch.action), lp(batch.obs, batch.action))


def test_the_default_refresh_period_is_500_model_updates_of_a_default_run() -> None:
    """``lp_refresh_every`` counts calls to ``update``, which the run loop makes once per
    training round, not once per world-model update: the default must refresh the old copy
    every 500 world-model updates (2,000 env steps) of a default run, well within a 20k run.
    (It was 500 rounds, i.e. 50,000 env steps: a 20k run never refreshed.)"""
    from agent.config import RunConfig, load_config

    cfg, _ = load_config("run", RunConfig, ["curiosity=learning_progress"])
    rounds = cfg.curiosity.lp_refresh_every
    env_steps = rounds * cfg.loop.update_every
    assert env_steps == 2000
    assert env_steps * cfg.loop.updates_per_step == 500
    assert (cfg.budget - cfg.loop.warmup) // env_steps >= 5  # refreshes in a default run
