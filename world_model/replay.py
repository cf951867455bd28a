"""In-memory, episode-aware replay of transitions for world-model training.

Rows live in a ring buffer with FIFO eviction. Each row remembers the row holding the next step
of its episode (``-1`` if none yet, or if the episode ended), so H-step sequences follow these
links and never cross an episode boundary, even when several environments write interleaved
episodes. A sequence may end at a terminated or truncated step but never contains one earlier.
Because eviction is FIFO, a link always points to a newer row, which is alive as long as the
row holding the link is.

``state_dict()`` holds numpy arrays only (the RNG state is stored as JSON bytes), so it can be
saved with :func:`world_model.checkpoint.save_checkpoint` and resumed exactly.
"""

from __future__ import annotations

import json

import numpy as np
import torch

from world_model.batch import SequenceBatch, TransitionBatch
from world_model.dataset import Transitions


def _check_recent(batch_size: int, recent: int, window: int) -> None:
    if not 0 <= recent <= batch_size:
        raise ValueError(f"recent must be in [0, batch_size={batch_size}], got {recent}")
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")


# Rejection rounds before falling back to enumerating every valid start.
_REJECTION_ROUNDS = 8


class Replay:
    """Episode-aware transition replay.

    Args:
        capacity: maximum number of transitions kept; the oldest are evicted first.
        obs_dim: ``D``.
        action_dim: ``A`` (0 for action-free sources).
        n_entities: ``E``, entities per regime label row.
        rng: seeded generator used for all sampling (its state is part of ``state_dict``).
    """

    def __init__(
        self,
        capacity: int,
        obs_dim: int,
        action_dim: int,
        n_entities: int,
        rng: np.random.Generator,
    ) -> None:
        if capacity < 1:
            raise ValueError(f"Replay capacity must be >= 1, got {capacity}")
        self.capacity = int(capacity)
        self.obs_dim, self.action_dim, self.n_entities = (
            int(obs_dim),
            int(action_dim),
            int(n_entities),
        )
        self.rng = rng
        c = self.capacity
        self._obs = np.zeros((c, obs_dim), np.float32)
        self._action = np.zeros((c, action_dim), np.float32)
        self._next_obs = np.zeros((c, obs_dim), np.float32)
        self._reward = np.zeros(c, np.float32)
        self._terminated = np.zeros(c, bool)
        self._truncated = np.zeros(c, bool)
        self._regime = np.zeros((c, n_entities), np.int8)
        self._episode = np.zeros(c, np.int64)
        self._step = np.zeros(c, np.int32)
        self._next = np.full(c, -1, np.int64)
        self._ptr = 0
        self._size = 0
        self._open: dict[int, int] = {}  # episode id -> row of its latest step, while not ended

    @property
    def next_row(self) -> int:
        """The row the next :meth:`add` writes (the oldest row once the replay is full)."""
        return self._ptr

    def __len__(self) -> int:
        return self._size

    def add(
        self,
        obs: np.ndarray,
        action: np.ndarray,
        next_obs: np.ndarray,
        reward: float,
        terminated: bool,
        truncated: bool,
        regime: np.ndarray,
        episode: int,
        step: int,
    ) -> None:
        """Store one transition.

        Args:
            obs: ``(D,)``; action: ``(A,)``; next_obs: ``(D,)``; regime: ``(E,)`` int codes.
            episode: episode id; ``step``: index of this step within the episode. Consecutive
                steps of one episode are linked for sequence sampling.
        """
        p = self._ptr
        if self._size == self.capacity:
            old = int(self._episode[p])
            if self._open.get(old) == p:
                del self._open[old]
        self._obs[p] = obs
        self._action[p] = action
        self._next_obs[p] = next_obs
        self._reward[p] = reward
        self._terminated[p] = terminated
        self._truncated[p] = truncated
        self._regime[p] = regime
        self._episode[p] = episode
        self._step[p] = step
        self._next[p] = -1
        prev = self._open.get(int(episode))
        if prev is not None and int(self._step[prev]) == int(step) - 1:
            self._next[prev] = p
        if terminated or truncated:
            self._open.pop(int(episode), None)
        else:
            self._open[int(episode)] = p
        self._ptr = (p + 1) % self.capacity
        self._size = min(self._size + 1, self.capacity)

    def extend(self, data: Transitions) -> None:
        """Store every row of a loaded dataset, in order (zero actions if it has none)."""
        action = data.action if data.action is not None else np.zeros((len(data), 0), np.float32)
        for i in range(len(data)):
            self.add(
                data.obs[i],
                action[i],
                data.next_obs[i],
                float(data.reward[i]),
                bool(data.terminated[i]),
                bool(data.truncated[i]),
                data.regime[i],
                int(data.episode[i]),
                int(data.step[i]),
            )

    def sample(self, batch_size: int) -> TransitionBatch:
        """Uniform transitions: a :class:`TransitionBatch` of CPU tensors, ``B = batch_size``."""
        return self.at(self.sample_indices(batch_size))

    def sample_indices(self, batch_size: int, recent: int = 0, window: int = 1) -> np.ndarray:
        """``(B,)`` uniform row indices (rows are in insertion order until the replay is full);
        the first ``recent`` of them among the newest ``window`` stored rows instead."""
        if self._size == 0:
            raise ValueError("cannot sample from an empty Replay")
        _check_recent(batch_size, recent, window)
        idx = self.rng.integers(0, self._size, size=batch_size - recent)
        if recent:
            newest = self.rng.integers(0, min(window, self._size), size=recent)
            idx = np.concatenate([self._newest_rows(newest), idx])
        return idx

    def at(self, idx: np.ndarray) -> TransitionBatch:
        """The transitions stored at rows ``idx``, as a :class:`TransitionBatch`."""
        return TransitionBatch(
            obs=torch.from_numpy(self._obs[idx]),
            action=torch.from_numpy(self._action[idx]),
            next_obs=torch.from_numpy(self._next_obs[idx]),
            terminated=torch.from_numpy(self._terminated[idx]),
            truncated=torch.from_numpy(self._truncated[idx]),
            regime=torch.from_numpy(self._regime[idx]),
        )

    def sample_sequences(
        self, batch_size: int, horizon: int, recent: int = 0, window: int = 1
    ) -> SequenceBatch:
        """Uniform over all valid starts of ``horizon`` consecutive steps of one episode; the
        first ``recent`` of the ``batch_size`` sequences start among the newest ``window``
        stored rows instead (the recency mix of ``loop.recent_fraction``).

        Returns:
            :class:`SequenceBatch` with ``obs (B, H+1, D)``, ``action (B, H, A)``, ...

        Raises:
            ValueError: if no episode in the replay holds ``horizon`` linked steps (among the
                newest ``window`` rows, for the recent part).
        """
        if horizon < 1:
            raise ValueError(f"horizon must be >= 1, got {horizon}")
        if self._size == 0:
            raise ValueError("cannot sample from an empty Replay")
        _check_recent(batch_size, recent, window)
        rows = self._sample_starts(batch_size - recent, horizon, None)
        if recent:
            rows = np.concatenate([self._sample_starts(recent, horizon, window), rows])
        obs = np.concatenate([self._obs[rows[:, :1]], self._next_obs[rows]], axis=1)
        return SequenceBatch(
            obs=torch.from_numpy(obs),
            action=torch.from_numpy(self._action[rows]),
            terminated=torch.from_numpy(self._terminated[rows]),
            truncated=torch.from_numpy(self._truncated[rows]),
            regime=torch.from_numpy(self._regime[rows]),
        )

    def _follow(self, starts: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows ``(n, H)`` reached by following links from ``starts``, and which are complete."""
        rows = np.empty((len(starts), horizon), np.int64)
        rows[:, 0] = starts
        ok = np.ones(len(starts), bool)
        for k in range(1, horizon):
            nxt = self._next[rows[:, k - 1]]
            ok &= nxt >= 0
            rows[:, k] = np.where(nxt >= 0, nxt, 0)
        return rows, ok

    def _newest_rows(self, offsets: np.ndarray) -> np.ndarray:
        """Rows of the stored transitions ``offsets`` steps before the newest (0: the newest)."""
        return (self._ptr - 1 - offsets) % self.capacity

    def _sample_starts(self, batch_size: int, horizon: int, newest: int | None) -> np.ndarray:
        span = self._size if newest is None else min(newest, self._size)

        def candidates(idx: np.ndarray) -> np.ndarray:
            return idx if newest is None else self._newest_rows(idx)

        chosen: list[np.ndarray] = []
        have = 0
        for _ in range(_REJECTION_ROUNDS):
            starts = candidates(self.rng.integers(0, span, size=batch_size))
            rows, ok = self._follow(starts, horizon)
            chosen.append(rows[ok])
            have += int(ok.sum())
            if have >= batch_size:
                return np.concatenate(chosen)[:batch_size]
        # Valid starts are rare: enumerate them all (still uniform over the same set).
        rows, ok = self._follow(candidates(np.arange(span)), horizon)
        valid = rows[ok]
        if len(valid) == 0:
            where = "" if newest is None else f" among the newest {span} rows"
            raise ValueError(
                f"no episode in the Replay holds {horizon} consecutive steps{where} "
                f"({self._size} transitions stored)"
            )
        extra = valid[self.rng.integers(0, len(valid), size=batch_size - have)]
        return np.concatenate([*chosen, extra])[:batch_size]

    def state_dict(self) -> dict[str, np.ndarray]:
        """Everything needed to resume exactly, as numpy arrays."""
        n = self._size
        open_eps = np.array(sorted(self._open), np.int64)
        rng_state = json.dumps(self.rng.bit_generator.state).encode()
        return {
            "capacity": np.array(self.capacity, np.int64),
            "ptr": np.array(self._ptr, np.int64),
            "size": np.array(n, np.int64),
            "obs": self._obs[:n].copy(),
            "action": self._action[:n].copy(),
            "next_obs": self._next_obs[:n].copy(),
            "reward": self._reward[:n].copy(),
            "terminated": self._terminated[:n].copy(),
            "truncated": self._truncated[:n].copy(),
            "regime": self._regime[:n].copy(),
            "episode": self._episode[:n].copy(),
            "step": self._step[:n].copy(),
            "next": self._next[:n].copy(),
            "open_episodes": open_eps,
            "open_rows": np.array([self._open[e] for e in open_eps.tolist()], np.int64),
            "rng_state": np.frombuffer(rng_state, np.uint8).copy(),
        }

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Restore from :meth:`state_dict` (the capacity and sizes must match)."""
        if int(state["capacity"]) != self.capacity:
            raise ValueError(
                f"Replay state has capacity {int(state['capacity'])}, this Replay {self.capacity}"
            )
        n = int(state["size"])
        for name in ("obs", "action", "next_obs", "reward", "terminated", "truncated"):
            getattr(self, f"_{name}")[:n] = state[name]
        for name in ("regime", "episode", "step", "next"):
            getattr(self, f"_{name}")[:n] = state[name]
        self._next[n:] = -1
        self._size, self._ptr = n, int(state["ptr"])
        self._open = {
            int(e): int(r)
            for e, r in zip(
                state["open_episodes"].tolist(), state["open_rows"].tolist(), strict=True
            )
        }
        self.rng.bit_generator.state = json.loads(np.asarray(state["rng_state"]).tobytes().decode())
