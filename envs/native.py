"""Compiled inner loops (numba) of the labelled env step: what Python cannot do cheaply enough.

A labelled agent step of the built-in scenes costs 110-530 us of MuJoCo physics; the same step
in Python and numpy (a contact-list read after each of the 10 substeps, the entity states, the
per-entity summary) added 75-200 us on top. These kernels do the same work, with the same
floating-point operations in the same order, as compiled code:

* :func:`run_substeps` calls MuJoCo's C ``mj_step`` once per substep and, after each, compares
  the contact list (``mjData.ncon`` and the geom pair of every contact) with the list of the
  substep before. It returns at the first substep whose list differs, so Python examines
  exactly the substeps it examined before (:meth:`envs.labeler.ContactLabeler.step_physics`),
  and runs straight through the rest. Under RK4 it keeps ``qvel`` from before each substep.
* :func:`read_states` is :class:`envs.labeler.EntityStateReader`'s body: kinematics,
  com-velocities, and the ``(E, 13)`` entity states.
* :func:`summarize` is :meth:`envs.labeler.ContactLabeler.end_step`'s summary.
* :func:`set_ctrl` maps an action in ``[-1, 1]`` to ``mjData.ctrl``.
* :func:`env_step` is a whole env step in one call: the above, and every changed contact
  list examined in the loop (:func:`_examine`: the touches, pair kinds and approach speeds
  of ``ContactLabeler._examine``, from tables of what ``_pair_info`` derives), except under
  RK4 (speeds from ``mj_jac``), where it returns at the first change as
  :func:`run_substeps` does. Python's part of a step is then one call, a few allocations
  and the info dict (:meth:`envs.labeler.ContactLabeler.step_fused`).

MuJoCo's C functions are called through their addresses in the ``libmujoco`` the ``mujoco``
package loaded, on the ``mjModel``/``mjData`` pointers of the Python objects
(``MjModel._address``); ``ncon`` and the ``contact`` pointer are read at their offsets in
``mjData``, which :func:`runtime` finds once per process on a small probe model (by the
values the Python bindings report) and checks by stepping it both ways. Where anything of
that fails (an unknown platform or MuJoCo build), :func:`runtime` returns ``None`` with the
reason in :data:`UNAVAILABLE` and the labeller keeps its Python loop, with identical labels.

One difference in behaviour: a *fatal* MuJoCo error inside ``mj_step`` (``mju_error``: the
stack exhausted by a model whose ``<size memory>`` is too small) ends the process instead of
raising a Python exception. Warnings (instability, contact buffer full) are unaffected. Set
``CONTACTLAB_NATIVE=0`` to use the Python loop.
"""

from __future__ import annotations

import ctypes
import glob
import math
import os
from dataclasses import dataclass
from typing import Any

import mujoco
import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

# ---------------------------------------------------------------------- raw calls and loads


def _call_md_intrinsic(typingctx, fn, m, d):
    """Call ``void fn(const mjModel*, mjData*)`` at address ``fn``."""
    sig = types.void(types.int64, types.int64, types.int64)

    def codegen(context, builder, signature, args):
        f, x, y = args
        ptr = ir.IntType(8).as_pointer()
        fnty = ir.FunctionType(ir.VoidType(), [ptr, ptr])
        builder.call(
            builder.inttoptr(f, fnty.as_pointer()),
            [builder.inttoptr(x, ptr), builder.inttoptr(y, ptr)],
        )
        return context.get_dummy_value()

    return sig, codegen


_call_md: Any = intrinsic(_call_md_intrinsic)


def _load_i32_intrinsic(typingctx, addr):
    sig = types.int32(types.int64)

    def codegen(context, builder, signature, args):
        return builder.load(builder.inttoptr(args[0], ir.IntType(32).as_pointer()))

    return sig, codegen


_load_i32: Any = intrinsic(_load_i32_intrinsic)


def _load_ptr_intrinsic(typingctx, addr):
    sig = types.int64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.load(builder.inttoptr(args[0], ir.IntType(64).as_pointer()))

    return sig, codegen


_load_ptr: Any = intrinsic(_load_ptr_intrinsic)


def _load_f64_intrinsic(typingctx, addr):
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.load(builder.inttoptr(args[0], ir.DoubleType().as_pointer()))

    return sig, codegen


_load_f64: Any = intrinsic(_load_f64_intrinsic)


def _store_f64_intrinsic(typingctx, addr, value):
    sig = types.void(types.int64, types.float64)

    def codegen(context, builder, signature, args):
        builder.store(args[1], builder.inttoptr(args[0], ir.DoubleType().as_pointer()))
        return context.get_dummy_value()

    return sig, codegen


_store_f64: Any = intrinsic(_store_f64_intrinsic)


# ---------------------------------------------------------------------- kernels
# Arrays cost numba's dispatcher about half a microsecond each per call (integers a tenth of
# that), so fixed addresses and offsets travel as one int64 array and per-step arrays are
# packed by dtype.

# run_substeps' `ints`: (see Runtime.substep_ints)
STEP, M, D, NCON, CONTACT, STRIDE, GEOM, QVEL, NV, KEEP_QVEL = range(10)
# read_states' `ints`: (see Runtime.state_ints)
KIN, COMPOS, COMVEL, SM, SD, XPOS, XQUAT, CVEL, SUBTREE_COM = range(9)


@numba.njit(cache=True)
def run_substeps(
    ints: np.ndarray, n: int, prev: np.ndarray, prev_n: int, qvel_before: np.ndarray
) -> int:
    """Run up to ``n`` substeps (``mj_step``); return the 1-based index of the first substep
    after which the contact list differs from ``prev`` (``prev_n`` contacts, flattened geom
    pairs; ``prev_n < 0``: always differs), or 0 if none did. ``ints``: see
    :meth:`Runtime.substep_ints`. With its ``KEEP_QVEL`` set, ``qvel_before`` holds ``qvel``
    from before the last substep run."""
    step, m, d = ints[STEP], ints[M], ints[D]
    stride, off_geom, qvel = ints[STRIDE], ints[GEOM], ints[QVEL]
    keep_qvel = ints[KEEP_QVEL] != 0
    for i in range(n):
        if keep_qvel:
            for k in range(ints[NV]):
                qvel_before[k] = _load_f64(qvel + 8 * k)
        _call_md(step, m, d)
        ncon = _load_i32(d + ints[NCON])
        if ncon != prev_n:
            return i + 1
        base = _load_ptr(d + ints[CONTACT]) + off_geom
        for j in range(ncon):
            addr = base + j * stride
            if _load_i32(addr) != prev[2 * j] or _load_i32(addr + 4) != prev[2 * j + 1]:
                return i + 1
    return 0


@numba.njit(cache=True)
def read_states(ints: np.ndarray, entities: np.ndarray, out: np.ndarray) -> bool:
    """Entity states into ``out`` ``(E, 13)`` after ``mj_kinematics``, ``mj_comPos`` and
    ``mj_comVel``; whether all are finite. ``ints``: see :meth:`Runtime.state_ints`;
    ``entities``: ``(3, E)`` body ids, their root ids, and 1 where the body origin is not the
    root's subtree com (the ``w x r`` term)."""
    m, d = ints[SM], ints[SD]
    _call_md(ints[KIN], m, d)
    _call_md(ints[COMPOS], m, d)
    _call_md(ints[COMVEL], m, d)
    xpos, xquat, cvel, com = ints[XPOS], ints[XQUAT], ints[CVEL], ints[SUBTREE_COM]
    finite = True
    for e in range(entities.shape[1]):
        b = entities[0, e]
        for c in range(3):
            out[e, c] = _load_f64(xpos + 8 * (3 * b + c))
        for c in range(4):
            out[e, 3 + c] = _load_f64(xquat + 8 * (4 * b + c))
        for c in range(3):
            out[e, 7 + c] = _load_f64(cvel + 8 * (6 * b + 3 + c))
            out[e, 10 + c] = _load_f64(cvel + 8 * (6 * b + c))
        if entities[2, e]:
            r = entities[1, e]
            o0 = out[e, 0] - _load_f64(com + 8 * (3 * r))
            o1 = out[e, 1] - _load_f64(com + 8 * (3 * r + 1))
            o2 = out[e, 2] - _load_f64(com + 8 * (3 * r + 2))
            w0, w1, w2 = out[e, 10], out[e, 11], out[e, 12]
            out[e, 7] += w1 * o2 - w2 * o1
            out[e, 8] += w2 * o0 - w0 * o2
            out[e, 9] += w0 * o1 - w1 * o0
        for c in range(13):
            if not math.isfinite(out[e, c]):
                finite = False
    return finite


@numba.njit(cache=True)
def _contact_speed(
    c: int,
    off_geom: int,
    off_pos: int,
    off_frame: int,
    geom_body: np.ndarray,
    body_root: np.ndarray,
    cvel: int,
    com: int,
) -> float:
    """Normal approach speed of the contact at address ``c`` (see :func:`approach_speeds`)."""
    p0, p1, p2 = _load_f64(c + off_pos), _load_f64(c + off_pos + 8), _load_f64(c + off_pos + 16)
    v00 = v01 = v02 = v10 = v11 = v12 = 0.0
    for side in range(2):
        b = np.int64(geom_body[_load_i32(c + off_geom + 4 * side)])
        r = np.int64(body_root[b])
        w0, w1, w2 = (
            _load_f64(cvel + 48 * b),
            _load_f64(cvel + 48 * b + 8),
            _load_f64(cvel + 48 * b + 16),
        )
        o0 = p0 - _load_f64(com + 24 * r)
        o1 = p1 - _load_f64(com + 24 * r + 8)
        o2 = p2 - _load_f64(com + 24 * r + 16)
        x = _load_f64(cvel + 48 * b + 24) + (w1 * o2 - w2 * o1)
        y = _load_f64(cvel + 48 * b + 32) + (w2 * o0 - w0 * o2)
        z = _load_f64(cvel + 48 * b + 40) + (w0 * o1 - w1 * o0)
        if side == 0:
            v00, v01, v02 = x, y, z
        else:
            v10, v11, v12 = x, y, z
    dot = (v10 - v00) * _load_f64(c + off_frame)
    dot = dot + (v11 - v01) * _load_f64(c + off_frame + 8)
    dot = dot + (v12 - v02) * _load_f64(c + off_frame + 16)
    speed = -dot
    return speed if (speed >= 0.0 or speed != speed) else 0.0


@numba.njit(cache=True)
def approach_speeds(
    d: int,
    layout: np.ndarray,
    idx: np.ndarray,
    geom_body: np.ndarray,
    body_root: np.ndarray,
    arrays: np.ndarray,
    out: np.ndarray,
) -> None:
    """Normal approach speed of contacts ``idx`` from ``cvel`` into ``out`` (the Euler-family
    branch of ``ContactLabeler._approach_speeds``, the same operations in the same order).
    ``layout`` as in :func:`run_substeps`, then the offsets of ``pos`` and ``frame``;
    ``arrays``: addresses of ``xpos``, ``xquat``, ``cvel``, ``subtree_com``."""
    stride, off_geom, off_pos, off_frame = layout[2], layout[3], layout[4], layout[5]
    first = _load_ptr(d + layout[1])
    for i in range(len(idx)):
        out[i] = _contact_speed(
            first + idx[i] * stride,
            off_geom,
            off_pos,
            off_frame,
            geom_body,
            body_root,
            arrays[2],
            arrays[3],
        )
    return


@numba.njit(cache=True)
def summarize(
    start: np.ndarray,
    end: np.ndarray,
    consts: np.ndarray,
    tables: np.ndarray,
    lists: np.ndarray,
    carry: bool,
    buf8: np.ndarray,
    bufb: np.ndarray,
    buf32: np.ndarray,
) -> bool:
    """The per-entity summary of one step (``ContactLabeler.end_step``, the same operations in
    the same order). First, with ``carry``, the touches of the contact list the step began
    with (``lists``: ``(2, E)`` int8 pair bits, touched) join the accumulators. Accumulators
    in: ``buf8`` rows 0-1 pair mask, impact kind; ``bufb`` row 0 touched; ``buf32`` row 0
    approach speed. Out: ``buf8`` rows 2-3 regime, pair kind; ``bufb`` rows 1-2 critical,
    airborne; ``buf32`` rows 1-2 impulse, velocity jump. ``consts``: ``1/dt``, ``-g dt`` (3),
    the 16 thresholds, then ``(E, 4)`` can jump, can topple, can be critical, mass;
    ``tables``: ``(4, 8192)`` regime, critical, airborne by code, pair kind by mask. Returns
    False (outputs unset) where a state is not finite: numpy's NaN handling is not copied."""
    n = start.shape[0]
    for e in range(n):
        for c in range(13):
            if not (math.isfinite(start[e, c]) and math.isfinite(end[e, c])):
                return False
    if carry:
        for e in range(n):
            buf8[0, e] |= lists[0, e]
            bufb[0, e] |= lists[1, e] != 0
    params = consts
    entity = consts[20:].reshape((n, 4))
    inv_dt = params[0]
    th = params[4:]
    n2 = np.empty(9)
    for e in range(n):
        s, t = start[e], end[e]
        # ContactLabeler._linear_map's nine 3-vectors, squared norms summed in index order
        n2[0] = s[7] * s[7] + s[8] * s[8] + s[9] * s[9]
        n2[1] = t[7] * t[7] + t[8] * t[8] + t[9] * t[9]
        n2[3] = s[10] * s[10] + s[11] * s[11] + s[12] * s[12]
        n2[4] = t[10] * t[10] + t[11] * t[11] + t[12] * t[12]
        v0 = t[0] * inv_dt + s[0] * -inv_dt
        v1 = t[1] * inv_dt + s[1] * -inv_dt
        v2 = t[2] * inv_dt + s[2] * -inv_dt
        n2[2] = v0 * v0 + v1 * v1 + v2 * v2
        d0, d1, d2 = t[7] - s[7], t[8] - s[8], t[9] - s[9]
        n2[8] = d0 * d0 + d1 * d1 + d2 * d2
        d0, d1, d2 = d0 + params[1], d1 + params[2], d2 + params[3]
        n2[5] = d0 * d0 + d1 * d1 + d2 * d2
        n2[6] = s[4] * s[4] + s[5] * s[5] + 0.0
        n2[7] = t[4] * t[4] + t[5] * t[5] + 0.0
        # the feature > threshold outcomes, packed with end_step's _CODE_WEIGHTS
        code = 0
        for k in range(5):
            if n2[k] > th[k]:
                code += 1
        began = np.float64(buf32[0, e]) > th[9]
        if n2[6] > th[6]:
            code += 8
        if n2[7] > th[7]:
            code += 16
        if n2[8] > th[8]:
            code += 32
        if began:
            code += 64
        if -t[9] > th[10]:
            code += 128
        if np.float64(buf8[0, e]) > th[11]:
            code += 256
        if np.float64(bufb[0, e]) > th[12]:
            code += 512
        if entity[e, 0] > th[13]:
            code += 1024
        if entity[e, 1] > th[14]:
            code += 2048
        if entity[e, 2] > th[15]:
            code += 4096
        buf8[2, e] = tables[0, code]
        buf8[3, e] = buf8[1, e] if began else tables[3, buf8[0, e]]
        bufb[1, e] = tables[1, code] != 0
        bufb[2, e] = tables[2, code] != 0
        buf32[1, e] = np.float32(math.sqrt(n2[5]) * entity[e, 3])
        buf32[2, e] = np.float32(math.sqrt(n2[8]) * 1.0)
    return True


@numba.njit(cache=True)
def finish_step(
    state_ints: np.ndarray,
    entities: np.ndarray,
    start: np.ndarray,
    out: np.ndarray,
    consts: np.ndarray,
    tables: np.ndarray,
    lists: np.ndarray,
    carry: bool,
    buf8: np.ndarray,
    bufb: np.ndarray,
    buf32: np.ndarray,
) -> int:
    """:func:`read_states` into ``out``, then :func:`summarize` from ``start`` to ``out``, in
    one call; returns 1 if the states are finite plus 2 if the summary was made."""
    finite = read_states(state_ints, entities, out)
    done = summarize(start, out, consts, tables, lists, carry, buf8, bufb, buf32)
    return int(finite) + 2 * int(done)


# env_step's `ex`: (see ContactLabeler._examine_ints) ngeom, offsets of geom, pos and frame
# in mjContact, then the addresses of cvel and subtree_com, and 1 where env_step may examine
# changed contact lists itself (not under RK4, whose speeds need mj_jac).
EX_NGEOM, EX_GEOM, EX_POS, EX_FRAME, EX_CVEL, EX_COM, EX_ON = range(7)
# env_step's `gtab` rows: geom -> entity (-1: none), geom -> body, geom is support (0/1),
# body -> root body, and TAB_MISC: the pair kind by [own category * 3 + other category]
# (9), its PAIR_BIT (9), then each entity's category.
TAB_ENTITY, TAB_BODY, TAB_SUPPORT, TAB_ROOT, TAB_MISC, TAB_ENTITIES = range(6)
# env_step's `addr`: where the packed int64 arguments start (ints, ex, state ints, ctrl)
FUSED_SUBSTEP, FUSED_EX, FUSED_STATE, FUSED_CTRL, FUSED_LEN = 0, 10, 17, 26, 27


@numba.njit(cache=True)
def _examine(
    d: int,
    ints: np.ndarray,
    ex: np.ndarray,
    gtab: np.ndarray,
    keys: np.ndarray,
    n_keys: int,
    lists: np.ndarray,
    buf8: np.ndarray,
    bufb: np.ndarray,
    buf32: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``ContactLabeler._examine`` of the contact list now in ``d``, the same operations in
    the same order: the list's touches (``lists``, joined into the accumulators), then the
    approach speed of every contact of a geom pair not in ``keys[:n_keys]`` (the pairs of
    the list before). Returns the list (flat geom pairs, int32) and its pair keys."""
    ncon = _load_i32(d + ints[NCON])
    stride = ints[STRIDE]
    base = _load_ptr(d + ints[CONTACT])
    ngeom = ex[EX_NGEOM]
    flat = np.empty(2 * ncon, dtype=np.int32)
    now = np.empty(ncon, dtype=np.int64)
    for j in range(ncon):
        addr = base + j * stride + ex[EX_GEOM]
        flat[2 * j] = _load_i32(addr)
        flat[2 * j + 1] = _load_i32(addr + 4)
        now[j] = np.int64(flat[2 * j]) * ngeom + flat[2 * j + 1]
    n_ent = lists.shape[1]
    for e in range(n_ent):
        lists[0, e] = 0
        lists[1, e] = 0
    misc = gtab[TAB_MISC]
    for j in range(ncon):
        g1, g2 = flat[2 * j], flat[2 * j + 1]
        e1, e2 = gtab[TAB_ENTITY, g1], gtab[TAB_ENTITY, g2]
        if e1 == e2:
            continue  # a body touching itself: no contact event
        for side in range(2):
            me, other = (e1, e2) if side == 0 else (e2, e1)
            other_geom = g2 if side == 0 else g1
            if me < 0:
                continue
            other_cat = 0 if other < 0 else misc[18 + other]
            slot = misc[18 + me] * 3 + other_cat
            lists[1, me] = 1
            if gtab[TAB_SUPPORT, other_geom] == 0:
                lists[0, me] |= np.int8(misc[9 + slot])
    for e in range(n_ent):
        buf8[0, e] |= lists[0, e]
        bufb[0, e] |= lists[1, e] != 0
    for j in range(ncon):
        g1, g2 = flat[2 * j], flat[2 * j + 1]
        e1, e2 = gtab[TAB_ENTITY, g1], gtab[TAB_ENTITY, g2]
        if e1 == e2 or (e1 < 0 and e2 < 0):
            continue
        known = False
        for i in range(n_keys):
            if keys[i] == now[j]:
                known = True
                break
        if known:
            continue  # the pair was touching a substep ago
        speed = _contact_speed(
            base + j * stride,
            ex[EX_GEOM],
            ex[EX_POS],
            ex[EX_FRAME],
            gtab[TAB_BODY],
            gtab[TAB_ROOT],
            ex[EX_CVEL],
            ex[EX_COM],
        )
        for side in range(2):
            me, other = (e1, e2) if side == 0 else (e2, e1)
            if me < 0:
                continue
            other_cat = 0 if other < 0 else misc[18 + other]
            # Python's `s > approach[e]` with a float32 element compares in float32 (NEP 50)
            if np.float32(speed) > buf32[0, me]:
                buf32[0, me] = np.float32(speed)
                buf8[1, me] = np.int8(misc[misc[18 + me] * 3 + other_cat])
    return flat, now


@numba.njit(cache=True)
def env_step(
    action: np.ndarray,
    mid_half: np.ndarray,
    addr: np.ndarray,
    n: int,
    prev: np.ndarray,
    prev_n: int,
    qvel_before: np.ndarray,
    gtab: np.ndarray,
    reset_keys: np.ndarray,
    start: np.ndarray,
    consts: np.ndarray,
    tables: np.ndarray,
    lists: np.ndarray,
    pool8: np.ndarray,
    poolb: np.ndarray,
    pool32: np.ndarray,
    pool_state: np.ndarray,
    pool_obs: np.ndarray,
    slot: int,
) -> int:
    """A whole env step in one call: :func:`set_ctrl`, ``n`` substeps (:func:`run_substeps`),
    every changed contact list examined as ``ContactLabeler._update`` does (:func:`_examine`;
    with ``ex[EX_ON]`` only, else the call returns at the first change), then
    :func:`finish_step` (with the carry of the list the step began with if no list changed).
    ``reset_keys``: the pair keys at the last reset, the pairs "before" while ``prev_n < 0``.

    Returns -1 if ``action`` has a non-finite value (nothing done); ``k`` in ``1..n`` if the
    contact list changed after substep ``k`` and ``ex[EX_ON]`` is 0 (ctrl set and ``k``
    substeps run, nothing else: the caller goes on as after :func:`run_substeps`); else
    ``n + 1 + status + 4 * lists`` with :func:`finish_step`'s ``status`` and the number of
    contact lists examined.

    The fixed arguments travel packed (each array costs the dispatcher time): ``addr`` is
    :func:`run_substeps`' ``ints`` (:data:`FUSED_SUBSTEP`), the ``ex`` of :func:`_examine`
    (:data:`FUSED_EX`), :func:`read_states`' ``ints`` (:data:`FUSED_STATE`) and the address
    of ``mjData.ctrl`` (:data:`FUSED_CTRL`); ``gtab`` rows :data:`TAB_ENTITIES` on hold
    :func:`read_states`' ``entities`` in their first ``E`` columns. The step's outputs are
    slot ``slot`` of the pools (zeroed, used once each: fresh arrays without an allocation
    per step): :func:`finish_step`'s ``buf8``, ``bufb``, ``buf32`` and ``out`` (the entity
    states), and the observation (the states as float32, flat) in ``pool_obs[slot]``."""
    buf8, bufb, buf32 = pool8[slot], poolb[slot], pool32[slot]
    out = pool_state[slot]
    ints = addr[FUSED_SUBSTEP:FUSED_EX]
    ex = addr[FUSED_EX:FUSED_STATE]
    if not set_ctrl(action, mid_half, addr[FUSED_CTRL]):
        return -1
    cur, cur_n = prev, prev_n
    if prev_n >= 0:
        keys = np.empty(prev_n, dtype=np.int64)
        for j in range(prev_n):
            keys[j] = np.int64(prev[2 * j]) * ex[EX_NGEOM] + prev[2 * j + 1]
    else:
        keys = reset_keys
    carry = True
    examined = 0
    done = 0
    d = ints[D]
    while done < n:
        k = run_substeps(ints, n - done, cur, cur_n, qvel_before)
        if k == 0:
            break
        if ex[EX_ON] == 0:
            return k
        done += k
        if carry and done > 1:  # the step's first substep saw the list it began with
            for e in range(lists.shape[1]):
                buf8[0, e] |= lists[0, e]
                bufb[0, e] |= lists[1, e] != 0
        carry = False
        cur, keys = _examine(d, ints, ex, gtab, keys, len(keys), lists, buf8, bufb, buf32)
        cur_n = len(keys)
        examined += 1
    entities = gtab[TAB_ENTITIES:, : start.shape[0]]
    status = finish_step(
        addr[FUSED_STATE:FUSED_CTRL],
        entities,
        start,
        out,
        consts,
        tables,
        lists,
        carry,
        buf8,
        bufb,
        buf32,
    )
    obs = pool_obs[slot]
    for e in range(out.shape[0]):
        for c in range(13):
            obs[13 * e + c] = np.float32(out[e, c])
    return n + 1 + status + 4 * examined


@numba.njit(cache=True)
def set_ctrl(action: np.ndarray, mid_half: np.ndarray, ctrl: int) -> bool:
    """``mjData.ctrl`` (at address ``ctrl``) ``= mid + clip(action, -1, 1) * half`` in float64
    (``mid_half``: ``(2, nu)``); False, ctrl untouched, if ``action`` has a non-finite value."""
    for i in range(len(action)):
        if not math.isfinite(action[i]):
            return False
    for i in range(len(action)):
        clipped = min(max(np.float64(action[i]), -1.0), 1.0)
        _store_f64(ctrl + 8 * i, mid_half[0, i] + clipped * mid_half[1, i])
    return True


# ---------------------------------------------------------------------- runtime


@dataclass(frozen=True)
class Runtime:
    """Addresses and offsets the kernels need, found and checked once per process."""

    mj_step: int
    state_fns: np.ndarray  # int64 addresses: mj_kinematics, mj_comPos, mj_comVel
    # int64: offsets of ncon and contact in mjData, sizeof(mjContact), offsets of geom, pos
    # and frame in mjContact
    layout: np.ndarray

    def substep_ints(
        self, model: mujoco.MjModel, data: mujoco.MjData, keep_qvel: bool
    ) -> np.ndarray:
        """:func:`run_substeps`' ``ints`` for ``model`` and ``data``."""
        layout = self.layout
        return np.array(
            [
                self.mj_step,
                model._address,
                data._address,
                layout[0],
                layout[1],
                layout[2],
                layout[3],
                data.qvel.ctypes.data,
                model.nv,
                int(keep_qvel),
            ],
            dtype=np.int64,
        )

    def state_ints(self, model: mujoco.MjModel, data: mujoco.MjData) -> np.ndarray:
        """:func:`read_states`' ``ints`` for ``model`` and ``data``."""
        return np.concatenate(
            [self.state_fns, [model._address, data._address], self.data_arrays(data)]
        ).astype(np.int64)

    def data_arrays(self, data: mujoco.MjData) -> np.ndarray:
        """Addresses of ``xpos``, ``xquat``, ``cvel``, ``subtree_com`` of ``data`` (stable for
        its lifetime)."""
        return np.array(
            [a.ctypes.data for a in (data.xpos, data.xquat, data.cvel, data.subtree_com)],
            dtype=np.int64,
        )

    def check_data(self, data: mujoco.MjData) -> bool:
        """Whether ``ncon`` reads right at the found offset of this ``data``."""
        ncon = ctypes.c_int32.from_address(data._address + int(self.layout[0])).value
        return ncon == data.ncon


UNAVAILABLE: str | None = None  # why runtime() returned None, once it has
_RUNTIME: Runtime | None = None
_PROBE_XML = """<mujoco><worldbody><geom type='plane' size='2 2 .1'/>
<body pos='0 0 0.09'><freejoint/><geom type='box' size='.1 .1 .1'/></body>
<body pos='0.5 0 0.09'><freejoint/><geom type='sphere' size='.1'/></body>
</worldbody></mujoco>"""


def enabled() -> bool:
    """False where ``CONTACTLAB_NATIVE=0``: every caller then takes its Python path."""
    return os.environ.get("CONTACTLAB_NATIVE", "1") != "0"


def runtime() -> Runtime | None:
    """The native runtime, or ``None`` (reason in :data:`UNAVAILABLE`) where it cannot be
    found and checked, or ``CONTACTLAB_NATIVE=0``."""
    global _RUNTIME, UNAVAILABLE
    if _RUNTIME is not None or UNAVAILABLE is not None:
        return _RUNTIME
    if not enabled():
        UNAVAILABLE = "CONTACTLAB_NATIVE=0"
        return None
    try:
        _RUNTIME = _find_runtime()
    except Exception as exc:  # any failure means: keep the Python loop
        UNAVAILABLE = f"{type(exc).__name__}: {exc}"
    return _RUNTIME


def _u64(addr: int) -> int:
    return ctypes.c_uint64.from_address(addr).value


def _find_runtime() -> Runtime:
    folder = os.path.dirname(mujoco.__file__)
    libs = sorted(
        glob.glob(os.path.join(folder, "libmujoco.so*"))
        + glob.glob(os.path.join(folder, "libmujoco*.dylib"))
        + glob.glob(os.path.join(folder, "mujoco.dll"))
    )
    if not libs:
        raise RuntimeError(f"no libmujoco in {folder}")
    lib = ctypes.CDLL(libs[0])

    def address(name: str) -> int:
        value = ctypes.cast(getattr(lib, name), ctypes.c_void_p).value
        if not value:
            raise RuntimeError(f"no {name} in {libs[0]}")
        return int(value)

    model = mujoco.MjModel.from_xml_string(_PROBE_XML)
    data = mujoco.MjData(model)
    base = data._address
    # `time` is settable: find it by a sentinel value, 8-byte aligned, in 1 KiB reads that
    # stay inside the struct (hundreds of pointer fields follow it).
    data.time = 98765.4321012345
    sentinel = np.float64(data.time).tobytes()
    t_off = -1
    for off in range(0, 1 << 21, 1024):
        chunk = ctypes.string_at(base + off, 1024)
        i = chunk.find(sentinel)
        while i >= 0 and i % 8:
            i = chunk.find(sentinel, i + 1)
        if i >= 0:
            t_off = off + i
            break
    if t_off < 0:
        raise RuntimeError("mjData.time not found")
    # time, energy[2], buffer, arena, then qpos: a check of that order
    if _u64(base + t_off + 40) != data.qpos.ctypes.data:
        raise RuntimeError("mjData.qpos not where expected after time")
    buffer, arena = _u64(base + t_off + 24), _u64(base + t_off + 32)

    def points_in(value: int) -> bool:
        return value == 0 or (
            buffer <= value < buffer + data.nbuffer or arena <= value < arena + data.narena
        )

    ncon_offsets: set[int] | None = None
    contact_offsets: set[int] | None = None
    for z_box, z_ball in ((0.09, 0.09), (0.09, 0.5), (0.5, 0.5), (0.5, 0.09)):
        data.qpos[2], data.qpos[9] = z_box, z_ball
        mujoco.mj_forward(model, data)
        sizes = (data.ncon, data.ne, data.nf, data.nl, data.nefc)
        found = {
            off
            for off in range(t_off - 512, t_off, 4)
            if tuple(ctypes.c_int32.from_address(base + off + 4 * k).value for k in range(5))
            == sizes
        }
        ncon_offsets = found if ncon_offsets is None else ncon_offsets & found
        if data.ncon:
            target = data.contact.dist.ctypes.data
            hits = set()
            off = t_off + 40
            while points_in(value := _u64(base + off)):
                if value == target:
                    hits.add(off)
                off += 8
            contact_offsets = hits if contact_offsets is None else contact_offsets & hits
    if not ncon_offsets or len(ncon_offsets) != 1:
        raise RuntimeError(f"mjData.ncon not found uniquely: {ncon_offsets}")
    if not contact_offsets or len(contact_offsets) != 1:
        raise RuntimeError(f"mjData.contact not found uniquely: {contact_offsets}")
    contact = data.contact
    if contact.dist.ctypes.data != contact.pos.ctypes.data - 8:
        raise RuntimeError("mjContact does not start with dist, pos")
    layout = np.array(
        [
            ncon_offsets.pop(),
            contact_offsets.pop(),
            contact.geom.strides[0],
            contact.geom.ctypes.data - contact.dist.ctypes.data,
            contact.pos.ctypes.data - contact.dist.ctypes.data,
            contact.frame.ctypes.data - contact.dist.ctypes.data,
        ],
        dtype=np.int64,
    )
    rt = Runtime(
        mj_step=address("mj_step"),
        state_fns=np.array(
            [address("mj_kinematics"), address("mj_comPos"), address("mj_comVel")],
            dtype=np.int64,
        ),
        layout=layout,
    )
    _self_check(rt, model)
    _compile_all(rt, model)
    return rt


def _compile_all(rt: Runtime, model: mujoco.MjModel) -> None:
    """Call every kernel once with the argument types the labeller uses, so that compiling
    (or loading from numba's cache) happens here, not in the middle of a run."""
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    n = 2
    entities = np.array([[1, 2], [1, 2], [0, 1]], dtype=np.int64)
    state = np.zeros((n, 13))
    consts = np.zeros(20 + 4 * n)
    tables = np.zeros((4, 8192), dtype=np.int8)
    lists = np.zeros((2, n), dtype=np.int8)
    buffers = (
        np.zeros((4, n), dtype=np.int8),
        np.zeros((3, n), dtype=np.bool_),
        np.zeros((3, n), dtype=np.float32),
    )
    finish_step(
        rt.state_ints(model, data), entities, state, state, consts, tables, lists, True, *buffers
    )
    summarize(state, state, consts, tables, lists, True, *buffers)
    read_states(rt.state_ints(model, data), entities, state)
    approach_speeds(
        data._address,
        rt.layout,
        np.arange(data.ncon, dtype=np.int64),
        model.geom_bodyid,
        model.body_rootid,
        rt.data_arrays(data),
        np.zeros(data.ncon),
    )
    scratch = np.zeros(model.nu)
    # env_step's packed arguments for this scratch data (the probe model has no actuators,
    # so the action is empty and the call steps `data` once; ex's EX_ON is 0)
    addr = np.concatenate(
        [
            rt.substep_ints(model, data, keep_qvel=False),
            np.zeros(FUSED_STATE - FUSED_EX, dtype=np.int64),
            rt.state_ints(model, data),
            [scratch.ctypes.data],
        ]
    ).astype(np.int64)
    assert len(addr) == FUSED_LEN
    gtab = np.zeros((TAB_ENTITIES + 3, n), dtype=np.int64)
    gtab[TAB_ENTITIES:] = entities
    for dtype in (np.float32, np.float64):
        set_ctrl(np.zeros(model.nu, dtype=dtype), np.zeros((2, model.nu)), scratch.ctypes.data)
        env_step(
            np.zeros(model.nu, dtype=dtype),
            np.zeros((2, model.nu)),
            addr,
            1,
            np.zeros(0, dtype=np.int32),
            -1,
            np.zeros(model.nv),
            gtab,
            np.zeros(0, dtype=np.int64),
            state,
            consts,
            tables,
            lists,
            buffers[0][None],
            buffers[1][None],
            buffers[2][None],
            np.zeros((1, n, 13)),
            np.zeros((1, 13 * n), dtype=np.float32),
            0,
        )


def _self_check(rt: Runtime, model: mujoco.MjModel) -> None:
    """Step the probe model natively and through the bindings; both must agree bit for bit,
    and the kernel must see every change of its contact list."""
    a, b = mujoco.MjData(model), mujoco.MjData(model)
    for d in (a, b):
        d.qpos[2], d.qpos[9] = 0.3, 0.5
        d.qvel[3:6] = (1.0, 2.0, 0.5)
        mujoco.mj_forward(model, d)
    prev = np.zeros(0, dtype=np.int32)
    scratch = np.zeros(model.nv)
    ints = rt.substep_ints(model, a, keep_qvel=True)
    changes = 0
    for _ in range(300):
        before = b.qvel.copy()
        mujoco.mj_step(model, b)
        k = run_substeps(ints, 1, prev, len(prev) // 2, scratch)
        if scratch.tobytes() != before.tobytes():
            raise RuntimeError("native loop kept the wrong qvel")
        now = b.contact.geom.ravel().astype(np.int32)
        if (k == 1) != (not np.array_equal(now, prev)) or a.ncon != b.ncon:
            raise RuntimeError("native contact-list check disagrees with the bindings")
        changes += k
        prev = now
    if changes < 2 or a.qpos.tobytes() != b.qpos.tobytes():
        raise RuntimeError("native mj_step disagrees with the bindings")
