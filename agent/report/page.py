"""HTML building blocks shared by the run and comparison pages.

Every page carries an inline script that checks, on load, that every image decoded and every
video decoded its first frame (``readyState >= 2``, ``loadeddata``), and records the verdict in
``document.body.dataset.mediaOk`` (``"ok"`` or ``"fail: ..."``) for headless-browser tests.
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from agent.report import plots

REPORT_NAME = "report.html"

MEDIA_CHECK = """
<script>
window.addEventListener("load", function () {
  var problems = [];
  Array.from(document.images).forEach(function (im, i) {
    if (!(im.complete && im.naturalWidth > 0)) problems.push("image " + i + " did not decode");
  });
  var waits = Array.from(document.querySelectorAll("video")).map(function (v, i) {
    return new Promise(function (resolve) {
      var done = false;
      function finish(problem) {
        if (done) return;
        done = true;
        if (problem) problems.push("video " + i + " " + problem);
        resolve();
      }
      if (v.error) return finish("error " + v.error.code);
      if (v.readyState >= 2) return finish(null);
      v.addEventListener("loadeddata", function () { finish(null); });
      v.addEventListener("error", function () {
        finish("error " + (v.error ? v.error.code : "?"));
      });
      setTimeout(function () { finish("timed out loading"); }, 10000);
    });
  });
  Promise.all(waits).then(function () {
    document.body.dataset.mediaOk = problems.length ? "fail: " + problems.join("; ") : "ok";
  });
});
</script>
"""

STYLE = """
<style>
body { font-family: system-ui, sans-serif; margin: 24px auto; max-width: 1200px; color: #222;
       padding: 0 16px; }
h1 { margin-bottom: 4px; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: 4px; margin-top: 32px; }
.sub { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
td, th { border: 1px solid #ddd; padding: 3px 8px; text-align: right; }
th { background: #f4f4f4; } td:first-child, th:first-child { text-align: left; }
table.kv td { text-align: left; }
img, video { max-width: 100%; display: block; margin: 8px 0; }
.player { margin: 8px 0; } .player video { margin: 0; }
.controls { display: flex; gap: 10px; align-items: center; font-size: 13px; margin-top: 4px; }
.controls input[type=range] { flex: 1; max-width: 700px; }
pre { background: #f7f7f7; padding: 8px; font-size: 12px; overflow-x: auto; max-height: 420px; }
.cap { color: #555; font-size: 13px; max-width: 900px; }
details { margin: 8px 0; }
</style>
"""


def esc(value: Any) -> str:
    return html.escape(str(value))


def fmt(value: Any) -> str:
    if isinstance(value, float):
        if not math.isfinite(value):
            return "–"
        return f"{value:.4g}"
    return esc(value)


def img_tag(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{data}">'


def png_b64(image: np.ndarray) -> str:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG", optimize=True)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def table(header: Sequence[str], rows: Sequence[Sequence[Any]], kv: bool = False) -> str:
    """An HTML table; ``kv`` left-aligns every column (key-value listings)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{fmt(v)}</td>" for v in r) + "</tr>" for r in rows)
    cls = ' class="kv"' if kv else ""
    return f"<table{cls}><tr>{head}</tr>{body}</table>"


def page(title: str, subtitle: str, body: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title>{STYLE}</head>\n<body>\n<h1>{esc(title)}</h1>"
        f'<p class="sub">{subtitle}</p>\n{body}\n'
        f'<p class="sub">written {esc(time.strftime("%Y-%m-%d %H:%M:%S"))} by contactlab report; '
        f"figures explained in docs/report.md</p>\n{MEDIA_CHECK}{PLAYER_SCRIPT}</body></html>\n"
    )


PLAYER_SCRIPT = """
<script>
document.querySelectorAll(".player").forEach(function (p) {
  var v = p.querySelector("video"), play = p.querySelector(".play"),
      seek = p.querySelector(".seek"), speed = p.querySelector(".speed"),
      time = p.querySelector(".time");
  function show() {
    play.textContent = v.paused ? "play" : "pause";
    if (v.duration) seek.value = 1000 * v.currentTime / v.duration;
    time.textContent = v.currentTime.toFixed(1) + " s";
  }
  play.onclick = function () { if (v.paused) v.play(); else v.pause(); };
  v.onclick = play.onclick;
  seek.oninput = function () { if (v.duration) v.currentTime = v.duration * seek.value / 1000; };
  speed.onchange = function () { v.playbackRate = parseFloat(speed.value); };
  p.querySelectorAll(".step").forEach(function (b) {
    b.onclick = function () {
      v.pause(); v.currentTime = Math.max(0, v.currentTime + parseFloat(b.dataset.dt));
    };
  });
  ["timeupdate", "play", "pause", "loadedmetadata"].forEach(function (e) {
    v.addEventListener(e, show);
  });
});
</script>
"""


def video_player(src: str, width: int, height: int, poster: str = "", fps: int = 5) -> str:
    """A looping video with its controls *below* it (the browser's own controls would cover
    the bottom of the picture, where the error strip is): play/pause, a frame back and
    forward, a seek bar and the playback speed."""
    frame = 1.0 / fps
    return (
        f'<div class="player"><video loop muted preload="auto" width="{width}" '
        f'height="{height}" src="{esc(src)}"{poster}></video>'
        '<div class="controls"><button class="play">play</button>'
        f'<button class="step" data-dt="-{frame}">&#9664; frame</button>'
        f'<button class="step" data-dt="{frame}">frame &#9654;</button>'
        '<input class="seek" type="range" min="0" max="1000" value="0">'
        '<span class="time">0.0 s</span><label>speed <select class="speed">'
        '<option value="0.25">0.25x</option><option value="0.5">0.5x</option>'
        '<option value="1" selected>1x</option><option value="2">2x</option></select></label>'
        "</div></div>"
    )


def figure_section(fig: Figure | None, name: str, caption: str, pngs: dict[str, bytes]) -> str:
    """The figure as an embedded PNG with its caption (kept in ``pngs``); closes it."""
    if fig is None:
        return f'<p class="cap">{esc(name)}: not available for this run.</p>'
    try:
        pngs[name] = plots.png_bytes(fig)
    finally:
        plt.close(fig)
    return f'{img_tag(pngs[name], name)}<p class="cap">{caption}</p>'


def write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
