"""Rendering observations as pictures: real and imagined states, side by side.

Any observation, true or imagined by a world model, is drawn by putting the MuJoCo scene in
that state (:meth:`envs.scene.ContactSceneEnv.set_state_from_obs`) and rendering it with the
env's one renderer. Entities are tinted by the *true* contact regime of the transition that
ended in the frame (impact red, contact orange, free blue, rest grey; :mod:`envs.render`), the
same in both panels, so the panels differ exactly where the imagined state differs.
"""

from __future__ import annotations

import numpy as np

from envs.regimes import Regime
from envs.render import render_labelled
from envs.scene import ContactSceneEnv

PANEL_GAP = 8  #: pixels between panels
FLASH_WIDTH = 3  #: pixels of the red frame drawn around panels on impact steps
FLASH_COLOR = np.array([235, 20, 20], dtype=np.uint8)
NO_TINT = -1  #: regime code of a frame drawn in the scene's own colours (the start state)
GHOST_COLOR = np.array([235, 0, 210], dtype=np.float32)  #: magenta: where the model is wrong
GHOST_THRESHOLD = 24  #: a pixel differs when a channel differs by more than this (0-255)


def ghost_overlay(real: np.ndarray, imagined: np.ndarray) -> np.ndarray:
    """The real picture with the model's errors in magenta: wherever the imagined picture
    differs from the real one, the imagined pixel tinted magenta is laid over the real one, so
    a body the model puts elsewhere shows as a magenta ghost and the place it left is washed
    magenta. Equal pictures give the real picture unchanged.

    Args:
        real, imagined: ``(..., H, W, 3)`` uint8.
    """
    diff = (np.abs(real.astype(np.int16) - imagined.astype(np.int16)) > GHOST_THRESHOLD).any(-1)
    ghost = 0.5 * imagined.astype(np.float32) + 0.5 * GHOST_COLOR
    mixed = 0.35 * real.astype(np.float32) + 0.65 * ghost
    out = real.copy()
    out[diff] = np.clip(mixed[diff], 0, 255).astype(np.uint8)
    return out


def frame_regimes(regime_seq: np.ndarray) -> np.ndarray:
    """Regime per frame of a sequence: frame ``t`` shows ``o_t``, the end of transition
    ``t - 1``; frame 0 (the start) gets :data:`NO_TINT`.

    Args:
        regime_seq: ``(H, E)`` regime codes of the ``H`` transitions.

    Returns:
        ``(H + 1, E)`` int array.
    """
    start = np.full((1, regime_seq.shape[1]), NO_TINT, dtype=np.int64)
    return np.concatenate([start, regime_seq.astype(np.int64)], axis=0)


def impact_frames(regimes: np.ndarray, objects: np.ndarray) -> np.ndarray:
    """``(T,)`` bool: frames in which an object's transition was an impact."""
    return (regimes[:, objects] == int(Regime.IMPACT)).any(axis=1)


def render_states(
    env: ContactSceneEnv, obs_seq: np.ndarray, regimes: np.ndarray | None = None
) -> np.ndarray:
    """Render each observation of a sequence.

    Args:
        env: a scene made with ``render_mode="rgb_array"``; its state is overwritten.
        obs_seq: ``(T, D)`` observations; non-finite values (a diverged model) are drawn as 0.
        regimes: ``(T, E)`` codes to tint entities by, rows of :data:`NO_TINT` untinted.

    Returns:
        ``(T, height, width, 3)`` uint8 frames.
    """
    frames = []
    for t, obs in enumerate(obs_seq):
        env.set_state_from_obs(np.nan_to_num(obs, nan=0.0, posinf=0.0, neginf=0.0))
        if regimes is not None and (regimes[t] != NO_TINT).all():
            frames.append(render_labelled(env, regimes[t]))
        else:
            frame = env.render()
            if frame is None:
                raise ValueError("render_states needs an env made with render_mode='rgb_array'")
            frames.append(frame)
    return np.stack(frames).astype(np.uint8)


def add_flash(frames: np.ndarray, flash: np.ndarray) -> np.ndarray:
    """Draw a red frame of :data:`FLASH_WIDTH` pixels around frames where ``flash`` is true."""
    out = frames.copy()
    w = FLASH_WIDTH
    for t in np.flatnonzero(flash):
        out[t, :w], out[t, -w:], out[t, :, :w], out[t, :, -w:] = (FLASH_COLOR,) * 4
    return out


def side_by_side_frames(
    env: ContactSceneEnv,
    real_seq: np.ndarray,
    imagined_seq: np.ndarray,
    regimes: np.ndarray | None = None,
    flash: np.ndarray | None = None,
    overlay: bool = False,
) -> np.ndarray:
    """Real and imagined states of one sequence, drawn side by side.

    Args:
        env: a scene made with ``render_mode="rgb_array"`` (``width`` x ``height`` panels).
        real_seq: ``(T, D)`` true observations.
        imagined_seq: ``(T, D)`` the model's observations of the same steps.
        regimes: ``(T, E)`` true regime per frame (see :func:`frame_regimes`), used to tint
            both panels alike.
        flash: ``(T,)`` bool, frames framed in red (impacts), both panels alike.
        overlay: add a third panel (:func:`ghost_overlay`): the real picture with the
            model's errors as magenta ghosts.

    Returns:
        ``(T, height, 2 * width + PANEL_GAP, 3)`` uint8 (``3 * width + 2 * PANEL_GAP`` with
        ``overlay``): real in columns ``[0, width)``, imagined from ``width + PANEL_GAP``.
    """
    if real_seq.shape != imagined_seq.shape:
        raise ValueError(f"real {real_seq.shape} and imagined {imagined_seq.shape} differ")
    real = render_states(env, real_seq, regimes)
    imagined = render_states(env, imagined_seq, regimes)
    panels = [real, imagined]
    if overlay:
        panels.append(ghost_overlay(real, imagined))
    if flash is not None:
        panels = [add_flash(p, flash) for p in panels]
    t, h = real.shape[:2]
    gap = np.full((t, h, PANEL_GAP, 3), 255, dtype=np.uint8)
    row: list[np.ndarray] = []
    for i, p in enumerate(panels):
        row += [gap, p] if i else [p]
    return np.concatenate(row, axis=2)
