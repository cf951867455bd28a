"""``contactlab run``: the composition root of an active-learning run.

Builds every part once (env, probe set, world model and trainer, curiosity signal, replay,
on-disk dataset, metrics logger, explorer) and hands them to the loop. The run folder holds
``config.yaml``, ``run.json``, ``data/`` (every stored transition), ``metrics.jsonl``/
``metrics.csv`` and TensorBoard events (the whole curve), ``checkpoint.pt`` and, at the end,
``summary.json``.

Resume: running the same command again loads ``checkpoint.pt`` (taken at episode ends, right
after the dataset is flushed), drops dataset shards and metric rows written after it, rebuilds
the replay from the dataset and continues with the next episode. SB3 explorers (PPO, SAC)
resume exactly: their checkpoints are taken at the first rollout start after an episode end
(for PPO, so a rollout boundary that is also an episode end: choose ``agent.sb3_n_steps`` a
multiple of ``env.max_episode_steps`` for checkpoints as often as ``loop.checkpoint_every``)
and hold SB3's own saved zip (policy, every optimizer, SAC's entropy coefficient), SAC's replay
buffer, ``num_timesteps`` and SB3's random streams (:func:`agent.explorers.sb3.sb3_state`).
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import DictConfig

from agent.collect import dataset_meta
from agent.config import RunConfig
from agent.explorers.base import Explorer, RandomExplorer
from agent.explorers.registry import EXPLORERS
from agent.explorers.sb3 import BudgetCallback, IntrinsicRewardWrapper, load_sb3_state, sb3_state
from agent.interaction import InteractionTracker
from agent.learner import ActiveLearner
from agent.loop import episode_seed, run_loop
from agent.make_env import make_env
from agent.parts import build_explorer, build_parts
from agent.pixel_learner import PixelLearner, pixel_view
from agent.probes import ensure_probe_set
from agent.progress import Progress
from agent.report import write_run_report_or_warn
from agent.resume_rules import run_defaults, unread_settings
from agent.run_dir import config_hash, lock_run_dir, open_run_dir, write_json_atomic
from agent.schedule import eval_steps
from envs.scene import ContactSceneEnv
from world_model.checkpoint import load_latest_checkpoint, previous_path, save_checkpoint
from world_model.dataset import DatasetWriter, load_dataset
from world_model.metrics_log import MetricsLogger, format_row, read_metrics
from world_model.probe import ProbeSet, baseline_metrics
from world_model.replay import Replay

CHECKPOINT = "checkpoint.pt"


@dataclass
class Run:
    """Everything a run is made of (built by :func:`build_run`)."""

    cfg: RunConfig
    run_dir: Path
    resumed: bool
    env: Any
    learner: ActiveLearner
    explorer: Explorer | None  # None for SB3 explorers
    warmup: RandomExplorer
    signal: Any
    sb3: Any = None  # the SB3 algorithm, for ppo/sac
    sb3_resume: Any = None  # its checkpointed state (and the torch RNG) when resuming


def intrinsic_reward(
    signal: Any, obs: np.ndarray, action: np.ndarray, next_obs: np.ndarray
) -> float:
    """Normalised intrinsic reward of one real transition."""
    with torch.no_grad():
        o = torch.as_tensor(obs, dtype=torch.float32)[None]
        a = torch.as_tensor(action, dtype=torch.float32)[None]
        n = torch.as_tensor(next_obs, dtype=torch.float32)[None]
        return float(signal(o, a, n)[0])


def run_dir_of(cfg: RunConfig, resolved: DictConfig) -> Path:
    """``out_dir/run_name``, or ``out_dir/run-<scene>-<config hash>``."""
    return Path(cfg.out_dir) / (cfg.run_name or f"run-{cfg.env.name}-{config_hash(resolved)}")


def _open_run_dir(cfg: RunConfig, resolved: DictConfig, run_dir: Path) -> tuple[Path, bool]:
    """:func:`agent.run_dir.open_run_dir` by the resume rule of :mod:`agent.resume_rules`."""
    unread, defaults = unread_settings(cfg), run_defaults()
    return open_run_dir(run_dir.parent, run_dir.name, resolved, cfg.seed, unread, defaults)


def build_run(cfg: RunConfig, resolved: DictConfig, opened: tuple[Path, bool] | None = None) -> Run:
    """The composition root: every part built once, in one place.

    ``opened`` is ``(run_dir, resumed)`` from :func:`open_run_dir` when the caller opened
    (and locked) the run folder already."""
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    if opened is None:
        run_dir = run_dir_of(cfg, resolved)
        opened = _open_run_dir(cfg, resolved, run_dir)
    run_dir, resumed = opened
    pixels = cfg.loop.observation == "pixels"
    parts = build_parts(
        cfg.env,
        cfg.world_model,
        cfg.curiosity,
        observe_actions=cfg.loop.observe_actions,
        pixels=cfg.pixels if pixels else None,
    )
    scene, layout, cond_dim, signal = parts.scene, parts.layout, parts.cond_dim, parts.signal
    probe = ensure_probe_set(cfg.probe, cfg.env, scene)
    rng = np.random.default_rng(cfg.seed)
    replay_rng = np.random.default_rng(rng.integers(2**63))
    replay = Replay(cfg.budget, layout.obs_dim, cond_dim, layout.n_entities, replay_rng)
    # One shard per checkpoint interval: shards end exactly where checkpoints are taken.
    shard_rows = cfg.loop.checkpoint_every + cfg.env.max_episode_steps + 1
    seen = "actions" if cfg.loop.observe_actions else "pixels" if pixels else "video"
    source = f"{cfg.agent.name}/{cfg.curiosity.name}/{seen}"
    meta = dataset_meta(scene, "train", {"source": source, "seed": cfg.seed})
    if not cfg.loop.observe_actions:  # the "action" field holds the agent's observed motion
        extra = {**meta.extra, "action_field": "agent_motion"}
        meta = dataclasses.replace(meta, action_dim=cond_dim, extra=extra)
    writer = DatasetWriter(run_dir / "data", meta, shard_rows=shard_rows)
    parts_kw: dict[str, Any] = dict(
        cfg=cfg.loop, replay=replay, writer=writer, trainer=parts.trainer, curiosity=signal,
        probe=probe, logger=MetricsLogger(run_dir), interaction=InteractionTracker(layout),
        horizon=cfg.world_model.horizon, layout=layout,
        baselines=baseline_metrics(probe, scene.dt),
        eval_at=frozenset(eval_steps(cfg.loop, cfg.budget)),
    )  # fmt: skip
    learner = _pixel_learner(cfg, scene, probe, parts_kw) if pixels else ActiveLearner(**parts_kw)
    warmup = RandomExplorer(parts.action_dim, np.random.default_rng(rng.integers(2**63)))
    explorer = build_explorer(cfg, parts, warmup, rng, lambda: learner.episode)
    return Run(cfg, run_dir, resumed, parts.env, learner, explorer, warmup, signal)


def _pixel_learner(
    cfg: RunConfig, scene: ContactSceneEnv, probe: ProbeSet, parts: dict[str, Any]
) -> PixelLearner:
    """The ``video_pixels`` learner: a render-only scene copy, and the frames of the probe set
    and of the readout set (a second probe set, another seed) it is scored with."""
    size = cfg.pixels.size
    renderer = make_env(cfg.env, render_mode="rgb_array", width=size, height=size).unwrapped
    assert isinstance(renderer, ContactSceneEnv)
    readout_cfg = dataclasses.replace(
        cfg.probe,
        path=None,
        seed=cfg.probe.seed + cfg.pixels.readout_seed_offset,
        min_per_regime=cfg.pixels.readout_min_per_regime,
        expect_hash=None,  # probe.expect_hash pins the probe set, not this other one
    )
    readout = ensure_probe_set(readout_cfg, cfg.env, scene)
    print(f"rendering {len(probe.data) + len(readout.data)} probe and readout frames ...")
    return PixelLearner(
        **parts,
        renderer=renderer,
        pixels=cfg.pixels,
        readout_view=pixel_view(renderer, readout),
        probe_view=pixel_view(renderer, probe),
    )


def run(cfg: RunConfig, resolved: DictConfig, announce: bool = False) -> Path:
    """Own the run folder, then build, resume if there is a checkpoint, collect until the
    budget and summarise; a run that has finished already is left as it is.

    ``announce``: print the closing summary (:mod:`agent.closing_summary`) at the end.
    """
    run_dir = run_dir_of(cfg, resolved)
    check_scene_fits_explorer(cfg)
    with lock_run_dir(run_dir):  # RunDirBusy at once if another process runs it
        opened = _open_run_dir(cfg, resolved, run_dir)
        if opened[1] and _finished(cfg, run_dir):
            return run_dir
        return _run(cfg, resolved, opened, announce)


def check_scene_fits_explorer(cfg: RunConfig) -> None:
    """Explorers that need a kind of agent refuse other scenes here, before the run folder,
    the probe set or a model exists (``seek``: a point agent on slide joints)."""
    if cfg.agent.name != "seek":
        return
    from agent.explorers.seek import check_point_agent

    env = make_env(cfg.env)
    try:
        scene = env.unwrapped
        assert isinstance(scene, ContactSceneEnv)
        check_point_agent(scene.model, scene.layout)
    finally:
        env.close()


def _finished(cfg: RunConfig, run_dir: Path) -> bool:
    """A finished run re-run changes nothing: its metrics files are checked against the last
    checkpoint (and repaired from it, with a warning, if damaged); a missing report is written.
    False when there is no valid ``summary.json`` at the budget (then the run resumes)."""
    try:
        summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    if not isinstance(summary, dict) or summary.get("env_steps") != cfg.budget:
        return False
    if not any(p.exists() for p in (run_dir / CHECKPOINT, previous_path(run_dir / CHECKPOINT))):
        read_metrics(run_dir / "metrics.jsonl")  # checkpoints removed (to save space): check
        print(f"{run_dir} has finished already ({cfg.budget} env steps); nothing to do")
        return True
    state, _, warning = load_latest_checkpoint(run_dir / CHECKPOINT)
    if warning:
        print(warning, file=sys.stderr)
    if int(state["learner"]["env_step"]) < cfg.budget:  # the final checkpoint was lost: redo
        return False
    extra = []  # the row of the final evaluation, when it was logged after the last checkpoint
    final = summary.get("final")
    kept = list(state.get("metrics") or [])
    logged_last = int(json.loads(kept[-1])["step"]) if kept else -1
    if logged_last != cfg.budget and isinstance(final, dict):
        order = (
            [k for k in json.loads(state["metrics"][-1]) if k in final]
            if state.get("metrics")
            else []
        )  # summary.json sorts its keys; the row keeps the order it was logged in
        extra = [format_row(cfg.budget, {k: final[k] for k in [*order, *sorted(final)]})]
    if "metrics" in state:
        logger = MetricsLogger(run_dir, tensorboard=False)
        repaired = logger.restore(list(state["metrics"]), extra)
        if repaired:
            print(repaired, file=sys.stderr)
    else:  # a checkpoint from before metric rows were kept in it: check, cannot repair
        read_metrics(run_dir / "metrics.jsonl")
    print(f"{run_dir} has finished already ({cfg.budget} env steps); nothing to do")
    if not (run_dir / "report.html").exists():
        write_run_report_or_warn(run_dir)
    return True


def _run(cfg: RunConfig, resolved: DictConfig, opened: tuple[Path, bool], announce: bool) -> Path:
    start = time.perf_counter()
    r = build_run(cfg, resolved, opened)
    if r.resumed and (
        (r.run_dir / CHECKPOINT).exists() or previous_path(r.run_dir / CHECKPOINT).exists()
    ):
        _resume(r)
    else:
        if r.resumed:  # crashed before its first checkpoint: start clean
            r.learner.writer.drop_after(0)
            r.learner.logger.truncate_after(-1)
        print(f"run folder: {r.run_dir}")
    checkpoint = _checkpointer(r)
    first_step = r.learner.env_step
    if r.learner.env_step < cfg.budget:
        if r.explorer is not None:
            if cfg.loop.observation == "pixels":  # the behaviour policy reads no reward
                reward = lambda o, a, n: 0.0  # noqa: E731
            else:
                reward = lambda o, a, n: intrinsic_reward(r.signal, o, a, n)  # noqa: E731
            if cfg.loop.collectors > 1:  # random episodes from Ray actors (the only Ray here)
                from agent.sweep.collectors import collect_in_parallel

                collect_in_parallel(cfg, r.learner, reward, checkpoint)
            run_loop(
                r.env, r.explorer, r.warmup, r.learner, reward, cfg.budget, cfg.seed, checkpoint
            )
        else:
            _run_sb3(r, checkpoint)
    r.learner.writer.flush()
    if r.learner.env_step not in r.learner.eval_at:  # pragma: no cover - the schedule ends there
        r.learner.evaluate()
    final = r.learner.last_eval or _last_row(r.run_dir)  # resumed at the budget: the logged row
    r.learner.logger.close()
    summary = {
        "env_steps": r.learner.env_step,
        "world_model_updates": r.learner.updates,
        "probe": {
            "path": str(r.learner.probe.path),
            "content_hash": r.learner.probe.content_hash,
        },
        "interaction_totals": r.learner.interaction.totals,
        "explorer_steps": explorer_steps(r),
        "final": final,
        "wall_s": round(time.perf_counter() - start, 3),  # this session, build included
        "wall_steps": r.learner.env_step - first_step,
        "eval_seconds": round(r.learner.eval_seconds, 3),
    }
    write_json_atomic(r.run_dir / "summary.json", summary)
    write_run_report_or_warn(r.run_dir)  # report.html + viz.mp4; a failure only warns
    r.env.close()
    if announce:
        from agent.closing_summary import closing_summary

        print(closing_summary(summary, r.run_dir))
    return r.run_dir


def _last_row(run_dir: Path) -> dict[str, float]:
    """The last row of ``metrics.jsonl`` without its step (empty if there is none)."""
    path = run_dir / "metrics.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    if not lines:
        return {}
    row = json.loads(lines[-1])
    return {k: v for k, v in row.items() if k != "step"}


def explorer_steps(r: Run) -> dict[str, int]:
    """Env steps per acting policy: the random warm-up, then the explorer (an active/passive
    split for a mixing run; SB3 explorers act from the first step)."""
    steps = r.learner.env_step
    if r.explorer is None:
        return {r.cfg.agent.name: steps}
    warmup = min(r.cfg.loop.warmup, steps)
    mixed = getattr(r.explorer, "steps", None)
    if isinstance(mixed, dict):
        return {"warmup": warmup, **{str(k): int(v) for k, v in mixed.items()}}
    return {"warmup": warmup, r.cfg.agent.name: steps - warmup}


def _checkpointer(r: Run) -> Any:
    last = {"step": r.learner.env_step}

    def checkpoint() -> None:
        learner = r.learner
        due = (
            learner.env_step - last["step"] >= r.cfg.loop.checkpoint_every
            or learner.env_step >= r.cfg.budget
        )
        if not due:
            return
        learner.writer.flush()  # the dataset first: a checkpoint never points past stored data
        state: dict[str, Any] = {
            "learner": learner.state_dict(),
            "warmup": r.warmup.state_dict(),
            "torch_rng": torch.get_rng_state().numpy(),
            "stored": learner.writer.total,
        }
        if r.explorer is not None:
            state["explorer"] = r.explorer.state_dict()
        if r.sb3 is not None:
            state["sb3"] = sb3_state(r.sb3)
        # What a resume at the end needs to rewrite every output as it was: the last
        # evaluation (JSON: it may hold NaN) and every metric row so far.
        state["last_eval"] = json.dumps(learner.last_eval)
        state["metrics"] = list(learner.logger.lines)
        save_checkpoint(r.run_dir / CHECKPOINT, state)
        last["step"] = learner.env_step

    return checkpoint


def _resume(r: Run) -> None:
    state, _, warning = load_latest_checkpoint(r.run_dir / CHECKPOINT)
    if warning:
        print(warning, file=sys.stderr)
    learner = r.learner
    stored = int(state["stored"])
    learner.writer.drop_after(stored)  # forget shards flushed after the checkpoint
    learner.load_state_dict(state["learner"])
    learner.last_eval = json.loads(state.get("last_eval", "{}"))
    if "metrics" in state:  # the rows as they were at the checkpoint: damage is repaired
        repaired = learner.logger.restore(list(state["metrics"]))
        if repaired:
            print(repaired, file=sys.stderr)
    else:  # a checkpoint from before metric rows were kept in it
        learner.logger.truncate_after(learner.env_step)
    data = load_dataset(r.run_dir / "data")
    learner.replay.extend(data)
    learner.on_replay_restored()
    r.warmup.load_state_dict(state["warmup"])
    if r.explorer is not None and "explorer" in state:
        r.explorer.load_state_dict(state["explorer"])
    torch.set_rng_state(torch.from_numpy(state["torch_rng"]))
    if "sb3" in state:  # SB3's constructor reseeds torch: the RNG is set again after it
        r.sb3_resume = {"sb3": state["sb3"], "torch_rng": state["torch_rng"]}
    print(f"resuming {r.run_dir} at env step {learner.env_step}/{r.cfg.budget}")


def _run_sb3(r: Run, checkpoint: Any) -> None:
    """SB3 drives the env; the wrapper feeds every transition to the learner."""
    cfg, learner = r.cfg, r.learner

    progress = Progress(cfg.budget, learner.env_step, cycle=cfg.loop.update_every)

    def on_transition(obs, action, next_obs, reward, terminated, truncated, info) -> None:  # noqa: ANN001
        learner.observe(obs, action, next_obs, reward, terminated, truncated, info)
        progress.update(learner.env_step, learner.last_eval)

    def rollout_start() -> None:  # SB3's state is complete here; checkpoint at episode starts
        if learner.episode_step == 0:
            checkpoint()

    reset_seed = lambda: episode_seed(cfg.seed, learner.episode)  # noqa: E731
    wrapped = IntrinsicRewardWrapper(
        r.env,
        lambda o, a, n: intrinsic_reward(r.signal, o, a, n),
        on_transition=on_transition,
        reset_seed=reset_seed,
    )
    r.sb3 = EXPLORERS.get(cfg.agent.name).builder()(wrapped, cfg.seed, cfg.agent)
    # SB3's own training stats (losses, entropy) go to the run's TensorBoard folder.
    from stable_baselines3.common.logger import configure

    r.sb3.set_logger(configure(str(r.run_dir / "tb" / "sb3"), ["tensorboard"]))
    total = 10 * cfg.budget
    if r.sb3_resume is not None:
        load_sb3_state(r.sb3, r.sb3_resume["sb3"])
        torch.set_rng_state(torch.from_numpy(r.sb3_resume["torch_rng"]))
        total -= r.sb3.num_timesteps  # learn() adds num_timesteps back: the same schedule
    r.sb3.learn(
        total_timesteps=total,
        callback=BudgetCallback(lambda: learner.env_step >= cfg.budget, rollout_start),
        reset_num_timesteps=False,
    )
    checkpoint()  # the budget is spent
    progress.close()
