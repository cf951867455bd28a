"""What a ``compare`` or ``sweep`` is about to do, said before it does it.

:func:`make_plan` looks at the planned runs' folders (finished runs are reused, runs with a
checkpoint resume, the rest start) and estimates the wall time of what is left, per run, from
the speed of finished runs of the same source or trial family (``summary.json``:
``wall_s`` / ``wall_steps``), or, where none has finished yet, from a short calibration: a few
hundred steps of that run's very config in a temporary folder (:func:`calibrate`).
:func:`format_plan` prints it. ``--dry-run`` prints the plan and stops.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from agent.config import RunConfig
from agent.config.run import AgentConfig
from agent.schedule import eval_steps


@dataclass(frozen=True)
class PlanItem:
    """One planned run."""

    name: str  #: folder name
    group: str  #: runs of one group run at the same speed (a compare source, a sweep family)
    cfg: RunConfig
    resolved: DictConfig
    run_dir: Path


@dataclass
class PlanRow:
    item: PlanItem
    state: str  #: done | resume | new
    done_steps: int  #: env steps already collected (from the last metrics row)
    seconds: float | None = None  #: estimated wall time left
    basis: str = ""  #: where the estimate comes from


def run_state(run_dir: Path) -> tuple[str, int]:
    """``("done", budget)``, ``("resume", last logged step)`` or ``("new", 0)``."""
    if (run_dir / "summary.json").exists():
        summary = json.loads((run_dir / "summary.json").read_text())
        return "done", int(summary.get("env_steps", 0))
    if (run_dir / "checkpoint.pt").exists():
        return "resume", _last_step(run_dir / "metrics.jsonl")
    return "new", 0


def _last_step(path: Path) -> int:
    if not path.exists():
        return 0
    for line in reversed(path.read_text().splitlines()):
        try:
            return int(json.loads(line)["step"])
        except (ValueError, KeyError, TypeError):
            continue
    return 0


def finished_speed(run_dir: Path) -> float | None:
    """Seconds per env step of a finished run (its last session), or None if not recorded."""
    path = run_dir / "summary.json"
    if not path.exists():
        return None
    summary = json.loads(path.read_text())
    wall, steps = summary.get("wall_s"), summary.get("wall_steps")
    if not wall or not steps:
        return None
    return float(wall) / float(steps)


def sb3_window(agent: AgentConfig, steps: int) -> tuple[int, int]:
    """``(skipped, timed)`` env steps of an SB3 explorer's calibration, so that the timed
    window holds its gradient work at the rate of a long run: PPO trains once per rollout of
    ``sb3_n_steps`` (the window holds one), SAC only after ``sb3_learning_starts`` (skipped:
    from there on it trains every ``sb3_train_freq`` steps); any other explorer
    ``(0, 2 * steps)``."""
    if agent.name == "ppo":
        return 0, max(2 * steps, agent.sb3_n_steps + 1)
    if agent.name == "sac":
        return agent.sb3_learning_starts, max(2 * steps, agent.sb3_train_freq)
    return 0, 2 * steps


def calibrate(item: PlanItem, steps: int = 100) -> tuple[float, float]:
    """``(seconds per env step, seconds per run)`` of ``item``'s config, measured in a
    temporary folder: ``2 * steps`` env steps (``steps`` of warm-up, ``steps`` of its
    explorer; for an SB3 explorer the window of :func:`sb3_window` instead, which holds its
    gradient updates; a run no longer than that window is timed whole; the evaluations the
    short run makes on its way are not counted in them)
    plus one probe evaluation spread over the real run's evaluation schedule; the
    fixed cost is building the run and writing its report. The real run's folder is not
    touched (the scene's probe set is built if missing: the run needs it anyway)."""
    from agent.loop import run_loop
    from agent.report import write_run_report_or_warn
    from agent.run import _run_sb3, build_run, intrinsic_reward

    cfg = item.cfg
    skipped, timed = sb3_window(cfg.agent, steps)
    if skipped + timed >= cfg.budget:  # a run no longer than its calibration: time it whole
        skipped, timed = 0, cfg.budget
    loop = dataclasses.replace(
        cfg.loop, warmup=steps, update_every=min(cfg.loop.update_every, steps),
        eval_every=10 * (skipped + timed), checkpoint_every=10 * (skipped + timed),
        eval_points=0, collectors=1,
    )  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="contactlab-calibration-") as tmp:
        short = dataclasses.replace(
            cfg, loop=loop, budget=skipped + timed, out_dir=tmp, run_name="c"
        )
        resolved = OmegaConf.create({"calibration": OmegaConf.to_container(item.resolved)})
        quiet = io.StringIO()
        with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
            start = time.perf_counter()
            r = build_run(short, resolved)
            fixed = time.perf_counter() - start
            mark = {"t": time.perf_counter(), "eval": 0.0}
            if r.explorer is not None:
                reward = lambda o, a, n: intrinsic_reward(r.signal, o, a, n)  # noqa: E731
                run_loop(r.env, r.explorer, r.warmup, r.learner, reward, timed, cfg.seed, _no_op)
            else:
                observe = r.learner.observe

                def observe_and_mark(*args: Any) -> None:  # the timed window starts here
                    observe(*args)
                    if r.learner.env_step == skipped:
                        mark.update(t=time.perf_counter(), eval=r.learner.eval_seconds)

                r.learner.observe = observe_and_mark  # type: ignore[method-assign,assignment]
                _run_sb3(r, _no_op)
            # The short run evaluates too (after its warm-up and at its end): that time is
            # counted once, below, over the real run's evaluation schedule.
            eval_s = r.learner.eval_seconds - mark["eval"]
            per_step = (time.perf_counter() - mark["t"] - eval_s) / timed
            start = time.perf_counter()
            r.learner.evaluate()
            per_eval = time.perf_counter() - start
            r.learner.logger.close()
            r.env.close()
            start = time.perf_counter()
            write_run_report_or_warn(r.run_dir)
            fixed += time.perf_counter() - start
    n_evals = len(eval_steps(cfg.loop, cfg.budget))
    return per_step + per_eval * n_evals / cfg.budget, fixed


def _no_op() -> None:
    """No checkpoints during a calibration."""


def make_plan(items: list[PlanItem], calibrate_missing: bool = True) -> list[PlanRow]:
    """The state and the estimated time left of every item (see the module docstring)."""
    rows = [PlanRow(item, *run_state(item.run_dir)) for item in items]
    speeds: dict[str, list[float]] = {}
    for row in rows:
        speed = finished_speed(row.item.run_dir) if row.state == "done" else None
        if speed is not None:
            speeds.setdefault(row.item.group, []).append(speed)
    measured: dict[str, tuple[float, float, str]] = {
        g: (statistics.median(s), 0.0, "finished runs") for g, s in speeds.items()
    }
    for row in rows:
        if row.state == "done":
            row.seconds, row.basis = 0.0, "finished"
            continue
        group = row.item.group
        if group not in measured and calibrate_missing:
            measured[group] = (*calibrate(row.item), "calibration")
        if group in measured:
            speed, fixed, basis = measured[group]
            row.seconds = fixed + speed * (row.item.cfg.budget - row.done_steps)
            row.basis = basis
    return rows


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def format_plan(
    rows: list[PlanRow], title: str, concurrent: int = 1, extra: list[str] | None = None
) -> str:
    """The plan as text: one line per run, then the totals and the estimate."""
    lines = [title]
    verbs = {"done": "finished earlier, reused", "resume": "resumes", "new": "new"}
    width = max((len(r.item.name) for r in rows), default=4)
    for r in rows:
        budget = r.item.cfg.budget
        state = verbs[r.state] + (f" at step {r.done_steps}" if r.state == "resume" else "")
        eta = f"~{_clock(r.seconds)}" if r.seconds is not None and r.state != "done" else ""
        lines.append(f"  {r.item.name:<{width}}  {budget:>7} steps  {state:<26} {eta}".rstrip())
    todo = [r for r in rows if r.state != "done"]
    steps = sum(r.item.cfg.budget - r.done_steps for r in todo)
    lines.append(
        f"{len(rows)} runs: {len(rows) - len(todo)} reused, {len(todo)} to run ({steps} env steps)"
    )
    known = [r.seconds for r in todo if r.seconds is not None]
    if todo and len(known) == len(todo):
        total = sum(known)
        bases = sorted({r.basis for r in todo})
        text = f"estimated wall time: ~{_clock(total / max(concurrent, 1))}"
        if concurrent > 1:
            text += f" ({concurrent} at once; {_clock(total)} of run time in all)"
        lines.append(f"{text} (from {', '.join(bases)}; expect +-30%)")
    elif todo:
        lines.append("estimated wall time: unknown (no finished run to time; calibration off)")
    lines += extra or []
    return "\n".join(lines)


def concurrency(max_concurrent: int | None) -> int:
    """Runs at once on a local Ray with ``max_concurrent`` (null: one per CPU)."""
    return max_concurrent or os.cpu_count() or 1
