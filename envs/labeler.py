"""Contact-regime labelling from MuJoCo's own contact data, for any MuJoCo model.

The labeller reads every physics substep (:meth:`ContactLabeler.step_physics` runs the
substeps with ``mj_step`` and reads each; :meth:`ContactLabeler.substep` does one) and
summarises one agent step per entity (:meth:`ContactLabeler.end_step`). It changes nothing in
the simulation, so it works under our scenes, under Gymnasium's MuJoCo envs (see
:mod:`envs.gym_wrapper`) and under any loop that steps one substep at a time.

Why per substep: a bounce can begin and end inside one agent step, so comparing the contact
sets at the step's two ends would miss it. A contact *begins* when a geom pair that had no
contact point in the previous substep has one now; points added to a pair that already
touches (a sliding box rocking on its corners) are not new contacts. Why it is cheap: most
substeps see the same contact list as the one before (one bytes comparison, the fast path);
only a changed list is examined.

Approach speed is the normal velocity of the contact point in the state *before* the substep in
which the contact first exerts a force, under every integrator. With Euler, ``implicit`` and
``implicitfast``, ``mj_step`` runs the forward pass (collision, ``cvel``) on the pre-substep
state and then integrates, so right after ``mj_step`` the contact list and ``cvel`` are those of
the state the substep started from: ``cvel`` is the velocity at which the just-detected contacts
were met, not the velocity after the contact impulse. With ``RK4``, ``mj_step`` runs three more
forward passes at intermediate Runge-Kutta stages and the last one overwrites both: the contact
list is then that of the last stage (the first stage to see a landing, since its positions are
the furthest along), and ``cvel`` is a stage velocity already slowed by the contact (a ball
dropped from 1.2 m read 3.97 m/s instead of 4.85). There the labeller keeps ``qvel`` from before
each ``mj_step`` and takes the velocity of each new contact point as ``J(point) qvel_before``
(``mj_jac``); ``mj_step`` itself is untouched. :meth:`ContactLabeler.step_physics` does the
stepping in the right order; loops that step one substep at a time call
:meth:`ContactLabeler.substep` in place of ``mj_step``.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from envs import native
from envs.layout import EntityLayout
from envs.regimes import PAIR_BIT, LabelConfig, PairKind, Regime

_STATIC, _AGENT, _OBJECT = 0, 1, 2
_INT8, _BOOL, _FLOAT32 = np.dtype(np.int8), np.dtype(np.bool_), np.dtype(np.float32)
_POOL_STEPS = 128  # steps of outputs step_fused allocates at once
# end_step compares 16 per-entity features with thresholds at once and packs the outcomes
# into one integer code per entity (weights _CODE_WEIGHTS); these tables give every label
# from the code. Features: 0-8 squared norms (see ContactLabeler._linear_map; 0-4 count the
# moving tests), 9 approach speed, 10 minus the end vertical velocity, 11 pair mask,
# 12 touched anything, 13-15 constants: may jump, may topple, may be critical.
_CODE_WEIGHTS = np.array([1] * 5 + [0, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096])


def _code_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    codes = np.arange(8192)
    moving = (codes & 7) > 0
    tilted_start, tilted_end = (codes & 8) > 0, (codes & 16) > 0
    jumped, began, falling_fast = (codes & 32) > 0, (codes & 64) > 0, (codes & 128) > 0
    touching, touched = (codes & 256) > 0, (codes & 512) > 0
    can_jump, can_topple, can_be_critical = (codes & 1024) > 0, (codes & 2048) > 0, codes >= 4096
    impact = began | (touching & jumped & can_jump)
    regime = np.where(
        impact,
        Regime.IMPACT,
        np.where(touching, Regime.CONTACT, np.where(moving, Regime.FREE, Regime.REST)),
    ).astype(np.int8)
    toppled = tilted_end & ~tilted_start & can_topple
    critical = ((~touched & falling_fast) | toppled) & can_be_critical
    return regime, critical, ~touched


_CODE_REGIME, _CODE_CRITICAL, _CODE_AIRBORNE = _code_tables()
# Kind behind a sustained contact, by pair_mask bits: agent > object > static.
_PAIR_TABLE = np.array(
    [
        PairKind.AGENT_OBJECT
        if m & PAIR_BIT[PairKind.AGENT_OBJECT]
        else PairKind.OBJECT_OBJECT
        if m & PAIR_BIT[PairKind.OBJECT_OBJECT]
        else PairKind.OBJECT_STATIC
        if m
        else PairKind.NONE
        for m in range(8)
    ],
    dtype=np.int8,
)
# Pair kind seen from an entity, indexed by [own category, other category].
_KIND = {
    (_OBJECT, _STATIC): PairKind.OBJECT_STATIC,
    (_OBJECT, _AGENT): PairKind.AGENT_OBJECT,
    (_OBJECT, _OBJECT): PairKind.OBJECT_OBJECT,
    (_AGENT, _OBJECT): PairKind.AGENT_OBJECT,
    (_AGENT, _STATIC): PairKind.OBJECT_STATIC,
    (_AGENT, _AGENT): PairKind.AGENT_OBJECT,
}


@dataclass
class StepLabels:
    """Labels of one agent step; every array has shape ``(n_entities,)``."""

    regime: np.ndarray  # int8, Regime codes
    pair_kind: np.ndarray  # int8, PairKind behind the regime (NONE for free/rest)
    pair_mask: np.ndarray  # int8, PAIR_BIT flags of every non-support contact during the step
    approach_speed: np.ndarray  # float32 m/s, max normal approach speed of contacts begun
    impulse: np.ndarray  # float32 N*s, |m (v_end - v_start) - m g dt|: net non-gravity impulse
    critical: np.ndarray  # bool, falling (airborne, descending fast) or toppled during the step
    airborne: np.ndarray  # bool, touched nothing at all during the step
    velocity_jump: np.ndarray  # float32 m/s, |v_end - v_start| (linear, body origin)

    def as_dict(self) -> dict[str, np.ndarray]:
        return dict(self.__dict__)


class EntityStateReader:
    """Reads the per-entity state blocks (see :mod:`envs.layout`) from ``MjData``.

    Recomputes kinematics and com-velocities for the current ``qpos``/``qvel`` (cheap: no
    collision detection), so the state is the one at the end of the last substep.

    ``cvel``'s linear part is the velocity at the subtree com of the body's root; the velocity
    of the body origin adds ``w x (x_origin - x_com)``. That term vanishes for a childless root
    body whose inertial frame sits at its origin (every entity of the built-in scenes), so it is
    computed only for the entities that need it.

    With ``native`` (the default, where :func:`envs.native.runtime` is available) the same
    computation runs compiled (:func:`envs.native.read_states`), with identical results.
    """

    def __init__(self, model: mujoco.MjModel, body_ids: np.ndarray, native: bool = True) -> None:
        self.model = model
        self.body_ids = np.asarray(body_ids, dtype=np.int64)
        self._roots = model.body_rootid[self.body_ids]
        has_child = np.array(
            [(model.body_parentid[1:] == b).any() for b in self.body_ids], dtype=bool
        )
        origin_is_com = (
            (self._roots == self.body_ids)
            & ~has_child
            & (np.abs(model.body_ipos[self.body_ids]).max(axis=1) == 0.0)
        )
        self._cross_rows = np.flatnonzero(~origin_is_com)
        self._entities = np.stack([self.body_ids, self._roots, ~origin_is_com]).astype(np.int64)
        self._native = _native_runtime(native)
        self._data: mujoco.MjData | None = None  # the MjData whose addresses are cached
        self._ints = np.zeros(0, dtype=np.int64)

    def __call__(self, data: mujoco.MjData) -> np.ndarray:
        """Entity states now, shape ``(n_entities, 13)``."""
        return self.read(data)[0]

    def __getstate__(self) -> dict:
        # Addresses belong to this process and these MjData: found again after a copy.
        state = dict(self.__dict__)
        state.update(_native=None, _data=None, _ints=np.zeros(0, dtype=np.int64))
        state["_wanted_native"] = self._native is not None
        return state

    def __setstate__(self, state: dict) -> None:
        wanted = state.pop("_wanted_native")
        self.__dict__.update(state)
        self._native = _native_runtime(wanted)

    def read(self, data: mujoco.MjData) -> tuple[np.ndarray, bool]:
        """Entity states now, shape ``(n_entities, 13)``, and whether they are all finite."""
        rt = self._native
        if rt is not None:
            if data is not self._data:
                self._ints = rt.state_ints(self.model, data)
                self._data = data
            out = np.empty((len(self.body_ids), 13))
            return out, native.read_states(self._ints, self._entities, out)
        out = self._read_python(data)
        return out, bool(np.isfinite(out).all())

    def _read_python(self, data: mujoco.MjData) -> np.ndarray:
        m, ids = self.model, self.body_ids
        mujoco.mj_kinematics(m, data)
        mujoco.mj_comPos(m, data)
        mujoco.mj_comVel(m, data)
        out = np.empty((len(ids), 13))
        out[:, 0:3] = data.xpos[ids]
        out[:, 3:7] = data.xquat[ids]
        cvel = data.cvel[ids]
        out[:, 7:10] = cvel[:, 3:]
        out[:, 10:13] = cvel[:, :3]
        rows = self._cross_rows
        if len(rows):
            offset = out[rows, 0:3] - data.subtree_com[self._roots[rows]]
            out[rows, 7:10] += _cross(cvel[rows, :3], offset)
        return out


def _native_runtime(wanted: bool) -> native.Runtime | None:
    return native.runtime() if wanted else None


def _native_enabled() -> bool:
    return native.enabled()


def entity_states(model: mujoco.MjModel, data: mujoco.MjData, body_ids: np.ndarray) -> np.ndarray:
    """One-off form of :class:`EntityStateReader`: states of ``body_ids``, shape ``(E, 13)``."""
    return EntityStateReader(model, body_ids)(data)


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cross product of (n, 3) arrays; several times faster than ``np.cross`` here."""
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
    return np.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)


class ContactLabeler:
    """Labels every entity's regime over each agent step.

    Args:
        model: the compiled MuJoCo model.
        layout: the entities to label, in observation order.
        support_geoms: geom ids of the ground support (table, floor). Touching these alone is
            ``free``/``rest``; landing on them is still an ``impact``.
        cfg: thresholds.
        native: run the substep loop and the step summary compiled (:mod:`envs.native`)
            where available: the same labels, bit for bit, in a fraction of the time.
            ``False`` keeps the Python reference path.

    Use: ``begin_step(state)``, then ``step_physics(data, n_substeps)`` (which calls
    ``mj_step``), then ``end_step(state, n_substeps)``; ``state`` is the ``(E, 13)`` block array
    of :func:`entity_states`. A loop that must call ``mj_step`` itself calls
    ``substep(data)`` in place of each ``mj_step``. ``after_substep(data)`` after a plain
    ``mj_step`` is the Euler-family form, refused under RK4 (it would read the last
    Runge-Kutta stage instead of the pre-substep state).
    """

    def __init__(
        self,
        model: mujoco.MjModel,
        layout: EntityLayout,
        support_geoms: np.ndarray,
        cfg: LabelConfig | None = None,
        native: bool = True,
    ) -> None:
        self.model = model
        self.cfg = cfg or LabelConfig()
        self.n_entities = layout.n_entities
        self.body_ids = np.array([e.body_id for e in layout.entities], dtype=np.int64)
        self._dt = float(model.opt.timestep)
        # RK4: velocities of new contacts come from qvel saved before mj_step (see module doc).
        self.runge_kutta = int(model.opt.integrator) == int(mujoco.mjtIntegrator.mjINT_RK4)
        self._qvel_before = np.zeros(model.nv)
        self._jacp = np.zeros((3, model.nv))
        self._gravity = np.array(model.opt.gravity, dtype=np.float64)
        # tilt cos = 1 - 2 (qx^2 + qy^2), so tilt > topple_angle <=> qx^2 + qy^2 > this:
        self._tilt_xy2 = float((1.0 - np.cos(np.deg2rad(self.cfg.topple_angle))) / 2.0)

        # Map every body to the entity that owns it: the nearest ancestor that is an entity.
        entity_of_body = np.full(model.nbody, -1, dtype=np.int64)
        for i, b in enumerate(self.body_ids):
            entity_of_body[b] = i
        for b in range(1, model.nbody):  # parents have smaller ids than children in MuJoCo
            if entity_of_body[b] < 0:
                entity_of_body[b] = entity_of_body[model.body_parentid[b]]
        self._geom_entity = entity_of_body[model.geom_bodyid]
        # Mass of each entity: its bodies that are no other entity's (a robot's whole subtree
        # for entities=roots, one link for entities=bodies).
        owned = entity_of_body[1:] >= 0
        self._mass = np.bincount(
            entity_of_body[1:][owned], weights=model.body_mass[1:][owned], minlength=self.n_entities
        )
        category = np.full(self.n_entities, _OBJECT, dtype=np.int64)
        for i, e in enumerate(layout.entities):
            if e.kind == "agent":
                category[i] = _AGENT
        self._entity_category = category
        # Falls and topples are events of objects; the agent and the distractor float by design,
        # and a robot's links (entities=bodies) swing and leave the ground as they move.
        self._can_be_critical = np.array(
            [e.kind == "object" and model.body_parentid[e.body_id] == 0 for e in layout.entities]
        )
        # A rolling sphere's tilt means nothing: only entities with a non-sphere geom topple.
        sphere = int(mujoco.mjtGeom.mjGEOM_SPHERE)
        self._can_topple = np.array(
            [
                bool((model.geom_type[self._geom_entity == i] != sphere).any())
                for i in range(self.n_entities)
            ]
        )
        self._geom_support = np.zeros(model.ngeom, dtype=bool)
        self._geom_support[np.asarray(support_geoms, dtype=np.int64)] = True
        self._geom_tables = self._make_geom_tables()
        self._reset_keys = np.zeros(0, dtype=np.int64)  # pair keys at the last reset
        self.examined = 0  # contact lists examined so far (changed from the substep before)
        self._pair_cache: dict[int, tuple] = {}
        self._prev_key: bytes | None = None
        # The same list as flat int32 geom pairs for the compiled loop (-1 contacts: none yet).
        self._prev_flat = np.zeros(0, dtype=np.int32)
        self._prev_n = -1
        self._native = _native_runtime(native)
        self._native_summary = native and _native_enabled()
        self._native_data: mujoco.MjData | None = None  # the MjData checked for the loop
        self._native_arrays = np.zeros(4, dtype=np.int64)
        self._substep_ints = np.zeros(0, dtype=np.int64)
        self._examine_ints = np.zeros(7, dtype=np.int64)
        # step_fused's packed arguments, for the reader in _fused (see native.env_step)
        self._fused: EntityStateReader | None = None
        self._fused_addr = np.zeros(0, dtype=np.int64)
        self._fused_tables = np.zeros((0, 0), dtype=np.int64)
        self._pool_slot = 0
        self._new_pool()
        self._ctrl_address = 0
        # Geom-pair keys of the last examined list (None: those of _prev_flat, not built yet).
        self._prev_pairs: set[int] | None = set()
        # Touches of the last examined contact list, reused while the list does not change.
        # (2, E) int8: pair bits, touched; rows 0 and 1 (as bool) are _list_mask, _list_touched
        self._lists = np.zeros((2, self.n_entities), dtype=np.int8)
        self._list_mask = self._lists[0]
        self._list_touched = self._lists[1].view(np.bool_)
        self._carry = False
        self._reset_accumulators()
        self._start: np.ndarray | None = None
        self._substeps = 0
        self._pair_states = np.zeros((self.n_entities, 26))  # [start, end] states, scratch
        self._group_sum = np.kron(np.eye(9), np.ones((3, 1)))  # (27, 9): sums of 3 squares
        jump = self.cfg.jump_speed
        cfg = self.cfg
        self._can_jump = self._entity_category == _OBJECT  # the agent's actuators jerk it
        self._thresholds = np.array(
            [cfg.rest_speed**2] * 3
            + [cfg.rest_angvel**2] * 2
            + [np.inf, self._tilt_xy2, self._tilt_xy2]
            + [np.inf if jump is None else float(jump) ** 2]
            + [cfg.impact_speed, cfg.fall_speed, 0.5, 0.5, 0.5, 0.5, 0.5]
        )
        self._n2 = np.zeros((self.n_entities, 9))
        self._features = np.zeros((self.n_entities, 16))
        self._features[:, 13] = self._can_jump
        self._features[:, 14] = self._can_topple
        self._features[:, 15] = self._can_be_critical
        self._norm_scale = np.stack([self._mass, np.ones(self.n_entities)], axis=1)
        self._maps: dict[float, tuple[np.ndarray, np.ndarray]] = {}
        # For native.summarize: per-entity constants and the label tables by code and mask.
        self._entity_consts = (
            np.stack([self._can_jump, self._can_topple, self._can_be_critical, self._mass], axis=1)
            .astype(np.float64)
            .ravel()
        )
        self._tables = np.zeros((4, len(_CODE_REGIME)), dtype=np.int8)
        self._tables[0], self._tables[1], self._tables[2] = (
            _CODE_REGIME,
            _CODE_CRITICAL,
            _CODE_AIRBORNE,
        )
        self._tables[3, : len(_PAIR_TABLE)] = _PAIR_TABLE
        self._consts: dict[float, np.ndarray] = {}

    def __getstate__(self) -> dict:
        # Addresses belong to this process and these MjData: found again after a copy.
        state = dict(self.__dict__)
        state.update(_native=None, _native_data=None, _fused=None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._native = _native_runtime(self._native_summary)

    # ------------------------------------------------------------------ per-step protocol
    def reset(self, data: mujoco.MjData) -> None:
        """Forget contact history (call after ``mj_resetData``/``mj_forward`` at episode start)."""
        n = data.ncon
        geom = data.contact.geom[:n]
        keys = self._pair_keys(geom)
        self._prev_pairs = set(keys)
        self._reset_keys = np.array(keys, dtype=np.int64)
        self._prev_key = None  # so the first substep after a reset is examined in full
        self._prev_n = -1

    def begin_step(self, state: np.ndarray) -> None:
        """Start an agent step from entity states ``(E, 13)``."""
        self._reset_accumulators()
        self._start = state
        self._carry = True  # the first substep must count the contacts it sees, even if unchanged
        self._substeps = 0

    def step_physics(self, data: mujoco.MjData, n_substeps: int) -> None:
        """Advance the simulation ``n_substeps`` physics steps, labelling every one."""
        m = self.model
        self._substeps += n_substeps
        if self._native is not None and (data is self._native_data or self._adopt(data)):
            self._step_native(data, n_substeps)
            return
        # The fast path inline (the same contact list as the substep before: nothing began),
        # since a Python call per substep is a measurable share of cheap physics.
        if self.runge_kutta:
            qvel = self._qvel_before
            for _ in range(n_substeps):
                np.copyto(qvel, data.qvel)
                mujoco.mj_step(m, data)
                geom = data.contact.geom  # (ncon, 2)
                key = geom.tobytes()
                if self._carry or key != self._prev_key:
                    self._update(data, geom, key)
        else:
            for _ in range(n_substeps):
                mujoco.mj_step(m, data)
                geom = data.contact.geom
                key = geom.tobytes()
                if self._carry or key != self._prev_key:
                    self._update(data, geom, key)

    def _adopt(self, data: mujoco.MjData) -> bool:
        """Check ``data`` for the compiled loop (once per MjData); False: use the Python loop."""
        rt = self._native
        if rt is None or not rt.check_data(data):
            return False
        self._native_data = data
        self._substep_ints = rt.substep_ints(self.model, data, self.runge_kutta)
        self._ctrl_address = data.ctrl.ctypes.data  # for step_fused
        self._native_arrays = rt.data_arrays(data)
        # native.env_step's `ex`; under RK4 changed lists are examined here (mj_jac speeds)
        self._examine_ints = np.array(
            [
                self.model.ngeom,
                rt.layout[3],
                rt.layout[4],
                rt.layout[5],
                self._native_arrays[2],
                self._native_arrays[3],
                int(not self.runge_kutta),
            ],
            dtype=np.int64,
        )
        return True

    def _make_geom_tables(self) -> np.ndarray:
        """``native.env_step``'s ``gtab`` (see :mod:`envs.native`): what ``_pair_info``
        derives for every geom pair, as tables."""
        m = self.model
        width = max(m.ngeom, m.nbody, 18 + self.n_entities)
        tab = np.zeros((5, width), dtype=np.int64)
        tab[native.TAB_ENTITY, : m.ngeom] = self._geom_entity
        tab[native.TAB_BODY, : m.ngeom] = m.geom_bodyid
        tab[native.TAB_SUPPORT, : m.ngeom] = self._geom_support
        tab[native.TAB_ROOT, : m.nbody] = m.body_rootid
        misc = tab[native.TAB_MISC]
        for (me, other), kind in _KIND.items():
            misc[me * 3 + other] = int(kind)
            misc[9 + me * 3 + other] = PAIR_BIT[kind]
        misc[18 : 18 + self.n_entities] = self._entity_category
        return tab

    def _step_native(self, data: mujoco.MjData, n_substeps: int, first: int = -1) -> None:
        """:meth:`step_physics` with the substeps compiled: the loop stops after every substep
        whose contact list differs from the one before, which is examined here exactly as in
        the Python loop; the substeps between run with no Python at all. ``first >= 1``: the
        first :func:`envs.native.run_substeps` call was made already (by
        :func:`envs.native.env_step`) and returned ``first``."""
        ints, left = self._substep_ints, n_substeps
        done = self._substeps - n_substeps  # substeps of this agent step run before this call
        while left > 0:
            if first > 0:
                k, first = first, -1
            else:
                k = native.run_substeps(
                    ints, left, self._prev_flat, self._prev_n, self._qvel_before
                )
            if k == 0:
                break
            left -= k
            if self._carry and (k > 1 or done > 0):  # the step's first substep saw no change
                self._merge_carry()
            done += k
            geom = data.contact.geom
            self._update(data, geom, geom.tobytes())
        # A carry left (no list changed in the step) is merged by end_step.

    def _merge_carry(self) -> None:
        """Count the touches of the contact list the step began with (unchanged since)."""
        self._mask |= self._list_mask
        self._touched |= self._list_touched
        self._carry = False

    def substep(self, data: mujoco.MjData) -> None:
        """One labelled ``mj_step`` (for loops that step one substep at a time)."""
        self.step_physics(data, 1)

    def after_substep(self, data: mujoco.MjData) -> None:
        """Record the contacts MuJoCo detected in the ``mj_step`` just taken (Euler family)."""
        if self.runge_kutta:
            raise RuntimeError(
                "ContactLabeler.after_substep under the RK4 integrator would read velocities of "
                "the last Runge-Kutta stage, not of the pre-substep state: call "
                "step_physics(data, n) or substep(data) in place of mj_step"
            )
        self._record(data)

    def _record(self, data: mujoco.MjData) -> None:
        self._substeps += 1
        geom = data.contact.geom
        self._update(data, geom, geom.tobytes())

    def _update(self, data: mujoco.MjData, geom: np.ndarray, key: bytes) -> None:
        """Account for the contact list ``geom`` (bytes ``key``) of the substep just taken."""
        if key == self._prev_key:
            # The same contact list as the previous substep, so nothing began. The first
            # substep of a step still counts that list's touches (cached by _examine).
            if self._carry:
                self._merge_carry()
            return
        self.examined += 1
        if self._prev_pairs is None:  # step_fused left the pairs of _prev_flat to build
            self._prev_pairs = set(self._pair_keys(self._prev_flat.reshape(-1, 2)))
        self._prev_key = key
        self._prev_flat = geom.flatten()
        self._prev_n = len(geom)
        self._carry = False
        self._examine(data, geom, len(geom))

    def end_step(self, state: np.ndarray, n_substeps: int | None = None) -> StepLabels:
        """Summarise the step that ends in entity states ``state`` ``(E, 13)``."""
        start = self._start
        if start is None:
            raise RuntimeError("ContactLabeler.end_step called before begin_step")
        self._start = None
        dt = self._dt * (n_substeps if n_substeps is not None else max(self._substeps, 1))
        if self._native_summary:
            buf8, bufb, buf32 = self._buffers
            carry = self._carry and self._substeps > 0
            consts = self._consts_for(dt)
            if native.summarize(
                start, state, consts, self._tables, self._lists, carry, buf8, bufb, buf32
            ):
                self._carry = False
                return self._native_labels()
        return self._end_step_numpy(start, state, dt)

    def read_and_end_step(
        self, reader: EntityStateReader, data: mujoco.MjData, n_substeps: int
    ) -> tuple[np.ndarray, bool, StepLabels]:
        """``reader.read(data)`` then :meth:`end_step`, in one compiled call where both are
        native: the entity states, whether they are finite, the step's labels."""
        rt = reader._native
        start = self._start
        if not (self._native_summary and rt is not None and start is not None):
            state, finite = reader.read(data)
            return state, finite, self.end_step(state, n_substeps)
        if data is not reader._data:
            reader._ints = rt.state_ints(reader.model, data)
            reader._data = data
        self._start = None
        state = np.empty((self.n_entities, 13))
        buf8, bufb, buf32 = self._buffers
        status = native.finish_step(
            reader._ints,
            reader._entities,
            start,
            state,
            self._consts_for(self._dt * n_substeps),
            self._tables,
            self._lists,
            self._carry and self._substeps > 0,
            buf8,
            bufb,
            buf32,
        )
        finite = bool(status & 1)
        if status & 2:
            self._carry = False
            return state, finite, self._native_labels()
        return state, finite, self._end_step_numpy(start, state, self._dt * n_substeps)

    def step_fused(
        self,
        reader: EntityStateReader,
        data: mujoco.MjData,
        n_substeps: int,
        action: np.ndarray,
        ctrl_mid_half: np.ndarray,
        start: np.ndarray,
    ) -> tuple[np.ndarray, bool, dict[str, np.ndarray], np.ndarray] | None:
        """A whole labelled step: ``begin_step(start)``, ``data.ctrl`` set from ``action``
        (:func:`envs.native.set_ctrl`: ``mid + clip(action, -1, 1) * half`` with
        ``ctrl_mid_half`` = ``[mid, half]``), ``step_physics``, ``read_and_end_step``, in one
        compiled call (:func:`envs.native.env_step`, which examines changed contact lists
        itself), continued in Python as those methods do under RK4 (after the first changed
        list) and where a state is not finite (numpy's summary). Returns the
        entity states, whether they are finite, the labels as a dict (what
        :meth:`StepLabels.as_dict` gives, the same arrays bit for bit) and the states as a flat
        float32 array (the observation, meaningful where they are finite). The arrays are
        views of one slot of a pool of zeroed outputs (:meth:`_new_pool`), each slot used
        once, so every step's arrays are its own. Returns ``None``, with
        nothing stepped and ``data.ctrl`` untouched, where the compiled path cannot run (no
        native runtime, or a ``data`` it cannot check) or the action is not finite: the
        caller then takes the step-by-step path (which raises for the action)."""
        if data is not self._native_data or data is not reader._data or reader is not self._fused:
            rt = reader._native
            if (
                rt is None
                or self._native is None
                or not self._native_summary
                or not (data is self._native_data or self._adopt(data))
            ):
                return None
            reader._ints = rt.state_ints(reader.model, data)
            reader._data = data
            self._fused_addr = np.concatenate(
                [self._substep_ints, self._examine_ints, reader._ints, [self._ctrl_address]]
            ).astype(np.int64)
            entities = reader._entities
            if entities.shape[1] != self.n_entities:
                raise ValueError(
                    f"the entity-state reader has {entities.shape[1]} entities, the labeller "
                    f"{self.n_entities}"
                )
            self._fused_tables = np.concatenate(
                [self._geom_tables, np.zeros((3, self._geom_tables.shape[1]), dtype=np.int64)]
            )
            self._fused_tables[native.TAB_ENTITIES :, : entities.shape[1]] = entities
            self._fused = reader
        slot = self._pool_slot
        if slot == _POOL_STEPS:
            self._new_pool()
            slot = 0
        self._pool_slot = slot + 1
        pool8, poolb, pool32, pool_state, pool_obs = self._pool
        dt = self._dt * n_substeps
        consts = self._consts.get(dt)
        if consts is None:
            consts = self._consts_for(dt)
        status = native.env_step(
            action,
            ctrl_mid_half,
            self._fused_addr,
            n_substeps,
            self._prev_flat,
            self._prev_n,
            self._qvel_before,
            self._fused_tables,
            self._reset_keys,
            start,
            consts,
            self._tables,
            self._lists,
            pool8,
            poolb,
            pool32,
            pool_state,
            pool_obs,
            slot,
        )
        state = pool_state[slot]
        finished = status - n_substeps - 1
        if finished >= 4:  # contact lists changed and were examined: the last one is now's
            self.examined += finished >> 2
            finished &= 3
            geom = data.contact.geom
            self._prev_key = geom.tobytes()
            self._prev_flat = geom.flatten()
            self._prev_n = len(geom)
            self._prev_pairs = None  # built from _prev_flat when the Python loop needs it
            self._carry = False
        elif finished >= 0:
            self._carry = True  # no list changed: the step's carry (merged if summarised)
        if finished >= 2:  # the summary was made: the step is done
            # (The accumulator attributes are bound again by the next begin_step.)
            self._carry = False
            return (
                state,
                finished & 1 == 1,
                {
                    "regime": pool8[slot, 2],
                    "pair_kind": pool8[slot, 3],
                    "pair_mask": pool8[slot, 0],
                    "approach_speed": pool32[slot, 0],
                    "impulse": pool32[slot, 1],
                    "critical": poolb[slot, 1],
                    "airborne": poolb[slot, 2],
                    "velocity_jump": pool32[slot, 2],
                },
                pool_obs[slot],
            )
        if status < 0:
            self._pool_slot = slot  # a non-finite action: nothing was done
            return None
        # From here on, what begin_step and step_physics would have left.
        self._bind_accumulators(pool8[slot], poolb[slot], pool32[slot])
        self._substeps = n_substeps
        if finished >= 0:  # a state is not finite: numpy's summary (its carry set above)
            labels = self._end_step_numpy(start, state, dt)
            return state, finished & 1 == 1, labels.as_dict(), pool_obs[slot]
        # RK4: the contact list changed after substep `status`: the rest as step_physics does.
        self._start = start
        self._carry = True
        self._step_native(data, n_substeps, first=status)
        state, finite, labels = self.read_and_end_step(reader, data, n_substeps)
        return state, finite, labels.as_dict(), state.ravel().astype(np.float32)

    def _new_pool(self) -> None:
        """Zeroed outputs for the next :data:`_POOL_STEPS` calls of :meth:`step_fused`: label
        buffers, entity states, observations (see :func:`envs.native.env_step`)."""
        e = self.n_entities
        self._pool = (
            np.zeros((_POOL_STEPS, 4, e), _INT8),
            np.zeros((_POOL_STEPS, 3, e), _BOOL),
            np.zeros((_POOL_STEPS, 3, e), _FLOAT32),
            np.zeros((_POOL_STEPS, e, 13)),
            np.zeros((_POOL_STEPS, 13 * e), _FLOAT32),
        )
        self._pool_slot = 0

    def _consts_for(self, dt: float) -> np.ndarray:
        consts = self._consts.get(dt)
        if consts is None:
            consts = self._consts[dt] = np.concatenate(
                [[1.0 / dt], -self._gravity * dt, self._thresholds, self._entity_consts]
            )
        return consts

    def _native_labels(self) -> StepLabels:
        buf8, bufb, buf32 = self._buffers
        return StepLabels(
            regime=buf8[2],
            pair_kind=buf8[3],
            pair_mask=buf8[0],
            approach_speed=buf32[0],
            impulse=buf32[1],
            critical=bufb[1],
            airborne=bufb[2],
            velocity_jump=buf32[2],
        )

    def _end_step_numpy(self, start: np.ndarray, state: np.ndarray, dt: float) -> StepLabels:
        """:meth:`end_step` in numpy (the reference path; also any non-finite state)."""
        if self._carry and self._substeps > 0:
            self._merge_carry()
        # Every vector the labels need is linear in the two states, so one matrix product
        # gives them all and a second one their squared norms (small-array numpy calls cost
        # about a microsecond each, so the hot path counts them): see _linear_map.
        lin, bias = self._linear_map(dt)
        x = self._pair_states
        x[:, :13] = start
        x[:, 13:] = state
        vectors = x @ lin
        vectors += bias
        np.square(vectors, out=vectors)
        feat = self._features
        np.matmul(vectors, self._group_sum, out=self._n2)
        feat[:, :9] = self._n2
        feat[:, 9] = self._approach
        np.negative(state[:, 9], out=feat[:, 10])
        feat[:, 11] = self._mask
        feat[:, 12] = self._touched
        over = feat > self._thresholds
        code = over @ _CODE_WEIGHTS
        began = over[:, 9]
        mask = self._mask
        # impulse and velocity jump: norms of rows 5 and 8, times (mass, 1)
        norms = np.sqrt(self._n2[:, 5::3])
        norms *= self._norm_scale
        norms32 = norms.astype(np.float32)
        return StepLabels(
            regime=_CODE_REGIME[code],
            pair_kind=np.where(began, self._impact_kind, _PAIR_TABLE[mask]),
            pair_mask=mask,  # a fresh array every step (begin_step), so handed out as is
            approach_speed=self._approach,
            impulse=norms32[:, 0],
            critical=_CODE_CRITICAL[code],
            airborne=_CODE_AIRBORNE[code],
            velocity_jump=norms32[:, 1],
        )

    # ------------------------------------------------------------------ internals
    def _linear_map(self, dt: float) -> tuple[np.ndarray, np.ndarray]:
        """``(26, 27)`` matrix and ``(27,)`` bias taking ``[start, end]`` entity states to nine
        3-vectors: 0 start velocity, 1 end velocity, 2 mean velocity over the step, 3 start
        angular velocity, 4 end angular velocity, 5 velocity change not due to gravity,
        6 start and 7 end quaternion (x, y, 0) (tilt cos = 1 - 2 (x^2 + y^2)), 8 velocity
        jump. Cached per step length ``dt``."""
        cached = self._maps.get(dt)
        if cached is not None:
            return cached
        lin = np.zeros((26, 9, 3))
        eye = np.eye(3)
        start, end = 0, 13  # column offsets of the two states in [start, end]
        lin[start + 7 : start + 10, 0] = eye
        lin[end + 7 : end + 10, 1] = eye
        lin[end + 0 : end + 3, 2] = eye / dt
        lin[start + 0 : start + 3, 2] = -eye / dt
        lin[start + 10 : start + 13, 3] = eye
        lin[end + 10 : end + 13, 4] = eye
        for row in (5, 8):
            lin[end + 7 : end + 10, row] = eye
            lin[start + 7 : start + 10, row] = -eye
        lin[start + 4, 6, 0] = lin[start + 5, 6, 1] = 1.0
        lin[end + 4, 7, 0] = lin[end + 5, 7, 1] = 1.0
        bias = np.zeros((9, 3))
        bias[5] = -self._gravity * dt
        self._maps[dt] = (lin.reshape(26, 27), bias.reshape(27))
        return self._maps[dt]

    def _reset_accumulators(self) -> None:
        e = self.n_entities
        # Fresh every step, since rows of them become the step's labels: int8 pair mask,
        # impact kind, regime, pair kind; bool touched, critical, airborne; float32 approach
        # speed, impulse, velocity jump (native.summarize fills the outputs).
        self._bind_accumulators(
            np.zeros((4, e), dtype=np.int8),
            np.zeros((3, e), dtype=np.bool_),
            np.zeros((3, e), dtype=np.float32),
        )

    def _bind_accumulators(self, buf8: np.ndarray, bufb: np.ndarray, buf32: np.ndarray) -> None:
        self._buffers = (buf8, bufb, buf32)
        self._mask, self._impact_kind = buf8[0], buf8[1]
        self._touched = bufb[0]
        self._approach = buf32[0]

    def _pair_keys(self, geom: np.ndarray) -> list[int]:
        # MuJoCo reports a given geom pair in a fixed order, so (g0, g1) identifies it.
        return (geom[:, 0] * self.model.ngeom + geom[:, 1]).tolist()

    def _pair_info(self, pk: int) -> tuple:
        """(entity a, bit a, kind a, entity b, bit b, kind b) for geom-pair key ``pk``; cached."""
        info = self._pair_cache.get(pk)
        if info is None:
            ngeom = self.model.ngeom
            g1, g2 = divmod(pk, ngeom)
            e1, e2 = int(self._geom_entity[g1]), int(self._geom_entity[g2])
            if e1 == e2:  # a body touching itself (e.g. an agent's own links): not a contact event
                info = (-1, 0, 0, -1, 0, 0)
            else:
                sides = []
                for me, other, other_geom in ((e1, e2, g2), (e2, e1, g1)):
                    if me < 0:
                        sides.append((-1, 0, 0))
                        continue
                    other_cat = _STATIC if other < 0 else int(self._entity_category[other])
                    kind = _KIND[(int(self._entity_category[me]), other_cat)]
                    bit = 0 if self._geom_support[other_geom] else PAIR_BIT[kind]
                    sides.append((me, bit, int(kind)))
                info = (*sides[0], *sides[1])
            self._pair_cache[pk] = info
        return info

    def _examine(self, data: mujoco.MjData, geom: np.ndarray, n: int) -> None:
        keys = self._pair_keys(geom)
        pairs = set(keys)
        prev = self._prev_pairs
        assert prev is not None  # built by _update
        new_points = []
        list_mask, list_touched = self._list_mask, self._list_touched
        self._lists[:] = 0
        for pk in pairs:
            ea, bit_a, _, eb, bit_b, _ = self._pair_info(pk)
            if ea >= 0:
                list_touched[ea] = True
                list_mask[ea] |= bit_a
            if eb >= 0:
                list_touched[eb] = True
                list_mask[eb] |= bit_b
            if pk not in prev and (ea >= 0 or eb >= 0):  # the pair was not touching a substep ago
                new_points.append(pk)
        self._prev_pairs = pairs
        self._mask |= list_mask
        self._touched |= list_touched
        if not new_points:
            return
        new_set = set(new_points)
        idx = np.array([i for i, k in enumerate(keys) if k in new_set], dtype=np.int64)
        speeds = self._approach_speeds(data, idx)
        for i, s in zip(idx.tolist(), speeds.tolist(), strict=True):
            ea, _, kind_a, eb, _, kind_b = self._pair_info(keys[i])
            for e, kind in ((ea, kind_a), (eb, kind_b)):
                if e >= 0 and s > self._approach[e]:
                    self._approach[e] = s
                    self._impact_kind[e] = kind

    def _approach_speeds(self, data: mujoco.MjData, idx: np.ndarray) -> np.ndarray:
        """Normal approach speed (m/s, > 0 when closing) of contacts ``idx``, from ``cvel``
        (Euler family) or from ``J(point) qvel_before`` (RK4)."""
        m = self.model
        if self._native is not None and self._native_data is data and not self.runge_kutta:
            out = np.empty(len(idx))
            native.approach_speeds(
                self._native_data._address,
                self._native.layout,
                idx,
                m.geom_bodyid,
                m.body_rootid,
                self._native_arrays,
                out,
            )
            return out
        contact = data.contact
        geom = contact.geom[idx]
        pos = contact.pos[idx]
        normal = contact.frame[idx, :3]  # points from geom[0] to geom[1]
        bodies = m.geom_bodyid[geom]  # (k, 2)
        if self.runge_kutta:
            jacp, qvel = self._jacp, self._qvel_before
            rel = np.zeros((len(idx), 3))
            for i in range(len(idx)):
                for side, sign in ((0, -1.0), (1, 1.0)):
                    body = int(bodies[i, side])
                    if m.body_weldid[body] == 0:
                        continue  # welded to the world: does not move
                    mujoco.mj_jac(m, data, jacp, None, pos[i], body)
                    rel[i] += sign * (jacp @ qvel)
            return np.maximum(-(rel * normal).sum(axis=1), 0.0)
        cvel = data.cvel[bodies]  # (k, 2, 6): angular, linear at the root's subtree com
        com = data.subtree_com[m.body_rootid[bodies]]
        vel = cvel[..., 3:] + _cross(cvel[..., :3], pos[:, None, :] - com)
        rel = vel[:, 1] - vel[:, 0]
        return np.maximum(-(rel * normal).sum(axis=1), 0.0)
