"""``env=gym`` and ``env=mjcf`` through the ``contactlab`` command (real subprocesses, files)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import imageio.v2 as imageio
import numpy as np
import pytest

SCENE = """
<mujoco>
  <worldbody>
    <light pos="0 0 3"/>
    <geom name="floor" type="plane" size="1 1 .1"/>
    <body name="pusher" pos="0 0 .05">
      <joint name="x" type="slide" axis="1 0 0"/><joint name="y" type="slide" axis="0 1 0"/>
      <geom type="sphere" size=".03" mass="1"/></body>
    <body name="box" pos=".2 0 .05"><freejoint/><geom type="box" size=".04 .04 .04"/></body>
  </worldbody>
  <actuator>
    <velocity joint="x" kv="20" ctrlrange="-1 1"/><velocity joint="y" kv="20" ctrlrange="-1 1"/>
  </actuator>
</mujoco>"""


def contactlab(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "agent.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_demo_renders_the_users_mjcf_file(tmp_path: Path) -> None:
    path = tmp_path / "my_scene.xml"
    path.write_text(SCENE)
    args = ("demo", "env=mjcf", f"env.mjcf_path={path}", "steps=30", "width=160", "height=128")
    out = contactlab(*args, f"out_dir={tmp_path}", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    (run_dir,) = tmp_path.glob("demo-*")
    summary = json.loads((run_dir / "summary.json").read_text())
    assert list(summary) == ["my_scene"]  # the user's scene, not the built-in ones
    assert sum(summary["my_scene"]["object_regimes"].values()) == 30  # one object
    assert len(imageio.mimread(run_dir / "my_scene.mp4")) == 30


def test_demo_of_a_gymnasium_robot_labels_its_links(tmp_path: Path) -> None:
    args = ("demo", "env=gym", "env.id=Hopper-v5", "env.entities=bodies", "env.links=object")
    out = contactlab(
        *args, "steps=20", "width=160", "height=128", f"out_dir={tmp_path}", cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    (run_dir,) = tmp_path.glob("demo-*")
    summary = json.loads((run_dir / "summary.json").read_text())
    assert sum(summary["Hopper-v5"]["object_regimes"].values()) == 20 * 3  # thigh, leg, foot
    assert (run_dir / "Hopper-v5.mp4").is_file()


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ("env.id=NoSuchRobot-v5", "env.id='NoSuchRobot-v5'"),
        ("env.id=CartPole-v1", "Hopper-v5"),
        ("env.entities=links", "env.entities"),
        ("env.links=tool", "env.links"),
        ("env.labels.jump_speed=-1", "env.labels.jump_speed"),
    ],
)
def test_bad_gym_settings_fail_fast_naming_the_key(
    tmp_path: Path, override: str, needle: str
) -> None:
    out = contactlab("demo", "env=gym", override, f"out_dir={tmp_path}", cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    assert needle in out.stderr
    assert not list(tmp_path.glob("demo-*"))


@pytest.mark.parametrize(
    "overrides",
    [("env.id=Pusher-v5",), ("env.id=Hopper-v5", "env.entities=bodies", "env.links=object")],
)
def test_seek_refuses_a_robot_arm_before_building_anything(tmp_path: Path, overrides) -> None:
    """The default explorer, seek, drives a point agent on slide joints; Pusher's 7 and
    Hopper's 3 hinge torques are refused with the way out, before a run folder or a probe
    set exists (it once failed only after both, and Hopper's 3 torques passed as x-y-z)."""
    args = ("run", "env=gym", *overrides, "experiment=debug", f"out_dir={tmp_path}")
    out = contactlab(*args, f"probe.root={tmp_path / 'probes'}", cwd=tmp_path)
    assert out.returncode == 2, out.stderr[-2000:]
    assert "agent=seek" in out.stderr and "agent=mpc" in out.stderr and "hinge" in out.stderr
    assert "Traceback" not in out.stderr
    assert not list(tmp_path.glob("run-*")) and not (tmp_path / "probes").exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    "overrides",
    # the default explorer, seek, drives point agents only (see the test below)
    [
        ("env.id=Pusher-v5", "agent=random"),
        ("env.id=Hopper-v5", "env.entities=bodies", "env.links=object", "agent=random"),
    ],
)
def test_run_on_a_gymnasium_env_writes_a_report(
    tmp_path: Path, overrides: tuple, with_report: None
) -> None:
    args = ("run", "env=gym", *overrides, "experiment=debug", f"out_dir={tmp_path}")
    out = contactlab(*args, f"probe.root={tmp_path / 'probes'}", cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    (run_dir,) = tmp_path.glob("run-gym-*")
    assert (run_dir / "report.html").stat().st_size > 10_000
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["env_steps"] == 600


@pytest.mark.parametrize("env_id", ["Pusher-v5", "Hopper-v5"])
def test_a_gymnasium_run_config_composes(env_id: str) -> None:
    """The config checks (the memory estimate among them) need no MJCF file for env=gym: its
    model is Gymnasium's. They raised a TypeError on ``env.mjcf_path=None`` before."""
    from agent.config import RunConfig, load_config

    cfg, _ = load_config("run", RunConfig, ["env=gym", f"env.id={env_id}"])
    assert (cfg.env.name, cfg.env.id, cfg.env.mjcf_path) == ("gym", env_id, None)


TABLE_SCENE = """
<mujoco model="raised_table">
  <worldbody>
    <geom name="table" type="box" pos="0 0 0.1" size="0.5 0.5 0.1"/>
    <body name="hand" pos="0 -0.3 0.25">
      <joint name="hy" type="slide" axis="0 1 0"/>
      <geom type="sphere" size="0.03"/>
    </body>
    <body name="puck" pos="0 0 0.23"><freejoint/><geom type="box" size="0.04 0.04 0.03"/></body>
  </worldbody>
  <actuator><velocity joint="hy" kv="50" ctrlrange="-1 1"/></actuator>
</mujoco>
"""


def test_floor_features_measure_heights_from_the_scenes_ground(tmp_path: Path) -> None:
    """The default model's floor features measure heights above the top of the scene's
    ground support (``layout.ground``): 0 for the built-in scenes (exactly: their features are
    what they were when z = 0 was assumed), Pusher's table plane at z = -0.325, a table box
    named in ``support_geoms``. A body resting on the support is at height ~0 in the
    features (it read 0.2 m, the table's top, when z = 0 was assumed); only a scene with no
    ground geom warns."""
    import gymnasium as gym
    import torch

    from agent.config import RunConfig, load_config
    from agent.make_env import make_env
    from agent.parts import floor_warning
    from world_model.models import build_model

    for overrides, ground in (
        (["env=gym", "env.id=Pusher-v5"], -0.325),
        (["env=push_blocks"], 0.0),
        (["env=tower"], 0.0),
        (["env=billiards"], 0.0),
    ):
        cfg, _ = load_config("run", RunConfig, overrides)
        env = make_env(cfg.env)
        layout = env.unwrapped.layout
        assert layout.ground == pytest.approx(ground, abs=1e-9), overrides
        if ground == 0.0:
            assert layout.ground == 0.0  # exactly: x - 0.0 == x, the features are unchanged
        assert floor_warning(env.unwrapped) is None
        env.close()

    path = tmp_path / "table.xml"
    path.write_text(TABLE_SCENE)
    env = gym.make("contactlab/MJCFScene-v0", mjcf_path=path, support_geoms=("table",))
    scene = env.unwrapped
    assert scene.layout.ground == pytest.approx(0.2)
    obs, _ = env.reset(seed=0)
    for _ in range(20):  # let the puck settle on the table
        obs, *_ = env.step(np.zeros(1, dtype=np.float32))
    cfg, _ = load_config("run", RunConfig, [])
    assert cfg.world_model.contact_features
    model = build_model(cfg.world_model, scene.layout, 1, scene.dt)
    x = torch.as_tensor(obs, dtype=torch.float32).reshape(1, 1, -1)
    nodes, _ = model._graph_inputs(
        x.expand(cfg.world_model.n_members, 1, -1), torch.zeros(cfg.world_model.n_members, 1, 1)
    )
    # the contact node block ends with: lowest corner's height after a step, time to floor
    height_after_step = float(nodes[0, 0, 1, -2]) * model.length
    assert abs(height_after_step) < 2e-3, height_after_step
    env.close()

    table = '<geom name="table" type="box" pos="0 0 0.1" size="0.5 0.5 0.1"/>'
    assert table in TABLE_SCENE
    path.write_text(TABLE_SCENE.replace(table, ""))
    env = gym.make("contactlab/MJCFScene-v0", mjcf_path=path)
    assert env.unwrapped.layout.ground is None
    warning = floor_warning(env.unwrapped)
    assert warning is not None and "no ground geom" in warning and "world_model=graph" in warning
    env.close()


def test_a_compare_with_seek_on_a_robot_arm_is_refused_before_any_run(tmp_path: Path) -> None:
    """A comparison whose active source would drive Pusher's arm with seek is refused before
    its folder or any run (random's would otherwise run first)."""
    args = ("compare", "sources=[random,active]", "seeds=1", "run.env=gym")
    out = contactlab(*args, "run.env.id=Pusher-v5", f"out_dir={tmp_path}", cwd=tmp_path)
    assert out.returncode == 2, out.stderr[-2000:]
    assert "agent=mpc" in out.stderr and "Traceback" not in out.stderr
    assert not list(tmp_path.iterdir())
