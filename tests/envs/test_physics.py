"""Contact physics as an experiment axis (``env.physics``): the overrides really change the
contacts, enter the scene hash, and keep data made with other physics apart."""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401  (registers the ids)
from agent.config import (
    ConfigError,
    EnvConfig,
    PhysicsConfig,
    ProbeSetConfig,
    RunConfig,
    load_config,
)
from agent.make_env import make_env
from agent.probes import build_probe_set_command, ensure_probe_set, labels_suffix, probe_path
from envs.regimes import LabelConfig
from envs.scene import ContactSceneEnv, SceneError
from world_model.probe import ProbeMismatch, load_probe_set

DROP_SCENE = """
<mujoco model="drop">
  <option timestep="0.002"/>
  <worldbody>
    <geom name="ground" type="plane" size="1 1 .1"/>
    <body name="hand" pos="0.5 0 0.05">
      <joint name="hx" type="slide" axis="1 0 0"/>
      <geom type="sphere" size="0.03" contype="0" conaffinity="0"/>
    </body>
    <body name="ball" pos="0 0 0.3"><freejoint/><geom type="sphere" size="0.05" mass="0.1"/></body>
  </worldbody>
  <actuator><velocity joint="hx" kv="50" ctrlrange="-1 1"/></actuator>
</mujoco>
"""


def _scene(
    physics: dict | None = None, name: str = "PushBlocks-v0", **kw: object
) -> ContactSceneEnv:
    scene = gym.make(f"contactlab/{name}", physics=physics, **kw).unwrapped
    assert isinstance(scene, ContactSceneEnv)
    return scene


def _resting_penetration_mm(physics: dict | None) -> float:
    """Deepest contact penetration (past the contact margin) after the blocks settle."""
    scene = _scene(physics)
    scene.reset(seed=0)
    for _ in range(50):
        scene.step(np.zeros(2, np.float32))
    d, m = scene.data, scene.model
    return max(
        (m.geom_margin[d.contact[i].geom].max() - d.contact[i].dist) * 1000 for i in range(d.ncon)
    )


def test_softer_contacts_sink_deeper_and_stiffer_ones_less() -> None:
    default = _resting_penetration_mm(None)
    soft = _resting_penetration_mm({"solref_timeconst": 0.05})
    stiff = _resting_penetration_mm({"solref_timeconst": 0.005})
    assert soft > 5 * default > 0  # penetration ~ g * timeconst^2 for a critically damped contact
    assert stiff < default


def _bounce_height(tmp_path: Path, physics: dict | None) -> float:
    xml = tmp_path / "drop.xml"
    xml.write_text(DROP_SCENE)
    scene = _scene(physics, "MJCFScene-v0", mjcf_path=xml, reset_noise=0.0)
    scene.reset(seed=0)
    heights = []
    for _ in range(40):  # 0.8 s: fall (~0.22 s), land, bounce
        obs, *_ = scene.step(np.zeros(1, np.float32))
        heights.append(float(scene.layout.split(obs)[1, 2]))
    landed = next(i for i, z in enumerate(heights) if z < 0.065)
    return max(heights[landed + 1 :]) - 0.05  # highest point after landing, above resting


def test_low_damping_ratio_makes_a_dropped_ball_bounce(tmp_path: Path) -> None:
    assert _bounce_height(tmp_path, None) < 0.005  # the scene's dampratio 1: critical, no bounce
    moderate = _bounce_height(tmp_path, {"solref_dampratio": 0.3})
    assert moderate > 0.03
    assert _bounce_height(tmp_path, {"solref_dampratio": 0.1}) > moderate + 0.03


def test_friction_scale_lets_a_pushed_block_slide_farther() -> None:
    def slide(physics: dict | None) -> float:
        scene = _scene(physics)
        scene.reset(seed=0)
        scene.place_object(1, linvel=np.array([0.5, 0.0, 0.0]))
        start = scene.data.xpos[scene.layout.entities[1].body_id].copy()
        for _ in range(25):
            scene.step(np.zeros(2, np.float32))
        return float(scene.data.xpos[scene.layout.entities[1].body_id][0] - start[0])

    assert slide({"friction_scale": 0.25}) > 1.5 * slide(None)


def test_overrides_edit_the_model_and_the_hash() -> None:
    base = _scene(None)
    physics = {
        "solref_timeconst": 0.02,
        "solref_dampratio": 0.5,
        "friction_scale": 2.0,
        "solver_iterations": 7,
    }
    scene = _scene(physics)
    assert np.allclose(scene.model.geom_solref, [0.02, 0.5])
    assert np.allclose(scene.model.geom_friction[:, 0], 2.0 * base.model.geom_friction[:, 0])
    assert scene.model.opt.iterations == 7
    assert scene.physics == physics
    assert scene.scene_hash != base.scene_hash
    assert _scene({"friction_scale": 2.0}).scene_hash not in (base.scene_hash, scene.scene_hash)
    # Nothing overridden (or only nulls): the scene's own hash, so existing data stays valid.
    assert _scene({"friction_scale": None}).scene_hash == _scene({}).scene_hash == base.scene_hash


@pytest.mark.parametrize(
    ("physics", "needle"),
    [
        ({"solref_timeconst": 0.001}, "2 x timestep"),  # MuJoCo would silently clamp it
        ({"friction_scale": -1.0}, "friction_scale"),
        ({"solver_iterations": 2.5}, "solver_iterations"),
        ({"stiffness": 1.0}, "unknown physics key"),
    ],
)
def test_bad_overrides_raise_naming_the_key(physics: dict, needle: str) -> None:
    with pytest.raises(SceneError, match=needle):
        _scene(physics)


def test_config_keys_reach_the_env_and_bad_ones_fail() -> None:
    cfg, _ = load_config(
        "run", RunConfig, ["env.physics.solref_timeconst=0.03", "env.physics.solver_iterations=5"]
    )
    scene = make_env(cfg.env).unwrapped
    assert np.allclose(scene.model.geom_solref[:, 0], 0.03) and scene.model.opt.iterations == 5
    with pytest.raises(ConfigError, match="env.physics.friction_scale"):
        load_config("run", RunConfig, ["env.physics.friction_scale=0"])
    with pytest.raises(ConfigError, match="Valid keys here"):
        load_config("run", RunConfig, ["env.physics.stiffness=1"])


def test_probe_sets_of_other_physics_are_kept_apart_and_refused(tmp_path: Path) -> None:
    small = ProbeSetConfig(root=str(tmp_path), min_per_regime=5, seq_len=5)
    default_env = EnvConfig()
    soft_env = EnvConfig(physics=PhysicsConfig(solref_timeconst=0.05))
    default_scene, soft_scene = make_env(default_env).unwrapped, make_env(soft_env).unwrapped
    assert probe_path(small, soft_env, soft_scene) != probe_path(small, default_env, default_scene)
    made = ensure_probe_set(small, default_env, default_scene)
    pinned = ProbeSetConfig(path=str(made.path), min_per_regime=5, seq_len=5)
    with pytest.raises(ProbeMismatch, match="scene hash"):
        ensure_probe_set(pinned, soft_env, soft_scene)


def test_probe_sets_of_other_labels_are_kept_apart_and_refused(tmp_path: Path) -> None:
    """A probe set's regimes are its labels: one made with other thresholds gets another
    folder, and one pinned by path is refused, naming the key (before, the folder name held
    no labels and a run with ``env.labels.jump_speed=null`` scored on the default's)."""
    small = ProbeSetConfig(root=str(tmp_path), min_per_regime=5, seq_len=5)
    default_env = EnvConfig()
    no_jump = EnvConfig(labels=LabelConfig(jump_speed=None))
    same = EnvConfig(labels=LabelConfig(topple_angle=45))  # an int: the default's value
    scene, no_jump_scene = make_env(default_env).unwrapped, make_env(no_jump).unwrapped
    assert labels_suffix({"topple_angle": 45.0, **LabelConfig().__dict__}) == ""
    assert probe_path(small, same, scene) == probe_path(small, default_env, scene)
    other = probe_path(small, no_jump, no_jump_scene)
    assert other != probe_path(small, default_env, scene) and other.name.endswith(
        labels_suffix({**LabelConfig().__dict__, "jump_speed": None})
    )
    made = ensure_probe_set(small, default_env, scene)
    assert made.data.meta.extra["labels"]["jump_speed"] == 0.5
    pinned = ProbeSetConfig(path=str(made.path), min_per_regime=5, seq_len=5)
    assert ensure_probe_set(pinned, same, scene).content_hash == made.content_hash
    with pytest.raises(
        ProbeMismatch, match="env.labels.jump_speed: the probe set 0.5, this run None"
    ):
        ensure_probe_set(pinned, no_jump, no_jump_scene)
    # Made before probe sets recorded their labels: taken as it is.
    meta_file = made.path / "meta.json"
    meta = json.loads(meta_file.read_text())
    del meta["extra"]["labels"]
    meta_file.write_text(json.dumps(meta))
    assert ensure_probe_set(pinned, no_jump, no_jump_scene).content_hash == made.content_hash


def test_expect_hash_keeps_the_expected_probe_set_and_refuses_any_other(tmp_path: Path) -> None:
    """``probe.expect_hash``: a malformed value is a config error naming the key; a run's
    probe set and ``probe make``'s must have the hash; ``probe make`` keeps an existing set
    that has it (a results script re-run) and refuses one that does not, leaving it as it is."""
    with pytest.raises(ConfigError, match="probe.expect_hash='../x'"):
        ProbeSetConfig(expect_hash="../x")
    with pytest.raises(ConfigError, match="probe.expect_hash"):
        ProbeSetConfig(expect_hash="abc")  # too short to name a set
    env = EnvConfig()
    scene = make_env(env).unwrapped
    small = {"root": str(tmp_path), "min_per_regime": 5, "seq_len": 5}
    made, kept = build_probe_set_command(ProbeSetConfig(**small), env, scene)
    assert not kept
    with pytest.raises(FileExistsError, match="probe.expect_hash"):  # no hash: refused as before
        build_probe_set_command(ProbeSetConfig(**small), env, scene)
    good = ProbeSetConfig(**small, expect_hash=made.content_hash[:12].upper())
    again, kept = build_probe_set_command(good, env, scene)
    assert kept and again.content_hash == made.content_hash
    assert ensure_probe_set(good, env, scene).content_hash == made.content_hash
    wrong_hash = ("0" if made.content_hash[0] != "0" else "1") + made.content_hash[1:16]
    wrong = ProbeSetConfig(**small, expect_hash=wrong_hash)
    for call in (build_probe_set_command, ensure_probe_set):
        with pytest.raises(ProbeMismatch, match=f"probe.expect_hash={wrong_hash}"):
            call(wrong, env, scene)
    assert load_probe_set(made.path).content_hash == made.content_hash  # left as it was
    # Kept only for the scene it was made for (the content hash covers the data alone).
    soft_env = EnvConfig(physics=PhysicsConfig(solref_timeconst=0.05))
    pinned = ProbeSetConfig(path=str(made.path), min_per_regime=5, seq_len=5,
                            expect_hash=made.content_hash)  # fmt: skip
    with pytest.raises(ProbeMismatch, match="scene hash"):
        build_probe_set_command(pinned, soft_env, make_env(soft_env).unwrapped)
    # A set built here with another hash than expected: refused, and left on disk as built.
    elsewhere = ProbeSetConfig(root=str(tmp_path / "b"), min_per_regime=5, seq_len=5,
                               expect_hash=wrong_hash)  # fmt: skip
    with pytest.raises(ProbeMismatch, match=f"probe.expect_hash={wrong_hash}"):
        build_probe_set_command(elsewhere, env, scene)
    built = load_probe_set(probe_path(elsewhere, env, scene))
    assert built.content_hash == made.content_hash  # the same collection, another folder
