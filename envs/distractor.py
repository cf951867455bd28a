"""The "noisy TV": an unlearnable body that can be added to any scene.

Curiosity driven by raw prediction error is known to get trapped by sources of irreducible
noise (Burda et al. 2018, "Large-Scale Study of Curiosity-Driven Learning"). The distractor is
such a source: a floating, non-colliding sphere beside the scene that is either kicked by random
forces (``force``) or teleported to a random place every step (``teleport``). It appears in the
observation as an entity of kind ``"distractor"``, so a model must spend capacity on it.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

DISTRACTOR_MODES = ("none", "force", "teleport")
DISTRACTOR_BODY = "noisy_tv"


def add_distractor(
    spec: mujoco.MjSpec, center: tuple[float, float, float], radius: float = 0.03
) -> None:
    """Add the distractor body to an (uncompiled) MJCF spec.

    It is gravity-compensated and collides with nothing (contype = conaffinity = 0), so it
    never changes the physics of the scene it watches over.
    """
    body = spec.worldbody.add_body(name=DISTRACTOR_BODY, pos=list(center), gravcomp=1.0)
    body.add_freejoint(name=DISTRACTOR_BODY)
    body.add_geom(
        name=DISTRACTOR_BODY,
        type=mujoco.mjtGeom.mjGEOM_SPHERE,
        size=[radius, 0.0, 0.0],
        rgba=[0.95, 0.1, 0.85, 1.0],
        contype=0,
        conaffinity=0,
        mass=0.1,
    )


@dataclass
class Distractor:
    """Drives the distractor body of a compiled model.

    Args:
        model: compiled model holding a body named :data:`DISTRACTOR_BODY`.
        mode: ``"force"`` or ``"teleport"``.
        center: centre of the box it lives in (m).
        half_extent: half side of that box (m).
        force_scale: standard deviation of the random force (N), ``force`` mode.
    """

    model: mujoco.MjModel
    mode: str
    center: np.ndarray
    half_extent: float = 0.06
    force_scale: float = 3.0

    def __post_init__(self) -> None:
        if self.mode not in DISTRACTOR_MODES[1:]:
            raise ValueError(
                f"distractor mode must be one of {DISTRACTOR_MODES}, got {self.mode!r}"
            )
        self.body_id = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_BODY, DISTRACTOR_BODY)
        if self.body_id < 0:
            raise ValueError(f"model has no body named {DISTRACTOR_BODY!r}")
        jnt = self.model.body_jntadr[self.body_id]
        self.qpos_adr = int(self.model.jnt_qposadr[jnt])
        self.qvel_adr = int(self.model.jnt_dofadr[jnt])
        self.center = np.asarray(self.center, dtype=np.float64)

    def reset(self, data: mujoco.MjData, rng: np.random.Generator) -> None:
        data.qpos[self.qpos_adr : self.qpos_adr + 3] = self._random_point(rng)

    def before_step(self, data: mujoco.MjData, rng: np.random.Generator) -> None:
        """``force`` mode: a random kick plus a spring-damper that keeps it in its box."""
        if self.mode != "force":
            return
        pos = data.qpos[self.qpos_adr : self.qpos_adr + 3]
        vel = data.qvel[self.qvel_adr : self.qvel_adr + 3]
        kick = rng.normal(0.0, self.force_scale, 3)
        data.xfrc_applied[self.body_id, :3] = kick + 20.0 * (self.center - pos) - 1.0 * vel

    def after_step(self, data: mujoco.MjData, rng: np.random.Generator) -> None:
        """``teleport`` mode: jump to a random point with a random velocity."""
        if self.mode != "teleport":
            return
        data.qpos[self.qpos_adr : self.qpos_adr + 3] = self._random_point(rng)
        data.qvel[self.qvel_adr : self.qvel_adr + 6] = rng.normal(0.0, 0.5, 6)

    def _random_point(self, rng: np.random.Generator) -> np.ndarray:
        return self.center + rng.uniform(-self.half_extent, self.half_extent, 3)
