"""Tower: toppling, falls and landings."""

from __future__ import annotations

from typing import Any

import numpy as np

from envs.placement import yaw_quat
from envs.scene import ASSETS, ContactSceneEnv


class TowerEnv(ContactSceneEnv):
    """A stack of five 6 cm blocks and a gravity-compensated spherical pusher that moves in 3-D.

    **Id:** ``contactlab/Tower-v0`` (200 steps per episode, 50 Hz, 10 substeps of 2 ms).

    **Blocks**: half-size 0.03 m, mass 0.08 kg, friction 0.7, stacked ``block_0`` (bottom) to
    ``block_4`` (top).

    **Action** ``Box(-1, 1, (3,))``: target x, y, z velocity of the pusher, scaled to +-0.5 m/s
    (velocity actuators, kv = 40, force limited to 30 N); the pusher's height spans 0.03-0.35 m.

    **Observation** ``Box(-inf, inf, (78,))``: 13 floats per entity (:mod:`envs.layout`) for
    ``pusher, block_0 .. block_4`` (+ ``noisy_tv`` with a distractor: 91 floats).

    **Labels**: ``info["contact"]`` per entity; toppling and falling blocks set ``critical``.

    **Reward**: 0. **Termination**: never; truncation at 200 steps or on instability.

    **Start state**: the tower's base at a random point within 0.1 m of the centre, every block
    jittered by up to 3 mm and 10 degrees of yaw; the pusher 0.2-0.35 m away at a random height.

    **Version history**: v0: first release.
    """

    distractor_center = (0.3, 0.15, 0.3)
    distractor_switch = (0.3, 0.15)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(ASSETS / "tower.xml", **kwargs)

    def _randomize(self, rng: np.random.Generator) -> None:
        base = rng.uniform(-0.1, 0.1, 2)
        qpos = self.data.qpos
        for e in self.layout.entities:
            if e.kind != "object":
                continue
            adr = self._free_qpos_adr(e.body_id)
            qpos[adr : adr + 2] = base + rng.uniform(-0.003, 0.003, 2)
            qpos[adr + 3 : adr + 7] = yaw_quat(rng.uniform(-np.pi / 18, np.pi / 18))
        angle = rng.uniform(-np.pi, np.pi)
        start = base + rng.uniform(0.2, 0.35) * np.array([np.cos(angle), np.sin(angle)])
        # slide joints are relative to the body's rest position (0, -0.25, 0.1)
        qpos[0:2] = np.clip(start - np.array([0.0, -0.25]), -0.4, 0.4)
        qpos[2] = rng.uniform(-0.05, 0.15)
