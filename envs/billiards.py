"""Billiards: many impacts on a low-friction table."""

from __future__ import annotations

from typing import Any

import numpy as np

from envs.placement import sample_positions
from envs.scene import ASSETS, ContactSceneEnv


class BilliardsEnv(ContactSceneEnv):
    """A fast spherical striker and six balls on a cushioned, low-friction 1.2 m x 0.8 m table.

    **Id:** ``contactlab/Billiards-v0`` (200 steps per episode, 50 Hz, 10 substeps of 2 ms).

    **Balls**: radius 0.025 m, mass 0.17 kg, sliding friction 0.05; balls and cushions have
    under-damped contacts (``solref="0.01 0.3"``), so they bounce.

    **Action** ``Box(-1, 1, (2,))``: target x, y velocity of the striker, scaled to +-1.5 m/s
    (velocity actuators, kv = 30, force limited to 40 N).

    **Observation** ``Box(-inf, inf, (91,))``: 13 floats per entity (:mod:`envs.layout`) for
    ``striker, ball_0 .. ball_5`` (+ ``noisy_tv`` with a distractor: 104 floats).

    **Labels**: ``info["contact"]`` per entity; ``info["sim_unstable"]``.

    **Reward**: 0. **Termination**: never; truncation at 200 steps or on instability.

    **Start state**: balls and striker at uniform random non-overlapping positions.

    **Version history**: v0: first release.
    """

    distractor_center = (0.0, 0.52, 0.12)
    distractor_switch = (0.0, 0.28)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(ASSETS / "billiards.xml", **kwargs)

    def _randomize(self, rng: np.random.Generator) -> None:
        objects = [e for e in self.layout.entities if e.kind == "object"]
        radii = np.full(len(objects) + 1, 0.03)
        xy = sample_positions(rng, radii, (0.52, 0.34))
        qpos = self.data.qpos
        qpos[0:2] = xy[0] - np.array([0.0, -0.3])  # slide joints are relative to the body's pos
        for e, p in zip(objects, xy[1:], strict=True):
            adr = self._free_qpos_adr(e.body_id)
            qpos[adr : adr + 2] = p
