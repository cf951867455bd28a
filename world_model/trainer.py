"""Gradient updates of a world model, with a cheap guard against non-finite steps.

One update: merge the batch into the model's normalisers (a batch holding NaN/inf is ignored
there), compute the named losses, backpropagate, clip the global gradient norm, then read every
loss term and the gradient norm back in **one** host transfer. If any of them is non-finite the
optimizer step is skipped, so parameters and optimizer state stay exactly as after the last good
step; should parameters themselves have gone non-finite, the last snapshot (refreshed in place
every ``snapshot_every`` good steps) is restored. ``max_nonfinite`` failures in a row raise
:class:`NonFiniteUpdateError` naming the update and the offending term.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from world_model.batch import SequenceBatch, TransitionBatch
from world_model.config import PixelModelConfig, WorldModelConfig
from world_model.errors import NonFiniteUpdateError
from world_model.models.base import LatentDynamicsModel
from world_model.pixels import PixelBatch, PixelWorldModel


class ModelTrainer:
    """Adam updates of one world model (a state model, or the pixel model of ``video_pixels``).

    Args:
        model: the model to train (its parameters, normalisers and EMA target).
        cfg: ``lr``, ``grad_clip``, ``max_nonfinite`` and ``snapshot_every`` are used.
    """

    def __init__(
        self,
        model: LatentDynamicsModel | PixelWorldModel,
        cfg: WorldModelConfig | PixelModelConfig,
    ) -> None:
        self.model = model
        self.cfg = cfg
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.Adam(self.params, lr=cfg.lr)
        self.updates = 0  # applied optimizer steps
        self.attempts = 0  # calls to update()
        self.skipped = 0  # updates skipped for a non-finite loss or gradient
        self._consecutive = 0
        self._good_since_snapshot = 0
        self._snapshot: list[Tensor] = []
        self._snapshot_opt: list[Tensor] | None = None
        self._take_snapshot()

    # -- snapshot of the last good state --------------------------------------------------------
    def _opt_tensors(self) -> list[Tensor]:
        out: list[Tensor] = []
        for p in self.params:
            out.extend(v for v in self.optimizer.state.get(p, {}).values() if isinstance(v, Tensor))
        return out

    def _model_tensors(self) -> list[Tensor]:
        return [t.detach() for t in self.model.state_dict(keep_vars=True).values()]

    @torch.no_grad()
    def _take_snapshot(self) -> None:
        current = self._model_tensors()
        if len(self._snapshot) == len(current):
            torch._foreach_copy_(self._snapshot, current)
        else:
            self._snapshot = [t.clone() for t in current]
        opt = self._opt_tensors()
        if opt and self._snapshot_opt is not None and len(self._snapshot_opt) == len(opt):
            torch._foreach_copy_(self._snapshot_opt, opt)
        else:
            self._snapshot_opt = [t.clone() for t in opt] if opt else None
        self._good_since_snapshot = 0

    @torch.no_grad()
    def _restore_snapshot(self) -> None:
        torch._foreach_copy_(self._model_tensors(), self._snapshot)
        opt = self._opt_tensors()
        if self._snapshot_opt is None:
            self.optimizer.state.clear()
        elif len(opt) == len(self._snapshot_opt):
            torch._foreach_copy_(opt, self._snapshot_opt)

    def _params_finite(self) -> bool:
        return all(bool(torch.isfinite(p).all()) for p in self.params)

    # -- the update -----------------------------------------------------------------------------
    def update(self, batch: SequenceBatch | TransitionBatch | PixelBatch) -> dict[str, float]:
        """One guarded gradient step.

        Args:
            batch: a :class:`SequenceBatch` (or a :class:`TransitionBatch`, used as ``H = 1``);
                a :class:`PixelBatch` for a :class:`PixelWorldModel`.

        Returns:
            ``wm/loss/<term>`` for every loss term, ``wm/grad_norm`` (before clipping),
            ``wm/skipped_nonfinite`` (skipped updates so far) and ``wm/updates`` (applied).

        Raises:
            NonFiniteUpdateError: after ``cfg.max_nonfinite`` consecutive non-finite updates.
        """
        if isinstance(batch, TransitionBatch):
            batch = batch.as_sequence()
        self.attempts += 1
        self.model.update_normalizers(batch)  # type: ignore[arg-type]
        losses = self.model.loss(batch)  # type: ignore[arg-type]
        self.optimizer.zero_grad(set_to_none=True)
        losses["total"].backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(self.params, self.cfg.grad_clip, foreach=True)
        names = list(losses)
        values = torch.stack([*(v.detach() for v in losses.values()), grad_norm]).tolist()
        if all(math.isfinite(v) for v in values):
            self._set_lr()
            self.optimizer.step()
            self.model.after_step()
            self.updates += 1
            self._consecutive = 0
            self._good_since_snapshot += 1
            if self._good_since_snapshot >= self.cfg.snapshot_every:
                self._take_snapshot()
        else:
            self._on_nonfinite(dict(zip([*names, "grad_norm"], values, strict=True)))
        metrics = {f"wm/loss/{k}": v for k, v in zip(names, values[:-1], strict=True)}
        metrics["wm/grad_norm"] = values[-1]
        metrics["wm/skipped_nonfinite"] = float(self.skipped)
        metrics["wm/updates"] = float(self.updates)
        return metrics

    def current_lr(self) -> float:
        """The learning rate of the next update: ``lr``, or with ``lr_decay_updates`` a cosine
        from ``lr`` down to ``lr / 10`` over that many applied updates, then flat."""
        n = getattr(self.cfg, "lr_decay_updates", 0)  # the pixel model has no schedule
        if n <= 0:
            return self.cfg.lr
        frac = min(self.updates / n, 1.0)
        return self.cfg.lr * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * frac)))

    def _set_lr(self) -> None:
        lr = self.current_lr()
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def _on_nonfinite(self, values: dict[str, float]) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        self.skipped += 1
        self._consecutive += 1
        if not self._params_finite():
            self._restore_snapshot()
        if self._consecutive >= self.cfg.max_nonfinite:
            bad = next(k for k, v in values.items() if not math.isfinite(v))
            where = f"loss term {bad!r}" if bad != "grad_norm" else "the gradient norm"
            raise NonFiniteUpdateError(
                f"world model update {self.attempts}: {self._consecutive} consecutive non-finite "
                f"updates; {where} is {values[bad]} (max_nonfinite={self.cfg.max_nonfinite}). "
                "The weights are those of the last good update and the last checkpoint is "
                "intact; check the data, or lower the learning rate"
            )

    # -- resume -----------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Model (incl. normalisers and EMA target), optimizer and counters."""
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "updates": self.updates,
            "attempts": self.attempts,
            "skipped": self.skipped,
            "consecutive": self._consecutive,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore from :meth:`state_dict`."""
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.updates = int(state["updates"])
        self.attempts = int(state["attempts"])
        self.skipped = int(state["skipped"])
        self._consecutive = int(state["consecutive"])
        self._snapshot, self._snapshot_opt = [], None
        self._take_snapshot()
