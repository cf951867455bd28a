"""The ``contactlab`` command.

Each subcommand takes Hydra-style overrides (``key=value``, ``group=option``) on top of its
config in ``configs/``; bad keys, types, values and options fail at once, naming the key.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

os.environ.setdefault("MUJOCO_GL", "egl")  # headless rendering; must precede the mujoco import

EPILOG = """\
examples:
  contactlab demo                                   render a labelled rollout of every scene
  contactlab demo scenes=[tower] steps=300          one scene, longer
  contactlab demo env.distractor=force              with the "noisy TV" distractor
  contactlab demo env=mjcf env.mjcf_path=my.xml     your own MJCF scene
  contactlab scenes                                 list the scenes and their layouts

Overrides use Hydra syntax; the keys and their meaning are in configs/ and agent/config.py.
Outputs go to runs/<command>-<timestamp>/ with config.yaml and run.json (commit, versions, seed).
"""


def _cmd_demo(overrides: list[str]) -> int:
    from agent.config import DemoConfig, load_config
    from agent.demo import run_demo

    cfg, resolved = load_config("demo", DemoConfig, overrides)
    run_demo(cfg, resolved)
    return 0


def _cmd_scenes(overrides: list[str]) -> int:
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


COMMANDS = {
    "demo": (
        _cmd_demo,
        "render a short labelled rollout of each scene to video; print regime counts",
    ),
    "scenes": (_cmd_scenes, "list the built-in scenes, their ids, spaces and entities"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="contactlab",
        description="contactlab: learn contact physics through interaction. "
        "MuJoCo scenes with contact-regime labels, world models, curiosity-driven explorers.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        p = sub.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument(
            "overrides", nargs="*", metavar="KEY=VALUE", help="Hydra overrides, e.g. steps=300"
        )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    from agent.config import ConfigError
    from envs.scene import SceneError

    handler = COMMANDS[args.command][0]
    try:
        return handler(list(args.overrides))
    except (ConfigError, SceneError) as exc:
        print(f"contactlab {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
