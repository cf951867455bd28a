"""Vectorised ensembles of MLPs: ``M`` members evaluated by one batched matmul per layer.

Weights are shaped ``(M, in, out)`` and inputs ``(M, N, in)``; ``torch.baddbmm`` applies every
member at once, so ensemble size costs no Python loop. Each member is initialised
independently (its own random draw), which is what makes their disagreement meaningful.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class EnsembleLinear(nn.Module):
    """``M`` independent affine maps.

    Args:
        n_members: ``M``.
        in_features: input size.
        out_features: output size.
        bias: whether to add a per-member bias.
    """

    def __init__(
        self, n_members: int, in_features: int, out_features: int, bias: bool = True
    ) -> None:
        super().__init__()
        self.n_members, self.in_features, self.out_features = n_members, in_features, out_features
        # Same range as nn.Linear's default, drawn separately for every member.
        bound = 1.0 / math.sqrt(max(in_features, 1))
        self.weight = nn.Parameter(
            torch.empty(n_members, in_features, out_features).uniform_(-bound, bound)
        )
        self.bias = (
            nn.Parameter(torch.empty(n_members, 1, out_features).uniform_(-bound, bound))
            if bias
            else None
        )

    def forward(self, x: Tensor) -> Tensor:
        """Args: ``x (M, N, in)``. Returns ``(M, N, out)``."""
        if self.bias is None:
            return torch.bmm(x, self.weight)
        return torch.baddbmm(self.bias, x, self.weight)


class EnsembleLayerNorm(nn.Module):
    """Layer norm over the last axis with a per-member gain and bias ``(M, 1, F)``."""

    def __init__(self, n_members: int, features: int) -> None:
        super().__init__()
        self.features = features
        self.weight = nn.Parameter(torch.ones(n_members, 1, features))
        self.bias = nn.Parameter(torch.zeros(n_members, 1, features))

    def forward(self, x: Tensor) -> Tensor:
        """Args: ``x (M, N, F)``. Returns ``(M, N, F)``."""
        return torch.addcmul(self.bias, F.layer_norm(x, (self.features,)), self.weight)


class EnsembleMLP(nn.Module):
    """``M`` independent MLPs ``in -> hidden x depth -> out`` (SiLU, optional layer norm).

    Args:
        n_members: ``M``.
        in_features: input size.
        out_features: output size.
        hidden: width of every hidden layer.
        depth: number of hidden layers (0 gives one affine map).
        layer_norm: normalise hidden pre-activations (steadier training at higher lr).
        out_scale: multiplies the initial last-layer weights; a small value starts residual
            heads near the identity.
    """

    def __init__(
        self,
        n_members: int,
        in_features: int,
        out_features: int,
        hidden: int,
        depth: int = 2,
        layer_norm: bool = True,
        out_scale: float = 1.0,
    ) -> None:
        super().__init__()
        sizes = [in_features] + [hidden] * depth
        self.hidden = nn.ModuleList(
            EnsembleLinear(n_members, a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True)
        )
        self.norms = nn.ModuleList(
            EnsembleLayerNorm(n_members, hidden) if layer_norm else nn.Identity()
            for _ in range(depth)
        )
        self.out = EnsembleLinear(n_members, sizes[-1], out_features)
        with torch.no_grad():
            self.out.weight.mul_(out_scale)
            if self.out.bias is not None:
                self.out.bias.mul_(out_scale)

    def forward(self, x: Tensor) -> Tensor:
        """Args: ``x (M, ..., in)``. Returns ``(M, ..., out)`` (middle axes flattened, restored)."""
        lead = x.shape[:-1]
        h = x.reshape(lead[0], -1, x.shape[-1])
        for layer, norm in zip(self.hidden, self.norms, strict=True):
            h = F.silu(norm(layer(h)))
        out = self.out(h)
        return out.reshape(*lead, out.shape[-1])
