"""The pixel world model of the ``video_pixels`` source: frames in, no actions, no states.

A learner that watches video sees 64x64 frames of the scene (shadows off) and nothing else
about the objects. Its model:

- **encoder** ``E``: a small CNN, frame ``(3, S, S)`` -> latent ``z`` (layer-normed, so the
  latent scale cannot drift);
- **decoder** ``D``: the mirror CNN, latent -> the frame at half resolution (training only;
  it keeps the latent informative about where things are);
- **predictor** ``P``: an ensemble of ``M`` residual MLPs, ``(z_t, c_t) -> z_{t+1}``, where
  ``c_t`` is the agent's observed next state (the same conditioning as ``video_states``: the
  learner sees the agent move, never the action that moved it).

Objective per transition: ``w * |D(E(f_t)) - pool(f_t)|^2`` (``w`` = 1 + ``foreground_weight``
times each pixel's distance from the batch's mean frame: the objects are a few pixels of a
static scene), plus ``latent_weight *
|P(E(f_t), c_t) - sg(E(f_{t+1}))|^2 / |sg(E(f_{t+1}) - E(f_t))|^2`` (batch means, over
members): the prediction is scored against the size of the true latent change, so that term
keeps its weight although consecutive frames differ little (1.0 = predicting no change).

Scoring (:func:`evaluate_pixel_model`) needs object *states*. Every pixel model reads them out
through the same small linear readout, fitted the same way whatever the source, in closed form
on a fixed labelled *readout set* (a second probe set, built by the probe policy with another
seed, disjoint from the probe set scored on), at every evaluation (``pixels.readout``):

- ``delta`` (default): a ridge regression from ``[z_t, z_hat_{t+1} - z_t]`` (ensemble-mean
  prediction) to the state change ``o_{t+1} - o_t``. Generous: through ``z_t`` it can also fit
  a frame-conditioned mean change from the readout set's labelled transitions.
- ``state``: a ridge decoder ``g`` of each frame's own state, scored as ``g(z_hat_{t+1}) -
  g(z_t)``. Strict: it sees no transition, so every bit of dynamics comes from the predictor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from envs.layout import EntityLayout
from world_model.config import PixelModelConfig
from world_model.ensemble import EnsembleMLP
from world_model.evaluation import one_step_metrics, rollout_metrics
from world_model.inference import given_mask_for
from world_model.normalizer import RunningNormalizer


class PixelBatch(NamedTuple):
    """Transitions as frames.

    Attributes:
        frames: ``(B, 2, 3, S, S)`` uint8 frames of ``o_t`` and ``o_{t+1}``.
        cond: ``(B, C)`` float32 conditioning (the agent's observed next state).
    """

    frames: Tensor
    cond: Tensor


def _as_float(frames: Tensor) -> Tensor:
    return frames.to(torch.float32) / 255.0


class PixelWorldModel(nn.Module):
    """CNN encoder/decoder + latent predictor ensemble. See the module docstring.

    Args:
        cfg: model configuration.
        cond_dim: ``C``, size of the conditioning vector.
    """

    def __init__(self, cfg: PixelModelConfig, cond_dim: int) -> None:
        super().__init__()
        self.cfg = cfg
        self.n_members = cfg.n_members
        self.cond_dim = int(cond_dim)
        c, side = cfg.channels, cfg.size // 8
        # Patchify (stride-4 conv), then one stride-2 conv: on a CPU this encoder costs a
        # third of three stride-2 convs.
        self.encoder = nn.Sequential(
            nn.Conv2d(3, c, 4, 4), nn.SiLU(),
            nn.Conv2d(c, 2 * c, 4, 2, 1), nn.SiLU(),
            nn.Flatten(), nn.Linear(2 * c * side * side, cfg.latent_dim),
            nn.LayerNorm(cfg.latent_dim, elementwise_affine=False),
        )  # fmt: skip
        # Decodes the frame at half resolution (2x2 average-pooled): 5x cheaper than full.
        self.decoder = nn.Sequential(
            nn.Linear(cfg.latent_dim, 2 * c * side * side), nn.SiLU(),
            nn.Unflatten(1, (2 * c, side, side)),
            nn.ConvTranspose2d(2 * c, c, 4, 2, 1), nn.SiLU(),
            nn.ConvTranspose2d(c, 3, 4, 2, 1),
        )  # fmt: skip
        self.predictor = EnsembleMLP(
            cfg.n_members, cfg.latent_dim + self.cond_dim, cfg.latent_dim, cfg.hidden, cfg.depth,
            True, out_scale=0.0,  # starts by predicting no change: latent loss 1.0
        )  # fmt: skip
        self.cond_norm = RunningNormalizer(self.cond_dim, 1e-3)

    def encode(self, frames: Tensor) -> Tensor:
        """Args: ``frames (N, 3, S, S)`` uint8. Returns ``(N, Z)``."""
        return self.encoder(_as_float(frames))

    def predict_latent(self, z: Tensor, cond: Tensor) -> Tensor:
        """Args: ``z (N, Z)`` or ``(M, N, Z)``, ``cond (N, C)``. Returns ``(M, N, Z)``."""
        if z.dim() == 2:
            z = z.unsqueeze(0).expand(self.n_members, *z.shape)
        c = self.cond_norm.normalize(cond).unsqueeze(0).expand(self.n_members, *cond.shape)
        return z + self.predictor(torch.cat([z, c], dim=-1))

    # -- the trainer's interface ----------------------------------------------------------------
    def update_normalizers(self, batch: PixelBatch) -> None:
        self.cond_norm.update(batch.cond)

    def loss(self, batch: PixelBatch) -> dict[str, Tensor]:
        """``{"recon", "latent", "total"}`` for one batch of transitions."""
        b = batch.frames.shape[0]
        x = _as_float(batch.frames.reshape(b * 2, *batch.frames.shape[2:]))
        z = self.encoder(x).reshape(b, 2, -1)
        first = F.avg_pool2d(x.reshape(b, 2, *x.shape[1:])[:, 0], 2)
        # Objects fill a few pixels of a static scene: weight each pixel by how far it is
        # from the batch's mean frame, or the decoder learns the background and stops there.
        background = first.mean(0, keepdim=True)
        weight = 1.0 + self.cfg.foreground_weight * (first - background).abs().sum(1, True)
        recon = (weight.detach() * (self.decoder(z[:, 0]) - first).pow(2)).mean()
        pred = self.predict_latent(z[:, 0], batch.cond)
        target = z[:, 1].detach()
        # Consecutive frames differ little: scored against the size of the true latent change
        # (1.0 = no better than predicting no change), the prediction term keeps its weight.
        change = (target - z[:, 0].detach()).pow(2).mean().clamp(min=1e-8)
        latent = (pred - target.unsqueeze(0)).pow(2).mean() / change
        return {
            "recon": recon,
            "latent": latent,
            "total": recon + self.cfg.latent_weight * latent,
        }

    def after_step(self) -> None:
        """Nothing to do after an optimizer step (no EMA target)."""


# -- scoring ------------------------------------------------------------------------------------
@dataclass
class PixelView:
    """Labelled transitions with the frames of their first states (a probe or readout set).

    Attributes:
        frames: ``(N, 3, S, S)`` uint8 frames of ``obs``.
        obs, next_obs: ``(N, D)`` true states; cond: ``(N, C)`` the agent's observed motion.
    """

    frames: np.ndarray
    obs: np.ndarray
    next_obs: np.ndarray
    cond: np.ndarray


@torch.no_grad()
def _latents(model: PixelWorldModel, frames: np.ndarray, chunk: int = 1024) -> Tensor:
    return torch.cat(
        [
            model.encode(torch.from_numpy(frames[s : s + chunk]))
            for s in range(0, len(frames), chunk)
        ]
    )


def _features(z: Tensor, z_next: Tensor) -> Tensor:
    return torch.cat([z, z_next - z], dim=-1)


class LinearReadout:
    """Ridge regression from ``[z_t, z_hat_{t+1} - z_t]`` to the normalised ``o' - o``.

    Features are standardised over the readout set first (the predicted latent change is
    small next to the latent itself), so ``ridge`` is relative and the same for every feature.
    """

    def __init__(self, ridge: float) -> None:
        self.ridge = float(ridge)
        self._fitted: tuple[Tensor, Tensor, Tensor, Tensor] | None = None  # mean, std, W, scale

    @torch.no_grad()
    def fit(self, model: PixelWorldModel, view: PixelView) -> LinearReadout:
        z = _latents(model, view.frames)
        z_next = model.predict_latent(z, torch.from_numpy(view.cond)).mean(0)
        phi = _features(z, z_next).to(torch.float64)
        mean, std = phi.mean(0), phi.std(0).clamp(min=1e-8)
        x = (phi - mean) / std
        delta = torch.from_numpy(view.next_obs - view.obs).to(torch.float64)
        scale = delta.std(0).clamp(min=1e-6)
        y = delta / scale
        y_mean = y.mean(0)
        eye = torch.eye(x.shape[1], dtype=torch.float64) * self.ridge * len(x)
        weight = torch.linalg.solve(x.T @ x + eye, x.T @ (y - y_mean))
        self._fitted = (mean, std, torch.cat([weight, y_mean[None]]), scale)
        return self

    def delta(self, z: Tensor, z_next: Tensor) -> Tensor:
        """Predicted ``o' - o`` ``(N, D)`` from latents ``(N, Z)``."""
        if self._fitted is None:
            raise RuntimeError("LinearReadout.delta before fit()")
        mean, std, weight, scale = self._fitted
        x = (_features(z, z_next).to(torch.float64) - mean) / std
        ones = torch.ones(len(x), 1, dtype=torch.float64)
        return ((torch.cat([x, ones], dim=1) @ weight) * scale).to(torch.float32)


class LinearStateReadout:
    """The stricter, perception-only readout (``pixels.readout=state``): a ridge decoder from
    the latent of one frame to that frame's state, ``g(z) ~ o``, fitted on the readout set's
    frames and states (no transition in it), scored as ``o' - o = g(z_hat_{t+1}) - g(z_t)``.
    It cannot learn any dynamics: all of it must come from the latent predictor."""

    def __init__(self, ridge: float) -> None:
        self.ridge = float(ridge)
        self._fitted: tuple[Tensor, Tensor, Tensor] | None = None  # mean, std, W

    @torch.no_grad()
    def fit(self, model: PixelWorldModel, view: PixelView) -> LinearStateReadout:
        z = _latents(model, view.frames).to(torch.float64)
        mean, std = z.mean(0), z.std(0).clamp(min=1e-8)
        x = (z - mean) / std
        obs = torch.from_numpy(view.obs).to(torch.float64)
        eye = torch.eye(x.shape[1], dtype=torch.float64) * self.ridge * len(x)
        self._fitted = (mean, std, torch.linalg.solve(x.T @ x + eye, x.T @ (obs - obs.mean(0))))
        return self

    def delta(self, z: Tensor, z_next: Tensor) -> Tensor:
        """Predicted ``o' - o`` ``(N, D)``: the decoded state of ``z_next`` minus that of ``z``."""
        if self._fitted is None:
            raise RuntimeError("LinearStateReadout.delta before fit()")
        _, std, weight = self._fitted
        change = (z_next - z).to(torch.float64) / std
        return (change @ weight).to(torch.float32)


READOUTS: dict[str, type[LinearReadout] | type[LinearStateReadout]] = {
    "delta": LinearReadout,
    "state": LinearStateReadout,
}


@torch.no_grad()
def evaluate_pixel_model(
    model: PixelWorldModel,
    readout_view: PixelView,
    probe_view: PixelView,
    regime: np.ndarray,
    pair_kind: np.ndarray,
    seq_len: int,
    layout: EntityLayout,
    ridge: float,
    prefix: str = "probe",
    readout: str = "delta",
) -> dict[str, Any]:
    """Probe metrics of a pixel model, keyed exactly like
    :func:`world_model.probe.evaluate_on_probe`'s: fit the readout on ``readout_view``, then
    score one-step predictions on every probe transition and open-loop rollouts (latent
    predictor fed back, agent dims given from the truth) from each sequence's first frame.

    Args:
        probe_view: the probe set's transitions, sequences of ``seq_len`` contiguous rows.
        regime, pair_kind: the probe set's labels, ``(N, E)``.
        readout: ``"delta"`` (:class:`LinearReadout`) or ``"state"``
            (:class:`LinearStateReadout`).
    """
    if readout not in READOUTS:
        raise ValueError(f"pixels.readout must be one of {list(READOUTS)}, got {readout!r}")
    fitted = READOUTS[readout](ridge).fit(model, readout_view)
    z = _latents(model, probe_view.frames)
    cond = torch.from_numpy(probe_view.cond)
    z_next = model.predict_latent(z, cond).mean(0)
    pred = probe_view.obs + fitted.delta(z, z_next).numpy()
    metrics = one_step_metrics(
        probe_view.obs, probe_view.next_obs, pred, regime, pair_kind, layout, prefix=prefix
    )

    n, d = probe_view.obs.shape
    s, h = n // seq_len, seq_len
    obs = probe_view.obs.reshape(s, h, d)
    obs_seq = np.concatenate([obs, probe_view.next_obs.reshape(s, h, d)[:, -1:]], axis=1)
    cond_seq = probe_view.cond.reshape(s, h, -1)
    given = torch.as_tensor(given_mask_for(layout, ("agent",)))
    truth = torch.from_numpy(obs_seq)
    zk = z.reshape(s, h, -1)[:, 0]
    o = truth[:, 0]
    imagined = []
    for k in range(h):
        zk_next = model.predict_latent(zk, torch.from_numpy(cond_seq[:, k])).mean(0)
        o = o + fitted.delta(zk, zk_next)
        o = torch.where(given, truth[:, k + 1], o)
        imagined.append(o)
        zk = zk_next
    rollout = torch.stack(imagined, dim=1).numpy()
    metrics.update(
        rollout_metrics(obs_seq, rollout, regime.reshape(s, h, -1), layout, prefix=prefix)
    )
    return metrics
