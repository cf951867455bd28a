"""The ``contactlab`` command.

Each subcommand takes Hydra-style overrides (``key=value``, ``group=option``) on top of its
config in ``configs/``; bad keys, types, values and options fail at once, naming the key,
before any env, model or worker starts. Heavy imports happen only after the config is valid.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, cast

os.environ.setdefault("MUJOCO_GL", "egl")  # headless rendering; must precede the mujoco import

EPILOG = """\
examples:
  contactlab run                                    PushBlocks, disagreement, seek explorer
  contactlab run experiment=debug                   the same, end to end in seconds
  contactlab run env=billiards curiosity=rnd agent=ppo budget=50000 seed=3
  contactlab compare sources=[random,video_states,video_pixels,active] seeds=5 budget=20000
  contactlab sweep env=push_blocks,billiards curiosity=disagreement,rnd seed=0,1,2
                                                    a grid of runs on a local Ray (results.csv)
  contactlab sweep experiment=debug seed=0,1 ray.address=HEAD:6379   on a cluster
  contactlab demo                                   render a labelled rollout of every scene
  contactlab demo scenes=[tower] steps=300          one scene, longer
  contactlab demo env.distractor=force              with the "noisy TV" distractor
  contactlab demo env=mjcf env.mjcf_path=my.xml     your own MJCF scene
  contactlab scenes                                 list the scenes and their layouts
  contactlab viz runs/my-run                        real vs imagined rollouts to runs/my-run/viz.mp4
  contactlab report runs/a runs/b                   report.html per run, plus a comparison
  contactlab probe make env=billiards               build the held-out probe set of a scene
  contactlab collect env=push_blocks steps=50000    record random-action transitions
  contactlab train-model dataset=data/push_blocks-random-50000-seed0 world_model=interaction
  contactlab train-model dataset=... --print-config show every key with its resolved value

Overrides use Hydra syntax; the keys and their meaning are in configs/ and agent/config/.
Outputs go to runs/<command>-.../ with config.yaml and run.json (commit, versions, seed).
"""


def _load(name: str, schema: str, overrides: list[str], print_config: bool) -> tuple[Any, Any]:
    """Compose and validate ``configs/<name>.yaml``; print it when asked."""
    from omegaconf import OmegaConf

    import agent.config as config

    cfg, resolved = config.load_config(name, getattr(config, schema), overrides)
    if print_config:
        print(OmegaConf.to_yaml(resolved, resolve=True), end="")
    return cfg, resolved


def _cmd_demo(overrides: list[str], print_config: bool) -> int:
    cfg, resolved = _load("demo", "DemoConfig", overrides, print_config)
    if not print_config:
        from agent.demo import run_demo

        run_demo(cfg, resolved)
    return 0


def _cmd_probe(overrides: list[str], print_config: bool) -> int:
    if not overrides or overrides[0] != "make":
        print("usage: contactlab probe make [KEY=VALUE ...]", file=sys.stderr)
        return 2
    cfg, _ = _load("probe_make", "ProbeMakeConfig", overrides[1:], print_config)
    if print_config:
        return 0
    from agent.make_env import make_env
    from agent.probes import build_probe_set_command, probe_path
    from envs.regimes import REGIME_NAMES
    from envs.scene import ContactSceneEnv

    scene = make_env(cfg.env).unwrapped
    assert isinstance(scene, ContactSceneEnv)
    path = probe_path(cfg.probe, cfg.env, scene)
    probe, kept = build_probe_set_command(cfg.probe, cfg.env, scene)  # replaces a rejected one
    objects = probe.layout.indices("object")
    counts = {
        n: int((probe.data.regime[:, objects] == i).sum()) for i, n in enumerate(REGIME_NAMES)
    }
    n_seq = len(probe.data) // probe.seq_len
    how = " (kept: it exists and has probe.expect_hash)" if kept else ""
    print(f"probe set {path}: {len(probe.data)} transitions in {n_seq} sequences{how}")
    print(f"object entity-transitions per regime: {counts}")
    print(f"content hash: {probe.content_hash}")
    return 0


def _cmd_collect(overrides: list[str], print_config: bool) -> int:
    cfg, _ = _load("collect", "CollectConfig", overrides, print_config)
    if not print_config:
        from agent.collect import collect

        print(f"dataset: {collect(cfg)}")
    return 0


def _cmd_train_model(overrides: list[str], print_config: bool) -> int:
    cfg, resolved = _load("train_model", "TrainModelConfig", overrides, print_config)
    if not print_config:
        from agent.train_model import train_model

        print(f"done: {train_model(cfg, resolved)}")
    return 0


def _cmd_run(overrides: list[str], print_config: bool) -> int:
    cfg, resolved = _load("run", "RunConfig", overrides, print_config)
    if not print_config:
        from agent.run import run

        run(cfg, resolved, announce=True)
    return 0


def _cmd_compare(
    overrides: list[str], print_config: bool, dry_run: bool = False, estimate: bool = True
) -> int:
    run_overrides = [o[len("run.") :] for o in overrides if o.startswith("run.")]
    own = [o for o in overrides if not o.startswith("run.")]
    from omegaconf import DictConfig, OmegaConf

    from agent.compare import CompareConfig, check_explorers, compare_folder, plan_runs
    from agent.config import load_config
    from agent.plan import PlanItem, concurrency, format_plan, make_plan

    own = _compare_budget(own, run_overrides)
    cfg, own_resolved = load_config("compare", CompareConfig, own)
    # What the comparison folder records: its own keys plus the overrides every run gets.
    container = cast(dict, OmegaConf.to_container(own_resolved, resolve=True))
    resolved = cast(DictConfig, OmegaConf.create({**container, "run_overrides": run_overrides}))
    folder = compare_folder(cfg, resolved, run_overrides)
    # every run config valid first; a dry run writes nothing
    planned = plan_runs(cfg, run_overrides, folder / "runs", record=not dry_run)
    if print_config:
        print(OmegaConf.to_yaml(resolved, resolve=True), end="")
        return 0
    check_explorers(planned)  # before the plan's calibration runs build anything
    items = [
        PlanItem(p.name, p.source, p.cfg, p.resolved, folder / "runs" / p.name) for p in planned
    ]
    at_once = concurrency(cfg.max_concurrent) if cfg.executor == "ray" else 1
    title = (
        f"plan: {len(cfg.sources)} sources x {cfg.seeds} seeds at {cfg.budget} env steps "
        f"each, in {folder}"
    )
    print(format_plan(make_plan(items, calibrate_missing=estimate), title, at_once), flush=True)
    if dry_run:
        print("dry run: nothing was run")
        return 0
    from agent.compare import compare

    print(f"done: {compare(cfg, resolved, run_overrides)}")
    return 0


def _compare_budget(own: list[str], run_overrides: list[str]) -> list[str]:
    """A run-level ``experiment=`` or ``budget=`` sets the compare budget (every run of a
    comparison has the same budget), unless the compare's own ``budget=`` is given."""
    if any(o.split("=", 1)[0] == "budget" for o in own):
        return own
    if not any(o.split("=", 1)[0] in ("budget", "experiment") for o in run_overrides):
        return own
    from agent.config import RunConfig, load_config

    run_cfg, _ = load_config("run", RunConfig, run_overrides)
    return [*own, f"budget={run_cfg.budget}"]


def _cmd_scenes(overrides: list[str], print_config: bool) -> int:
    import gymnasium as gym

    from envs import SCENES

    for name, env_id in SCENES.items():
        env = gym.make(env_id)
        layout = env.unwrapped.layout  # type: ignore[attr-defined]
        doc = (env.unwrapped.__doc__ or "").strip().splitlines()[0]
        spaces = f"action {env.action_space.shape}  obs {env.observation_space.shape}"
        print(f"{name:<12} {env_id:<26} {spaces}")
        print(f"{'':<12} {doc}")
        entities = ", ".join(f"{n} ({k})" for n, k in zip(layout.names, layout.kinds, strict=True))
        print(f"{'':<12} entities: {entities}")
        env.close()
    return 0


def _cmd_viz(args: list[str], print_config: bool) -> int:
    from agent.report.commands import viz_command

    return viz_command(args)


def _cmd_report(args: list[str], print_config: bool) -> int:
    from agent.report.commands import report_command

    return report_command(args)


def _cmd_sweep(
    overrides: list[str], print_config: bool, dry_run: bool = False, estimate: bool = True
) -> int:
    """``ray.*``/``sweep.*`` overrides configure the sweep; every other one is a run override."""
    from agent.config import load_config
    from agent.sweep.config import SWEEP_KEYS, SweepConfig

    def top(o: str) -> str:
        return o.lstrip("+~").split("=", 1)[0].split(".", 1)[0]

    own = [o for o in overrides if top(o) in SWEEP_KEYS]
    run_overrides = [o for o in overrides if top(o) not in SWEEP_KEYS]
    cfg, resolved = load_config("sweep", SweepConfig, own)
    if print_config:
        from omegaconf import OmegaConf

        from agent.sweep.driver import plan_sweep

        _, sweep_dir, trials = plan_sweep(cfg, run_overrides)
        print(OmegaConf.to_yaml(resolved, resolve=True), end="")
        print(f"# {len(trials)} trials in {sweep_dir}:")
        for trial in trials:
            print(f"#   {trial.name}: {' '.join(trial.overrides)}")
        return 0
    from agent.sweep.cluster import check_address

    # a cluster that is not there fails at once, before the plan's calibration runs
    check_address(cfg.ray.address)
    _print_sweep_plan(cfg, run_overrides, estimate)
    if dry_run:
        print("dry run: nothing was run")
        return 0
    from agent.sweep.driver import run_sweep

    return run_sweep(cfg, run_overrides)


def _print_sweep_plan(cfg: Any, run_overrides: list[str], estimate: bool = True) -> None:
    """The sweep's trials, reused ones and estimated time (timings from finished trials of the
    same config apart from the seed, else a calibration)."""
    import re

    from agent.plan import PlanItem, concurrency, format_plan, make_plan
    from agent.sweep.driver import plan_sweep

    _, sweep_dir, trials = plan_sweep(cfg, run_overrides)
    items = [
        PlanItem(
            t.name,
            re.sub(r"(^|__)seed-\d+", "", t.name) or "all",  # seeds of a point run alike
            t.cfg,
            t.resolved,
            t.run_dir,
        )
        for t in trials
    ]
    title = f"plan: {len(trials)} trials in {sweep_dir}"
    rows = make_plan(items, calibrate_missing=estimate)
    print(format_plan(rows, title, concurrency(cfg.sweep.max_concurrent)), flush=True)


Handler = Callable[[list[str], bool], int]
COMMANDS: dict[str, tuple[Handler, str]] = {
    "run": (_cmd_run, "active learning: curiosity-driven exploration that trains a world model"),
    "compare": (_cmd_compare, "sources x seeds at an equal budget: does acting beat watching?"),
    "sweep": (
        _cmd_sweep,
        "a grid of runs (key=a,b,c) as Ray tasks, locally or on a cluster; one results table",
    ),
    "demo": (
        _cmd_demo,
        "render a short labelled rollout of each scene to video; print regime counts",
    ),
    "probe": (_cmd_probe, "probe make: build a scene's held-out, regime-balanced probe set"),
    "collect": (
        _cmd_collect,
        "record a fixed policy's transitions (random actions) into a dataset",
    ),
    "train-model": (
        _cmd_train_model,
        "train a world model offline on a dataset, scored on the probe set",
    ),
    "scenes": (_cmd_scenes, "list the built-in scenes, their ids, spaces and entities"),
    "viz": (
        _cmd_viz,
        "RUN_DIR: video of real vs the model's imagined rollouts on impact probe sequences",
    ),
    "report": (
        _cmd_report,
        "RUN_DIR [RUN_DIR...]: report.html per run (plots, video, metrics); several: a comparison",
    ),
}


def build_parser(help_for: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; ``help_for`` gets its keys, defaults and examples in its --help
    (composed only when asked: it reads the configs)."""
    parser = argparse.ArgumentParser(
        prog="contactlab",
        description="contactlab: learn contact physics through interaction. "
        "MuJoCo scenes with contact-regime labels, world models, curiosity-driven explorers.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        epilog = None
        if name == help_for:
            from agent.cli_help import command_epilog

            epilog = command_epilog(name)
        p = sub.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument(
            "overrides",
            nargs="*",
            metavar="KEY=VALUE",
            help="Hydra overrides of the keys below, e.g. seed=3 or env=billiards",
        )
        p.add_argument(
            "--print-config", action="store_true", help="print the resolved config and exit"
        )
        if name in ("compare", "sweep"):
            p.add_argument(
                "--dry-run",
                action="store_true",
                help="print the plan (runs, reused runs, env steps, estimated time) and exit",
            )
            p.add_argument(
                "--no-estimate",
                action="store_true",
                help="skip the plan's calibration runs (a few hundred steps of each source or "
                "trial family that no finished run has timed): the time left is not estimated",
            )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    asks_help = bool(argv) and argv[0] in COMMANDS and ("-h" in argv or "--help" in argv)
    parser = build_parser(help_for=argv[0] if asks_help else None)
    if argv and argv[0] in COMMANDS:  # flags anywhere among the KEY=VALUE overrides (argparse
        # stops taking a nargs="*" positional at the first flag): every flag after them
        argv = [argv[0], *(a for a in argv[1:] if not a.startswith("-"))] + [
            a for a in argv[1:] if a.startswith("-")
        ]
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    from agent.config import ConfigError
    from agent.run_dir import RunDirError
    from agent.sweep.cluster import ClusterError
    from envs.probe import ProbeShortfall
    from envs.scene import SceneError
    from world_model.atomic import StorageFull
    from world_model.dataset import DatasetError
    from world_model.errors import CheckpointError, NonFiniteUpdateError

    handler = COMMANDS[args.command][0]
    try:
        if args.command in ("compare", "sweep"):
            return cast(Any, handler)(
                list(args.overrides),
                args.print_config,
                dry_run=args.dry_run,
                estimate=not args.no_estimate,
            )
        return handler(list(args.overrides), args.print_config)
    except (
        ConfigError,
        SceneError,
        DatasetError,
        RunDirError,
        ProbeShortfall,
        FileExistsError,
        ClusterError,
        StorageFull,
        CheckpointError,
        NonFiniteUpdateError,
    ) as exc:
        print(f"contactlab {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
