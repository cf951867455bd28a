"""Oracle tests of two labelling rules: impacts through a continuing contact (Newton's cradle)
and configurable ground support (a ball rolling down a ramp)."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from envs.entities import discover_entities, find_support_geoms
from envs.labeler import ContactLabeler, StepLabels, entity_states
from envs.regimes import LabelConfig, PairKind, Regime

DT, SUBSTEPS = 0.002, 10


def _labels(
    xml: str, steps: int, cfg: LabelConfig, support: tuple[str, ...] | None = None
) -> list[StepLabels]:
    model = mujoco.MjModel.from_xml_string(xml)
    data = mujoco.MjData(model)
    layout = discover_entities(model, require_objects=False)
    ids = np.array([e.body_id for e in layout.entities])
    labeler = ContactLabeler(model, layout, find_support_geoms(model, support), cfg)
    mujoco.mj_forward(model, data)
    labeler.reset(data)
    state = entity_states(model, data, ids)
    out = []
    for _ in range(steps):
        labeler.begin_step(state)
        labeler.step_physics(data, SUBSTEPS)
        state = entity_states(model, data, ids)
        out.append(labeler.end_step(state, SUBSTEPS))
    return out


# Zero gravity, three equal balls on the x axis, A flying at V0 = 3 m/s into B. B and C sit
# 0.5 mm apart, inside their contact margins (1 mm each), so MuJoCo lists the B-C contact from
# the first step on (and its soft margin force eases them apart at ~1.4 cm/s each): when the
# wave arrives, B-C is a continuing contact, exactly the case the jump rule is for.
CRADLE = f"""
<mujoco>
  <option timestep="{DT}" gravity="0 0 0"/>
  <default><geom type="sphere" size=".05" margin=".001" gap=".001" friction="0"/></default>
  <worldbody>
    <body name="A" pos="0 0 0"><freejoint/><geom/></body>
    <body name="B" pos=".3 0 0"><freejoint/><geom/></body>
    <body name="C" pos=".4005 0 0"><freejoint/><geom/></body>
  </worldbody>
  <keyframe><key qvel="3 0 0 0 0 0  0 0 0 0 0 0  0 0 0 0 0 0"/></keyframe>
</mujoco>"""


def _cradle(cfg: LabelConfig) -> list[StepLabels]:
    return _labels_from_key(CRADLE, 10, cfg)


def _labels_from_key(xml: str, steps: int, cfg: LabelConfig) -> list[StepLabels]:
    model = mujoco.MjModel.from_xml_string(xml)
    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, 0)
    layout = discover_entities(model, require_objects=False)
    ids = np.array([e.body_id for e in layout.entities])
    labeler = ContactLabeler(model, layout, find_support_geoms(model), cfg)
    mujoco.mj_forward(model, data)
    labeler.reset(data)
    state = entity_states(model, data, ids)
    out = []
    for _ in range(steps):
        labeler.begin_step(state)
        labeler.step_physics(data, SUBSTEPS)
        state = entity_states(model, data, ids)
        out.append(labeler.end_step(state, SUBSTEPS))
    return out


def test_newtons_cradle_far_ball_is_struck_through_its_contact() -> None:
    """A meets B when it has flown ~0.2 m (0.2 / (V0 dt) = 33.3 substeps): agent step 3, at
    approach speed V0 (plus B's slow recoil from C, 1.4 cm/s: within 1%). Momentum ``m V0`` is
    conserved and C, in front, ends at least as fast as the others, so C leaves at >= V0 / 3
    = 1 m/s: a jump above 0.5 m/s in one of the next steps, through the B-C contact that
    began before A arrived."""
    labels = _cradle(LabelConfig())
    a, b, c = 0, 1, 2
    regimes = np.array([lab.regime for lab in labels])
    first = int(np.flatnonzero(regimes[:, a] == Regime.IMPACT)[0])
    assert first == 3
    assert regimes[first, b] == Regime.IMPACT
    assert labels[first].approach_speed[a] == pytest.approx(3.0, rel=0.01)
    assert (regimes[:first, c] == Regime.CONTACT).all()  # touching B, easing away slowly
    struck = [i for i in range(first, len(labels)) if regimes[i, c] == Regime.IMPACT]
    assert struck, f"C never labelled impact: {regimes[:, c]}"
    i = struck[0]
    assert labels[i].approach_speed[c] == 0.0, "no contact began for C: the jump rule fired"
    assert labels[i].velocity_jump[c] > 0.5
    assert labels[i].pair_kind[c] == PairKind.OBJECT_OBJECT
    assert labels[-1].velocity_jump[c] < 0.5  # afterwards C just flies
    # C only ever gets pushed along +x, so its jumps add up to its final speed (>= V0 / 3).
    assert sum(float(lab.velocity_jump[c]) for lab in labels) >= 1.0


def test_without_the_jump_rule_the_far_ball_stays_contact() -> None:
    labels = _cradle(LabelConfig(jump_speed=None))
    assert all(lab.regime[2] != Regime.IMPACT for lab in labels)


RAMP = f"""
<mujoco>
  <option timestep="{DT}"/>
  <worldbody>
    <geom name="floor" type="plane" size="3 3 .1"/>
    <geom name="ramp" type="box" size=".5 .3 .01" pos="0 0 .25" euler="0 20 0"/>
    <body name="ball" pos="{{x}} 0 {{z}}"><freejoint/><geom type="sphere" size=".05"/></body>
  </worldbody>
</mujoco>"""


def _ramp_xml() -> str:
    """The ball resting on the ramp's top face, near its upper end (hand geometry: the face
    normal is (sin 20deg, 0, cos 20deg) rotated, the ball centre one radius + half-thickness
    above the face)."""
    angle = np.deg2rad(20.0)
    along = np.array([np.cos(angle), 0.0, -np.sin(angle)])  # box x axis after euler y=20
    normal = np.array([np.sin(angle), 0.0, np.cos(angle)])
    centre = np.array([0.0, 0.0, 0.25]) - 0.35 * along + (0.01 + 0.05 - 1e-4) * normal
    return RAMP.format(x=centre[0], z=centre[2])


def test_a_ramp_named_as_support_makes_rolling_free() -> None:
    cfg = LabelConfig()
    rolling = _labels(_ramp_xml(), 12, cfg, support=("floor", "ramp"))
    assert [int(lab.regime[0]) for lab in rolling[1:10]] == [Regime.FREE] * 9
    assert all(lab.pair_mask[0] == 0 for lab in rolling[:10])
    default = _labels(_ramp_xml(), 12, cfg)  # planes only: the ramp is something touched
    assert [int(lab.regime[0]) for lab in default[1:10]] == [Regime.CONTACT] * 9
    assert all(lab.pair_kind[0] == PairKind.OBJECT_STATIC for lab in default[1:10])
