"""Running normaliser: exact moments over several batches; non-finite batches ignored."""

from __future__ import annotations

import numpy as np
import torch

from world_model.normalizer import RunningNormalizer


def test_moments_match_numpy_over_batches_and_nan_batch_is_ignored() -> None:
    rng = np.random.default_rng(0)
    data = rng.normal(3.0, 2.0, size=(300, 4))
    data[:, 3] = 7.0  # a constant feature: std floored, not zero
    norm = RunningNormalizer(4, min_std=1e-3)
    for chunk in np.array_split(data, 7):
        norm.update(torch.from_numpy(chunk))
    norm.update(torch.full((5, 4), float("nan")))
    np.testing.assert_allclose(norm.mean.numpy(), data.mean(0), rtol=1e-10)
    std = data.std(0)
    std[3] = 1e-3
    np.testing.assert_allclose(norm.std32.numpy(), std, rtol=1e-5)
    assert float(norm.count) == 300
    x = torch.from_numpy(data[:3]).float()
    torch.testing.assert_close(norm.denormalize(norm.normalize(x)), x)
