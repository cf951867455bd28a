"""The two training objectives, written once for every :class:`LatentDynamicsModel`.

``reconstructive``: roll the model forward in observation space over the horizon, feeding back
its own predictions, and score each predicted step against the true one in normalised-delta
units (``(o_pred - o_true) / delta_std``; at the first step this is exactly the error of the
normalised delta).

``jepa``: encode every true observation with the online and the EMA target encoder, roll the
latent transition forward from the first online latent and score it against the target
latents. VICReg variance and covariance terms on the online latents prevent collapse. A readout
(the decoder) learns the normalised delta from *detached* one-step latents, so states can be
decoded for evaluation without shaping the latent space.

Loss means run over members, batch and the alive steps of each sequence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import Tensor

from world_model.batch import SequenceBatch

if TYPE_CHECKING:
    from world_model.models.base import LatentDynamicsModel


def vicreg_terms(z: Tensor, eps: float = 1e-4) -> tuple[Tensor, Tensor]:
    """VICReg variance hinge and covariance penalty, averaged over members.

    Args:
        z: ``(M, S, F)`` latent vectors, ``S`` samples per member.

    Returns:
        ``(var, cov)``: ``mean(relu(1 - std_f))`` and the summed squared off-diagonal
        covariance divided by ``F``.
    """
    m, s, f = z.shape
    zc = z - z.mean(dim=1, keepdim=True)
    std = torch.sqrt(zc.pow(2).sum(1) / max(s - 1, 1) + eps)
    var = F.relu(1.0 - std).mean()
    cov = torch.bmm(zc.transpose(1, 2), zc) / max(s - 1, 1)
    off = cov.pow(2).sum((1, 2)) - torch.diagonal(cov, dim1=1, dim2=2).pow(2).sum(1)
    return var, (off / f).mean()


def reconstructive_loss(model: LatentDynamicsModel, batch: SequenceBatch) -> dict[str, Tensor]:
    """Multi-step reconstruction. Returns ``{"recon", "total"}``."""
    obs, alive = batch.obs, batch.alive()
    scale = model.delta_scale()
    x = model.members(obs[:, 0])
    err = obs.new_zeros(())
    for k in range(batch.horizon):
        x = model.step(x, batch.action[:, k])
        per_sample = ((x - obs[:, k + 1]) / scale).pow(2).mean(-1)  # (M, B)
        err = err + (per_sample * alive[:, k]).sum()
    recon = err / (alive.sum().clamp(min=1.0) * model.n_members)
    return {"recon": recon, "total": model.cfg.recon_weight * recon}


def jepa_loss(model: LatentDynamicsModel, batch: SequenceBatch) -> dict[str, Tensor]:
    """Latent prediction vs an EMA target: ``{"jepa", "var", "cov", "readout", "total"}``."""
    cfg = model.cfg
    obs, alive = batch.obs, batch.alive()
    b, h1, d = obs.shape
    h, m = h1 - 1, model.n_members
    xn = model.members(model.normalize_obs(obs).reshape(b * h1, d))
    z = model.encode_latent(xn)
    z = z.reshape(m, b, h1, *z.shape[2:])
    assert model.target_encoder is not None, "jepa objective needs a target encoder"
    with torch.no_grad():
        zt = model.encode_latent(xn, target=True)
        zt = zt.reshape(m, b, h1, *zt.shape[2:])

    zh = z[:, :, 0]
    pred_err = obs.new_zeros(())
    for k in range(h):
        zh = model.transition(zh, model.members(batch.action[:, k]))
        per_sample = (zh - zt[:, :, k + 1]).pow(2).reshape(m, b, -1).mean(-1)  # (M, B)
        pred_err = pred_err + (per_sample * alive[:, k]).sum()
    n_alive = alive.sum().clamp(min=1.0)
    jepa = pred_err / (n_alive * m)

    var, cov = model_vicreg(model, z.reshape(m, b * h1, *z.shape[3:]))

    # Readout on detached one-step latents from every true state of the sequence.
    z0 = z[:, :, :h].detach().reshape(m, b * h, *z.shape[3:])
    with torch.no_grad():
        z1 = model.transition(z0, model.members(batch.action.reshape(b * h, -1)))
    target = model.normalize_delta(obs[:, 1:] - obs[:, :-1]).reshape(b * h, d)
    read = (model.decode(z0, z1) - target).pow(2).mean(-1)  # (M, B*H)
    readout = (read * alive.reshape(1, b * h)).sum() / (n_alive * m)

    total = (
        cfg.jepa_weight * jepa
        + cfg.var_weight * var
        + cfg.cov_weight * cov
        + cfg.readout_weight * readout
    )
    return {"jepa": jepa, "var": var, "cov": cov, "readout": readout, "total": total}


def model_vicreg(model: LatentDynamicsModel, z: Tensor) -> tuple[Tensor, Tensor]:
    """:func:`vicreg_terms` on the model's latent samples of ``z (M, N, ...)``."""
    return vicreg_terms(model.latent_samples(z))
