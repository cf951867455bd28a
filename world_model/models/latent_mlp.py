"""A flat latent dynamics ensemble: one latent vector per scene.

``z = enc(normalised obs)``, ``z' = z + f(z, a)``, ``delta = dec(z, z')``; each of the three is
an :class:`~world_model.ensemble.EnsembleMLP` over ``M`` members.
"""

from __future__ import annotations

import torch
from torch import Tensor

from world_model.config import WorldModelConfig
from world_model.models.base import LatentDynamicsModel, config_mlp


class LatentMLPModel(LatentDynamicsModel):
    """Encoder -> latent -> residual action-conditioned transition -> delta decoder.

    Args:
        cfg: configuration (``latent_dim``, ``hidden``, ``depth``, ``n_members``, objective).
        obs_dim: ``D``.
        action_dim: ``A``.
    """

    def __init__(self, cfg: WorldModelConfig, obs_dim: int, action_dim: int) -> None:
        super().__init__(cfg, obs_dim, action_dim, norm_group=obs_dim)
        z = cfg.latent_dim
        self.encoder = config_mlp(cfg, obs_dim, z)
        self.dynamics = config_mlp(cfg, z + action_dim, z, out_scale=0.1)  # starts near identity
        self.decoder = config_mlp(cfg, 2 * z, obs_dim)
        self._finish_init()

    def encode_latent(self, xn: Tensor, target: bool = False) -> Tensor:
        """Args: ``xn (M, N, D)``. Returns ``(M, N, Z)``."""
        enc = self.target_encoder if target and self.target_encoder is not None else self.encoder
        return enc(xn)

    def transition(self, z: Tensor, action: Tensor) -> Tensor:
        """Args: ``z (M, N, Z)``, ``action (M, N, A)``. Returns ``(M, N, Z)``."""
        return z + self.dynamics(torch.cat([z, action], dim=-1))

    def decode(self, z: Tensor, z_next: Tensor) -> Tensor:
        """Args: ``z, z_next (M, N, Z)``. Returns normalised delta ``(M, N, D)``."""
        return self.decoder(torch.cat([z, z_next], dim=-1))

    def latent_samples(self, z: Tensor) -> Tensor:
        """``(M, N, Z)`` is already one sample per row."""
        return z
