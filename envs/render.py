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


def render_states(env: ContactSceneEnv, obs: np.ndarray) -> np.ndarray:
    """Frames of the states ``obs (N, D)``, channel first: ``(N, 3, H, W)`` uint8.

    Each state is put into ``env`` with :meth:`ContactSceneEnv.set_state_from_obs` and
    rendered; ``env`` (made with ``render_mode="rgb_array"``) is used for nothing else, so the
    frames depend on the states alone. This is how the ``video_pixels`` source sees a stream.
    """
    obs = np.asarray(obs, dtype=np.float32).reshape(-1, env.layout.obs_dim)
    out = np.empty((len(obs), 3, env.height, env.width), np.uint8)
    for i, o in enumerate(obs):
        env.set_state_from_obs(o)
        frame = env.render()
        if frame is None:
            raise ValueError("render_states needs an env made with render_mode='rgb_array'")
        out[i] = frame.transpose(2, 0, 1)
    return out
