"""``write_comparison_report``: runs grouped by source, with intervals across seeds."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from agent.report.html import write_comparison_report


def _fake_run(path: Path, rows: list[dict[str, float]], seed: int) -> Path:
    """A run folder with just what a comparison reads: config, run.json, metrics, summary."""
    path.mkdir(parents=True)
    (path / "config.yaml").write_text(f"env:\n  name: push_blocks\nseed: {seed}\n")
    (path / "run.json").write_text(json.dumps({"seed": seed}))
    (path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    final = {k: v for k, v in rows[-1].items() if k != "step"}
    (path / "summary.json").write_text(json.dumps({"env_steps": 300, "final": final}))
    return path


def test_comparison_page_has_every_source_and_intervals(
    tmp_path: Path, dump_dom: Callable[[str], str], make_rows: Callable[[float], list]
) -> None:
    active = [_fake_run(tmp_path / f"active-{s}", make_rows(1.0 + 0.1 * s), s) for s in range(3)]
    random = [_fake_run(tmp_path / "random-0", make_rows(2.0), 0)]
    page = write_comparison_report(tmp_path / "cmp", {"active": active, "random": random})
    text = page.read_text()
    assert ">active<" in text and ">random<" in text and "active-2" in text
    # impact final: 10 * scale / 3 -> mean over scales 1.0, 1.1, 1.2 is 3.667, with an interval
    assert "3.667 [" in text
    assert "6.667</td>" in text  # one random run: a mean, no interval
    dom = dump_dom(page.as_uri())
    assert 'data-media-ok="ok"' in dom
