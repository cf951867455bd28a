"""Reports of a real run folder: video, HTML in a real browser, TensorBoard, the CLI."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any  # the debug_run fixture's DebugRun (tests/report/conftest.py)

import imageio.v3 as iio
import numpy as np
import pytest

from agent.make_env import make_env
from agent.report.commands import report_command, viz_command
from agent.report.model import restore_model
from agent.report.panels import PANEL_GAP, frame_regimes, side_by_side_frames
from agent.report.run_folder import RunFolder, layout_of
from agent.report.viz import VizConfig, impact_sequences, write_viz_video
from world_model.inference import given_mask_for, rollout_mean


def _media_verdict(dom: str) -> str:
    match = re.search(r'<body[^>]*data-media-ok="([^"]*)"', dom)
    return match.group(1) if match else "missing: the check never finished"


def test_contactlab_run_leaves_a_report_and_a_video(debug_run: Any) -> None:
    assert (debug_run.path / "report.html").is_file()
    assert (debug_run.path / "viz.mp4").is_file()
    assert "warning: no report" not in debug_run.stderr
    assert f"report: {Path('runs/x/report.html')}" in debug_run.stdout


def test_run_video_decodes_with_the_expected_frames(debug_run: Any) -> None:
    run = RunFolder.load(debug_run.path)
    probe = run.probe()
    _, _, regime_seq = probe.sequences()
    n_seq = len(impact_sequences(regime_seq, layout_of(probe), VizConfig().sequences))
    assert n_seq == VizConfig().sequences, "the debug probe set has impacts to show"
    frames = iio.imread(debug_run.path / "viz.mp4")
    h, w = VizConfig().frame_size
    assert frames.shape == (n_seq * (probe.seq_len + 1 + VizConfig().hold), h, w, 3)


def test_viz_options_change_size_and_length(debug_run: Any, tmp_path: Path) -> None:
    cfg = VizConfig(sequences=2, panel_width=96, panel_height=64, strip_height=64, hold=0)
    result = write_viz_video(debug_run.path, tmp_path / "v.mp4", cfg)
    frames = iio.imread(tmp_path / "v.mp4")
    assert frames.shape == (result.frames, *cfg.frame_size, 3)
    assert result.frames == 2 * (RunFolder.load(debug_run.path).probe().seq_len + 1)
    assert all(np.isfinite(s["mean_reward"]) for s in result.sequences)  # curiosity restored
    assert all(s["object_impacts"] >= 1 for s in result.sequences)


def test_the_models_imagined_rollout_differs_from_the_real_one(debug_run: Any) -> None:
    run = RunFolder.load(debug_run.path)
    probe = run.probe()
    layout = layout_of(probe)
    restored = restore_model(run, layout, probe.data.meta.action_dim)
    obs, actions, regimes = probe.sequences()
    actions = restored.conditioning(layout, obs, actions)
    s = int(impact_sequences(regimes, layout, 1)[0])
    imagined = rollout_mean(
        restored.model, obs[s : s + 1], actions[s : s + 1], given_mask_for(layout)
    )
    imag = np.concatenate([obs[s, :1], imagined[0]])
    scene = make_env(run.env_config(), render_mode="rgb_array", width=64, height=64).unwrapped
    frames = side_by_side_frames(scene, obs[s], imag, frame_regimes(regimes[s]))
    real_half, imag_half = frames[:, :, :64].astype(int), frames[:, :, 64 + PANEL_GAP :]
    diff = np.abs(real_half - imag_half).sum(axis=(1, 2, 3))
    assert diff[0] == 0, "both rollouts start from the same state"
    assert diff[-1] > 0, "a 600-step model is wrong after a few open-loop steps"


def test_report_loads_in_headless_chromium_even_when_copied(
    debug_run: Any, tmp_path: Path, dump_dom: Callable[[str], str]
) -> None:
    copy = tmp_path / "copied"
    copy.mkdir()
    for name in ("report.html", "viz.mp4"):  # the page needs only itself and the video
        shutil.copy(debug_run.path / name, copy / name)
    dom = dump_dom((copy / "report.html").as_uri())
    assert _media_verdict(dom) == "ok"
    assert dom.count("<img") >= 4 and "<video" in dom
    (copy / "viz.mp4").unlink()  # the check must be able to fail
    dom = dump_dom((copy / "report.html").as_uri())
    assert _media_verdict(dom).startswith("fail: video 0")


def test_report_figures_are_in_tensorboard(debug_run: Any) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tags: set[str] = set()
    for events in (debug_run.path / "tb").glob("events.out.tfevents.*"):
        acc = EventAccumulator(str(events), size_guidance={"images": 0})
        acc.Reload()
        tags |= set(acc.Tags()["images"])
    assert {"report/probe_errors", "report/visitation", "report/regimes_visited"} <= tags


def test_report_and_viz_commands_name_bad_input(
    debug_run: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert viz_command([str(debug_run.path), "sequnces=2"]) == 2
    assert "unknown option 'sequnces'" in capsys.readouterr().err
    assert viz_command([str(debug_run.path), "fps=fast"]) == 2
    assert "fps='fast'" in capsys.readouterr().err
    assert report_command([str(tmp_path)]) == 2
    assert "not a run folder" in capsys.readouterr().err


def test_report_command_writes_a_page(debug_run: Any, tmp_path: Path) -> None:
    run = tmp_path / "copy"
    shutil.copytree(debug_run.path, run)
    out = subprocess.run(
        [sys.executable, "-m", "agent.cli", "report", str(run), "video=false"],
        cwd=debug_run.cwd,  # where the probe set is
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    page = (run / "report.html").read_text()
    assert "Probe error per contact regime" in page and "config.yaml" in page
    assert "<td>explorer_steps/warmup</td><td>200</td>" in page  # never "None"
    assert "<video" not in page  # video=false: no video rendered, none embedded
    # the run's own report has the video, with its controls below it (not the browser's)
    own = (debug_run.path / "report.html").read_text()
    assert 'class="controls"' in own and "<video controls" not in own


@pytest.mark.slow
def test_video_source_run_gets_a_report(tmp_path: Path, with_report: None) -> None:
    """A "video" source's model is conditioned on the agent's motion, not on actions."""
    out = subprocess.run(
        [sys.executable, "-m", "agent.cli", "run", "experiment=debug", "source=video_random"]
        + ["run_name=v"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "warning: no report" not in out.stderr
    frames = iio.imread(tmp_path / "runs/v/viz.mp4")
    assert frames.shape[1:] == (*VizConfig().frame_size, 3)


def test_contactlab_report_0_skips_the_report_and_says_how_to_write_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from agent.report import write_run_report_or_warn

    monkeypatch.setenv("CONTACTLAB_REPORT", "0")
    assert write_run_report_or_warn(tmp_path) is None
    out = capsys.readouterr().out
    assert "report: skipped (CONTACTLAB_REPORT=0)" in out and f"contactlab report {tmp_path}" in out
    assert not list(tmp_path.iterdir())  # nothing written
    monkeypatch.setenv("CONTACTLAB_REPORT", "1")  # asked for: tried, and warns (not a run folder)
    assert write_run_report_or_warn(tmp_path) is None
    assert "warning: no report for" in capsys.readouterr().err
