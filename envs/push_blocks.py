"""PushBlocks: sustained pushing, block-block and block-wall collisions."""

from __future__ import annotations

from typing import Any

import numpy as np

from envs.placement import sample_positions, yaw_quat
from envs.scene import ASSETS, ContactSceneEnv


class PushBlocksEnv(ContactSceneEnv):
    """A velocity-controlled cylindrical pusher on a walled 0.8 m x 0.8 m table with four blocks.

    **Id:** ``contactlab/PushBlocks-v0`` (200 steps per episode, 50 Hz, 10 substeps of 2 ms).

    **Blocks** (half-sizes in m, mass in kg, sliding friction):

    =========  ====================  =====  ========
    block      half-size             mass   friction
    =========  ====================  =====  ========
    block_a    0.030 0.030 0.030     0.10   0.5
    block_b    0.045 0.035 0.030     0.30   0.8
    block_c    0.025 0.025 0.025     0.05   0.3
    block_d    0.060 0.030 0.030     0.50   1.0
    =========  ====================  =====  ========

    **Action** ``Box(-1, 1, (2,))``: target x, y velocity of the pusher, scaled to +-0.5 m/s
    (velocity actuators, kv = 40, force limited to 30 N).

    **Observation** ``Box(-inf, inf, (65,))``: 13 floats per entity (pos, quat, linvel, angvel;
    :mod:`envs.layout`) for ``pusher, block_a, block_b, block_c, block_d`` (+ ``noisy_tv`` with a
    distractor: 78 floats). The layout is ``env.metadata["layout"]``.

    **Labels**: ``info["contact"]`` per entity (:mod:`envs.labeler`); ``info["sim_unstable"]``.

    **Reward**: 0 (no task). **Termination**: never; truncation at 200 steps or on instability.

    **Start state**: blocks at uniform random non-overlapping positions with random yaw, the
    pusher at a random free spot; all from the reset seed.

    **Version history**: v0: first release.
    """

    distractor_center = (0.0, 0.52, 0.12)
    distractor_switch = (0.0, 0.3)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(ASSETS / "push_blocks.xml", **kwargs)

    def _randomize(self, rng: np.random.Generator) -> None:
        objects = [e for e in self.layout.entities if e.kind == "object"]
        radii = np.array([0.03] + [e.props[1] * 0.9 for e in objects])
        xy = sample_positions(rng, radii, (0.35, 0.35))
        qpos = self.data.qpos
        qpos[0:2] = xy[0]  # pusher slide joints
        for e, p in zip(objects, xy[1:], strict=True):
            adr = self._free_qpos_adr(e.body_id)
            qpos[adr : adr + 2] = p
            qpos[adr + 3 : adr + 7] = yaw_quat(rng.uniform(-np.pi, np.pi))
