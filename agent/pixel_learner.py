"""The learner of the ``video_pixels`` source: the same stream as ``video_states``, seen as frames.

Storage, the on-disk dataset, checkpoints, interaction counts and logging are the
:class:`~agent.learner.ActiveLearner`'s: the run still records the states (they are the
dataset a result can be checked against, and where the agent's observed motion comes from).
What changes is what the model learns from and how it is scored:

- every stored transition also gets the frames of its two states, rendered at
  ``pixels.size`` (shadows off) by a render-only copy of the scene; on resume they are
  rendered again from the stored states (frames depend on the states alone);
- each update is one :class:`~world_model.pixels.PixelBatch` of ``loop.batch_size``
  transitions (the same batch size and updates per transition as every other source);
- each evaluation fits the shared linear readout on the readout set and scores the model on
  the probe set's frames (:func:`~world_model.pixels.evaluate_pixel_model`), logging the same
  keys as a state model.

The behaviour policy never reads a curiosity signal, so none is trained or calibrated here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from agent.learner import ActiveLearner
from envs.render import render_states
from envs.scene import ContactSceneEnv
from world_model.config import PixelModelConfig
from world_model.pixels import PixelBatch, PixelView, evaluate_pixel_model
from world_model.probe import ProbeSet, agent_motion


def pixel_view(renderer: ContactSceneEnv, probe: ProbeSet) -> PixelView:
    """Frames of every first state of ``probe``'s transitions, with the states and the agent's
    observed motion (the conditioning of an action-free model)."""
    d = probe.data
    return PixelView(
        frames=render_states(renderer, d.obs),
        obs=d.obs,
        next_obs=d.next_obs,
        cond=agent_motion(probe.layout, d.next_obs).astype(np.float32),
    )


@dataclass
class PixelLearner(ActiveLearner):
    """An :class:`ActiveLearner` whose world model sees frames. See the module docstring."""

    renderer: ContactSceneEnv | None = None
    pixels: PixelModelConfig = field(default_factory=PixelModelConfig)
    readout_view: PixelView | None = None
    probe_view: PixelView | None = None
    _frames: np.ndarray = field(default_factory=lambda: np.zeros((0, 2, 3, 1, 1), np.uint8))
    _last: tuple[np.ndarray, np.ndarray] | None = None

    def __post_init__(self) -> None:
        if self.renderer is None or self.readout_view is None or self.probe_view is None:
            raise ValueError("PixelLearner needs renderer, readout_view and probe_view")
        s = self.pixels.size
        self._frames = np.zeros((self.replay.capacity, 2, 3, s, s), np.uint8)

    def _render(self, obs: np.ndarray) -> np.ndarray:
        assert self.renderer is not None
        return render_states(self.renderer, obs[None])[0]

    def _render_pair(self, row: int, obs: np.ndarray, next_obs: np.ndarray) -> None:
        """Frames of ``obs`` and ``next_obs`` into ``row``, reusing the previous pair's second
        frame when ``obs`` is that state (each state of an episode is rendered once)."""
        if self._last is not None and np.array_equal(self._last[0], obs):
            first = self._last[1]
        else:
            first = self._render(obs)
        second = self._render(next_obs)
        self._frames[row] = first, second
        self._last = (np.array(next_obs, copy=True), second)

    def before_store(self, obs: np.ndarray, next_obs: np.ndarray) -> None:
        """Render the frames of the transition about to be stored at ``replay.next_row``."""
        self._render_pair(self.replay.next_row, obs, next_obs)

    def on_replay_restored(self) -> None:
        """Render the frames of every transition put back into the replay on resume (each
        state once: a transition's first state is usually the previous one's second)."""
        self._last = None
        stored = self.replay.at(np.arange(len(self.replay)))
        pairs = zip(stored.obs.numpy(), stored.next_obs.numpy(), strict=True)
        for row, (obs, next_obs) in enumerate(pairs):
            self._render_pair(row, obs, next_obs)
        self._last = None

    def next_batch(self) -> PixelBatch:
        """``loop.batch_size`` transitions as frames, with their conditioning."""
        idx = self.replay.sample_indices(
            self.cfg.batch_size, self.recent_count(), self.cfg.recent_window
        )
        return PixelBatch(
            frames=torch.from_numpy(self._frames[idx]), cond=self.replay.at(idx).action
        )

    def update_curiosity(self) -> dict[str, float]:
        """The behaviour policy reads no curiosity signal: nothing to update."""
        return {}

    def probe_metrics(self) -> dict[str, float]:
        """Fit the shared readout on the readout set, then score on the probe set's frames."""
        assert self.readout_view is not None and self.probe_view is not None
        d = self.probe.data
        return evaluate_pixel_model(
            self.trainer.model,  # type: ignore[arg-type]
            self.readout_view,
            self.probe_view,
            d.regime,
            d.pair_kind,
            self.probe.seq_len,
            self.layout,
            self.pixels.readout_ridge,
            readout=self.pixels.readout,
        )

    def calibration(self, members: Any = None) -> dict[str, Any]:
        """No curiosity signal drives this source: nothing to calibrate."""
        return {}
