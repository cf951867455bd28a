"""Every signal pays more for novel transitions than for familiar ones.

The world model (and RND's predictor) learn from one region of the toy system only; held-out
transitions from that region are *familiar*, transitions from a far region with faster bodies
and larger actions are *novel*. A signal that does not rank the novel set higher fails.
"""

from __future__ import annotations

import torch

from curiosity import (
    RND,
    CuriosityConfig,
    Disagreement,
    PredictionError,
    StateMetric,
    build_curiosity,
    entity_weight,
)


def _means(signal, familiar, novel, imagined: bool = False) -> tuple[float, float]:
    def score(b):
        return signal(b.obs, b.action, None if imagined else b.next_obs).mean().item()

    return score(familiar), score(novel)


def test_prediction_error_is_higher_on_novel(kit, familiar_model) -> None:
    metric = StateMetric(kit.layout, familiar_model, ("agent", "object"))
    pe = PredictionError(familiar_model, metric)
    fam, nov = kit.transitions(kit.familiar, 512, 10), kit.transitions(kit.novel, 512, 11)
    f, n = _means(pe, fam, nov)
    assert n > 10 * f, (f, n)
    f, n = _means(pe, fam, nov, imagined=True)
    assert n > 3 * f, (f, n)


def test_disagreement_is_higher_on_novel(kit, familiar_model) -> None:
    metric = StateMetric(kit.layout, familiar_model, ("agent", "object"))
    dis = Disagreement(familiar_model, metric)
    fam, nov = kit.transitions(kit.familiar, 512, 10), kit.transitions(kit.novel, 512, 11)
    f, n = _means(dis, fam, nov)
    assert n > 3 * f, (f, n)


def test_rnd_is_higher_on_novel_after_training_on_familiar(kit, familiar_model) -> None:
    weight = entity_weight(kit.layout, ("agent", "object"))
    rnd = RND(familiar_model, weight, hidden=32, out=8, depth=1, lr=3e-3)
    data = kit.transitions(kit.familiar, 2000, 1)
    gen = torch.Generator().manual_seed(0)
    for _ in range(300):
        idx = torch.randint(0, 2000, (64,), generator=gen)
        rnd.update(type(data)(*(x[idx] for x in data)))
    fam, nov = kit.transitions(kit.familiar, 512, 10), kit.transitions(kit.novel, 512, 11)
    f, n = _means(rnd, fam, nov)
    assert n > 5 * f, (f, n)
    f, n = _means(rnd, fam, nov, imagined=True)
    assert n > 5 * f, (f, n)


def test_built_signals_rank_novel_higher_after_normalisation(kit, familiar_model) -> None:
    fam, nov = kit.transitions(kit.familiar, 256, 10), kit.transitions(kit.novel, 256, 11)
    for name in ("prediction_error", "disagreement"):
        sig = build_curiosity(
            CuriosityConfig(name=name), familiar_model, 26, kit.action_dim, kit.layout
        )
        sig.update(fam)
        f, n = _means(sig, fam, nov)
        assert n > f, (name, f, n)
