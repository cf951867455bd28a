"""The "noisy TV": an unlearnable body that can be added to any scene.

Curiosity driven by raw prediction error is known to get trapped by sources of irreducible
noise (Burda et al. 2018, "Large-Scale Study of Curiosity-Driven Learning"). The distractor is
such a source: a floating, non-colliding sphere beside the scene that is either kicked by random
forces (``force``) or teleported to a random place every step (``teleport``). As in the classic
noisy-TV experiment, the agent holds the remote: the TV is noisy only while the agent is within
``switch_radius`` of a switch spot on the table (``info["distractor_on"]``); otherwise it sits
still at its centre. A curiosity signal that rewards raw unpredictability pulls the agent to
the switch; one that rewards learnable novelty should not. It appears in the observation as an
entity of kind ``"distractor"``, so a model must spend capacity on it.
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
        switch: x, y of the switch spot on the table (m).
        switch_radius: the TV is on while the agent's x, y is this close to ``switch`` (m).
    """

    model: mujoco.MjModel
    mode: str
    center: np.ndarray
    half_extent: float = 0.06
    force_scale: float = 3.0
    switch: tuple[float, float] = (0.0, 0.0)
    switch_radius: float = 0.12

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

    def is_on(self, agent_pos: np.ndarray) -> bool:
        """Whether the agent at ``agent_pos`` (x, y, ...) has the TV switched on."""
        dx, dy = agent_pos[0] - self.switch[0], agent_pos[1] - self.switch[1]
        return bool(dx * dx + dy * dy < self.switch_radius**2)

    def before_step(self, data: mujoco.MjData, rng: np.random.Generator, on: bool) -> None:
        """``force`` mode: a random kick while on, and a spring-damper that keeps it in its box."""
        if self.mode != "force":
            return
        pos = data.qpos[self.qpos_adr : self.qpos_adr + 3]
        vel = data.qvel[self.qvel_adr : self.qvel_adr + 3]
        kick = rng.normal(0.0, self.force_scale, 3) if on else np.zeros(3)
        data.xfrc_applied[self.body_id, :3] = kick + 20.0 * (self.center - pos) - 2.0 * vel

    def after_step(self, data: mujoco.MjData, rng: np.random.Generator, on: bool) -> None:
        """``teleport`` mode: while on, jump to a random point with a random velocity."""
        if self.mode != "teleport" or not on:
            return
        data.qpos[self.qpos_adr : self.qpos_adr + 3] = self._random_point(rng)
        data.qvel[self.qvel_adr : self.qvel_adr + 6] = rng.normal(0.0, 0.5, 6)

    def _random_point(self, rng: np.random.Generator) -> np.ndarray:
        return self.center + rng.uniform(-self.half_extent, self.half_extent, 3)
