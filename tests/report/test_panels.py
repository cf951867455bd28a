"""Real and imagined panels: identical when the imagined states are the true ones."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from agent.report.panels import PANEL_GAP, frame_regimes, impact_frames, side_by_side_frames
from envs.regimes import Regime

W = H = 64


@pytest.fixture(scope="module")
def scene_and_states() -> tuple:
    env = gym.make("contactlab/PushBlocks-v0", render_mode="rgb_array", width=W, height=H)
    obs, _ = env.reset(seed=0)
    rng = np.random.default_rng(0)
    states, regimes = [obs], []
    for _ in range(4):
        obs, _, _, _, info = env.step(rng.uniform(-1, 1, 2))
        states.append(obs)
        regimes.append(info["contact"]["regime"])
    return env.unwrapped, np.array(states), frame_regimes(np.array(regimes))


def test_true_states_as_imagined_give_pixel_identical_halves(scene_and_states: tuple) -> None:
    scene, real, regimes = scene_and_states
    frames = side_by_side_frames(scene, real, real.copy(), regimes, overlay=True)
    assert frames.shape == (len(real), H, 3 * W + 2 * PANEL_GAP, 3)
    left, right = frames[:, :, :W], frames[:, :, W + PANEL_GAP : 2 * W + PANEL_GAP]
    np.testing.assert_array_equal(left, right)
    np.testing.assert_array_equal(left, frames[:, :, 2 * (W + PANEL_GAP) :])  # overlay too
    assert left.std() > 10, "the panels show a scene, not a blank image"


def test_a_wrong_imagined_state_shows_where_it_is_wrong(scene_and_states: tuple) -> None:
    scene, real, regimes = scene_and_states
    layout = scene.layout
    imagined = layout.split(real).copy()
    obj = layout.indices("object")[0]
    imagined[2:, obj, 0] += 0.08  # from frame 2 on, the model puts one block 8 cm off
    frames = side_by_side_frames(scene, real, imagined.reshape(real.shape), regimes)
    left, right = frames[:, :, :W].astype(int), frames[:, :, W + PANEL_GAP :].astype(int)
    changed = np.abs(left - right).sum(axis=(1, 2, 3))
    assert (changed[:2] == 0).all() and (changed[2:] > 0).all(), changed


def test_impact_frames_are_flashed_in_both_panels_alike(scene_and_states: tuple) -> None:
    scene, real, regimes = scene_and_states
    forced = regimes.copy()
    forced[3, scene.layout.indices("object")[0]] = Regime.IMPACT
    flash = impact_frames(forced, scene.layout.indices("object"))
    assert flash.tolist() == [False, False, False, True, False]
    frames = side_by_side_frames(scene, real, real, forced, flash)
    np.testing.assert_array_equal(frames[:, :, :W], frames[:, :, W + PANEL_GAP :])
    assert (frames[3, 0, :W] == [235, 20, 20]).all()  # red frame on the impact step
    assert not (frames[2, 0, :W] == [235, 20, 20]).all()


def test_the_ghost_is_magenta_where_the_model_is_wrong(scene_and_states: tuple) -> None:
    scene, real, regimes = scene_and_states
    layout = scene.layout
    imagined = layout.split(real).copy()
    imagined[:, layout.indices("object")[0], 0] += 0.08
    frames = side_by_side_frames(scene, real, imagined.reshape(real.shape), regimes, overlay=True)
    left = frames[:, :, :W].astype(int)
    overlay = frames[:, :, 2 * (W + PANEL_GAP) :].astype(int)
    changed = (np.abs(left - overlay) > 0).any(-1)
    assert changed.any() and changed.mean() < 0.5  # only where the pictures differ
    red, green, blue = (overlay[..., c][changed] for c in range(3))
    assert (red - green).mean() > 60 and (blue - green).mean() > 60  # magenta, clearly
