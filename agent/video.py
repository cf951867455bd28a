"""Writing frames to MP4 (H.264 through the ffmpeg binary shipped by ``imageio-ffmpeg``)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import imageio.v2 as imageio
import numpy as np


def write_video(path: str | Path, frames: Iterable[np.ndarray], fps: int) -> int:
    """Encode ``(H, W, 3)`` uint8 frames to ``path``; returns the number of frames written.

    ``H`` and ``W`` must be multiples of 16 so no rescaling happens. The file is written under
    a temporary name and moved into place, so a crash never leaves a truncated video.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    count = 0
    with imageio.get_writer(
        tmp, fps=fps, codec="libx264", quality=7, macro_block_size=16
    ) as writer:
        for frame in frames:
            writer.append_data(np.asarray(frame, dtype=np.uint8))  # type: ignore[attr-defined]
            count += 1
    tmp.replace(path)
    return count
