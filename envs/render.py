"""Frames that show the labels: each entity tinted by its contact regime."""

from __future__ import annotations

import numpy as np

from envs.regimes import Regime
from envs.scene import ContactSceneEnv

# RGBA per regime: impact red, contact orange, free blue, rest grey.
REGIME_COLORS: dict[int, tuple[float, float, float, float]] = {
    Regime.IMPACT: (0.95, 0.10, 0.10, 1.0),
    Regime.CONTACT: (1.00, 0.60, 0.00, 1.0),
    Regime.FREE: (0.15, 0.45, 0.95, 1.0),
    Regime.REST: (0.55, 0.55, 0.55, 1.0),
}


def render_labelled(env: ContactSceneEnv, regime: np.ndarray, blend: float = 0.7) -> np.ndarray:
    """Render ``env`` with every entity's geoms tinted by ``regime`` (shape ``(n_entities,)``).

    Only the colours of the render change; the model is restored before returning.
    """
    model = env.model
    original = model.geom_rgba.copy()
    try:
        for entity, r in zip(env.layout.entities, regime, strict=True):
            geoms = model.geom_bodyid == entity.body_id
            color = np.array(REGIME_COLORS[int(r)])
            model.geom_rgba[geoms] = (1.0 - blend) * original[geoms] + blend * color
        frame = env.render()
    finally:
        model.geom_rgba[:] = original
    if frame is None:
        raise ValueError("render_labelled needs an env made with render_mode='rgb_array'")
    return frame
