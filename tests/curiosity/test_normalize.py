"""RewardNormalizer: running moments match numpy, state round-trips as floats, clip holds."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from curiosity import RewardNormalizer


def test_running_moments_match_numpy_on_a_stream() -> None:
    rng = np.random.default_rng(0)
    norm = RewardNormalizer()
    seen = []
    for size in rng.integers(1, 50, size=40):
        x = rng.lognormal(3.0, 1.5, size=size) + 1e6  # large offset: naive sums lose digits
        norm.update(torch.as_tensor(x, dtype=torch.float64))
        seen.append(x)
    allx = np.concatenate(seen)
    assert norm.count == allx.size
    assert norm.mean == pytest.approx(allx.mean(), rel=1e-12)
    assert norm.std == pytest.approx(allx.std(), rel=1e-9)


def test_non_finite_rewards_are_left_out() -> None:
    norm = RewardNormalizer()
    norm.update(np.array([1.0, np.nan, 3.0, np.inf]))
    assert norm.count == 2 and norm.mean == 2.0 and norm.std == 1.0


def test_state_round_trips_as_plain_floats() -> None:
    norm = RewardNormalizer(clip=3.0)
    norm.update(torch.rand(100))
    state = json.loads(json.dumps(norm.state_dict()))
    other = RewardNormalizer(clip=3.0)
    other.load_state_dict(state)
    r = torch.rand(10) * 10
    assert torch.equal(other.normalize(r), norm.normalize(r))
    assert (other.count, other.mean, other.m2) == (norm.count, norm.mean, norm.m2)


def test_divides_by_std_without_centering_and_clips() -> None:
    norm = RewardNormalizer(clip=2.0, eps=1e-8)
    assert torch.equal(norm.normalize(torch.tensor([0.5])), torch.tensor([0.5]))  # std 1 at start
    norm.update(torch.tensor([0.0, 2.0]))  # std 1, mean 1
    out = norm.normalize(torch.tensor([0.0, 1.0, 1.5, 50.0, -50.0]))
    torch.testing.assert_close(out, torch.tensor([0.0, 1.0, 1.5, 2.0, -2.0]))
    with pytest.raises(ValueError, match="clip"):
        RewardNormalizer(clip=0.0)
