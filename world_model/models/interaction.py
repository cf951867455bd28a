"""An object-centric latent dynamics ensemble: one latent per entity, pairwise messages.

Per step, for every member at once:

1. encode each entity from its 13 normalised features, its kind one-hot and static props
   (mass, size, friction) into ``h_i``;
2. for every ordered pair ``(i <- j)``, ``i != j``: message ``m_ij = g(h_i, h_j)``; the first
   layer of ``g`` is split into a receiver and a sender projection computed once per entity
   and gathered per pair, so pairs cost one add instead of one matmul;
3. aggregate ``sum_j m_ij`` and update ``h_i' = h_i + u(h_i, agg_i, a)`` (the action goes to
   every node);
4. decode each entity's normalised delta from ``(h_i, h_i')``.

Entities are few (3-10), so all ``E (E - 1)`` pairs are evaluated densely. Normalisation is
shared across entities (13 statistics), keeping relative positions comparable.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from envs.layout import ENTITY_KINDS, EntityLayout
from world_model.config import WorldModelConfig
from world_model.ensemble import EnsembleLayerNorm, EnsembleLinear, EnsembleMLP
from world_model.models.base import LatentDynamicsModel, config_mlp


def _static_features(layout: EntityLayout) -> np.ndarray:
    """``(E, len(ENTITY_KINDS) + 3)``: kind one-hot and props scaled by their largest magnitude."""
    onehot = np.zeros((layout.n_entities, len(ENTITY_KINDS)), np.float32)
    for i, kind in enumerate(layout.kinds):
        onehot[i, ENTITY_KINDS.index(kind)] = 1.0
    props = layout.props_array()
    scale = np.abs(props).max(axis=0)
    props = props / np.where(scale > 0, scale, 1.0)
    return np.concatenate([onehot, props], axis=1).astype(np.float32)


class InteractionNetModel(LatentDynamicsModel):
    """Interaction network over entity latents, vectorised over members, entities and pairs.

    Args:
        cfg: configuration (``entity_latent_dim``, ``hidden``, ``depth``, ``n_members``, ...).
        layout: the observation's entity layout (``obs_dim == layout.obs_dim``).
        action_dim: ``A``.
    """

    static: Tensor
    receivers: Tensor
    senders: Tensor

    def __init__(self, cfg: WorldModelConfig, layout: EntityLayout, action_dim: int) -> None:
        super().__init__(cfg, layout.obs_dim, action_dim, norm_group=layout.feature_dim)
        self.n_entities, self.feature_dim = layout.n_entities, layout.feature_dim
        m, zl, hid = cfg.n_members, cfg.entity_latent_dim, cfg.hidden
        static = _static_features(layout)
        self.register_buffer("static", torch.from_numpy(static))
        e = self.n_entities
        recv = [i for i in range(e) for j in range(e) if j != i]
        send = [j for i in range(e) for j in range(e) if j != i]
        self.register_buffer("receivers", torch.tensor(recv, dtype=torch.long))
        self.register_buffer("senders", torch.tensor(send, dtype=torch.long))

        self.encoder = config_mlp(cfg, self.feature_dim + static.shape[1], zl)
        self.edge_recv = EnsembleLinear(m, zl, hid)
        self.edge_send = EnsembleLinear(m, zl, hid, bias=False)
        self.edge_norm = EnsembleLayerNorm(m, hid) if cfg.layer_norm else None
        self.edge_rest = EnsembleMLP(
            m, hid, hid, hidden=hid, depth=max(cfg.depth - 1, 0), layer_norm=cfg.layer_norm
        )
        self.node = config_mlp(
            cfg, zl + hid + action_dim, zl, out_scale=0.1
        )  # starts near identity
        self.decoder = config_mlp(cfg, 2 * zl, self.feature_dim)
        self._finish_init()

    def encode_latent(self, xn: Tensor, target: bool = False) -> Tensor:
        """Args: ``xn (M, N, D)``. Returns ``(M, N, E, Zl)``."""
        m, n = xn.shape[:2]
        x = xn.reshape(m, n, self.n_entities, self.feature_dim)
        node_in = torch.cat([x, self.static.expand(m, n, -1, -1)], dim=-1)
        enc = self.target_encoder if target and self.target_encoder is not None else self.encoder
        return enc(node_in)

    def _messages(self, z: Tensor) -> Tensor:
        """Summed incoming messages ``(M, N, E, hidden)`` for latents ``z (M, N, E, Zl)``."""
        m, n, e, _ = z.shape
        if e < 2:
            return z.new_zeros(m, n, e, self.edge_recv.out_features)
        flat = z.reshape(m, n * e, -1)
        r = self.edge_recv(flat).reshape(m, n, e, -1)
        s = self.edge_send(flat).reshape(m, n, e, -1)
        pre = (r[:, :, self.receivers] + s[:, :, self.senders]).reshape(m, n * e * (e - 1), -1)
        if self.edge_norm is not None:
            pre = self.edge_norm(pre)
        msg = self.edge_rest(F.silu(pre))
        return msg.reshape(m, n, e, e - 1, -1).sum(dim=3)

    def transition(self, z: Tensor, action: Tensor) -> Tensor:
        """Args: ``z (M, N, E, Zl)``, ``action (M, N, A)``. Returns ``(M, N, E, Zl)``."""
        agg = self._messages(z)
        act = action.unsqueeze(2).expand(-1, -1, self.n_entities, -1)
        return z + self.node(torch.cat([z, agg, act], dim=-1))

    def decode(self, z: Tensor, z_next: Tensor) -> Tensor:
        """Args: ``z, z_next (M, N, E, Zl)``. Returns normalised delta ``(M, N, D)``."""
        out = self.decoder(torch.cat([z, z_next], dim=-1))
        return out.reshape(*out.shape[:2], self.obs_dim)

    def latent_samples(self, z: Tensor) -> Tensor:
        """Every entity latent is a sample: ``(M, N, E, Zl) -> (M, N * E, Zl)``."""
        return z.reshape(z.shape[0], -1, z.shape[-1])
