"""Interaction metrics of the collected data: how much the explorer made happen.

Per env step (``explore/`` keys, fractions over the steps seen since the last ``flush``):

* ``moved1``: steps in which at least one object moved more than ``move_eps`` (1 mm);
* ``moved2``: steps in which two or more objects moved;
* ``airborne``: steps with an object touching nothing (thrown, falling);
* ``flipped``: steps ending with an object tilted beyond 45 degrees;
* ``regime/<name>``: fraction of object entity-transitions in each regime;
* ``distractor``: steps with the distractor switched on by the agent (distractor scenes only).
"""

from __future__ import annotations

import numpy as np

from envs.layout import EntityLayout
from envs.regimes import REGIME_NAMES

_COS2_HALF_45 = (1.0 - np.cos(np.deg2rad(45.0))) / 2.0  # qx^2 + qy^2 at 45 degrees of tilt


class InteractionTracker:
    """Accumulates interaction counts over real transitions.

    Args:
        layout: the observation layout (objects are scored).
        move_eps: displacement per step (m) that counts as moved.
    """

    def __init__(self, layout: EntityLayout, move_eps: float = 1e-3) -> None:
        self.layout = layout
        self.objects = layout.indices("object")
        self.move_eps = move_eps
        self.totals: dict[str, float] = {}
        self._reset_window()

    def _reset_window(self) -> None:
        self._steps = 0
        self._counts = dict.fromkeys(("moved1", "moved2", "airborne", "flipped", "distractor"), 0)
        self._regimes = np.zeros(len(REGIME_NAMES), dtype=np.int64)

    def update(
        self, obs: np.ndarray, next_obs: np.ndarray, contact: dict, distractor_on: bool = False
    ) -> None:
        """Count one real transition; ``contact`` is ``info["contact"]``."""
        a = self.layout.split(obs)[self.objects]
        b = self.layout.split(next_obs)[self.objects]
        moved = int((np.linalg.norm(b[:, 0:3] - a[:, 0:3], axis=1) > self.move_eps).sum())
        c = self._counts
        c["moved1"] += moved >= 1
        c["moved2"] += moved >= 2
        c["airborne"] += bool(contact["airborne"][self.objects].any())
        c["flipped"] += bool(((b[:, 4] ** 2 + b[:, 5] ** 2) > _COS2_HALF_45).any())
        c["distractor"] += bool(distractor_on)
        self._regimes += np.bincount(contact["regime"][self.objects], minlength=len(REGIME_NAMES))
        self._steps += 1

    def flush(self) -> dict[str, float]:
        """Fractions since the last flush (``explore/...``); also folded into ``totals``."""
        if self._steps == 0:
            return {}
        out = {f"explore/{k}": v / self._steps for k, v in self._counts.items()}
        regimes = self._regimes / max(int(self._regimes.sum()), 1)
        out.update(
            {f"explore/regime/{n}": float(r) for n, r in zip(REGIME_NAMES, regimes, strict=True)}
        )
        for k, v in self._counts.items():
            self.totals[k] = self.totals.get(k, 0.0) + v
        self.totals["steps"] = self.totals.get("steps", 0.0) + self._steps
        self._reset_window()
        return out

    def state_dict(self) -> dict[str, float]:
        return dict(self.totals)

    def load_state_dict(self, state: dict[str, float]) -> None:
        self.totals = {k: float(v) for k, v in state.items()}
