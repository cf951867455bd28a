"""``GymSceneEnv``: the model of any Gymnasium MuJoCo env (``Hopper-v5``, ``Pusher-v5``, ...) as
a contactlab scene.

``gymnasium.make("contactlab/GymScene-v0", gym_id="Pusher-v5")`` loads the MJCF file that
Gymnasium's own env is built from (its ``fullpath``) with that env's frame skip, and gives it
the contactlab contract of :class:`envs.scene.ContactSceneEnv`: observations are 13-float
blocks per entity, actions in ``[-1, 1]^nu`` scaled to the actuators' ``ctrlrange``, labels in
``info["contact"]``, reward 0, no termination (a fallen Hopper keeps acting; the episode ends
at the time limit). So it is the same physics as Gymnasium's env, not the same task: for
Gymnasium's own observations and rewards with labels added, use
:func:`envs.gym_wrapper.make_labelled` instead.

Start states: the model's ``qpos0`` plus uniform noise of ``reset_noise`` on every ``qpos``
and ``qvel`` (Gymnasium's own reset rule for these envs, with one scale), quaternions
renormalised.

Entities: ``entities="roots"`` makes an articulated robot one entity (its root);
``entities="bodies"`` adds one per link, and ``links="object"`` scores those links (for a
robot alone such as Hopper, whose only contacts are its own foot strikes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np

from envs.scene import ContactSceneEnv, SceneError


def gym_model_file(gym_id: str) -> tuple[Path, int]:
    """The MJCF file and frame skip of Gymnasium MuJoCo env ``gym_id``.

    Raises:
        SceneError: ``gym_id`` is not registered, cannot be made, or is not a MuJoCo env.
    """
    try:
        env = gym.make(gym_id)
    except Exception as exc:  # gymnasium raises several error types for bad ids
        raise SceneError(f"env.id={gym_id!r}: cannot make this Gymnasium env: {exc}") from exc
    base = env.unwrapped
    path = getattr(base, "fullpath", None)
    skip = getattr(base, "frame_skip", None)
    env.close()
    if path is None or skip is None or not hasattr(base, "model"):
        raise SceneError(
            f"env.id={gym_id!r} is not a Gymnasium MuJoCo env (no model file): contactlab "
            "labels MuJoCo models only (e.g. Hopper-v5, Walker2d-v5, Ant-v5, Pusher-v5)"
        )
    return Path(path), int(skip)


class GymSceneEnv(ContactSceneEnv):
    """A Gymnasium MuJoCo env's model as a contactlab scene (see the module docstring).

    Args:
        gym_id: a Gymnasium MuJoCo env id, e.g. ``"Hopper-v5"``.
        frame_skip: substeps per step; ``None`` keeps the Gymnasium env's own.
        reset_noise: half-width of the uniform start noise on ``qpos`` and ``qvel``.
        **kwargs: the other arguments of :class:`envs.scene.ContactSceneEnv`.
    """

    def __init__(
        self,
        gym_id: str,
        frame_skip: int | None = None,
        reset_noise: float = 0.005,
        **kwargs: Any,
    ) -> None:
        path, own_skip = gym_model_file(gym_id)
        self.gym_id = gym_id
        super().__init__(
            path,
            frame_skip=own_skip if frame_skip is None else frame_skip,
            reset_noise=reset_noise,
            **kwargs,
        )

        if self._camera is None:  # no camera named: follow the agent from the side
            camera = mujoco.MjvCamera()
            camera.type = mujoco.mjtCamera.mjCAMERA_TRACKING
            camera.trackbodyid = self.layout.entities[0].body_id
            camera.distance = 3.0 * self._agent_extent()
            camera.azimuth, camera.elevation = 90.0, -20.0
            self._camera = camera

    def _agent_extent(self) -> float:
        """Radius (m) of the agent's body tree around its root at the model's rest pose."""
        m, d = self.model, self.data
        mujoco.mj_kinematics(m, d)
        root = self.layout.entities[0].body_id
        geoms = np.flatnonzero(m.body_rootid[m.geom_bodyid] == m.body_rootid[root])
        if not len(geoms):
            return 1.0
        reach = np.linalg.norm(d.geom_xpos[geoms] - d.xpos[root], axis=1) + m.geom_rbound[geoms]
        return max(float(reach.max()), 0.2)

    def _randomize(self, rng: np.random.Generator) -> None:
        d, r = self.data, self.reset_noise
        d.qpos[:] += rng.uniform(-r, r, self.model.nq)
        d.qvel[:] += rng.uniform(-r, r, self.model.nv)
        mujoco.mj_normalizeQuat(self.model, d.qpos)
