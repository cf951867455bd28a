"""Adding a curiosity signal is one file plus one registration: here the toy signal's class,
its builder and its registration all live in this test module, no package file is edited, and
the package's own config check and builder take it (``docs/curiosity.md``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import torch
from torch import Tensor

from curiosity import SIGNALS, CuriosityConfig, CuriositySignal, build_curiosity, register_signal
from curiosity.config import SIGNAL_NAMES
from curiosity.state_metric import StateMetric
from world_model.batch import TransitionBatch
from world_model.protocol import WorldModel

TOY = "toy_displacement"


class Displacement:
    """Toy signal: squared raw displacement of the chosen entities over the step (the observed
    next state for real transitions, the ensemble-mean prediction for imagined ones)."""

    name = TOY

    def __init__(self, model: WorldModel, weight: Tensor) -> None:
        self.model, self.weight = model, weight

    @torch.no_grad()
    def __call__(
        self,
        obs: Tensor,
        action: Tensor,
        next_obs: Tensor | None = None,
        predicted: Tensor | None = None,
    ) -> Tensor:
        if next_obs is None:
            pred = self.model.predict(obs, action) if predicted is None else predicted
            next_obs = pred.mean(0)
        return ((next_obs - obs) * self.weight).square().sum(-1)

    def update(self, batch: TransitionBatch) -> dict[str, float]:
        return {}

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


def build_displacement(
    cfg: CuriosityConfig,
    model: WorldModel,
    metric: StateMetric,
    make_model: Callable[[], WorldModel] | None,
) -> Displacement:
    return Displacement(model, metric.weight)


@pytest.fixture
def toy_signal() -> Iterator[str]:
    """The one registration line (a decorator in the signal's own file), undone afterwards so
    the other tests see the built-in table."""
    register_signal(TOY)(build_displacement)
    yield TOY
    SIGNALS.unregister(TOY)


def test_an_unregistered_name_fails_listing_the_registered_ones() -> None:
    with pytest.raises(ValueError, match=r"CuriosityConfig.name must be one of \(") as err:
        CuriosityConfig(name=TOY)
    for name in SIGNAL_NAMES:
        assert repr(name) in str(err.value)


def test_a_registered_signal_is_validated_and_built_by_the_package(
    kit, familiar_model, toy_signal: str
) -> None:
    cfg = CuriosityConfig(name=toy_signal, entity_kinds=("object",))
    signal = build_curiosity(cfg, familiar_model, 26, 2, kit.layout)
    assert isinstance(signal, CuriositySignal) and isinstance(signal.reward, Displacement)
    assert signal.name == TOY and signal.normalizer is not None
    batch = kit.transitions(kit.familiar, 64, seed=3)
    real = signal(batch.obs, batch.action, batch.next_obs)
    imagined = signal(batch.obs, batch.action, None)
    assert real.shape == imagined.shape == (64,)
    assert torch.isfinite(real).all() and torch.isfinite(imagined).all() and (real > 0).any()
    # the entity mask of cfg.entity_kinds reached the builder: the agent's dims do not count
    moved_agent = batch.next_obs.clone()
    moved_agent[:, :13] += 1.0
    raw = signal.reward(batch.obs, batch.action, moved_agent)
    assert torch.equal(raw, signal.reward(batch.obs, batch.action, batch.next_obs))


def test_a_taken_name_cannot_be_registered_twice(toy_signal: str) -> None:
    with pytest.raises(ValueError, match="registered already"):
        register_signal(toy_signal)(build_displacement)
    with pytest.raises(ValueError, match="registered already"):
        register_signal("rnd")(build_displacement)
