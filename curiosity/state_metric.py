"""How far apart two observations are, in the units the world model is trained in.

A state error is the squared difference of observations divided, per dim, by the variance of
the one-step change of that dim, summed over the dims of the chosen entity kinds. The scale is
the world model's delta normaliser (``LatentDynamicsModel.delta_scale()``, the unit of the
reconstructive loss: "error 1 in a dim" means "as wrong as a typical step in it is long").
Models without ``delta_scale`` fall back to a running std of the deltas seen in
:meth:`StateMetric.update`. The scale is read at call time, so it follows the model's
normaliser as it adapts.

Floor: a dim that never changed in the data (a ball that only ever glided has zero velocity
change) gets the model's std floor, 1e-5, and the first bounce would then weigh ~1e10 and
swamp every other dim (and make learning progress, a difference of two such numbers, noise).
So no dim's scale falls below ``rel_floor`` times the largest scale of the *same feature*
(pos, quat, linvel or angvel) over all entities: a ball's velocity change is measured on at
least a tenth of the scale on which velocities change for any body in the scene.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from envs.layout import ENTITY_KINDS, EntityLayout
from world_model.batch import TransitionBatch
from world_model.inference import given_mask_for
from world_model.normalizer import RunningNormalizer

# Same floor as the world model's delta normaliser.
_DELTA_MIN_STD = 1e-5


def entity_weight(layout: EntityLayout, kinds: Sequence[str]) -> Tensor:
    """``(D,)`` float32 mask: 1 on the dims of entities whose kind is in ``kinds``, else 0.

    Raises:
        ValueError: no entity of the layout has one of ``kinds``.
    """
    mask = given_mask_for(layout, tuple(kinds))
    if not mask.any():
        raise ValueError(
            f"entity_kinds {tuple(kinds)} match no entity of the layout (kinds {layout.kinds})"
        )
    return torch.as_tensor(mask, dtype=torch.float32)


class StateMetric:
    """Weighted squared distance of observations in normalised-delta units.

    Args:
        layout: the observation layout (entities and their feature slices).
        model: scale source; its ``delta_scale() -> (D,)`` is used when it has one.
        kinds: entity kinds whose dims count (the others get weight 0).
        rel_floor: per feature, the scale of every dim is at least this fraction of the largest
            scale of that feature over all entities (0 disables the floor).
    """

    def __init__(
        self,
        layout: EntityLayout,
        model: object | None = None,
        kinds: Sequence[str] = ENTITY_KINDS,
        rel_floor: float = 0.1,
    ) -> None:
        if not 0.0 <= rel_floor <= 1.0:
            raise ValueError(f"StateMetric rel_floor must be in [0, 1], got {rel_floor!r}")
        self.layout = layout
        self.weight = entity_weight(layout, kinds)
        self.rel_floor = float(rel_floor)
        scale = getattr(model, "delta_scale", None)
        self._model_scale: Callable[[], Tensor] | None = scale if callable(scale) else None
        self.delta_norm = RunningNormalizer(layout.obs_dim, _DELTA_MIN_STD)
        self._groups = [sl for sl in layout.features.values()]

    @property
    def uses_model_scale(self) -> bool:
        """Whether the scale comes from the world model (else from :meth:`update`)."""
        return self._model_scale is not None

    def raw_scale(self) -> Tensor:
        """``(D,)`` std of the one-step change of every dim, before the relative floor."""
        if self._model_scale is not None:
            return self._model_scale().detach()
        return self.delta_norm.std32

    def scale(self) -> Tensor:
        """``(D,)`` the scale state errors are divided by (raw scale with the relative floor)."""
        s = self.raw_scale()
        if self.rel_floor == 0.0:
            return s
        per_entity = s.reshape(self.layout.n_entities, self.layout.feature_dim)
        col_max = per_entity.amax(0)  # (F,)
        floor = torch.zeros_like(col_max)
        for sl in self._groups:
            floor[sl] = self.rel_floor * col_max[sl].max()
        return torch.maximum(per_entity, floor).reshape(-1)

    def sq(self, diff: Tensor) -> Tensor:
        """Squared distance. Args: ``diff (..., D)``. Returns ``(...)``."""
        inv_var = self.weight / self.scale().square()
        return (diff.square() * inv_var).sum(-1)

    def spread(self, pred: Tensor) -> Tensor:
        """Ensemble variance summed over dims (population, ``1/M``).

        Args:
            pred: ``(M, B, D)`` member predictions.

        Returns:
            ``(B,)`` mean over members of the squared distance from the ensemble mean
            (0 for a single member).
        """
        return self.sq(pred - pred.mean(0)).mean(0)

    def update(self, batch: TransitionBatch) -> None:
        """Merge the batch's deltas into the fallback scale (no-op with a model scale)."""
        if self._model_scale is None:
            self.delta_norm.update(batch.next_obs - batch.obs)

    def state_dict(self) -> dict[str, Any]:
        """The fallback scale's statistics."""
        return {"delta_norm": self.delta_norm.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore from :meth:`state_dict`."""
        self.delta_norm.load_state_dict(state["delta_norm"])
