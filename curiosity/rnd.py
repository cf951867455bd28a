"""Random network distillation (Burda et al. 2018) on the next state.

A fixed, randomly initialised target network embeds a (normalised) state; a predictor network is
trained to match it on the states actually visited. Its error stays high on states unlike
those, so it measures novelty of the *state*, independently of the world model's accuracy.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from world_model.batch import TransitionBatch
from world_model.normalizer import RunningNormalizer
from world_model.protocol import WorldModel

if TYPE_CHECKING:
    from curiosity.config import CuriosityConfig
    from curiosity.state_metric import StateMetric

# Input normaliser floor, as for the world model's observation normaliser.
_OBS_MIN_STD = 1e-3


def _mlp(n_in: int, hidden: int, depth: int, n_out: int) -> nn.Sequential:
    sizes = [n_in] + [hidden] * depth
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(a, b), nn.SiLU()]
    layers.append(nn.Linear(sizes[-1], n_out))
    return nn.Sequential(*layers)


class RND:
    """Predictor error ``mean_k (p(x) - t(x))_k^2`` on the normalised next state ``x``.

    Real transitions: ``x`` is the observed ``next_obs``. Imagined ones: ``x`` is the
    world model's ensemble-mean prediction of the next state. Inputs are normalised with the
    signal's own running statistics of visited next states, clipped to ``[-input_clip,
    input_clip]`` and multiplied by the entity weight (dims of excluded kinds are zeroed).

    Args:
        model: the world model (only used for imagined transitions).
        weight: ``(D,)`` per-dim input weight (:func:`~curiosity.state_metric.entity_weight`).
        hidden: hidden width of target and predictor.
        out: embedding size.
        depth: hidden layers of target and predictor.
        lr: Adam learning rate of the predictor.
        input_clip: bound of the normalised inputs.
        seed: seed of both networks' initialisation (the global RNG is left untouched).
    """

    name = "rnd"

    def __init__(
        self,
        model: WorldModel,
        weight: Tensor,
        hidden: int = 128,
        out: int = 32,
        depth: int = 2,
        lr: float = 1e-3,
        input_clip: float = 5.0,
        seed: int = 0,
    ) -> None:
        self.model = model
        self.weight = weight.to(torch.float32)
        self.input_clip = float(input_clip)
        d = int(weight.shape[0])
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.target = _mlp(d, hidden, depth, out).requires_grad_(False)
            self.predictor = _mlp(d, hidden, depth, out)
        self.obs_norm = RunningNormalizer(d, _OBS_MIN_STD)
        self.optimizer = torch.optim.Adam(self.predictor.parameters(), lr=lr)
        self.updates = 0  # applied predictor steps
        self.skipped = 0  # batches skipped for a non-finite loss

    def _inputs(self, x: Tensor) -> Tensor:
        xn = self.obs_norm.normalize(x).clamp(-self.input_clip, self.input_clip)
        return xn * self.weight

    def error(self, state: Tensor) -> Tensor:
        """Predictor error (with gradients). Args: ``state (B, D)``. Returns ``(B,)``."""
        x = self._inputs(state)
        return (self.predictor(x) - self.target(x)).square().mean(-1)

    @torch.no_grad()
    def __call__(
        self,
        obs: Tensor,
        action: Tensor,
        next_obs: Tensor | None = None,
        predicted: Tensor | None = None,
    ) -> Tensor:
        """Args: ``obs (B, D)``, ``action (B, A)``, ``next_obs (B, D)`` or None. Returns (B,)."""
        if next_obs is not None:
            state = next_obs
        else:
            state = (self.model.predict(obs, action) if predicted is None else predicted).mean(0)
        return self.error(state)

    def update(self, batch: TransitionBatch) -> dict[str, float]:
        """Merge ``batch.next_obs`` into the input normaliser, then one Adam step.

        A batch whose loss is non-finite (NaN/inf in ``next_obs``) is skipped: the normaliser
        ignores it too, so the predictor is never poisoned.

        Returns:
            ``curiosity/rnd/loss`` (mean predictor error on the batch, before the step) and
            ``curiosity/rnd/skipped`` (batches skipped so far).
        """
        self.obs_norm.update(batch.next_obs)
        loss = self.error(batch.next_obs).mean()
        value = float(loss.detach())
        if math.isfinite(value):
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            self.updates += 1
        else:
            self.skipped += 1
        return {"curiosity/rnd/loss": value, "curiosity/rnd/skipped": float(self.skipped)}

    def state_dict(self) -> dict[str, Any]:
        """Target, predictor, input normaliser, optimizer and the counters."""
        return {
            "target": self.target.state_dict(),
            "predictor": self.predictor.state_dict(),
            "obs_norm": self.obs_norm.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "updates": self.updates,
            "skipped": self.skipped,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore from :meth:`state_dict`."""
        self.target.load_state_dict(state["target"])
        self.predictor.load_state_dict(state["predictor"])
        self.obs_norm.load_state_dict(state["obs_norm"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.updates = int(state["updates"])
        self.skipped = int(state["skipped"])


def build_rnd(
    cfg: CuriosityConfig,
    model: WorldModel,
    metric: StateMetric,
    make_model: Callable[[], WorldModel] | None,
) -> RND:
    """``rnd`` (:data:`curiosity.registry.SIGNALS`), on the entity mask of ``metric``."""
    return RND(
        model,
        metric.weight,
        hidden=cfg.rnd_hidden,
        out=cfg.rnd_out,
        depth=cfg.rnd_depth,
        lr=cfg.rnd_lr,
        input_clip=cfg.rnd_input_clip,
        seed=cfg.rnd_seed,
    )
