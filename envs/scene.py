"""``ContactSceneEnv``: any MJCF file with free bodies and an actuated agent, as a Gymnasium env.

The three built-in scenes subclass it; ``gymnasium.make("contactlab/MJCFScene-v0",
mjcf_path=...)`` loads a user's own file with the same contract:

* **Entities** are found from the model: the *agent* is every top-level body that carries an
  actuated joint; *objects* are the bodies with a free joint; the optional distractor is added
  by name. Observation = concatenated 13-float blocks per entity (:mod:`envs.layout`), exposed
  as ``env.metadata["layout"]``.
* **Actions** are in ``[-1, 1]^nu`` and mapped linearly to each actuator's ``ctrlrange``.
  NaN/inf or a wrong shape raise ``ValueError`` before anything is stepped; finite values
  outside the box are clipped.
* **Labels** for every entity and step are in ``info["contact"]`` (:mod:`envs.labeler`).
* **Instability**: if MuJoCo raises a bad-qpos/qvel/qacc warning or the state turns non-finite,
  the episode ends as ``truncated`` with ``info["sim_unstable"] = True``; the returned
  observation is then the last finite one.
* **Reward** is 0: scenes carry no task; curiosity supplies intrinsic reward.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np

from envs import native as native_kernels
from envs.distractor import Distractor, add_distractor
from envs.entities import discover_entities, find_support_geoms, ground_height
from envs.labeler import ContactLabeler, EntityStateReader
from envs.physics import apply_physics, normalize_physics, physics_fingerprint
from envs.regimes import LabelConfig

ASSETS = Path(__file__).parent / "assets"
_BAD_WARNINGS = np.array(
    [
        mujoco.mjtWarning.mjWARN_BADQPOS,
        mujoco.mjtWarning.mjWARN_BADQVEL,
        mujoco.mjtWarning.mjWARN_BADQACC,
    ],
    dtype=np.int64,
)
# The three counters are adjacent in mjData.warning, so a live slice of it reads them all.
assert (np.diff(_BAD_WARNINGS) == 1).all()
_BAD_WARNING_SLICE = slice(int(_BAD_WARNINGS[0]), int(_BAD_WARNINGS[-1]) + 1)
_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


class SceneError(ValueError):
    """A scene file or scene argument is unusable; the message names the file or argument."""


def load_spec(path: str | Path) -> mujoco.MjSpec:
    """Parse an MJCF file, raising :class:`SceneError` naming the file and MuJoCo's message."""
    path = Path(path)
    if not path.is_file():
        raise SceneError(f"MJCF file not found: {path}")
    try:
        return mujoco.MjSpec.from_file(str(path))
    except Exception as exc:  # MuJoCo raises ValueError with its parser message
        raise SceneError(f"cannot parse MJCF file {path}: {exc}") from exc


class ContactSceneEnv(gym.Env[np.ndarray, np.ndarray]):
    """A contact-rich MuJoCo scene with per-entity contact-regime labels.

    Args:
        mjcf_path: the scene's MJCF file.
        frame_skip: physics substeps per agent step.
        distractor: ``"none"``, ``"force"`` or ``"teleport"`` (see :mod:`envs.distractor`).
        label_config: labeller thresholds (a :class:`LabelConfig` or a dict of its fields).
        support_geoms: names of the geoms that are the ground support; default: the world's
            plane geoms.
        reset_noise: std (m) of the position jitter given to free bodies at reset (the generic
            randomisation; built-in scenes override :meth:`_randomize`).
        render_mode: ``None`` or ``"rgb_array"``.
        width, height: rendered frame size in pixels.
        camera: camera name; default ``"overview"`` when the model has one, else the free camera.
        physics: global contact-physics overrides (:mod:`envs.physics`: ``solref_timeconst``,
            ``solref_dampratio``, ``friction_scale``, ``solver_iterations``; ``None`` values
            keep the scene's own), applied to the compiled model and part of ``scene_hash``.
        entities: ``"roots"`` (one entity per top-level body) or ``"bodies"`` (also one per
            link of an articulated agent or object), see :func:`envs.entities.discover_entities`.
        links: kind of an agent's non-root links with ``entities="bodies"``: ``"agent"``
            (excluded from scoring and curiosity) or ``"object"`` (scored like objects).
        native: run the step's inner loops compiled (:mod:`envs.native`); ``False`` runs the
            Python reference path. Observations and labels are the same bit for bit.
    """

    metadata: dict[str, Any] = {"render_modes": ["rgb_array"], "render_fps": 50}
    distractor_center: tuple[float, float, float] = (0.0, 0.0, 0.6)
    distractor_switch: tuple[float, float] = (0.0, 0.0)

    def __init__(
        self,
        mjcf_path: str | Path,
        frame_skip: int = 10,
        distractor: str = "none",
        label_config: LabelConfig | dict | None = None,
        support_geoms: tuple[str, ...] | None = None,
        reset_noise: float = 0.01,
        render_mode: str | None = None,
        width: int = 128,
        height: int = 128,
        camera: str | None = None,
        physics: dict | None = None,
        entities: str = "roots",
        links: str = "agent",
        native: bool = True,
    ) -> None:
        if int(frame_skip) < 1:
            raise SceneError(f"frame_skip must be >= 1, got {frame_skip!r}")
        if render_mode not in (None, "rgb_array"):
            raise SceneError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        if distractor not in ("none", "force", "teleport"):
            raise SceneError(
                f"distractor must be 'none', 'force' or 'teleport', got {distractor!r}"
            )
        self.mjcf_path = Path(mjcf_path)
        self.frame_skip = int(frame_skip)
        self.render_mode = render_mode
        self.reset_noise = float(reset_noise)
        self.width, self.height = int(width), int(height)

        spec = load_spec(self.mjcf_path)
        if distractor != "none":
            add_distractor(spec, self.distractor_center)
        try:
            self.model = spec.compile()
        except Exception as exc:
            raise SceneError(f"cannot compile MJCF file {self.mjcf_path}: {exc}") from exc
        self.model.vis.quality.shadowsize = 0
        try:
            self.physics = normalize_physics(physics)
            apply_physics(self.model, self.physics)
        except ValueError as exc:
            raise SceneError(f"{self.mjcf_path}: {exc}") from exc
        # Content hash of the scene as compiled (includes inlined, distractor added, physics
        # overrides): datasets and probe sets record it and refuse to mix with another scene.
        fingerprint = spec.to_xml() + physics_fingerprint(self.physics)
        # Options that change the layout or the labels, only when set (old hashes stay valid).
        if (entities, links) != ("roots", "agent"):
            fingerprint += f"|entities={entities},links={links}"
        if support_geoms is not None:
            fingerprint += f"|support_geoms={sorted(support_geoms)}"
        self.scene_hash = hashlib.sha256(fingerprint.encode()).hexdigest()
        self.data = mujoco.MjData(self.model)
        self.dt = self.model.opt.timestep * self.frame_skip
        self.metadata = {**type(self).metadata, "render_fps": int(round(1.0 / self.dt))}

        try:
            layout = discover_entities(self.model, entities=entities, links=links)
            supports = find_support_geoms(
                self.model, tuple(support_geoms) if support_geoms is not None else None
            )
        except ValueError as exc:
            raise SceneError(f"{self.mjcf_path}: {exc}") from exc
        self.layout = dataclasses.replace(layout, ground=ground_height(self.model, supports))
        self.metadata["layout"] = self.layout
        self.support_geoms = supports  #: geom ids of the ground support (the labeller's)
        self._body_ids = np.array([e.body_id for e in self.layout.entities], dtype=np.int64)
        self._direct_state = self._entities_set_directly()
        self._read_states = EntityStateReader(self.model, self._body_ids, native=native)
        if isinstance(label_config, dict):
            label_config = LabelConfig(**label_config)
        self.labeler = ContactLabeler(
            self.model, self.layout, supports, label_config, native=native
        )
        self._native = native and native_kernels.enabled()
        # One compiled call per step (ContactLabeler.step_fused) where nothing runs between
        # the substeps and the summary; the distractor acts around the substeps, so not then.
        self._fused = self._native and distractor == "none"
        self.distractor = (
            Distractor(
                self.model,
                distractor,
                np.array(self.distractor_center),
                switch=self.distractor_switch,
            )
            if distractor != "none"
            else None
        )

        nu = self.model.nu
        if nu == 0:
            raise SceneError(
                f"{self.mjcf_path}: the model has no actuators, so there is no agent to act"
            )
        ctrlrange = self.model.actuator_ctrlrange.copy()
        unlimited = ~self.model.actuator_ctrllimited.astype(bool)
        if unlimited.any():
            names = [self.model.actuator(i).name for i in np.flatnonzero(unlimited)]
            raise SceneError(
                f"{self.mjcf_path}: actuators {names} need a ctrlrange (actions are scaled to it)"
            )
        self._ctrl_mid = ctrlrange.mean(axis=1)
        self._ctrl_half = (ctrlrange[:, 1] - ctrlrange[:, 0]) / 2.0
        self._ctrl_mid_half = np.stack([self._ctrl_mid, self._ctrl_half])
        self._ctrl_owner = 0  # the mjData address _ctrl_address belongs to (0: none yet)
        self._ctrl_address = 0
        self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(nu,), dtype=np.float32)
        self._action_shape = (nu,)
        self.observation_space = gym.spaces.Box(
            -np.inf, np.inf, shape=(self.layout.obs_dim,), dtype=np.float32
        )
        self._camera: str | mujoco.MjvCamera | None = (
            camera if camera is not None else ("overview" if self._has_camera("overview") else None)
        )
        if camera is not None and not self._has_camera(camera):
            raise SceneError(f"{self.mjcf_path}: no camera named {camera!r}")
        self._renderer: mujoco.Renderer | None = None
        self._state = np.zeros((self.layout.n_entities, 13))
        self._warning_counts = self.data.warning.number[_BAD_WARNING_SLICE]  # a live view
        self._warnings = self._warning_counts.tobytes()  # the counts last seen

    # ------------------------------------------------------------------ gymnasium API
    def reset(
        self, *, seed: int | None = None, options: dict | None = None
    ) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        mujoco.mj_resetData(self.model, self.data)
        self._randomize(self.np_random)
        if self.distractor is not None:
            self.distractor.reset(self.data, self.np_random)
        mujoco.mj_forward(self.model, self.data)
        self.labeler.reset(self.data)
        self._warnings = self._warning_counts.tobytes()
        self._state = self._read_states(self.data)
        return self._state.ravel().astype(np.float32), {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        if self._fused:
            # The compiled step (envs.native.env_step): the same results as below, bit for bit.
            a = action
            if type(a) is not np.ndarray or a.dtype not in _FLOAT_DTYPES:
                a = np.asarray(action, dtype=np.float64)
            if a.shape == self._action_shape:
                done = self.labeler.step_fused(
                    self._read_states,
                    self.data,
                    self.frame_skip,
                    a,
                    self._ctrl_mid_half,
                    self._state,
                )
                if done is not None:
                    state, finite, contact, obs = done
                    state, unstable = self._settle(state, finite)
                    if not finite:
                        obs = state.ravel().astype(np.float32)
                    info = {"contact": contact, "sim_unstable": unstable, "distractor_on": False}
                    return obs, 0.0, False, unstable, info
        return self._step(action)

    def _settle(self, state: np.ndarray, finite: bool) -> tuple[np.ndarray, bool]:
        """Whether the step just taken was unstable (non-finite state, or a new MuJoCo warning),
        and the state to keep: the previous one if the new one is not finite (never hand out a
        non-finite observation)."""
        warnings = self._warning_counts.tobytes()
        unstable = not finite or warnings != self._warnings
        if unstable:
            self._warnings = warnings
            if not finite:
                state = self._state
        self._state = state
        return state, unstable

    def _step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        """:meth:`step` one call at a time (Python reference path, distractor, errors)."""
        d = self.data
        self._set_ctrl(action)
        distractor_on = False
        if self.distractor is not None:
            distractor_on = self.distractor.is_on(self._state[0, 0:3])
            self.distractor.before_step(d, self.np_random, distractor_on)
        labeler = self.labeler
        labeler.begin_step(self._state)
        labeler.step_physics(d, self.frame_skip)
        if self.distractor is not None:
            self.distractor.after_step(d, self.np_random, distractor_on)
        state, finite, labels = labeler.read_and_end_step(self._read_states, d, self.frame_skip)
        state, unstable = self._settle(state, finite)
        info = {
            "contact": labels.as_dict(),
            "sim_unstable": unstable,
            "distractor_on": distractor_on,
        }
        return state.ravel().astype(np.float32), 0.0, False, unstable, info

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        if self._renderer is None:
            self._renderer = mujoco.Renderer(self.model, self.height, self.width)
        camera = self._camera if self._camera is not None else -1
        self._renderer.update_scene(self.data, camera=camera)
        self._renderer.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = 0
        self._renderer.scene.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = 0
        return self._renderer.render()

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    def place_object(
        self,
        index: int,
        pos: np.ndarray | None = None,
        quat: np.ndarray | None = None,
        linvel: np.ndarray | None = None,
        angvel: np.ndarray | None = None,
    ) -> np.ndarray:
        """Set the state of free-body entity ``index`` (world frame; ``angvel`` too) and return
        the new observation. Used to launch and drop objects (probe sets, tests)."""
        entity = self.layout.entities[index]
        jnt = self.model.body_jntadr[entity.body_id]
        if jnt < 0 or int(self.model.jnt_type[jnt]) != int(mujoco.mjtJoint.mjJNT_FREE):
            raise ValueError(f"entity {entity.name!r} has no free joint to place")
        qadr, vadr = int(self.model.jnt_qposadr[jnt]), int(self.model.jnt_dofadr[jnt])
        d = self.data
        if pos is not None:
            d.qpos[qadr : qadr + 3] = pos
        if quat is not None:
            d.qpos[qadr + 3 : qadr + 7] = np.asarray(quat) / np.linalg.norm(quat)
        if linvel is not None:
            d.qvel[vadr : vadr + 3] = linvel
        if angvel is not None:  # free-joint angular velocity is in the body frame
            q = d.qpos[qadr + 3 : qadr + 7]
            res = np.zeros(3)
            qinv = np.array([q[0], -q[1], -q[2], -q[3]])
            mujoco.mju_rotVecQuat(res, np.asarray(angvel, dtype=np.float64), qinv)
            d.qvel[vadr + 3 : vadr + 6] = res
        mujoco.mj_forward(self.model, d)
        self.labeler.reset(d)
        self._state = self._read_states(d)
        return self._state.ravel().astype(np.float32)

    def set_joint_state(self, qpos: np.ndarray, qvel: np.ndarray) -> np.ndarray:
        """Set MuJoCo's ``qpos`` (``(nq,)``) and ``qvel`` (``(nv,)``), run ``mj_forward``,
        restart the labeller from there, and return the observation (tests, scripted starts
        of articulated robots)."""
        m, d = self.model, self.data
        qpos, qvel = np.asarray(qpos, dtype=np.float64), np.asarray(qvel, dtype=np.float64)
        if qpos.shape != (m.nq,) or qvel.shape != (m.nv,):
            raise ValueError(
                f"set_joint_state: qpos must have shape ({m.nq},) and qvel ({m.nv},), got "
                f"{qpos.shape} and {qvel.shape}"
            )
        d.qpos[:], d.qvel[:] = qpos, qvel
        mujoco.mj_forward(m, d)
        self.labeler.reset(d)
        self._state = self._read_states(d)
        return self._state.ravel().astype(np.float32)

    def set_state_from_obs(self, obs: np.ndarray) -> np.ndarray:
        """Put the simulation in the state an observation describes; return the observation
        read back from MuJoCo (equal to ``obs`` up to float32 rounding for a reachable state).

        Used to render states that did not come from this env: probe sequences, a world
        model's imagined rollouts. Each entity's 13-float block (:mod:`envs.layout`) sets its
        joints: a free joint gets position, unit quaternion, linear velocity and angular
        velocity (world frame in the observation, body frame in ``qvel``); slide joints (the
        agents of the built-in scenes) get the offset of the body from its rest position
        ``model.body_pos`` along their axis, and the linear velocity along it. Any other
        joint (hinges and links of articulated robots) is solved for: ``qpos`` by
        Gauss-Newton on the entities' body poses, ``qvel`` by least squares on their body
        Jacobians. Then ``mj_forward``; the labeller restarts from this state (no contact
        "begins" at the next step because of the jump).

        Args:
            obs: ``(obs_dim,)`` observation in this env's layout.

        Raises:
            ValueError: wrong size or non-finite values.
        """
        blocks = self.layout.split(np.asarray(obs, dtype=np.float64))
        if not np.isfinite(blocks).all():
            raise ValueError("set_state_from_obs: the observation has NaN/inf values")
        m, d = self.model, self.data
        if self._direct_state:
            self._set_state_directly(blocks)
        else:
            self._solve_joint_state(blocks)
        mujoco.mj_forward(m, d)
        self.labeler.reset(d)
        self._state = self._read_states(d)
        return self._state.ravel().astype(np.float32)

    def _set_state_directly(self, blocks: np.ndarray) -> None:
        """Free joints and slide joints of top-level bodies: each block sets its joints."""
        m, d = self.model, self.data
        free, slide = int(mujoco.mjtJoint.mjJNT_FREE), int(mujoco.mjtJoint.mjJNT_SLIDE)
        for entity, block in zip(self.layout.entities, blocks, strict=True):
            pos, quat = block[0:3], block[3:7]
            linvel, angvel = block[7:10], block[10:13]
            body = entity.body_id
            start, count = int(m.body_jntadr[body]), int(m.body_jntnum[body])
            for jnt in range(start, start + count):
                qadr, vadr = int(m.jnt_qposadr[jnt]), int(m.jnt_dofadr[jnt])
                kind = int(m.jnt_type[jnt])
                if kind == free:
                    q = quat / max(float(np.linalg.norm(quat)), 1e-12)
                    d.qpos[qadr : qadr + 3] = pos
                    d.qpos[qadr + 3 : qadr + 7] = q
                    d.qvel[vadr : vadr + 3] = linvel
                    body_angvel = np.zeros(3)  # free-joint angular velocity is in the body frame
                    mujoco.mju_rotVecQuat(body_angvel, angvel, q * np.array([1.0, -1, -1, -1]))
                    d.qvel[vadr + 3 : vadr + 6] = body_angvel
                elif kind == slide and int(m.body_parentid[body]) == 0:
                    axis = np.zeros(3)  # joint axis in the world frame (parent is the world)
                    mujoco.mju_rotVecQuat(axis, m.jnt_axis[jnt], m.body_quat[body])
                    d.qpos[qadr] = axis @ (pos - m.body_pos[body])
                    d.qvel[vadr] = axis @ linvel

    def _solve_joint_state(self, blocks: np.ndarray, iterations: int = 50) -> None:
        """Articulated entities (hinges, balls, nested links): Gauss-Newton on ``qpos`` so that
        every entity's body pose matches its block, then ``qvel`` by least squares on the body
        Jacobians. Exact when every link is an entity (``entities="bodies"``); with roots
        only, the links keep the minimum-norm change from the current state."""
        m, d = self.model, self.data
        n = len(blocks)
        jac = np.zeros((6 * n, m.nv))
        resid = np.zeros(6 * n)
        local = np.zeros(3)
        for _ in range(iterations):
            mujoco.mj_kinematics(m, d)
            mujoco.mj_comPos(m, d)
            for i, (entity, block) in enumerate(zip(self.layout.entities, blocks, strict=True)):
                b = entity.body_id
                resid[6 * i : 6 * i + 3] = block[0:3] - d.xpos[b]
                quat = block[3:7] / max(float(np.linalg.norm(block[3:7])), 1e-12)
                mujoco.mju_subQuat(local, quat, d.xquat[b])  # rotation xquat -> quat, body frame
                resid[6 * i + 3 : 6 * i + 6] = d.xmat[b].reshape(3, 3) @ local
                mujoco.mj_jacBody(m, d, jac[6 * i : 6 * i + 3], jac[6 * i + 3 : 6 * i + 6], b)
            if float(np.abs(resid).max()) < 1e-10:
                break
            step = np.linalg.lstsq(jac, resid, rcond=None)[0]
            mujoco.mj_integratePos(m, d.qpos, step, 1.0)
        velocity = np.concatenate([np.concatenate([blk[7:10], blk[10:13]]) for blk in blocks])
        d.qvel[:] = np.linalg.lstsq(jac, velocity, rcond=None)[0]

    # ------------------------------------------------------------------ hooks and helpers
    def _randomize(self, rng: np.random.Generator) -> None:
        """Generic start randomisation: jitter every free body's x, y by ``reset_noise``."""
        for e in self.layout.entities:
            if e.kind == "object":
                jnt = self.model.body_jntadr[e.body_id]
                if int(self.model.jnt_type[jnt]) == int(mujoco.mjtJoint.mjJNT_FREE):
                    adr = self._free_qpos_adr(e.body_id)
                    self.data.qpos[adr : adr + 2] += rng.normal(0.0, self.reset_noise, 2)

    def _set_ctrl(self, action: Any) -> None:
        """``data.ctrl`` from an action in ``[-1, 1]^nu`` (clipped), checked first."""
        a = action
        if type(a) is not np.ndarray or a.dtype not in _FLOAT_DTYPES:
            a = np.asarray(action, dtype=np.float64)
        if a.shape != self.action_space.shape:
            raise ValueError(f"action must have shape {self.action_space.shape}, got {a.shape}")
        if self._native:
            d = self.data
            if d._address != self._ctrl_owner:  # first step, or a copied env
                self._ctrl_address, self._ctrl_owner = d.ctrl.ctypes.data, d._address
            ok = native_kernels.set_ctrl(a, self._ctrl_mid_half, self._ctrl_address)
        else:
            ok = bool(np.isfinite(a).all())
            if ok:
                self.data.ctrl[:] = self._ctrl_mid + a.astype(np.float64).clip(-1.0, 1.0) * (
                    self._ctrl_half
                )
        if not ok:
            raise ValueError(f"action must be finite, got {a.tolist()}")

    def _free_qpos_adr(self, body_id: int) -> int:
        jnt = self.model.body_jntadr[body_id]
        return int(self.model.jnt_qposadr[jnt])

    def _entities_set_directly(self) -> bool:
        """Whether every joint of the model belongs to an entity and is a free joint or a
        slide joint of a top-level body (states set in closed form)."""
        m = self.model
        owners = {e.body_id for e in self.layout.entities}
        free, slide = int(mujoco.mjtJoint.mjJNT_FREE), int(mujoco.mjtJoint.mjJNT_SLIDE)
        for jnt in range(m.njnt):
            body, kind = int(m.jnt_bodyid[jnt]), int(m.jnt_type[jnt])
            top_slide = kind == slide and int(m.body_parentid[body]) == 0
            if body not in owners or not (kind == free or top_slide):
                return False
        return True

    def _has_camera(self, name: str) -> bool:
        return mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_CAMERA, name) >= 0
