"""A user's own MJCF file loaded as a scene by path, and the errors a bad file gives."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401  (registers the ids)
from envs.regimes import Regime
from envs.scene import SceneError

USER_SCENE = """
<mujoco model="my_scene">
  <worldbody>
    <geom name="ground" type="plane" size="1 1 .1"/>
    <body name="hand" pos="0 -0.3 0.05">
      <joint name="hy" type="slide" axis="0 1 0"/>
      <geom type="sphere" size="0.03"/>
    </body>
    <body name="puck" pos="0 0 0.03"><freejoint/><geom type="cylinder" size="0.04 0.03"/></body>
    <body name="ball" pos="0.2 0 0.05"><freejoint/><geom type="sphere" size="0.05"/></body>
  </worldbody>
  <actuator><velocity joint="hy" kv="50" ctrlrange="-1 1"/></actuator>
</mujoco>
"""


def _write(tmp_path: Path, text: str, name: str = "scene.xml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_user_mjcf_is_a_labelled_scene(tmp_path: Path) -> None:
    env = gym.make("contactlab/MJCFScene-v0", mjcf_path=_write(tmp_path, USER_SCENE))
    layout = env.unwrapped.layout
    assert layout.names == ("hand", "puck", "ball") and layout.kinds == (
        "agent",
        "object",
        "object",
    )
    obs, _ = env.reset(seed=0)
    assert obs.shape == (39,)
    regimes = []
    for _ in range(40):  # drive the hand through the puck
        obs, _, _, _, info = env.step(np.array([1.0], dtype=np.float32))
        regimes.append(int(info["contact"]["regime"][1]))
    assert Regime.IMPACT in regimes


def test_missing_mjcf_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.xml"
    with pytest.raises(SceneError, match="nope.xml"):
        gym.make("contactlab/MJCFScene-v0", mjcf_path=missing)


def test_malformed_mjcf_names_file_and_mujoco_message(tmp_path: Path) -> None:
    bad = _write(
        tmp_path,
        "<mujoco><worldbody><geom type='sphere' size='oops'/></worldbody></mujoco>",
        "bad.xml",
    )
    with pytest.raises(SceneError) as err:
        gym.make("contactlab/MJCFScene-v0", mjcf_path=bad)
    message = str(err.value)
    assert "bad.xml" in message and "size" in message  # MuJoCo's own parser message is kept


def test_mjcf_without_objects_or_ctrlrange_is_refused(tmp_path: Path) -> None:
    no_objects = USER_SCENE.replace("<freejoint/>", "")
    with pytest.raises(SceneError, match="movable"):
        gym.make("contactlab/MJCFScene-v0", mjcf_path=_write(tmp_path, no_objects, "a.xml"))
    no_range = USER_SCENE.replace(' ctrlrange="-1 1"', "")
    with pytest.raises(SceneError, match="ctrlrange"):
        gym.make("contactlab/MJCFScene-v0", mjcf_path=_write(tmp_path, no_range, "b.xml"))


def test_bad_scene_arguments_name_the_argument() -> None:
    with pytest.raises(SceneError, match="distractor"):
        gym.make("contactlab/PushBlocks-v0", distractor="tv")
    with pytest.raises(SceneError, match="frame_skip"):
        gym.make("contactlab/PushBlocks-v0", frame_skip=0)
    with pytest.raises(ValueError, match="impact_speed"):
        gym.make("contactlab/PushBlocks-v0", label_config={"impact_speed": -1.0})
