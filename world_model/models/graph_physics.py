"""A learned simulator for rigid contact: an object-centric graph network that predicts each
entity's change of velocity and integrates the pose from it.

What the learned-simulator literature (graph network simulators, FIGNet) found to matter for
rigid contact, and how it shows up here:

- **Physics first, learning on top.** The network never predicts the next state. It predicts
  each entity's change of linear and angular velocity (``dv``, ``dw``) and a small position
  correction; the pose is integrated from them (trapezoidal rule for the position,
  ``pos' = pos + dt (v + v') / 2 + r``; quaternion rotated by ``w'`` over ``dt``). A model that
  outputs zero is constant-velocity extrapolation, so learning starts from that baseline.
- **Relative features.** Node inputs are what an entity is and how it moves (velocities,
  orientation as a rotation matrix, height, position for the walls, kind and static props:
  mass, size, friction). Edge inputs say where the other body is *relative to this one*:
  relative position in the world and in the receiver's frame, distance, the gap between their
  bounding spheres (negative: contact possible), relative velocity.
- **Per-feature normalised targets**, per entity, so a resting block and a flying ball are
  both learned; the loss is measured in those units.
- **Input noise** during training (``input_noise`` of the velocity-delta std) so the model
  learns to correct its own small errors and rollouts stay stable.

All ``M`` ensemble members run at once (one batched matmul per layer), all ``E (E - 1)``
ordered pairs densely (scenes have 3-10 entities).

Shapes: ``M`` members, ``N`` samples, ``E`` entities, ``D = 13 E``, ``A`` action size.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

from envs.layout import EntityLayout
from world_model.batch import SequenceBatch
from world_model.config import WorldModelConfig
from world_model.ensemble import EnsembleLayerNorm, EnsembleLinear, EnsembleMLP
from world_model.models.base import LatentDynamicsModel, config_mlp
from world_model.models.interaction import _static_features
from world_model.normalizer import RunningNormalizer

_POS, _QUAT, _VEL, _ANG = slice(0, 3), slice(3, 7), slice(7, 10), slice(10, 13)
# Target std floor: a body that never moves must not turn 1e-9 m of noise into unit targets.
_TARGET_MIN_STD = 1e-5
_N_OUT = 9  # position correction (3), dv (3), dw (3)
_N_CONTACT_NODE, _N_CONTACT_EDGE = 6, 13  # the ``contact_features`` (see _contact_features)
_TOI_NONE = 2.0  # the time-of-impact feature of a pair that does not close within the step


class _Kinematics(NamedTuple):
    """What the feature builders share: per entity ``(M, N, E, ...)`` rotation matrices,
    positions, velocities, angular velocities; per ordered pair ``(M, N, P, ...)`` the
    sender's offset from the receiver (world and receiver frame), distance, bounding-sphere
    gap and relative velocity."""

    rot: Tensor
    pos: Tensor
    vel: Tensor
    ang: Tensor
    dp: Tensor
    local: Tensor
    dist: Tensor
    gap: Tensor
    dvel: Tensor


def box_separation(
    dp: Tensor, rot_r: Tensor, rot_s: Tensor, ext_r: Tensor, ext_s: Tensor
) -> tuple[Tensor, Tensor]:
    """Separating-axis distance between two oriented boxes and its axis.

    Over the 15 candidate axes of two boxes (3 face normals each and the 9 cross products of
    their edges) the separation along axis ``L`` is ``|dp . L| - h_r(L) - h_s(L)`` with
    ``h(L) = sum_j e_j |R[:, j] . L|`` a box's support; the largest is the separating-axis
    distance: exact for separated boxes whose closest features are a face and anything, a lower
    bound otherwise, and minus the penetration depth for overlapping boxes.

    Args:
        dp: ``(..., 3)`` centre of ``s`` minus centre of ``r``, world frame.
        rot_r, rot_s: ``(..., 3, 3)`` rotations (columns: the box axes in the world frame).
        ext_r, ext_s: ``(..., 3)`` half-sizes along those axes (broadcastable).

    Returns:
        ``separation (..., 1)`` and the unit axis ``(..., 3)``, pointing from ``r`` to ``s``.
    """
    cross = torch.linalg.cross(
        rot_r.unsqueeze(-1).expand(*rot_r.shape, 3),
        rot_s.unsqueeze(-2).expand(*rot_s.shape[:-1], 3, 3),
        dim=-3,
    )  # (..., 3, 3, 3): [..., :, i, j] = a_i x b_j
    norm = cross.norm(dim=-3, keepdim=True)
    edges = (cross / norm.clamp(min=1e-6)).flatten(-2)  # (..., 3, 9)
    axes = torch.cat([rot_r, rot_s, edges], dim=-1)  # (..., 3, 15): unit axes as columns
    proj = (dp.unsqueeze(-1) * axes).sum(-2).abs()  # (..., 15)
    h_r = (torch.einsum("...ij,...ik->...jk", rot_r, axes).abs() * ext_r.unsqueeze(-1)).sum(-2)
    h_s = (torch.einsum("...ij,...ik->...jk", rot_s, axes).abs() * ext_s.unsqueeze(-1)).sum(-2)
    sep = proj - h_r - h_s
    # Near-parallel edge pairs give no axis: never chosen.
    valid = torch.cat(
        [torch.ones_like(sep[..., :6], dtype=torch.bool), norm.flatten(-3) > 1e-3], -1
    )
    sep = torch.where(valid, sep, torch.full_like(sep, -torch.inf))
    best, idx = sep.max(dim=-1, keepdim=True)
    axis = torch.gather(axes, -1, idx.unsqueeze(-2).expand(*axes.shape[:-1], 1)).squeeze(-1)
    sign = torch.where((axis * dp).sum(-1, keepdim=True) < 0, -1.0, 1.0)
    return best, axis * sign


def box_separation_local(
    dp: Tensor, rot_r: Tensor, rot_s: Tensor, ext_r: Tensor, ext_s: Tensor
) -> tuple[Tensor, Tensor]:
    """:func:`box_separation` computed in ``r``'s frame, ~3x faster (the classic OBB test):
    with ``C = R_r^T R_s`` and ``t = R_r^T dp``, every one of the 15 axes' separations comes
    from ``C`` and ``t`` alone (the edge axis ``a_i x b_j`` has length
    ``sqrt(C[i+1, j]^2 + C[i+2, j]^2)``), and only the chosen axis is built in the world
    frame. The same separation and axis up to float rounding (``world_model.fast_separation``
    picks it; tests/world_model/test_physics_model.py checks the agreement)."""
    rt = rot_r.transpose(-1, -2)
    c = rt @ rot_s  # (..., 3, 3): C[i, j] = a_i . b_j
    t = rt @ dp.unsqueeze(-1)  # (..., 3, 1): a_i . dp
    ac = c.abs()
    er = ext_r.expand_as(dp).unsqueeze(-1)  # (..., 3, 1)
    es = ext_s.expand_as(dp).unsqueeze(-2)  # (..., 1, 3)
    sep_a = t.abs() - er - (ac * es).sum(-1, keepdim=True)  # r's faces, (..., 3, 1)
    u = (c * t).sum(-2, keepdim=True)  # (..., 1, 3): b_j . dp
    sep_b = u.abs() - (ac * er).sum(-2, keepdim=True) - es  # s's faces, (..., 1, 3)
    # Edge pairs a_i x b_j, [..., i, j]; rolled rows/columns give the indices i+1, i+2 (mod 3).
    c1, c2 = c.roll(-1, -2), c.roll(-2, -2)
    proj = (t.roll(-2, -2) * c1 - t.roll(-1, -2) * c2).abs()
    h = (
        er.roll(-1, -2) * c2.abs()
        + er.roll(-2, -2) * c1.abs()
        + es.roll(-1, -1) * ac.roll(-2, -1)
        + es.roll(-2, -1) * ac.roll(-1, -1)
    )
    # Clamped inside the root: for parallel axes (every yaw-only pair of boxes) the length is
    # exactly 0, where sqrt's gradient is infinite and would turn the masked branch's zero
    # gradient into NaN when the features are differentiated (multi-step training). Lengths
    # below 1e-3 are masked, so the value is unchanged.
    norm = torch.sqrt((c1 * c1 + c2 * c2).clamp(min=1e-12))
    sep_e = torch.where(norm > 1e-3, (proj - h) / norm.clamp(min=1e-6), -torch.inf)
    sep = torch.cat([sep_a.squeeze(-1), sep_b.squeeze(-2), sep_e.flatten(-2)], -1)
    best, idx = sep.max(dim=-1, keepdim=True)
    # The chosen axis in the world frame: a column of R_r, of R_s, or a_i x b_j normalised.
    k = (idx - 6).clamp(min=0)
    i = torch.where(idx < 3, idx, torch.where(idx < 6, idx - 3, k // 3))
    j = torch.where(idx < 6, i, k % 3)
    a = torch.gather(rot_r, -1, i.unsqueeze(-2).expand(*rot_r.shape[:-1], 1)).squeeze(-1)
    b = torch.gather(rot_s, -1, j.unsqueeze(-2).expand(*rot_s.shape[:-1], 1)).squeeze(-1)
    cross = torch.linalg.cross(a, b, dim=-1)
    cross = cross / cross.norm(dim=-1, keepdim=True).clamp(min=1e-6)
    axis = torch.where(idx < 3, a, torch.where(idx < 6, b, cross))
    sign = torch.where((axis * dp).sum(-1, keepdim=True) < 0, -1.0, 1.0)
    return best, axis * sign


def _at_scales(scales: tuple[float, ...], now: Tensor, after: Tensor) -> list[Tensor]:
    """``tanh(x / s)`` of two lengths for every ``s`` in ``scales`` (none for no scales)."""
    return [torch.tanh(x / s) for s in scales for x in (now, after)]


def _safe_norm(x: Tensor, dim: int, keepdim: bool = False) -> Tensor:
    """Euclidean norm with a finite gradient at 0 (the square clamped inside the root)."""
    return torch.sqrt((x * x).sum(dim, keepdim=keepdim).clamp(min=1e-12))


def shape_support(u: Tensor, shape: Tensor) -> Tensor:
    """Support ``h(u) = max_x u . x`` of convex shapes (``EntityLayout.shapes_array``: a box
    ``c`` plus a ball ``rho`` plus a disk ``r_disk`` in the xy plane) along unit directions
    ``u (..., 3, K)`` given in the shape's own frame (``K`` directions as columns); ``shape
    (..., 5)``. Returns ``(..., K)``."""
    core, rho, disk = shape[..., :3, None], shape[..., 3:4], shape[..., 4:5]
    return (u.abs() * core).sum(-2) + rho + disk * _safe_norm(u[..., :2, :], dim=-2)


def shape_support_point(u: Tensor, shape: Tensor, sharpness: float = 20.0) -> Tensor:
    """A smoothed support point of convex shapes along unit directions ``u (..., 3)`` in the
    shape's frame (the box's corner by ``tanh`` of ``sharpness`` times the direction, so a
    face gives its centre; the disk's rim likewise): ``(..., 3)`` in that frame."""
    core, rho, disk = shape[..., :3], shape[..., 3:4], shape[..., 4:5]
    xy = torch.cat([u[..., :2], torch.zeros_like(u[..., 2:])], dim=-1)
    xy_len = _safe_norm(xy, -1, True)
    rim = xy * torch.tanh(sharpness * xy_len) / xy_len
    return core * torch.tanh(sharpness * u) + rho * u + disk * rim


def shape_separation(
    dp: Tensor, rot_r: Tensor, rot_s: Tensor, shape_r: Tensor, shape_s: Tensor
) -> tuple[Tensor, Tensor]:
    """Separating-axis distance between two convex shapes (:func:`shape_support`'s box + ball
    + disk) and its axis, computed in ``r``'s frame: :func:`box_separation`'s 15 axes of the
    two boxes, plus the centre line and, for each shape, the axis from its box's point nearest
    the other's centre to that centre. The separation along any axis is a lower bound of the
    distance; these 18 make it exact for two spheres, a sphere or upright cylinder beside a
    box's face, edge or corner, and boxes whose closest features include a face.

    Args:
        dp: ``(..., 3)`` centre of ``s`` minus centre of ``r``, world frame.
        rot_r, rot_s: ``(..., 3, 3)`` rotations (columns: the body axes in the world frame).
        shape_r, shape_s: ``(..., 5)`` shapes (broadcastable).

    Returns:
        ``separation (..., 1)`` and the unit axis ``(..., 3)`` in the world frame, pointing
        from ``r`` to ``s``.
    """
    rt = rot_r.transpose(-1, -2)
    c = rt @ rot_s  # (..., 3, 3): s's axes as columns, in r's frame
    t = (rt @ dp.unsqueeze(-1)).squeeze(-1)  # s's centre in r's frame
    b0, b1, b2 = c[..., 0, :], c[..., 1, :], c[..., 2, :]
    zero = torch.zeros_like(b0)
    cross = torch.cat(  # e_i x b_j for i = 0, 1, 2 (3 columns each)
        [
            torch.stack([zero, -b2, b1], -2),
            torch.stack([b2, zero, -b0], -2),
            torch.stack([-b1, b0, zero], -2),
        ],
        dim=-1,
    )  # (..., 3, 9)
    cross_len = _safe_norm(cross, -2, True)
    core_r = shape_r[..., :3].expand_as(t)
    core_s = shape_s[..., :3].expand_as(t)
    near_r = t - torch.maximum(torch.minimum(t, core_r), -core_r)  # r's box -> s's centre
    ts = -(c.transpose(-1, -2) @ t.unsqueeze(-1)).squeeze(-1)  # r's centre in s's frame
    near_s = c @ (ts - torch.maximum(torch.minimum(ts, core_s), -core_s)).unsqueeze(-1)
    extra = torch.stack([t, near_r, near_s.squeeze(-1)], -1)  # (..., 3, 3)
    extra_len = _safe_norm(extra, -2, True)
    eye = torch.eye(3, dtype=dp.dtype, device=dp.device).expand_as(c)
    axes = torch.cat(
        [eye, c, cross / cross_len.clamp(min=1e-6), extra / extra_len.clamp(min=1e-9)], -1
    )  # (..., 3, 18) unit axes in r's frame
    proj = (t.unsqueeze(-1) * axes).sum(-2).abs()
    h_r = shape_support(axes, shape_r)
    h_s = shape_support(c.transpose(-1, -2) @ axes, shape_s)
    sep = proj - h_r - h_s
    valid = torch.cat(
        [
            torch.ones_like(sep[..., :6], dtype=torch.bool),
            cross_len.squeeze(-2) > 1e-3,
            extra_len.squeeze(-2) > 1e-6,
        ],
        -1,
    )
    sep = torch.where(valid, sep, torch.full_like(sep, -torch.inf))
    best, idx = sep.max(dim=-1, keepdim=True)
    axis = torch.gather(axes, -1, idx.unsqueeze(-2).expand(*axes.shape[:-1], 1))
    axis = (rot_r @ axis).squeeze(-1)
    sign = torch.where((axis * dp).sum(-1, keepdim=True) < 0, -1.0, 1.0)
    return best, axis * sign


def quat_to_matrix(q: Tensor) -> Tensor:
    """``(..., 4)`` unit quaternions (w, x, y, z) to ``(..., 3, 3)`` rotation matrices."""
    w, x, y, z = q.unbind(-1)
    return torch.stack(
        [
            1 - 2 * (y * y + z * z),
            2 * (x * y - w * z),
            2 * (x * z + w * y),
            2 * (x * y + w * z),
            1 - 2 * (x * x + z * z),
            2 * (y * z - w * x),
            2 * (x * z - w * y),
            2 * (y * z + w * x),
            1 - 2 * (x * x + y * y),
        ],
        dim=-1,
    ).reshape(*q.shape[:-1], 3, 3)


def integrate_quat(q: Tensor, angvel: Tensor, dt: float) -> Tensor:
    """Rotate ``q (..., 4)`` by the world-frame angular velocity ``angvel (..., 3)`` for ``dt``:
    ``q' = exp(w dt / 2) (x) q``, renormalised."""
    half = angvel * (0.5 * dt)
    angle = half.norm(dim=-1, keepdim=True)
    # sin(a)/a, finite at a = 0 (its limit, 1).
    sinc = torch.where(angle > 1e-8, torch.sin(angle) / angle.clamp(min=1e-8), 1.0 - angle**2 / 6)
    dw, (dx, dy, dz) = torch.cos(angle)[..., 0], (half * sinc).unbind(-1)
    w, x, y, z = q.unbind(-1)
    out = torch.stack(
        [
            dw * w - dx * x - dy * y - dz * z,
            dw * x + dx * w + dy * z - dz * y,
            dw * y - dx * z + dy * w + dz * x,
            dw * z + dx * y - dy * x + dz * w,
        ],
        dim=-1,
    )
    return F.normalize(out, dim=-1)


class GraphPhysicsModel(LatentDynamicsModel):
    """Graph network over entities predicting velocity changes, integrated into the pose.

    Args:
        cfg: configuration (``hidden``, ``depth``, ``entity_latent_dim``, ``message_steps``,
            ``input_noise``, ``n_members``, ...).
        layout: the observation's entity layout (13 features per entity).
        action_dim: ``A`` (the action reaches every node).
        dt: seconds per agent step (``env.unwrapped.dt``), the integration step.
    """

    static: Tensor
    receivers: Tensor
    senders: Tensor
    radius: Tensor
    extents: Tensor
    shapes: Tensor

    def __init__(
        self, cfg: WorldModelConfig, layout: EntityLayout, action_dim: int, dt: float
    ) -> None:
        super().__init__(cfg, layout.obs_dim, action_dim, norm_group=layout.feature_dim)
        if layout.feature_dim != 13:
            raise ValueError(f"GraphPhysicsModel needs 13 features per entity, got {layout}")
        if not dt > 0:
            raise ValueError(f"GraphPhysicsModel needs the step length dt > 0, got {dt!r}")
        self.dt = float(dt)
        # The step the features and the integration use: the env step, or a fraction of it
        # with ``inner_steps`` (the network is then applied that many times per env step).
        self.h = self.dt / cfg.inner_steps
        self.n_entities = e = layout.n_entities
        m, zl, hid = cfg.n_members, cfg.entity_latent_dim, cfg.hidden
        static = torch.from_numpy(_static_features(layout))
        self.register_buffer("static", static)
        self.register_buffer("radius", torch.from_numpy(layout.props_array()[:, 1].copy()))
        # Not saved: it derives from the layout (checkpoints from before it load as they are).
        self.register_buffer("extents", torch.from_numpy(layout.extents_array()), persistent=False)
        self.register_buffer("shapes", torch.from_numpy(layout.shapes_array()), persistent=False)
        # Heights in the floor features are taken from the top of the scene's ground support.
        self.ground = float(layout.ground) if layout.ground is not None else 0.0
        sizes = layout.props_array()[:, 1]
        # Length unit of the shape features: the scene's typical body size.
        self.length = float(sizes[sizes > 0].mean()) if (sizes > 0).any() else 1.0
        n_shape_node, n_shape_edge = (5, 3) if cfg.shape_features else (0, 0)
        if cfg.contact_features:
            n_shape_node += _N_CONTACT_NODE
            n_shape_edge += _N_CONTACT_EDGE
            n_shape_node += 2 * len(cfg.floor_scales)
            n_shape_edge += 2 * len(cfg.contact_scales) + (5 if cfg.contact_velocity else 0)
        recv = [i for i in range(e) for j in range(e) if j != i]
        send = [j for i in range(e) for j in range(e) if j != i]
        self.register_buffer("receivers", torch.tensor(recv, dtype=torch.long))
        self.register_buffer("senders", torch.tensor(send, dtype=torch.long))
        # Per-entity statistics of the targets: position correction, dv, dw (9 each).
        self.target_norm = RunningNormalizer(e * _N_OUT, _TARGET_MIN_STD)
        self.pos_res_norm = RunningNormalizer(e * 3, _TARGET_MIN_STD)  # pos' - pos - v dt

        node_in = 3 + 9 + 3 + 3 + static.shape[1] + action_dim + n_shape_node
        edge_in = 3 + 3 + 1 + 1 + 3 + 3 + n_shape_edge  # dp world, dp local, dist, gap, dv, dw
        self.encoder = config_mlp(cfg, node_in, zl)
        # The first layer of every edge MLP is split into an edge, a receiver and a sender
        # projection; the node ones are computed once per entity and gathered per pair.
        steps = range(cfg.message_steps)
        self.edge_in = torch.nn.ModuleList(EnsembleLinear(m, edge_in, hid) for _ in steps)
        self.edge_recv = torch.nn.ModuleList(EnsembleLinear(m, zl, hid, bias=False) for _ in steps)
        self.edge_send = torch.nn.ModuleList(EnsembleLinear(m, zl, hid, bias=False) for _ in steps)
        self.edge_norm = torch.nn.ModuleList(
            EnsembleLayerNorm(m, hid) if cfg.layer_norm else torch.nn.Identity() for _ in steps
        )
        self.edge_rest = torch.nn.ModuleList(
            EnsembleMLP(
                m, hid, zl, hidden=hid, depth=max(cfg.depth - 1, 0), layer_norm=cfg.layer_norm
            )
            for _ in steps
        )
        self.node_mlps = torch.nn.ModuleList(
            config_mlp(cfg, 2 * zl, zl, out_scale=0.1) for _ in range(cfg.message_steps)
        )
        self.decoder = EnsembleMLP(
            m, zl, _N_OUT, hidden=hid, depth=cfg.depth, layer_norm=cfg.layer_norm, out_scale=0.1
        )
        if cfg.switch_time:  # the switch-time logit; zero weights at the start: tau = 0.5
            self.switch = EnsembleMLP(m, zl, 1, hidden=hid, depth=1, out_scale=0.0)
        self._finish_init()

    # -- features ----------------------------------------------------------------------------
    def _graph_inputs(self, obs: Tensor, action: Tensor) -> tuple[Tensor, Tensor]:
        """Node ``(M, N, E, F_n)`` and edge ``(M, N, P, F_e)`` inputs of raw ``obs (M, N, D)``."""
        m, n = obs.shape[:2]
        x = obs.reshape(m, n, self.n_entities, 13)
        std = self.obs_norm.std32
        mean = self.obs_norm.mean32
        pos, vel, ang = x[..., _POS], x[..., _VEL], x[..., _ANG]
        rot = quat_to_matrix(F.normalize(x[..., _QUAT], dim=-1))  # (M, N, E, 3, 3)
        act = action.unsqueeze(2).expand(-1, -1, self.n_entities, -1)
        nodes = torch.cat(
            [
                (pos - mean[_POS]) / std[_POS],
                rot.flatten(-2),
                vel / std[_VEL],
                ang / std[_ANG],
                self.static.expand(m, n, -1, -1),
                act,
            ],
            dim=-1,
        )
        r, s = self.receivers, self.senders
        dp = pos[:, :, s] - pos[:, :, r]  # (M, N, P, 3): sender relative to receiver
        local = torch.einsum("mnpji,mnpj->mnpi", rot[:, :, r], dp)  # R_r^T dp
        dist = dp.norm(dim=-1, keepdim=True)
        gap = dist - (self.radius[r] + self.radius[s]).unsqueeze(-1)
        scale = std[_POS].mean()
        dvel = vel[:, :, s] - vel[:, :, r]
        edges = torch.cat(
            [
                dp / scale,
                local / scale,
                dist / scale,
                gap / scale,
                dvel / std[_VEL],
                (ang[:, :, s] - ang[:, :, r]) / std[_ANG],
            ],
            dim=-1,
        )
        k = _Kinematics(rot, pos, vel, ang, dp, local, dist, gap, dvel)
        if self.cfg.shape_features:
            nodes, edges = self._shape_features(nodes, edges, k)
        if self.cfg.contact_features:
            nodes, edges = self._contact_features(nodes, edges, k)
        return nodes, edges

    def _shape_features(
        self, nodes: Tensor, edges: Tensor, k: _Kinematics
    ) -> tuple[Tensor, Tensor]:
        """Append the contact-geometry features (``shape_features``), in units of the scene's
        typical body size: per node the world-frame half-sizes of the entity's box and its
        lowest point (above the ground, ``EntityLayout.ground``) now and after a
        constant-velocity step; per edge the gap between the two boxes along the centre line
        (support functions), the closing speed times ``dt`` and the gap left after a
        constant-velocity step (negative: a contact begins within it)."""
        ext, r, s, length = self.extents, self.receivers, self.senders, self.length
        rot, pos, vel, dp, local, dist = k.rot, k.pos, k.vel, k.dp, k.local, k.dist
        if self.cfg.geom_shapes:  # the support along each world axis (columns of R^T)
            half = shape_support(rot.transpose(-1, -2), self.shapes)
        else:
            half = (rot.abs() * ext[:, None, :]).sum(-1)  # (M, N, E, 3): sum_j |R_ij| e_j
        low = pos[..., 2:3] - half[..., 2:3] - self.ground
        low_next = low + vel[..., 2:3] * self.h
        nodes = torch.cat([nodes, half / length, low / length, low_next / length], dim=-1)
        u_r = local / dist.clamp(min=1e-6)  # centre line in the receiver's frame
        u_s = torch.einsum("mnpji,mnpj->mnpi", rot[:, :, s], dp) / dist.clamp(min=1e-6)
        if self.cfg.geom_shapes:
            support = shape_support(u_r.unsqueeze(-1), self.shapes[r]) + shape_support(
                u_s.unsqueeze(-1), self.shapes[s]
            )
        else:
            support = (u_r.abs() * ext[r]).sum(-1, keepdim=True) + (u_s.abs() * ext[s]).sum(
                -1, keepdim=True
            )
        box_gap = dist - support
        closing = -(k.dvel * dp).sum(-1, keepdim=True) / dist.clamp(min=1e-6) * self.h
        edges = torch.cat(
            [edges, box_gap / length, closing / length, (box_gap - closing) / length], dim=-1
        )
        return nodes, edges

    def _contact_features(
        self, nodes: Tensor, edges: Tensor, k: _Kinematics
    ) -> tuple[Tensor, Tensor]:
        """Append where and when a contact begins (``contact_features``), lengths in units of
        the scene's typical body size.

        Per node, the floor: the offset of the box's lowest corner from the centre (the lever
        arm of a floor contact; smoothed so a face-down box gives its face centre), that
        corner's height change over a step at its own velocity (linear plus angular), its
        height above the ground (``EntityLayout.ground``) after that step, and the step
        fraction at which it reaches the floor (``2``: not within the step). Per edge: the
        separating-axis distance between the two boxes (:func:`box_separation`; the larger of
        it and the bounding-sphere gap, both lower bounds of the true distance), the contact
        normal in the world and the receiver's frame, the closing speed along it times
        ``dt``, the distance left after a constant-velocity step, the step fraction at which
        the gap closes, and the receiver's support point along the normal in its frame
        (the lever arm of that contact)."""
        ext, r, s, length, dt = self.extents, self.receivers, self.senders, self.length, self.h
        rot, pos, vel, ang, dp = k.rot, k.pos, k.vel, k.ang, k.dp
        # Floor: the lowest corner, smoothed over the sign so a level face gives its centre.
        if self.cfg.geom_shapes:  # the shape's support point along -z, in the world frame
            low_local = shape_support_point(-rot[..., 2, :], self.shapes)
            corner = (rot @ low_local.unsqueeze(-1)).squeeze(-1)
        else:
            signs = torch.tanh(rot[..., 2, :] * 20.0)  # (M, N, E, 3): sign of each axis' z
            corner = -(rot * (ext * signs).unsqueeze(-2)).sum(-1)  # (M, N, E, 3) world offset
        corner_vel = vel + torch.linalg.cross(ang, corner, dim=-1)
        low = pos[..., 2:3] + corner[..., 2:3] - self.ground
        drop = corner_vel[..., 2:3] * dt
        toi_floor = torch.where(
            drop < -1e-9, (low / (-drop).clamp(min=1e-9)).clamp(-1.0, _TOI_NONE), _TOI_NONE
        )
        nodes = torch.cat(
            [
                nodes,
                corner / length,
                drop / length,
                (low + drop) / length,
                toi_floor,
                *_at_scales(self.cfg.floor_scales, low, low + drop),
            ],
            dim=-1,
        )
        if self.cfg.geom_shapes:
            shapes = self.shapes
            sep, normal = shape_separation(dp, rot[:, :, r], rot[:, :, s], shapes[r], shapes[s])
        else:
            separation = box_separation_local if self.cfg.fast_separation else box_separation
            sep, normal = separation(dp, rot[:, :, r], rot[:, :, s], ext[r], ext[s])
        sep = torch.maximum(sep, k.gap)
        normal_local = torch.einsum("mnpji,mnpj->mnpi", rot[:, :, r], normal)
        closing = -(k.dvel * normal).sum(-1, keepdim=True) * dt
        toi = torch.where(
            closing > 1e-9,
            (sep / closing.clamp(min=1e-9)).clamp(-1.0, _TOI_NONE),
            torch.full_like(sep, _TOI_NONE),
        )
        lever = self._contact_point(normal_local, r)
        edges = torch.cat(
            [
                edges,
                sep / length,
                normal,
                normal_local,
                closing / length,
                (sep - closing) / length,
                toi,
                lever / length,
                *_at_scales(self.cfg.contact_scales, sep, sep - closing),
                *(
                    self._contact_point_motion(k, normal, lever)
                    if self.cfg.contact_velocity
                    else []
                ),
            ],
            dim=-1,
        )
        return nodes, edges

    def _contact_point(self, u: Tensor, which: Tensor) -> Tensor:
        """The support point along ``u`` (in each body's own frame) of the entities
        ``which``: on the geom shape with ``geom_shapes``, else on the box (smoothed corners):
        the lever arm of a contact with normal ``u``."""
        if self.cfg.geom_shapes:
            return shape_support_point(u, self.shapes[which])
        return self.extents[which] * torch.tanh(u * 20.0)

    def _contact_point_motion(self, k: _Kinematics, normal: Tensor, lever: Tensor) -> list[Tensor]:
        """``contact_velocity``: how the two bodies' points at the contact move against each
        other over a step (linear plus angular velocity at each body's support point along the
        normal): the closing along the normal, the slip across it (world frame) and the slip's
        size, in units of the scene's typical body size. ``lever`` is the receiver's support
        point in its own frame."""
        r, s, rot = self.receivers, self.senders, k.rot
        away = torch.einsum("mnpji,mnpj->mnpi", rot[:, :, s], -normal)  # in the sender's frame
        lever_s = self._contact_point(away, s)
        arm_r = (rot[:, :, r] @ lever.unsqueeze(-1)).squeeze(-1)
        arm_s = (rot[:, :, s] @ lever_s.unsqueeze(-1)).squeeze(-1)
        point_r = k.vel[:, :, r] + torch.linalg.cross(k.ang[:, :, r], arm_r, dim=-1)
        point_s = k.vel[:, :, s] + torch.linalg.cross(k.ang[:, :, s], arm_s, dim=-1)
        rel = (point_s - point_r) * self.h / self.length
        along = (rel * normal).sum(-1, keepdim=True)
        slip = rel - along * normal
        return [-along, slip, _safe_norm(slip, -1, keepdim=True)]

    def _forward(self, obs: Tensor, action: Tensor) -> Tensor:
        """Normalised outputs ``(M, N, E, 9)``: position correction, dv, dw; with
        ``switch_time`` a tenth, the switch time's logit."""
        nodes, edges = self._graph_inputs(obs, action)
        m, n, e, _ = nodes.shape
        h = self.encoder(nodes)
        p = edges.shape[2]
        for k, node_mlp in enumerate(self.node_mlps):
            if e > 1:
                flat = h.reshape(m, n * e, -1)
                r = self.edge_recv[k](flat).reshape(m, n, e, -1)
                s = self.edge_send[k](flat).reshape(m, n, e, -1)
                pre = self.edge_in[k](edges.reshape(m, n * p, -1)).reshape(m, n, p, -1)
                pre = pre + r[:, :, self.receivers] + s[:, :, self.senders]
                pre = self.edge_norm[k](pre.reshape(m, n * p, -1))
                msg = self.edge_rest[k](F.silu(pre)).reshape(m, n, e, e - 1, -1).sum(dim=3)
            else:
                msg = torch.zeros_like(h)
            h = h + node_mlp(torch.cat([h, msg], dim=-1))
        if self.cfg.switch_time:
            return torch.cat([self.decoder(h), self.switch(h)], dim=-1)
        return self.decoder(h)

    # -- stepping ----------------------------------------------------------------------------
    def _denormalize_out(self, out: Tensor) -> Tensor:
        """Raw outputs: the 9 targets denormalised; a ``switch_time`` logit stays as it is."""
        m, n = out.shape[:2]
        if not self.cfg.switch_time:
            return self.target_norm.denormalize(out.reshape(m, n, -1)).reshape(out.shape)
        raw = out[..., :_N_OUT]
        raw = self.target_norm.denormalize(raw.reshape(m, n, -1)).reshape(raw.shape)
        return torch.cat([raw, out[..., _N_OUT:]], dim=-1)

    def _integrate(self, obs: Tensor, out: Tensor) -> Tensor:
        """Next raw obs ``(M, N, D)`` from raw ``obs`` and denormalised outputs ``(M,N,E,9)``
        (``(M,N,E,10)`` with ``switch_time``: the position integrated with the predicted
        switch time instead of the trapezoid's 0.5)."""
        m, n = obs.shape[:2]
        x = obs.reshape(m, n, self.n_entities, 13)
        corr, dv, dw = out[..., 0:3], out[..., 3:6], out[..., 6:9]
        vel = x[..., _VEL] + dv
        ang = x[..., _ANG] + dw
        if self.cfg.switch_time:
            tau = torch.sigmoid(out[..., _N_OUT:])
            pos = x[..., _POS] + self.h * (tau * x[..., _VEL] + (1 - tau) * vel) + corr
        else:
            pos = x[..., _POS] + 0.5 * self.h * (x[..., _VEL] + vel) + corr
        quat = integrate_quat(x[..., _QUAT], ang, self.h)
        return torch.cat([pos, quat, vel, ang], dim=-1).reshape(m, n, -1)

    def step(self, obs: Tensor, action: Tensor) -> Tensor:
        """One step per member. Args: ``obs (M, N, D)``, ``action (N, A)``. Returns ``(M,N,D)``."""
        act, x = self.members(action), obs
        for _ in range(self.cfg.inner_steps):
            x = self._integrate(x, self._denormalize_out(self._forward(x, act)))
        return x

    # -- training ----------------------------------------------------------------------------
    def _targets(self, obs: Tensor, next_obs: Tensor) -> Tensor:
        """Raw targets ``(..., E, 9)`` that :meth:`_integrate` turns ``obs`` into ``next_obs``."""
        x = obs.reshape(*obs.shape[:-1], self.n_entities, 13)
        y = next_obs.reshape(*next_obs.shape[:-1], self.n_entities, 13)
        dv = y[..., _VEL] - x[..., _VEL]
        corr = y[..., _POS] - x[..., _POS] - 0.5 * self.dt * (x[..., _VEL] + y[..., _VEL])
        return torch.cat([corr, dv, y[..., _ANG] - x[..., _ANG]], dim=-1)

    def update_normalizers(self, batch: SequenceBatch) -> None:
        """Observation and delta statistics (base class) plus the per-entity target ones."""
        super().update_normalizers(batch)
        obs = batch.obs
        targets = self._targets(obs[:, :-1], obs[:, 1:])
        self.target_norm.update(targets.reshape(-1, self.n_entities * _N_OUT))
        x = obs[:, :-1].reshape(*obs.shape[:1], -1, self.n_entities, 13)
        y = obs[:, 1:].reshape(*obs.shape[:1], -1, self.n_entities, 13)
        res = y[..., _POS] - x[..., _POS] - self.dt * x[..., _VEL]
        self.pos_res_norm.update(res.reshape(-1, self.n_entities * 3))

    def _state_error(self, pred: Tensor, true: Tensor) -> Tensor:
        """``(M, B)`` mean squared error of position, velocity and angular velocity, each in
        units of its per-entity one-step std (position: the residual over constant velocity);
        pseudo-Huber beyond ``huber`` stds when that is set."""
        m, b = pred.shape[:2]
        p = pred.reshape(m, b, self.n_entities, 13)
        t = true.reshape(b, self.n_entities, 13)
        std = self.target_norm.std32.reshape(self.n_entities, _N_OUT)
        pos_std = self.pos_res_norm.std32.reshape(self.n_entities, 3)
        err = torch.cat(
            [
                (p[..., _POS] - t[..., _POS]) / pos_std,
                (p[..., _VEL] - t[..., _VEL]) / std[:, 3:6],
                (p[..., _ANG] - t[..., _ANG]) / std[:, 6:9],
            ],
            dim=-1,
        )
        delta = self.cfg.huber
        if delta > 0:  # pseudo-Huber: e^2 near 0, 2 delta |e| far out
            return (2 * delta**2 * (torch.sqrt(1 + (err / delta) ** 2) - 1)).mean((-1, -2))
        return err.pow(2).mean((-1, -2))

    def loss(self, batch: SequenceBatch) -> dict[str, Tensor]:
        """``{"recon", "total"}``: the model rolled over the horizon from a noised first state,
        each step scored against the truth in per-entity target units."""
        if self.cfg.objective != "reconstructive":
            raise ValueError(
                "world_model.kind=graph trains with objective=reconstructive only "
                f"(got {self.cfg.objective!r}); jepa is available for kind=mlp|interaction"
            )
        obs, alive = batch.obs, batch.alive()
        x = self.members(obs[:, 0])
        if self.cfg.input_noise > 0:
            x = x + self._input_noise(x)
        err = obs.new_zeros(())
        for k in range(batch.horizon):
            x = self.step(x, batch.action[:, k])
            err = err + (self._state_error(x, obs[:, k + 1]) * alive[:, k]).sum()
        recon = err / (alive.sum().clamp(min=1.0) * self.n_members)
        return {"recon": recon, "total": self.cfg.recon_weight * recon}

    def _input_noise(self, x: Tensor) -> Tensor:
        """Gaussian noise on velocities (``input_noise`` x their one-step change's std) and on
        positions (the same times ``dt``); zero on quaternions."""
        m, n = x.shape[:2]
        std = self.target_norm.std32.reshape(self.n_entities, _N_OUT)
        scale = torch.zeros(self.n_entities, 13, device=x.device)
        scale[:, _VEL] = std[:, 3:6]
        scale[:, _ANG] = std[:, 6:9]
        scale[:, _POS] = std[:, 3:6] * self.dt
        noise = torch.randn(m, n, self.n_entities, 13, device=x.device) * scale
        return (noise * self.cfg.input_noise).reshape(m, n, -1)

    # -- latent interface (curiosity's ``encode``; the graph model has no jepa objective) ------
    def encode_latent(self, xn: Tensor, target: bool = False) -> Tensor:
        """Entity latents ``(M, N, E, Zl)`` of normalised observations (zero action)."""
        m, n = xn.shape[:2]
        obs = self.obs_norm.denormalize(xn.reshape(m, n, self.n_entities, 13)).reshape(m, n, -1)
        nodes, _ = self._graph_inputs(obs, xn.new_zeros(m, n, self.action_dim))
        return self.encoder(nodes)

    def latent_samples(self, z: Tensor) -> Tensor:
        """Every entity latent is a sample: ``(M, N, E, Zl) -> (M, N * E, Zl)``."""
        return z.reshape(z.shape[0], -1, z.shape[-1])
