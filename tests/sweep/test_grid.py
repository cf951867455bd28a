"""The grid (no Ray): expansion, trial names, the spec hash, validation before anything starts."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from agent.config import ConfigError
from agent.run_dir import RunConfigChanged
from agent.sweep.cluster import ClusterError
from agent.sweep.config import SweepConfig
from agent.sweep.driver import check_fits, plan_sweep, run_sweep, trial_state
from agent.sweep.grid import parse_grid, trial_name
from agent.sweep.results import format_table, trial_row


def test_axes_expand_in_command_line_order_last_fastest() -> None:
    grid = parse_grid(["env=push_blocks,billiards", "experiment=debug", "seed=range(0,3)"])
    assert grid.axes == {"env": ["push_blocks", "billiards"], "seed": ["0", "1", "2"]}
    assert grid.fixed == ("experiment=debug",)
    points = grid.points()
    assert len(points) == 6 and points[:2] == [
        {"env": "push_blocks", "seed": "0"},
        {"env": "push_blocks", "seed": "1"},
    ]


def test_the_spec_hash_ignores_argument_order_only() -> None:
    a = parse_grid(["seed=0,1", "env=billiards,tower"]).sweep_id
    assert a == parse_grid(["env=billiards,tower", "seed=0,1"]).sweep_id
    assert a != parse_grid(["seed=0,1,2", "env=billiards,tower"]).sweep_id


def test_trial_names_are_safe_folder_names_and_hydra_values() -> None:
    assert trial_name({"env": "push_blocks", "seed": "0"}) == "env-push_blocks__seed-0"
    assert trial_name({"seed": "0", "env": "push_blocks"}) == "env-push_blocks__seed-0"
    assert trial_name({"agent.mpc.elites": "8"}) == "agent.mpc.elites-8"
    assert trial_name({"env.mjcf_path": "/a b/c.xml"}) == "env.mjcf_path-_a_b_c.xml"
    assert trial_name({}) == "trial"
    long = trial_name({"x": "y" * 300})
    assert len(long) <= 100 and long != trial_name({"x": "y" * 299})


def test_every_trial_is_validated_and_named_in_the_error(tmp_path: Path) -> None:
    settings = SweepConfig()
    with pytest.raises(ConfigError, match=r"trial seed=0: unknown key 'budgt'"):
        plan_sweep(settings, ["seed=0,1", "budgt=5"])
    # Only one grid point is bad: still caught before anything starts.
    with pytest.raises(ConfigError, match=r"trial loop.warmup=5000: loop.warmup=5000 must be <"):
        plan_sweep(settings, ["experiment=debug", "loop.warmup=100,5000"])
    with pytest.raises(ConfigError, match="set by the sweep"):
        plan_sweep(settings, ["seed=0,1", "out_dir=elsewhere"])


# ``contactlab`` with a report, at exit, of which heavy modules the command had imported.
REPORT_IMPORTS = (
    "import atexit, sys; atexit.register(lambda: print('heavy imports:', "
    "[m for m in ('ray', 'torch') if m in sys.modules], file=sys.stderr)); "
    "from agent.cli import main; raise SystemExit(main())"
)


def test_bad_key_fails_before_ray_or_torch_is_imported_creating_nothing(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    # Before any expensive work: not a wall-clock bound (a loaded machine made a 2 s bound
    # fail), but what the command had loaded when it stopped.
    args = ["sweep", "env=push_blocks,billiards", "seed=0,1,2", "experiment=debug", "budgt=3"]
    out = subprocess.run(
        [sys.executable, "-c", REPORT_IMPORTS, *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=cli_env,
        timeout=60,
    )
    assert out.returncode == 2, out.stderr[-2000:]
    assert "unknown key 'budgt'" in out.stderr and "Did you mean 'budget'" in out.stderr
    assert "heavy imports: []" in out.stderr, out.stderr[-500:]
    assert not list(tmp_path.iterdir())


def test_print_config_lists_the_trials(
    tmp_path: Path, cli: Callable[..., list[str]], cli_env: dict[str, str]
) -> None:
    out = subprocess.run(
        cli("sweep", "seed=0,1", "experiment=debug", "--print-config"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=cli_env,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "# 2 trials in runs/sweep-" in out.stdout and "run_name=seed-1" in out.stdout


def test_a_trial_folder_from_another_config_is_refused_before_ray(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _, sweep_dir, trials = plan_sweep(SweepConfig(), ["seed=0,1", "experiment=debug"])
    (sweep_dir / trials[1].name).mkdir(parents=True)
    (sweep_dir / trials[1].name / "config.yaml").write_text("budget: 5\n")
    with pytest.raises(RunConfigChanged, match="seed-1"):
        run_sweep(SweepConfig(), ["seed=0,1", "experiment=debug"])


def test_a_trial_folder_differing_in_what_its_run_never_reads_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the rule contactlab run resumes by: a random-action trial never reads agent.seek.*
    monkeypatch.chdir(tmp_path)
    overrides = ["seed=0,1", "experiment=debug", "source=random"]
    _, sweep_dir, trials = plan_sweep(SweepConfig(), overrides)
    saved = trials[1].config_yaml().replace("standoff: 0.005", "standoff: 0.03")
    assert saved != trials[1].config_yaml()
    (sweep_dir / trials[1].name).mkdir(parents=True)
    (sweep_dir / trials[1].name / "config.yaml").write_text(saved)
    assert trial_state(trials[1]) == "new"  # no checkpoint yet: starts, in its folder
    saved = saved.replace("name: random", "name: seek")  # what the explorer is: refused
    (sweep_dir / trials[1].name / "config.yaml").write_text(saved)
    with pytest.raises(RunConfigChanged, match=r"seed-1.*agent.name"):
        trial_state(trials[1])


def test_table_shows_axes_metrics_and_status() -> None:
    summary = {
        "env_steps": 600,
        "final": {"probe/impact/pos_mm": 10.0912, "probe/free/pos_mm": 4.6, "explore/moved1": 0.5},
    }
    rows = [
        trial_row("seed-0", {"seed": "0"}, "done", summary),
        trial_row("seed-1", {"seed": "1"}, "failed", None),
    ]
    text = format_table(rows, ["seed"]).splitlines()
    assert text[0].split() == [
        "seed", "impact_mm", "free_mm", "contact_gap", "moved1", "env_steps", "status",
    ]  # fmt: skip
    assert text[2].split() == ["0", "10.09", "4.6", "-", "0.5", "600", "done"]
    assert text[3].split()[-1] == "failed"


def test_trials_that_could_never_be_placed_are_refused() -> None:
    _, _, trials = plan_sweep(SweepConfig(), ["threads=1,4", "experiment=debug"])
    nodes = [{"Resources": {"CPU": 2.0}}, {"Resources": {"CPU": 2.0}}]
    check_fits(trials[:1], nodes)
    with pytest.raises(ClusterError, match="trial threads-4: threads=4 needs"):
        check_fits(trials, nodes)
    _, _, trials = plan_sweep(SweepConfig(), ["experiment=debug", "loop.collectors=8"])
    with pytest.raises(ClusterError, match="loop.collectors=8 needs one CPU"):
        check_fits(trials, nodes)
