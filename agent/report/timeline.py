"""The strip under the rollout video: per-step model error and intrinsic reward over time.

Drawn once per sequence with matplotlib (Agg); each video frame then gets a copy with a cursor
at its step, so a sequence costs one figure, not one per frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

CURSOR_COLOR = np.array([20, 20, 20], dtype=np.uint8)


@dataclass
class Timeline:
    """A rendered strip and where each step sits on it.

    Attributes:
        image: ``(height, width, 3)`` uint8.
        step_x: ``(T,)`` pixel column of each step.
    """

    image: np.ndarray
    step_x: np.ndarray

    def at(self, t: int) -> np.ndarray:
        """The strip with a 2-pixel cursor at step ``t``."""
        out = self.image.copy()
        x = int(self.step_x[t])
        out[:, max(x - 1, 0) : x + 1] = CURSOR_COLOR
        return out


def render_timeline(
    error_mm: np.ndarray,
    reward: np.ndarray | None,
    impact: np.ndarray,
    width: int,
    height: int,
    title: str = "",
) -> Timeline:
    """Plot the per-step error and reward of one sequence into a ``width x height`` strip.

    Args:
        error_mm: ``(T,)`` mean object position error of the imagined state at each frame, mm
            (0 at the start frame).
        reward: ``(T - 1,)`` intrinsic reward of each real transition (drawn at the frame the
            transition ends in), or ``None`` when the run has no curiosity signal.
        impact: ``(T,)`` bool, frames with an object impact (red bands).
        width, height: pixels.
        title: text in the top left corner.
    """
    dpi = 100
    fig = plt.figure(figsize=(width / dpi, height / dpi), dpi=dpi)
    try:
        ax = fig.add_axes((0.055, 0.3, 0.88, 0.52))
        steps = np.arange(len(error_mm))
        for t in np.flatnonzero(impact):
            ax.axvspan(t - 0.5, t + 0.5, color=(0.95, 0.1, 0.1), alpha=0.25, lw=0)
        ax.plot(steps, error_mm, color="tab:blue", marker="o", ms=3, lw=1.5)
        ax.set_xlim(-0.5, len(error_mm) - 0.5)
        ax.set_ylim(bottom=0)
        ax.set_xticks(steps)
        ax.tick_params(labelsize=6, pad=1)
        ax.set_ylabel("error mm", fontsize=6, color="tab:blue", labelpad=1)
        ax.set_xlabel("step (red: impact)", fontsize=6, labelpad=1)
        if reward is not None:
            ax2 = ax.twinx()
            ax2.plot(steps[1:], reward, color="tab:orange", marker="s", ms=3, lw=1.2)
            ax2.set_ylim(bottom=min(0.0, float(np.nanmin(reward, initial=0.0))))
            ax2.tick_params(labelsize=6, pad=1)
            ax2.set_ylabel("intrinsic reward", fontsize=6, color="tab:orange", labelpad=1)
        if title:
            fig.text(0.005, 0.92, title, fontsize=7, va="center")
        fig.canvas.draw()
        image = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()  # type: ignore[attr-defined]
        display = ax.transData.transform(np.stack([steps, np.zeros_like(steps)], axis=1))
        step_x = np.clip(np.round(display[:, 0]), 0, width - 1).astype(np.int64)
    finally:
        plt.close(fig)
    return Timeline(image=image, step_x=step_x)
