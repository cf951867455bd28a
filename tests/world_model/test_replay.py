"""Replay: episode boundaries, terminated vs truncated, FIFO eviction, exact resume."""

from __future__ import annotations

import numpy as np
import pytest

from world_model.checkpoint import load_checkpoint, save_checkpoint
from world_model.replay import Replay

D, A, E = 4, 1, 2


def _row(episode: int, step: int) -> np.ndarray:
    """Observation that encodes where it came from: (episode, step, 0, 0)."""
    return np.array([episode, step, 0.0, 0.0], np.float32)


def _add_episode(rep: Replay, episode: int, length: int, end: str = "truncated") -> None:
    for t in range(length):
        last = t == length - 1
        rep.add(
            _row(episode, t),
            np.array([t], np.float32),
            _row(episode, t + 1),
            0.0,
            terminated=last and end == "terminated",
            truncated=last and end == "truncated",
            regime=np.zeros(E, np.int8),
            episode=episode,
            step=t,
        )


def _check_sequences(obs: np.ndarray, terminated: np.ndarray, truncated: np.ndarray) -> None:
    episode, step = obs[..., 0], obs[..., 1]
    assert (episode == episode[:, :1]).all(), "a sequence crossed an episode boundary"
    h = obs.shape[1] - 1
    assert (step == step[:, :1] + np.arange(h + 1)).all(), "steps are not consecutive"
    assert not terminated[:, :-1].any() and not truncated[:, :-1].any()


def test_sequences_never_cross_episode_boundaries_with_interleaved_envs() -> None:
    rep = Replay(1000, D, A, E, np.random.default_rng(0))
    # Three "envs" writing interleaved episodes of different lengths and endings.
    lengths = {0: 7, 1: 3, 2: 12, 3: 5, 4: 9, 5: 4}
    ends = {
        0: "terminated",
        1: "truncated",
        2: "terminated",
        3: "truncated",
        4: "terminated",
        5: "truncated",
    }
    cursors = {ep: 0 for ep in lengths}
    rng = np.random.default_rng(1)
    while any(cursors[ep] < lengths[ep] for ep in lengths):
        ep = int(rng.choice([e for e in lengths if cursors[e] < lengths[e]]))
        t = cursors[ep]
        last = t == lengths[ep] - 1
        rep.add(
            _row(ep, t),
            np.zeros(A),
            _row(ep, t + 1),
            0.0,
            last and ends[ep] == "terminated",
            last and ends[ep] == "truncated",
            np.zeros(E, np.int8),
            ep,
            t,
        )
        cursors[ep] += 1
    for h in (1, 3, 5):
        b = rep.sample_sequences(256, h)
        assert b.obs.shape == (256, h + 1, D) and b.action.shape == (256, h, A)
        _check_sequences(b.obs.numpy(), b.terminated.numpy(), b.truncated.numpy())
    # Terminated episodes do end sequences at their last step: some sample ends terminated.
    b = rep.sample_sequences(512, 3)
    assert b.terminated[:, -1].any() and b.truncated[:, -1].any()


def test_terminated_and_truncated_are_kept_apart() -> None:
    rep = Replay(100, D, A, E, np.random.default_rng(0))
    _add_episode(rep, 0, 1, end="terminated")
    _add_episode(rep, 1, 1, end="truncated")
    b = rep.sample(64)
    episode = b.obs[:, 0].numpy()
    assert (b.terminated.numpy() == (episode == 0)).all()
    assert (b.truncated.numpy() == (episode == 1)).all()


def test_fifo_eviction_keeps_newest_and_sequences_valid() -> None:
    rep = Replay(20, D, A, E, np.random.default_rng(0))
    for ep in range(6):
        _add_episode(rep, ep, 7)
    assert len(rep) == 20
    kept = set(map(tuple, rep.sample(500).obs[:, :2].numpy().tolist()))
    newest = {(float(ep), float(t)) for ep in range(6) for t in range(7)}
    newest = set(sorted(newest)[-20:])
    assert kept <= newest
    b = rep.sample_sequences(300, 4)
    _check_sequences(b.obs.numpy(), b.terminated.numpy(), b.truncated.numpy())


def test_rare_valid_starts_still_found_and_impossible_horizon_raises() -> None:
    rep = Replay(500, D, A, E, np.random.default_rng(0))
    for ep in range(300):
        _add_episode(rep, ep, 1)
    _add_episode(rep, 999, 6)
    b = rep.sample_sequences(32, 5)
    assert (b.obs[..., 0] == 999).all()
    with pytest.raises(ValueError, match="7 consecutive steps"):
        rep.sample_sequences(4, 7)


def test_state_dict_resumes_sampling_exactly(tmp_path) -> None:
    rep = Replay(30, D, A, E, np.random.default_rng(3))
    for ep in range(5):
        _add_episode(rep, ep, 8)
    rep.sample_sequences(16, 3)
    save_checkpoint(tmp_path / "replay.pt", {"replay": rep.state_dict()})
    state = load_checkpoint(tmp_path / "replay.pt")["replay"]
    assert all(isinstance(v, np.ndarray) for v in state.values())

    other = Replay(30, D, A, E, np.random.default_rng(12345))
    other.load_state_dict(state)
    for r in (rep, other):  # both go on identically, including new adds and eviction
        _add_episode(r, 10, 6)
    a, b = rep.sample_sequences(64, 3), other.sample_sequences(64, 3)
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x.numpy(), y.numpy())
    assert np.array_equal(rep.sample(32).obs.numpy(), other.sample(32).obs.numpy())


def test_a_recent_part_comes_from_the_newest_rows_also_after_wrapping() -> None:
    rep = Replay(20, D, A, E, np.random.default_rng(0))
    for ep in range(6):  # 42 rows into 20: the store has wrapped around
        _add_episode(rep, ep, 7)
    order = sorted((float(ep), float(t)) for ep in range(6) for t in range(7))
    idx = rep.sample_indices(400, recent=300, window=6)
    got = [tuple(r) for r in rep.at(idx).obs[:, :2].numpy().tolist()]
    assert set(got[:300]) == set(order[-6:])  # every one of the newest 6, nothing older
    assert len(set(got[300:]) - set(order[-6:])) > 0  # the rest: the whole store
    b = rep.sample_sequences(200, 2, recent=150, window=9)
    _check_sequences(b.obs.numpy(), b.terminated.numpy(), b.truncated.numpy())
    starts = [tuple(r) for r in b.obs[:, 0, :2].numpy().tolist()]
    # the newest 9 rows: episode 4 steps 5-6 and episode 5 steps 0-6; a 2-step sequence
    # cannot start at either episode's last step
    assert set(starts[:150]) == {(4.0, 5.0)} | {(5.0, float(t)) for t in range(6)}
    assert set(starts[150:]) - set(starts[:150])
    assert len(rep.sample_sequences(8, 2, recent=8, window=9).obs) == 8  # all recent
    with pytest.raises(ValueError, match="among the newest 1 rows"):
        rep.sample_sequences(4, 2, recent=2, window=1)
    with pytest.raises(ValueError, match="window must be >= 1"):
        rep.sample_indices(4, recent=1, window=0)
    with pytest.raises(ValueError, match="recent must be in"):
        rep.sample_sequences(4, 2, recent=5, window=3)


def test_without_a_recent_part_the_draws_are_plain_uniform_ones() -> None:
    """With ``recent=0`` sampling makes the generator calls it always made, so runs with
    ``loop.recent_fraction=0`` draw the same batches as before the option existed."""
    rep = Replay(50, D, A, E, np.random.default_rng(5))
    for ep in range(4):
        _add_episode(rep, ep, 9)  # 36 rows, every start of a 1-step sequence valid
    twin = np.random.default_rng(5)
    assert np.array_equal(rep.sample_indices(8), twin.integers(0, 36, size=8))
    b = rep.sample_sequences(16, 1)
    rows = twin.integers(0, 36, size=16)
    assert np.array_equal(b.obs[:, 0, :2].numpy(), np.stack([rows // 9, rows % 9], 1))
