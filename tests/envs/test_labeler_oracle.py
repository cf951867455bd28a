"""Oracle tests: small hand-built scenes where physics gives the answer."""

from __future__ import annotations

import math

import mujoco
import numpy as np
import pytest

from envs.entities import discover_entities, find_support_geoms
from envs.labeler import ContactLabeler, StepLabels, entity_states
from envs.regimes import LabelConfig, PairKind, Regime

SUBSTEPS, DT = 10, 0.002


def _scene(
    body_xml: str, gravity: str = "0 0 -9.81", actuators: str = ""
) -> tuple[mujoco.MjModel, mujoco.MjData]:
    xml = f"""
    <mujoco>
      <option timestep="{DT}" gravity="{gravity}"/>
      <worldbody>
        <geom name="floor" type="plane" size="2 2 .1"/>
        {body_xml}
      </worldbody>
      <actuator>{actuators}</actuator>
    </mujoco>"""
    model = mujoco.MjModel.from_xml_string(xml)
    return model, mujoco.MjData(model)


def _run(
    model: mujoco.MjModel, data: mujoco.MjData, steps: int, ctrl: np.ndarray | None = None
) -> list[StepLabels]:
    layout = discover_entities(model, require_objects=False)
    ids = np.array([e.body_id for e in layout.entities])
    labeler = ContactLabeler(model, layout, find_support_geoms(model), LabelConfig())
    mujoco.mj_forward(model, data)
    labeler.reset(data)
    state = entity_states(model, data, ids)
    out = []
    for _ in range(steps):
        if ctrl is not None:
            data.ctrl[:] = ctrl
        labeler.begin_step(state)
        labeler.step_physics(data, SUBSTEPS)
        state = entity_states(model, data, ids)
        out.append(labeler.end_step(state, SUBSTEPS))
    return out


def test_dropped_ball_impact_at_the_step_its_fall_time_predicts() -> None:
    radius, height = 0.05, 0.5
    model, data = _scene(
        f'<body name="ball" pos="0 0 {height}"><freejoint/>'
        f'<geom type="sphere" size="{radius}"/></body>'
    )
    labels = _run(model, data, 40)
    regimes = [int(lab.regime[0]) for lab in labels]
    fall_time = math.sqrt(2 * (height - radius) / 9.81)
    expected = int(fall_time / (SUBSTEPS * DT))  # the agent step during which it lands
    first_impact = regimes.index(Regime.IMPACT)
    assert abs(first_impact - expected) <= 1, (first_impact, expected)
    assert all(r == Regime.FREE for r in regimes[:first_impact]), (
        "falling ball must be free before landing"
    )
    assert all(labels[i].airborne[0] for i in range(first_impact - 1))
    landing = labels[first_impact]
    assert landing.pair_kind[0] == PairKind.OBJECT_STATIC
    assert landing.approach_speed[0] == pytest.approx(9.81 * fall_time, rel=0.05)
    assert any(labels[i].critical[0] for i in range(first_impact)), (
        "a fast fall is a critical event"
    )


def test_head_on_spheres_collide_as_impact_for_both() -> None:
    model, data = _scene(
        '<body name="a" pos="-0.2 0 1"><freejoint/><geom type="sphere" size="0.05"/></body>'
        '<body name="b" pos="0.2 0 1"><freejoint/><geom type="sphere" size="0.05"/></body>',
        gravity="0 0 0",
    )
    data.qvel[0], data.qvel[6] = 1.0, -1.0  # closing at 2 m/s; gap 0.3 m closes at t = 0.15 s
    labels = _run(model, data, 15)
    impact_steps = [i for i, lab in enumerate(labels) if (lab.regime == Regime.IMPACT).all()]
    assert impact_steps and abs(impact_steps[0] - 7) <= 1
    hit = labels[impact_steps[0]]
    assert (hit.pair_kind == PairKind.OBJECT_OBJECT).all()
    np.testing.assert_allclose(hit.approach_speed, 2.0, rtol=0.02)
    assert all((lab.regime == Regime.FREE).all() for lab in labels[: impact_steps[0]])


def test_resting_box_is_rest_never_free() -> None:
    model, data = _scene(
        '<body name="box" pos="0 0 0.05"><freejoint/>'
        '<geom type="box" size="0.05 0.05 0.05"/></body>'
    )
    labels = _run(model, data, 150)
    settled = [int(lab.regime[0]) for lab in labels[10:]]
    assert set(settled) == {Regime.REST}
    assert not any(lab.regime[0] == Regime.FREE for lab in labels)


def test_pushed_box_is_contact_with_the_agent() -> None:
    model, data = _scene(
        '<body name="pusher" pos="-0.2 0 0.05"><joint name="px" type="slide" axis="1 0 0"/>'
        '<geom type="box" size="0.02 0.05 0.04" contype="1" conaffinity="1"/></body>'
        '<body name="box" pos="0 0 0.05"><freejoint/>'
        '<geom type="box" size="0.05 0.05 0.05" friction="0.5"/></body>',
        actuators='<velocity joint="px" kv="200" ctrlrange="-1 1"/>',
    )
    # Gap 0.13 m at 0.05 m/s (below the 0.1 m/s impact threshold): touches after ~2.6 s.
    labels = _run(model, data, 250, ctrl=np.array([0.05]))
    box = [int(lab.regime[1]) for lab in labels]
    first = box.index(Regime.CONTACT)
    assert 120 <= first <= 145
    assert Regime.IMPACT not in box, "a slow push must not be an impact"
    pushing = labels[first + 5 :]
    assert all(
        lab.regime[1] == Regime.CONTACT and lab.pair_kind[1] == PairKind.AGENT_OBJECT
        for lab in pushing
    )
    assert all(lab.regime[0] == Regime.CONTACT for lab in pushing), "the agent is in contact too"
