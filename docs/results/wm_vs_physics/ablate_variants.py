"""Diagnostic variants of the graph model, as patches of ``ablate.py``'s run (docs/world_model.md,
"Fourth round"). They probe ideas; none is a config option.

Usage: ``python docs/results/wm_vs_physics/ablate_variants.py VARIANT [ablate.py arguments]``

Variants:

- ``no_agent_noise``: no training input noise on the agent's entities (PushBlocks: the pusher,
  entity 0).
- ``oracle_agent_velocity``: privileged. The agent's *true* next linear velocity (entity 0,
  divided by 0.5 m/s) is appended to the action in the training data and the probe set, so the
  model knows exactly how the pusher will move: how much of the error is the pusher's
  actuator response.
- ``linear_skip``: a linear map from every node's inputs, zero at the start, added to the
  decoder's output (can a linear path learn the actuator response better than the MLP?).
- ``substep_integration``: the pose integrated as ``n`` semi-implicit Euler substeps of constant
  acceleration (``pos' = pos + dt ((1 - w) v + w v') + corr``, ``w = (n + 1) / 2n``, ``n`` =
  env ``SUBSTEPS``, default 10: the scenes' ``frame_skip``), exact for ballistic flight, where
  the default's trapezoid (``w = 1/2``) leaves ``5 g h^2`` = 0.2 mm a step to the correction.
- ``correction_loss``: the loss's position term replaced by the position correction's error in
  units of the correction's own std (a one-step horizon; pseudo-Huber like the rest), so the
  small correction is not drowned by the position residual's larger std.
- ``regime_sampling``: one-step training rows drawn so that the most eventful object regime of
  a row (impact, contact, free, rest) makes up ``MIX`` of each batch (default
  ``0.25,0.3,0.25,0.2``; PushBlocks' probe-policy data has 5 / 21 / 14 / 60%), not uniformly:
  rare impacts seen ~5x as often, at the cost of the resting rows.
- ``relative_loss``: each entity's errors in units of its own step's size (the true residual
  over constant velocity, the true velocity change), floored at ``C`` (default 0.3) times the
  per-entity std, so small steps weigh as much as large ones (docs/world_model.md, "Eighth
  round").
"""

from __future__ import annotations

import dataclasses
import os
import runpy
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

import world_model.dataset as dataset_module
import world_model.probe as probe_module
from world_model.ensemble import EnsembleLinear
from world_model.models import graph_physics as gp
from world_model.replay import Replay

G = gp.GraphPhysicsModel
_N_OUT = 9
AGENT = 0  # PushBlocks' pusher
ABLATE = Path(__file__).resolve().parent / "ablate.py"


def no_agent_noise() -> None:
    noise = G._input_noise

    def patched(self: Any, x: torch.Tensor) -> torch.Tensor:
        n = noise(self, x)
        m, b = n.shape[:2]
        n = n.reshape(m, b, self.n_entities, 13).clone()
        n[:, :, AGENT] = 0.0
        return n.reshape(m, b, -1)

    G._input_noise = patched


def oracle_agent_velocity() -> None:
    vel = slice(13 * AGENT + 7, 13 * AGENT + 10)

    def augment(t: Any) -> Any:
        extra = (t.next_obs[:, vel] / 0.5).astype(np.float32)
        meta = dataclasses.replace(t.meta, action_dim=t.meta.action_dim + 3)
        return dataclasses.replace(t, action=np.concatenate([t.action, extra], 1), meta=meta)

    load_dataset, load_probe_set = dataset_module.load_dataset, probe_module.load_probe_set

    def load_probe(path: Any) -> Any:
        probe = load_probe_set(path)
        probe.data = augment(probe.data)
        return probe

    dataset_module.load_dataset = lambda path: augment(load_dataset(path))
    probe_module.load_probe_set = load_probe


def linear_skip() -> None:
    init, forward, inputs = G.__init__, G._forward, G._graph_inputs

    def patched_init(self: Any, cfg: Any, layout: Any, action_dim: int, dt: float) -> None:
        init(self, cfg, layout, action_dim, dt)
        self.skip = EnsembleLinear(cfg.n_members, self.encoder.hidden[0].in_features, 9)
        torch.nn.init.zeros_(self.skip.weight)
        torch.nn.init.zeros_(self.skip.bias)

    def patched_inputs(self: Any, obs: torch.Tensor, action: torch.Tensor) -> Any:
        nodes, edges = inputs(self, obs, action)
        self._nodes = nodes
        return nodes, edges

    def patched_forward(self: Any, obs: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        out = forward(self, obs, action)
        m, n, e, f = self._nodes.shape
        return out + self.skip(self._nodes.reshape(m, n * e, f)).reshape(m, n, e, -1)

    G.__init__, G._graph_inputs, G._forward = patched_init, patched_inputs, patched_forward


def substep_integration() -> None:
    n_sub = int(os.environ.get("SUBSTEPS", "10"))
    w = (n_sub + 1) / (2 * n_sub)
    pos, quat, vel, ang = gp._POS, gp._QUAT, gp._VEL, gp._ANG

    def integrate(self: Any, obs: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        m, n = obs.shape[:2]
        x = obs.reshape(m, n, self.n_entities, 13)
        v = x[..., vel] + out[..., 3:6]
        p = x[..., pos] + self.dt * ((1 - w) * x[..., vel] + w * v) + out[..., 0:3]
        q = gp.integrate_quat(x[..., quat], x[..., ang] + out[..., 6:9], self.dt)
        return torch.cat([p, q, v, x[..., ang] + out[..., 6:9]], dim=-1).reshape(m, n, -1)

    def targets(self: Any, obs: torch.Tensor, next_obs: torch.Tensor) -> torch.Tensor:
        x = obs.reshape(*obs.shape[:-1], self.n_entities, 13)
        y = next_obs.reshape(*next_obs.shape[:-1], self.n_entities, 13)
        corr = y[..., pos] - x[..., pos] - self.dt * ((1 - w) * x[..., vel] + w * y[..., vel])
        return torch.cat([corr, y[..., vel] - x[..., vel], y[..., ang] - x[..., ang]], dim=-1)

    G._integrate, G._targets = integrate, targets


def correction_loss() -> None:
    state_error = G._state_error

    def patched(self: Any, pred: torch.Tensor, true: torch.Tensor) -> torch.Tensor:
        """The position term scored as the correction's error in its own std (the rest as is):
        ``(p_pos - t_pos) - dt/2 (p_vel - t_vel)`` is ``corr_pred - corr`` for one step."""
        m, b = pred.shape[:2]
        p = pred.reshape(m, b, self.n_entities, 13)
        t = true.reshape(b, self.n_entities, 13)
        std = self.target_norm.std32.reshape(self.n_entities, _N_OUT)
        corr_err = (p[..., pos] - t[..., pos]) - 0.5 * self.dt * (p[..., vel] - t[..., vel])
        # the base error with the position replaced: pass a prediction whose position is right
        fixed = p.clone()
        fixed[..., pos] = t[..., pos]
        base = state_error(self, fixed.reshape(m, b, -1), true)  # (M, B): mean over 9 E terms
        err = corr_err / std[:, 0:3]
        delta = self.cfg.huber
        if delta > 0:  # pseudo-Huber, as the base terms
            err2 = 2 * delta**2 * (torch.sqrt(1 + (err / delta) ** 2) - 1)
        else:
            err2 = err.pow(2)
        return base + err2.mean((-1, -2)) / 3.0

    pos, vel = gp._POS, gp._VEL
    G._state_error = patched


def regime_sampling() -> None:
    mix = np.array([float(x) for x in os.environ.get("MIX", "0.25,0.3,0.25,0.2").split(",")])
    sample_starts = Replay._sample_starts

    def patched(self: Any, batch_size: int, horizon: int, newest: int | None) -> np.ndarray:
        if horizon != 1 or newest is not None:
            return sample_starts(self, batch_size, horizon, newest)
        if getattr(self, "_mix_p", None) is None or len(self._mix_p) != self._size:
            # each row's category: the most eventful regime among the objects (not the agent)
            reg = np.delete(self._regime[: self._size], AGENT, axis=1)
            cat = reg.min(1).astype(np.int64)
            share = np.bincount(cat, minlength=4) / len(cat)
            w = np.where(share > 0, mix / np.maximum(share, 1e-12), 0.0)[cat]
            self._mix_p = w / w.sum()
            print("regime_sampling: data shares", share.round(3), "sampled", mix, flush=True)
        rows = self.rng.choice(self._size, batch_size, p=self._mix_p)
        return rows[:, None]

    Replay._sample_starts = patched


def relative_loss() -> None:
    """Each entity's position and velocity errors in units of its own step's size, not of the
    per-entity std over the data: ``|e| / sqrt(|x|^2 + (C std)^2)`` with ``x`` the true
    residual over constant velocity (position) or the true velocity change, ``C`` (env, default
    0.3) keeping resting bodies' weight finite. So small steps (sustained contact, sliding)
    weigh as much as launches and impacts, roughly as the per-regime ratios to constant
    velocity do. One-step horizon only."""
    c = float(os.environ.get("C", "0.3"))
    pos, vel, ang = gp._POS, gp._VEL, gp._ANG

    def loss(self: Any, batch: Any) -> dict[str, torch.Tensor]:
        obs = batch.obs
        if batch.horizon != 1:
            raise SystemExit("relative_loss: horizon 1 only")
        x = self.members(obs[:, 0])
        if self.cfg.input_noise > 0:
            x = x + self._input_noise(x)
        pred = self.step(x, batch.action[:, 0])
        m, b = pred.shape[:2]
        p = pred.reshape(m, b, self.n_entities, 13)
        t = obs[:, 1].reshape(b, self.n_entities, 13)
        x0 = obs[:, 0].reshape(b, self.n_entities, 13)
        std = self.target_norm.std32.reshape(self.n_entities, _N_OUT)
        pos_std = self.pos_res_norm.std32.reshape(self.n_entities, 3)
        terms = []
        for sl, true_step, s in (
            (pos, t[..., pos] - x0[..., pos] - self.dt * x0[..., vel], pos_std),
            (vel, t[..., vel] - x0[..., vel], std[:, 3:6]),
            (ang, t[..., ang] - x0[..., ang], std[:, 6:9]),
        ):
            size = s.mean(-1, keepdim=True)  # (E, 1): one scale per entity and quantity
            scale = torch.sqrt(true_step.pow(2).sum(-1, keepdim=True) + (c * size) ** 2)
            terms.append((p[..., sl] - t[..., sl]) / scale)
        err = torch.cat(terms, dim=-1)
        delta = self.cfg.huber
        if delta > 0:
            err2 = 2 * delta**2 * (torch.sqrt(1 + (err / delta) ** 2) - 1)
        else:
            err2 = err.pow(2)
        alive = batch.alive()[:, 0]
        recon = (err2.mean((-1, -2)) * alive).sum() / (alive.sum().clamp(min=1.0) * m)
        return {"recon": recon, "total": self.cfg.recon_weight * recon}

    G.loss = loss


VARIANTS = {f.__name__: f for f in (no_agent_noise, oracle_agent_velocity, linear_skip,
                                     substep_integration, correction_loss,
                                     regime_sampling, relative_loss)}  # fmt: skip

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in VARIANTS:
        raise SystemExit(f"{__doc__}\nvariants: {sorted(VARIANTS)}")
    VARIANTS[sys.argv[1]]()
    sys.argv = [str(ABLATE), *sys.argv[2:]]
    runpy.run_path(str(ABLATE), run_name="__main__")
