"""What every latent dynamics ensemble shares: normalisation, stepping, rollouts, EMA target.

A concrete model supplies four pieces on member-first tensors (``M`` members, ``N`` samples):

- ``encode_latent(xn (M, N, D), target) -> z (M, N, ...)``: normalised obs to latent;
- ``transition(z, action (M, N, A)) -> z'``: action-conditioned latent step (residual);
- ``decode(z, z') -> (M, N, D)``: normalised delta ``(o' - o - mean) / std`` of the step;
- ``latent_samples(z) -> (M, S, F)``: latent vectors as samples for the anti-collapse term.

One step in observation space is ``o' = o + denormalise(decode(z, transition(z, a)))``; rollouts
feed ``o'`` back (re-encoding it), so ``given_mask`` can overwrite dims with true values.
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor, nn

from world_model.batch import SequenceBatch
from world_model.config import WorldModelConfig
from world_model.ensemble import EnsembleMLP
from world_model.models import objectives
from world_model.normalizer import RunningNormalizer

# Std floors: obs features are O(0.1-1) (m, m/s, quaternion); per-step deltas are much smaller.
_OBS_MIN_STD = 1e-3
_DELTA_MIN_STD = 1e-5


def config_mlp(cfg: WorldModelConfig, n_in: int, n_out: int, out_scale: float = 1.0) -> EnsembleMLP:
    """An :class:`EnsembleMLP` with the config's members, width, depth and layer norm."""
    return EnsembleMLP(
        cfg.n_members, n_in, n_out, cfg.hidden, cfg.depth, cfg.layer_norm, out_scale=out_scale
    )


class LatentDynamicsModel(nn.Module):
    """Base class of :class:`LatentMLPModel` and :class:`InteractionNetModel`.

    Args:
        cfg: model configuration.
        obs_dim: ``D``.
        action_dim: ``A`` (0 allowed).
        norm_group: features per normaliser row: ``D`` normalises every dim on its own; 13
            shares statistics across entities so relative positions stay meaningful.
    """

    encoder: nn.Module
    target_encoder: nn.Module | None

    def __init__(
        self, cfg: WorldModelConfig, obs_dim: int, action_dim: int, norm_group: int
    ) -> None:
        super().__init__()
        if obs_dim % norm_group:
            raise ValueError(
                f"obs_dim {obs_dim} is not a multiple of the normaliser group {norm_group}"
            )
        self.cfg = cfg
        self.n_members = cfg.n_members
        self.obs_dim = int(obs_dim)
        self.action_dim = int(action_dim)
        self.norm_group = int(norm_group)
        self.obs_norm = RunningNormalizer(norm_group, _OBS_MIN_STD)
        self.delta_norm = RunningNormalizer(norm_group, _DELTA_MIN_STD)
        self.target_encoder = None

    def _finish_init(self) -> None:
        """Subclasses call this after building ``self.encoder``: sets up the jepa target."""
        if self.cfg.objective == "jepa":
            self.target_encoder = copy.deepcopy(self.encoder).requires_grad_(False)

    # -- pieces supplied by subclasses -------------------------------------------------------
    def encode_latent(self, xn: Tensor, target: bool = False) -> Tensor:
        raise NotImplementedError("encode_latent(xn (M,N,D), target: bool) -> z (M,N,...)")

    def transition(self, z: Tensor, action: Tensor) -> Tensor:
        raise NotImplementedError("transition(z (M,N,...), action (M,N,A)) -> z (M,N,...)")

    def decode(self, z: Tensor, z_next: Tensor) -> Tensor:
        raise NotImplementedError("decode(z, z_next) -> normalised delta (M,N,D)")

    def latent_samples(self, z: Tensor) -> Tensor:
        raise NotImplementedError("latent_samples(z (M,N,...)) -> (M,S,F)")

    # -- normalisation -----------------------------------------------------------------------
    def _grouped(self, x: Tensor) -> Tensor:
        return x.reshape(*x.shape[:-1], -1, self.norm_group)

    def normalize_obs(self, obs: Tensor) -> Tensor:
        """``(..., D)`` raw observations to normalised inputs, same shape."""
        return self.obs_norm.normalize(self._grouped(obs)).reshape(obs.shape)

    def normalize_delta(self, delta: Tensor) -> Tensor:
        """``(..., D)`` raw deltas ``o' - o`` to normalised targets, same shape."""
        return self.delta_norm.normalize(self._grouped(delta)).reshape(delta.shape)

    def denormalize_delta(self, delta: Tensor) -> Tensor:
        """Inverse of :meth:`normalize_delta`."""
        return self.delta_norm.denormalize(self._grouped(delta)).reshape(delta.shape)

    def delta_scale(self) -> Tensor:
        """``(D,)`` std of the delta normaliser per observation dim."""
        return self.delta_norm.std32.repeat(self.obs_dim // self.norm_group)

    def update_normalizers(self, batch: SequenceBatch) -> None:
        """Merge ``batch.obs (B, H+1, D)`` and its deltas into the normalisers."""
        obs = batch.obs
        self.obs_norm.update(self._grouped(obs))
        self.delta_norm.update(self._grouped(obs[:, 1:] - obs[:, :-1]))

    # -- WorldModel protocol ------------------------------------------------------------------
    def members(self, x: Tensor) -> Tensor:
        """``(N, ...)`` to ``(M, N, ...)`` without copying."""
        return x.unsqueeze(0).expand(self.n_members, *x.shape)

    def step(self, obs: Tensor, action: Tensor) -> Tensor:
        """One step per member. Args: ``obs (M, N, D)``, ``action (N, A)``. Returns ``(M,N,D)``."""
        z = self.encode_latent(self.normalize_obs(obs))
        z_next = self.transition(z, self.members(action))
        return obs + self.denormalize_delta(self.decode(z, z_next))

    def predict(self, obs: Tensor, action: Tensor) -> Tensor:
        """Args: ``obs (B, D)``, ``action (B, A)``. Returns next obs per member ``(M, B, D)``."""
        return self.step(self.members(obs), action)

    def rollout(
        self,
        obs: Tensor,
        actions: Tensor,
        given: Tensor | None = None,
        given_mask: Tensor | None = None,
    ) -> Tensor:
        """Open-loop rollout; see :meth:`world_model.protocol.WorldModel.rollout`.

        Returns:
            ``(M, B, H, D)`` predicted observations ``o_1 .. o_H``.
        """
        if given_mask is not None and given is None:
            raise ValueError("rollout: given_mask needs given (B, H, D)")
        x = self.members(obs)
        out = []
        for k in range(actions.shape[1]):
            x = self.step(x, actions[:, k])
            if given_mask is not None and given is not None:
                x = torch.where(given_mask, given[:, k].unsqueeze(0), x)
            out.append(x)
        return torch.stack(out, dim=2)

    def encode(self, obs: Tensor) -> Tensor:
        """Args: ``obs (B, D)``. Returns flat latents ``(M, B, Z)`` of the online encoder."""
        z = self.encode_latent(self.members(self.normalize_obs(obs)))
        return z.reshape(self.n_members, obs.shape[0], -1)

    def loss(self, batch: SequenceBatch) -> dict[str, Tensor]:
        """Named loss terms of the configured objective, including ``"total"``."""
        if self.cfg.objective == "jepa":
            return objectives.jepa_loss(self, batch)
        return objectives.reconstructive_loss(self, batch)

    @torch.no_grad()
    def after_step(self) -> None:
        """jepa: move the target encoder ``ema_tau`` of the way toward the online encoder."""
        if self.target_encoder is None:
            return
        for tgt, src in zip(
            self.target_encoder.parameters(), self.encoder.parameters(), strict=True
        ):
            tgt.lerp_(src, self.cfg.ema_tau)
