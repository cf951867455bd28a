"""Running mean / standard deviation of features, merged batch by batch (Chan et al.).

State lives in module buffers (float64 moments, float32 cached mean/std), so it is saved with
the model's ``state_dict`` and moves with it. Updates never synchronise with Python: a batch
holding NaN or inf is ignored by a ``torch.where`` instead of an ``if``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class RunningNormalizer(nn.Module):
    """Normalises the last axis of its inputs with running statistics.

    Args:
        size: ``F``, number of features (the last axis).
        min_std: floor on the standard deviation, so a feature that never varies (a body that
            never leaves the plane) is not blown up by a near-zero std.
    """

    count: Tensor
    mean: Tensor
    m2: Tensor
    mean32: Tensor
    std32: Tensor

    def __init__(self, size: int, min_std: float = 1e-3) -> None:
        super().__init__()
        self.size = int(size)
        self.min_std = float(min_std)
        self.register_buffer("count", torch.zeros((), dtype=torch.float64))
        self.register_buffer("mean", torch.zeros(size, dtype=torch.float64))
        self.register_buffer("m2", torch.zeros(size, dtype=torch.float64))
        self.register_buffer("mean32", torch.zeros(size))
        self.register_buffer("std32", torch.ones(size))

    @torch.no_grad()
    def update(self, x: Tensor) -> None:
        """Merge the moments of ``x`` (shape ``(..., F)``; all leading axes are samples)."""
        x = x.detach().reshape(-1, self.size).to(torch.float64)
        n = float(x.shape[0])
        if n == 0:
            return
        b_mean = x.mean(0)
        b_m2 = ((x - b_mean) ** 2).sum(0)
        total = self.count + n
        delta = b_mean - self.mean
        new_mean = self.mean + delta * (n / total)
        new_m2 = self.m2 + b_m2 + delta**2 * (self.count * n / total)
        ok = torch.isfinite(b_m2).all() & torch.isfinite(b_mean).all()
        self.mean.copy_(torch.where(ok, new_mean, self.mean))
        self.m2.copy_(torch.where(ok, new_m2, self.m2))
        self.count.copy_(torch.where(ok, total, self.count))
        var = self.m2 / self.count.clamp(min=1.0)
        std = torch.where(self.count > 1, var.sqrt(), torch.ones_like(var)).clamp(min=self.min_std)
        self.mean32.copy_(self.mean)
        self.std32.copy_(std)

    def normalize(self, x: Tensor) -> Tensor:
        """``(x - mean) / std``, same shape as ``x``."""
        return (x - self.mean32) / self.std32

    def denormalize(self, x: Tensor) -> Tensor:
        """Inverse of :meth:`normalize`."""
        return x * self.std32 + self.mean32
