"""``contactlab COMMAND --help``: that command's keys, defaults and meanings, and examples.

Keys and defaults come from the command's config as composed with no overrides (its YAML
defaults over the schema dataclass); meanings from the schema's own documentation: a ``#:``
comment on or above a field, or the ``Attributes:`` section of the class docstring.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import typing
from typing import Any

#: examples per command, each valid for that command (checked by tests/agent/test_cli_help.py)
EXAMPLES: dict[str, list[tuple[str, str]]] = {
    "run": [
        ("contactlab run", "PushBlocks, disagreement curiosity, seek explorer, 20k steps"),
        ("contactlab run experiment=debug", "the same, end to end in seconds"),
        ("contactlab run env=billiards curiosity=rnd agent=ppo budget=50000 seed=3", ""),
        ("contactlab run env.distractor=teleport curiosity=prediction_error", "noisy-TV test"),
        ("contactlab run source=video_states", "watch a demonstrator, no actions"),
        ("contactlab run loop.eval_points=30", "a finer error curve"),
    ],
    "compare": [
        ("contactlab compare --dry-run", "the plan and its estimated time; runs nothing"),
        ("contactlab compare sources=[random,active] seeds=2 run.experiment=debug", "minutes"),
        ("contactlab compare sources=[random,video_states,video_pixels,active] seeds=5", ""),
        ("contactlab compare executor=ray max_concurrent=2", "runs as Ray tasks"),
        ("contactlab compare sources=[random,active,mix25,mix50] budget=5000", "mixing sweep"),
    ],
    "sweep": [
        ("contactlab sweep env=push_blocks,billiards curiosity=disagreement,rnd seed=0,1", ""),
        ("contactlab sweep experiment=debug seed=0,1 --dry-run", "the plan only"),
        ("contactlab sweep experiment=debug seed=0,1 ray.address=HEAD:6379", "on a cluster"),
    ],
    "demo": [
        ("contactlab demo", "a labelled rollout of every scene"),
        ("contactlab demo scenes=[tower] steps=300", "one scene, longer"),
        ("contactlab demo env.distractor=force", 'with the "noisy TV" distractor'),
    ],
    "probe": [("contactlab probe make env=billiards", "build the probe set of a scene")],
    "collect": [("contactlab collect env=push_blocks steps=50000", "random-action transitions")],
    "train-model": [
        ("contactlab train-model dataset=DATASET world_model=interaction", ""),
    ],
    "scenes": [("contactlab scenes", "list the scenes and their layouts")],
    "viz": [("contactlab viz runs/my-run", "real vs imagined rollouts to runs/my-run/viz.mp4")],
    "report": [("contactlab report runs/a runs/b", "report.html per run, plus a comparison")],
}

WIDTH = 110  #: help lines are cut to this many characters

#: command -> (config name, schema class path); commands without keys are absent
SCHEMAS: dict[str, tuple[str, str]] = {
    "run": ("run", "agent.config:RunConfig"),
    "compare": ("compare", "agent.compare:CompareConfig"),
    "sweep": ("sweep", "agent.sweep.config:SweepConfig"),
    "demo": ("demo", "agent.config:DemoConfig"),
    "probe": ("probe_make", "agent.config:ProbeMakeConfig"),
    "collect": ("collect", "agent.config:CollectConfig"),
    "train-model": ("train_model", "agent.config:TrainModelConfig"),
}

NOTES = {
    "compare": "Overrides for every run go after run., e.g. run.env=tower run.experiment=debug "
    "(a run-level experiment or budget sets the compare budget unless budget= is given).",
    "sweep": "Every override that is not ray.* or sweep.* is a run override (the keys of "
    "`contactlab run --help`); a comma list (seed=0,1,2) is swept.",
    "train-model": "dataset= is required: a folder made by `contactlab collect`.",
}


def field_docs(cls: type) -> dict[str, str]:
    """One-line meaning of each field of dataclass ``cls`` (empty where undocumented)."""
    docs: dict[str, str] = {}
    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):
        source = ""
    above: list[str] = []
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith("#:"):
            above.append(stripped[2:].strip())
            continue
        match = re.match(r"(\w+)\s*:[^=]*(?:=.*?)?(?:#:\s*(.*))?$", stripped)
        if match and match.group(1) in {f.name for f in dataclasses.fields(cls)}:
            text = match.group(2) or " ".join(above)
            if text:
                docs[match.group(1)] = text
        above = []
    doc = inspect.getdoc(cls) or ""
    section = doc.split("Attributes:", 1)[1] if "Attributes:" in doc else ""
    current = None
    for line in section.splitlines():
        match = re.match(r"\s{0,4}(\w+): (.*)", line)
        if match:
            current = match.group(1)
            docs.setdefault(current, match.group(2).strip())
        elif current and line.strip() and docs.get(current, "").count(".") == 0:
            docs[current] += " " + line.strip()  # finish the first sentence
    return {k: _first_sentence(v) for k, v in docs.items()}


def _first_sentence(text: str) -> str:
    text = re.sub(r":\w+:`([^`]+)`", r"\1", text).replace("``", "")
    end = re.search(r"\.(\s|$)", text)
    return text[: end.start() + 1] if end else text


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3].rstrip() + "..."


def _schema(path: str) -> type:
    import importlib

    module, name = path.split(":")
    return typing.cast(type, getattr(importlib.import_module(module), name))


def _defaults(name: str, schema: type) -> Any:
    """The command's config composed with no overrides (MISSING values left as ``???``)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.config_store import ConfigStore
    from omegaconf import OmegaConf

    from agent.config.load import CONFIG_DIR, make_writable

    node = OmegaConf.structured(schema)
    make_writable(node)
    ConfigStore.instance().store(name=f"{name}_schema", node=node)
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        composed = compose(config_name=name)
    base = OmegaConf.structured(schema)
    make_writable(base)
    return OmegaConf.merge(base, composed)


def key_lines(schema: type, values: Any, prefix: str = "") -> list[str]:
    """``key = default   meaning`` for every leaf key of ``schema`` (nested keys dotted)."""
    from omegaconf import DictConfig, OmegaConf

    hints = typing.get_type_hints(schema)
    docs = field_docs(schema)
    lines: list[str] = []
    for f in dataclasses.fields(schema):
        key = prefix + f.name
        value = values._get_node(f.name) if isinstance(values, DictConfig) else None
        sub = hints.get(f.name)
        if dataclasses.is_dataclass(sub) and isinstance(value, DictConfig):
            sub_doc = docs.get(f.name) or _first_sentence(
                (inspect.getdoc(sub) or "").split("\n")[0]
            )
            lines.append(_fit(f"  {key}.*  {sub_doc}".rstrip(), WIDTH))
            lines += key_lines(typing.cast(type, sub), value, key + ".")
            continue
        shown = "???" if OmegaConf.is_missing(values, f.name) else _show(values[f.name])
        meaning = docs.get(f.name, "")
        left = f"  {key} = {shown}"
        if meaning:
            left = f"{left:<44} " if len(left) < 44 else f"{left}  "
        lines.append(_fit(left + meaning, max(WIDTH, len(left) + 20)))
    return lines


def _show(value: Any) -> str:
    from omegaconf import ListConfig, OmegaConf

    if isinstance(value, ListConfig):
        return "[" + ",".join(str(v) for v in OmegaConf.to_container(value)) + "]"  # type: ignore[union-attr]
    return "null" if value is None else str(value)


def command_epilog(command: str) -> str:
    """The ``--help`` text after the usage line of ``command``."""
    from agent.config import CONFIG_DIR, group_options

    lines = ["examples:"]
    for example, note in EXAMPLES.get(command, []):
        lines.append(f"  {example}" + (f"\n      {note}" if note and len(example) > 48 else ""))
        if note and len(example) <= 48:
            lines[-1] = f"  {example:<50}{note}"
    if command in SCHEMAS:
        name, path = SCHEMAS[command]
        schema = _schema(path)
        groups = [g.name for g in sorted(CONFIG_DIR.iterdir()) if g.is_dir()]
        if command in ("run", "sweep", "compare"):
            lines += ["", "config groups (group=option" + (", after run." if command ==
                      "compare" else "") + "):"]  # fmt: skip
            lines += [f"  {g}={'|'.join(group_options(g))}" for g in groups]
        lines += ["", f"keys (KEY=VALUE; default, meaning; configs/{name}.yaml):"]
        lines += key_lines(schema, _defaults(name, schema))
    if command in NOTES:
        lines += ["", NOTES[command]]
    return "\n".join(lines) + "\n"
