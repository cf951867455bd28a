"""``contactlab viz RUN_DIR``: the real rollout next to the model's imagined one, to video.

For a few probe sequences chosen to show impacts, the model rolls out open loop from the
sequence's first state with the true actions (the agent's own motion given, as in the probe
evaluation, so only the objects are imagined). Each video frame holds three panels (real
MuJoCo, imagined, and their overlay where errors show as ghosts) with entities tinted by the
true regime and a red frame on impact steps, and a timeline strip underneath: the imagined
state's object position error and the curiosity signal's intrinsic reward per step.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from agent.make_env import make_env
from agent.report.model import intrinsic_rewards, restore_model
from agent.report.panels import (
    PANEL_GAP,
    frame_regimes,
    impact_frames,
    side_by_side_frames,
)
from agent.report.run_folder import RunFolder, layout_of
from agent.report.timeline import render_timeline
from agent.video import write_video
from envs.layout import EntityLayout
from envs.regimes import Regime
from envs.scene import ContactSceneEnv
from world_model.inference import given_mask_for, rollout_mean

VIDEO_NAME = "viz.mp4"
HEADER = 16  #: pixels of the title row above the panels
PANELS = ("real (MuJoCo)", "imagined (model, open loop)", "overlay (magenta: model error)")


@dataclass(frozen=True)
class VizConfig:
    """What the rollout video shows and how large.

    Attributes:
        sequences: probe sequences shown, those with the most object impacts first.
        panel_width, panel_height: pixels of each of the three panels (multiples of 16).
        strip_height: pixels of the timeline strip (a multiple of 16).
        fps: video frames per second; one frame per env step, so 5 fps is 10x slow motion
            for the 50 Hz scenes.
        hold: extra copies of each sequence's last frame (a pause between sequences).
    """

    sequences: int = 4
    panel_width: int = 320
    panel_height: int = 240
    strip_height: int = 112
    fps: int = 5
    hold: int = 3

    def __post_init__(self) -> None:
        for key in ("panel_width", "panel_height", "strip_height"):
            value = getattr(self, key)
            if value <= 0 or value % 16:
                raise ValueError(f"{key}={value!r} must be a positive multiple of 16")
        if self.sequences < 1 or self.fps < 1 or self.hold < 0:
            raise ValueError("sequences and fps must be >= 1, hold >= 0")

    @property
    def frame_size(self) -> tuple[int, int]:
        """``(height, width)`` of every video frame."""
        width = 3 * self.panel_width + 2 * PANEL_GAP
        return HEADER + self.panel_height + self.strip_height, width


@dataclass
class VizResult:
    """What :func:`write_viz_video` made.

    Attributes:
        path: the MP4 file.
        frames: frames written.
        frame_size: ``(height, width)``.
        sequences: per shown sequence: probe index, object impacts, final and max error (mm),
            mean intrinsic reward (NaN without a signal).
        render_seconds: time spent rendering panels (MuJoCo), for the frame-rate figure.
        renders: panels rendered.
        poster: the first sequence's frame of largest model error (where its ghost shows
            best), a still for pages and thumbnails.
    """

    path: Path
    frames: int
    frame_size: tuple[int, int]
    sequences: list[dict[str, float]] = field(default_factory=list)
    render_seconds: float = 0.0
    renders: int = 0
    poster: np.ndarray | None = None


def impact_sequences(regime_seq: np.ndarray, layout: EntityLayout, n: int) -> np.ndarray:
    """Indices of the ``n`` sequences with the most object impacts (fewer if fewer have any;
    ties keep probe order).

    Args:
        regime_seq: ``(S, H, E)`` regime codes of the probe sequences.
    """
    objects = layout.indices("object")
    impacts = (regime_seq[:, :, objects] == int(Regime.IMPACT)).sum(axis=(1, 2))
    order = np.argsort(-impacts, kind="stable")
    return order[impacts[order] > 0][:n]


def object_error_mm(real: np.ndarray, imagined: np.ndarray, layout: EntityLayout) -> np.ndarray:
    """``(T,)`` mean over objects of the position error, mm."""
    objects = layout.indices("object")
    diff = layout.split(imagined)[:, objects, 0:3] - layout.split(real)[:, objects, 0:3]
    return np.linalg.norm(diff, axis=-1).mean(axis=-1) * 1000.0


def write_viz_video(
    run_dir: str | Path, out: str | Path | None = None, cfg: VizConfig | None = None
) -> VizResult:
    """Render the real-vs-imagined video of a run folder (default ``RUN_DIR/viz.mp4``).

    Raises:
        agent.report.run_folder.ReportError: no checkpoint or probe set to draw from.
    """
    cfg = cfg or VizConfig()
    run = RunFolder.load(run_dir)
    probe = run.probe()
    layout = layout_of(probe)
    action_dim = probe.data.meta.action_dim
    restored = restore_model(run, layout, action_dim)
    obs_seq, actions, regime_seq = probe.sequences()
    actions = restored.conditioning(layout, obs_seq, actions)
    chosen = impact_sequences(regime_seq, layout, cfg.sequences)
    if len(chosen) == 0:  # no impacts in the probe set: show the first sequences
        chosen = np.arange(min(cfg.sequences, len(obs_seq)))
    imagined = rollout_mean(
        restored.model, obs_seq[chosen], actions[chosen], given_mask_for(layout, ("agent",))
    )
    env = make_env(
        run.env_config(),
        render_mode="rgb_array",
        width=cfg.panel_width,
        height=cfg.panel_height,
    ).unwrapped
    assert isinstance(env, ContactSceneEnv)
    result = VizResult(Path(out) if out else run.path / VIDEO_NAME, 0, cfg.frame_size)
    objects = layout.indices("object")

    def frames():  # noqa: ANN202 - a generator of video frames
        for k, s in enumerate(chosen):
            real = obs_seq[s]
            imag = np.concatenate([real[:1], imagined[k]], axis=0)
            regimes = frame_regimes(regime_seq[s])
            impact = impact_frames(regimes, objects)
            error = object_error_mm(real, imag, layout)
            reward = (
                intrinsic_rewards(restored.signal, real, actions[s])
                if restored.signal is not None
                else None
            )
            result.sequences.append(
                {
                    "probe_sequence": int(s),
                    "object_impacts": int(impact.sum()),
                    "final_error_mm": float(error[-1]),
                    "max_error_mm": float(error.max()),
                    "mean_reward": float(reward.mean()) if reward is not None else float("nan"),
                }
            )
            start = time.perf_counter()
            panels = side_by_side_frames(env, real, imag, regimes, impact, overlay=True)
            result.render_seconds += time.perf_counter() - start
            result.renders += 2 * len(real)
            title = f"probe sequence {s}: object error (blue)"
            if restored.curiosity_name:
                title += f", {restored.curiosity_name} intrinsic reward (orange)"
            strip = render_timeline(
                error, reward, impact, cfg.frame_size[1], cfg.strip_height, title
            )
            poster_at = int(np.argmax(error))  # the ghost at its clearest
            for t in range(len(real)):
                frame = _compose(panels[t], strip.at(t), cfg, f"seq {s}  step {t}/{len(real) - 1}")
                if result.poster is None and t == poster_at:
                    result.poster = frame
                for _ in range(1 + (cfg.hold if t == len(real) - 1 else 0)):
                    yield frame

    try:
        result.frames = write_video(result.path, frames(), fps=cfg.fps)
    finally:
        env.close()
    return result


def _compose(panels: np.ndarray, strip: np.ndarray, cfg: VizConfig, step_text: str) -> np.ndarray:
    """Stack the title row, the panels and the strip into one frame."""
    height, width = cfg.frame_size
    header = Image.new("RGB", (width, HEADER), (255, 255, 255))
    draw = ImageDraw.Draw(header)
    for i, text in enumerate(PANELS):
        draw.text((i * (cfg.panel_width + PANEL_GAP) + 2, 2), text, fill=(0, 0, 0))
    strip_img = Image.fromarray(strip)
    ImageDraw.Draw(strip_img).text((width - 6 * len(step_text) - 8, 2), step_text, fill=(0, 0, 0))
    frame = np.concatenate([np.asarray(header), panels, np.asarray(strip_img)], axis=0)
    assert frame.shape == (height, width, 3), frame.shape
    return frame
