"""Contact-stratified metrics on hand-made fixtures with known answers, and the metrics logger."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from envs.layout import Entity, EntityLayout
from envs.regimes import PairKind, Regime
from world_model.evaluation import one_step_metrics, rollout_metrics
from world_model.metrics_log import MetricsLogger

LAYOUT = EntityLayout(entities=(Entity("hand", "agent", 1), Entity("box", "object", 2)))
POS, VEL = 13 + 0, 13 + 7  # first pos / linvel index of the object


def _fixture():
    """Four object transitions: impact, free, free, rest, with known prediction errors."""
    n = 4
    obs = np.zeros((n, 26), np.float32)
    obs[:, 3] = obs[:, 16] = 1.0  # quaternions w
    nxt = obs.copy()
    nxt[:, POS] = [0.01, -0.01, 0.01, -0.01]  # true delta of pos x: var 1e-4
    nxt[:, VEL] = [0.2, -0.2, 0.2, -0.2]  # true delta of vel x: var 0.04
    pred = nxt.copy()
    pred[0, POS : POS + 3] += [0.003, 0.004, 0.0]  # 5 mm
    pred[0, VEL : VEL + 3] += [0.0, 0.3, 0.4]  # 0.5 m/s
    pred[1, POS] += 0.001  # 1 mm
    pred[1, VEL] += 0.1  # 0.1 m/s
    pred[2, POS + 1] += 0.002  # 2 mm
    pred[:, 0:13] += 5.0  # the agent is badly predicted but not scored
    regime = np.array(
        [[2, Regime.IMPACT], [2, Regime.FREE], [2, Regime.FREE], [2, Regime.REST]], np.int8
    )
    pair = np.zeros((n, 2), np.int8)
    pair[0, 1] = PairKind.OBJECT_STATIC
    return obs, nxt, pred, regime, pair


def test_one_step_metrics_match_hand_computed_values() -> None:
    m = one_step_metrics(*_fixture(), LAYOUT)
    expected = {
        "probe/impact/count": 1,
        "probe/impact/pos_mm": 5.0,
        "probe/impact/vel": 0.5,
        # state: mean over the 2 varying features of err^2 / var: ((0.003^2 / 1e-4) + 0) / 2
        "probe/impact/state": 0.045,
        "probe/free/count": 2,
        "probe/free/pos_mm": 1.5,
        "probe/free/vel": 0.05,
        # row 1: (0.001^2 / 1e-4 + 0.1^2 / 0.04) / 2 = 0.13; row 2: 0
        "probe/free/state": 0.065,
        "probe/rest/count": 1,
        "probe/rest/pos_mm": 0.0,
        "probe/rest/vel": 0.0,
        "probe/contact/count": 0,
        "probe/pair/object-static/count": 1,
        "probe/pair/object-static/pos_mm": 5.0,
        "probe/pair/none/count": 3,
        "probe/pair/none/pos_mm": 1.0,
        "probe/pair/agent-object/count": 0,
        "probe/pair/object-object/count": 0,
        "probe/all/count": 4,
        "probe/all/pos_mm": 2.0,
        "probe/all/vel": 0.15,
        "probe/contact_gap": 5.0 / 1.5,
    }
    for key, value in expected.items():
        assert m[key] == pytest.approx(value, rel=1e-5, abs=1e-9), key
    assert "probe/contact/pos_mm" not in m  # empty groups report only their count


def test_scoring_the_agent_instead_changes_the_numbers() -> None:
    m = one_step_metrics(*_fixture(), LAYOUT, entities=[0], prefix="agent")
    assert m["agent/all/pos_mm"] == pytest.approx(np.sqrt(3 * 25.0) * 1000, rel=1e-5)
    assert m["agent/pair/none/count"] == 4


def test_rollout_metrics_and_onset_timing() -> None:
    h = 3
    true = np.zeros((2, h + 1, 26), np.float32)
    true[..., 3] = true[..., 16] = 1.0
    imag = true[:, 1:].copy()
    imag[:, :, POS] += np.array([0.001, 0.002, 0.003])  # 1, 2, 3 mm at steps 0, 1, 2
    regime = np.full((2, h, 2), Regime.FREE, np.int8)
    regime[0, 1, 1] = Regime.IMPACT  # seq 0: impact over transition 1
    regime[1, 0, 1] = Regime.IMPACT  # seq 1: impact over transition 0
    # Imagined velocity: the largest change is over transition 2 in both sequences.
    imag[:, :, VEL] = np.array([0.1, 0.2, 1.0])
    m = rollout_metrics(true, imag, regime, LAYOUT)
    assert m["probe/rollout/impact/count"] == 2
    assert m["probe/rollout/impact/pos_mm"] == pytest.approx((2.0 + 1.0) / 2)
    assert m["probe/rollout/free/pos_mm"] == pytest.approx((1 + 3 + 2 + 3) / 4)
    assert m["probe/rollout/all/pos_mm"] == pytest.approx(2.0)
    assert m["probe/rollout/final/pos_mm"] == pytest.approx(3.0)
    assert m["probe/onset_count"] == 2
    assert m["probe/onset_within_1"] == pytest.approx(0.5)  # |2-1| = 1 within, |2-0| = 2 not
    assert m["probe/onset_err"] == pytest.approx(1.5)


def test_no_objects_is_a_clear_error() -> None:
    layout = EntityLayout(entities=(Entity("hand", "agent", 1),))
    x = np.zeros((1, 13), np.float32)
    with pytest.raises(ValueError, match="no entities to score"):
        one_step_metrics(x, x, x, np.zeros((1, 1)), np.zeros((1, 1)), layout)


def test_metrics_logger_appends_and_handles_new_keys(tmp_path: Path) -> None:
    log = MetricsLogger(tmp_path, tensorboard=True)
    log.log(100, {"probe/free/pos_mm": 3.0})
    log.log(200, {"probe/free/pos_mm": 2.0, "probe/impact/pos_mm": 9.0})
    log.close()
    log = MetricsLogger(tmp_path, tensorboard=False)  # resume appends to the same files
    log.log(300, {"probe/free/pos_mm": 1.0, "probe/contact_gap": float("nan")})
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [100, 200, 300] and rows[2]["probe/contact_gap"] is None
    with open(tmp_path / "metrics.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert list(table[0]) == [
        "step",
        "probe/free/pos_mm",
        "probe/impact/pos_mm",
        "probe/contact_gap",
    ]
    assert [r["probe/impact/pos_mm"] for r in table] == ["", "9.0", ""]
    assert list((tmp_path / "tb").glob("events.out.tfevents.*"))
    log.truncate_after(200)
    assert len((tmp_path / "metrics.jsonl").read_text().splitlines()) == 2
    with open(tmp_path / "metrics.csv", newline="") as f:
        assert [r["step"] for r in csv.DictReader(f)] == ["100", "200"]
