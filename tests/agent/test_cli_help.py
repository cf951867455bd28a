"""``contactlab COMMAND --help``: that command's keys, defaults, meanings and valid examples;
"did you mean" for config-group options."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from agent.cli_help import EXAMPLES, SCHEMAS, _schema, key_lines
from agent.config import ConfigError, load_config


def contactlab(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "agent.cli", *args], cwd=cwd, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip


def leaf_keys(schema: type, prefix: str = "") -> list[str]:
    keys = []
    for f in dataclasses.fields(schema):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else None
        if dataclasses.is_dataclass(default):
            keys += leaf_keys(type(default), prefix + f.name + ".")
        else:
            keys.append(prefix + f.name)
    return keys


@pytest.mark.parametrize("command", sorted(SCHEMAS))
def test_help_lists_every_key_of_the_command_with_its_default(tmp_path: Path, command: str) -> None:
    out = contactlab(command, "--help", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    schema = _schema(SCHEMAS[command][1])
    lines = out.stdout.splitlines()
    for key in leaf_keys(schema):
        assert any(line.startswith(f"  {key} = ") for line in lines), f"{command}: {key}"
    for example, _ in EXAMPLES[command]:
        assert example in out.stdout
    others = {c for c in EXAMPLES if c != command and not command.startswith(c)}
    assert not any(f"\n  contactlab {c} " in out.stdout for c in others)  # its own examples


def test_run_help_gives_defaults_and_meanings(tmp_path: Path) -> None:
    out = contactlab("run", "--help", cwd=tmp_path).stdout
    line = next(s for s in out.splitlines() if s.startswith("  budget = "))
    assert "20000" in line and "env steps" in line
    line = next(s for s in out.splitlines() if s.startswith("  loop.eval_points = "))
    assert "12" in line and "log" in line  # from LoopConfig's Attributes section
    line = next(s for s in out.splitlines() if s.startswith("  world_model.kind = "))
    assert "graph" in line
    assert "env=billiards|gym|mjcf|push_blocks|tower" in out  # the groups and their options
    assert "contactlab demo" not in out  # examples of this command only


@pytest.mark.parametrize("command", sorted(EXAMPLES))
def test_every_example_is_valid_for_its_command(command: str) -> None:
    if command not in SCHEMAS:
        return
    name, path = SCHEMAS[command]
    for example, _ in EXAMPLES[command]:
        words = [w for w in example.split()[2:] if not w.startswith("--")]
        if command == "probe":
            words = words[1:]  # "make"
        if command == "train-model" or any("HEAD" in w for w in words):
            continue  # needs a dataset folder / a cluster address: checked by their own tests
        if command == "compare":
            words = [w for w in words if not w.startswith("run.")]
        if command == "sweep":
            continue  # its run overrides are comma lists, checked by tests/sweep
        load_config(name, _schema(path), words)


def test_key_lines_of_a_schema_without_configs() -> None:
    @dataclasses.dataclass(frozen=True)
    class Small:
        size: int = 3  #: how big

    from omegaconf import OmegaConf

    lines = key_lines(Small, OmegaConf.structured(Small))
    assert lines[0].startswith("  size = 3") and lines[0].endswith("how big")


@pytest.mark.parametrize(
    ("override", "suggestion"),
    [
        ("env=pushblocks", "env=push_blocks"),
        ("experiment=debg", "experiment=debug"),  # an optional group: not silently ignored
        ("world_model=interacton", "world_model=interaction"),
        ("curiosity=rdn", "curiosity=rnd"),
    ],
)
def test_a_wrong_group_option_says_did_you_mean(override: str, suggestion: str) -> None:
    from agent.config import RunConfig

    with pytest.raises(ConfigError) as info:
        load_config("run", RunConfig, [override])
    message = str(info.value)
    assert f"Did you mean {suggestion}?" in message
    assert "search path" not in message.lower()


def test_cli_group_error_has_no_search_path_dump(tmp_path: Path) -> None:
    out = contactlab("run", "env=pushblocks", cwd=tmp_path)
    assert out.returncode == 2
    assert "Did you mean env=push_blocks?" in out.stderr and "provider=" not in out.stderr


def test_the_default_world_model_is_the_graph_model_with_contact_features() -> None:
    """``contactlab run`` defaults to graph_contact: the graph model with contact features;
    ``world_model=graph`` is the same model without them."""
    from agent.config import RunConfig

    default, _ = load_config("run", RunConfig, [])
    wm = default.world_model
    assert (wm.kind, wm.shape_features, wm.contact_features) == ("graph", True, True)
    graph, _ = load_config("run", RunConfig, ["world_model=graph"])
    assert graph.world_model.contact_features is False
    assert dataclasses.replace(graph.world_model, contact_features=True) == wm
    assert wm.switch_time is False
    # graph_switch, the candidate next default: graph_contact with the switch time on, input
    # noise 0.1 and the receiver-frame separating-axis test
    switch, _ = load_config("run", RunConfig, ["world_model=graph_switch"])
    candidate = dataclasses.replace(wm, switch_time=True, input_noise=0.1, fast_separation=True)
    assert candidate == switch.world_model
    # graph_geom: graph_switch with the features measured on the geoms' shapes
    geom, _ = load_config("run", RunConfig, ["world_model=graph_geom"])
    assert dataclasses.replace(candidate, geom_shapes=True) == geom.world_model
    # graph_geom_noise: graph_geom with the default's input noise
    noisy, _ = load_config("run", RunConfig, ["world_model=graph_geom_noise"])
    assert dataclasses.replace(geom.world_model, input_noise=wm.input_noise) == noisy.world_model
    assert noisy.world_model.input_noise == 0.3
    # graph_scales: graph_geom_noise with the pair separations at millimetre scales
    scaled, _ = load_config("run", RunConfig, ["world_model=graph_scales"])
    want = dataclasses.replace(noisy.world_model, contact_scales=(0.0005, 0.002, 0.008))
    assert scaled.world_model == want and scaled.world_model.floor_scales == ()


def test_flags_may_stand_anywhere_among_the_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """argparse stops filling the overrides at the first flag; ``main`` moves the flags last."""
    from agent.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["run", "--print-config", "seed=7", "experiment=debug"]) == 0
    shown = capsys.readouterr().out
    assert "\nseed: 7\n" in shown and "\nbudget: 600\n" in shown  # both overrides taken
    args = ["compare", "--dry-run", "sources=[random]", "--no-estimate", "run.experiment=debug"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "random-s0" in out and "600 steps" in out and "calibration off" in out
    assert not list(tmp_path.rglob("*.pt"))  # a dry run: nothing ran
