"""Which config differences a resumed run accepts (``agent.run_dir.open_run_dir``): settings
the run never reads, where its folder lies and settings newer than it at their defaults resume
it; everything else is refused, naming the keys. Real Hydra composition, real folders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from omegaconf import OmegaConf

from agent.compare import CompareConfig, identity, plan_runs
from agent.config import RunConfig
from agent.config.load import load_config
from agent.resume_rules import run_defaults, unread_settings
from agent.run import run_dir_of
from agent.run_dir import RunConfigChanged, RunDirError, config_hash, open_run_dir


def start(tmp_path: Path, *overrides: str) -> Path:
    """A run folder as ``contactlab run`` leaves it once started with ``overrides``."""
    cfg, resolved = load_config("run", RunConfig, ["run_name=r", *overrides])
    run_dir, resumed = open_run_dir(tmp_path, "r", resolved, cfg.seed)
    assert not resumed
    (run_dir / "data").mkdir()  # something collected
    return run_dir


def reopen(tmp_path: Path, *overrides: str) -> tuple[Path, bool]:
    cfg, resolved = load_config("run", RunConfig, ["run_name=r", *overrides])
    return open_run_dir(tmp_path, "r", resolved, cfg.seed, unread_settings(cfg), run_defaults())


def test_the_same_config_resumes(tmp_path: Path) -> None:
    start(tmp_path, "source=active")
    assert reopen(tmp_path, "source=active") == (tmp_path / "r", True)


def test_settings_of_another_explorer_do_not_block_a_resume(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = start(tmp_path, "source=random")
    saved = (run_dir / "config.yaml").read_text()
    # a random run never reads agent.seek or agent.mpc (e.g. the seek fix changed their
    # defaults after the run began)
    assert reopen(tmp_path, "source=random", "agent.seek.standoff=0.02", "agent.mpc.horizon=3")[1]
    err = capsys.readouterr().err
    assert "agent.seek.standoff" in err and "agent.mpc.horizon" in err
    assert (run_dir / "config.yaml").read_text() == saved  # it describes the data held


def test_a_setting_the_explorer_reads_blocks_a_resume(tmp_path: Path) -> None:
    run_dir = start(tmp_path, "source=active")  # seek, the default explorer
    with pytest.raises(RunConfigChanged, match=r"differing: \['agent.seek.standoff'\]"):
        reopen(tmp_path, "source=active", "agent.seek.standoff=0.02")
    assert reopen(tmp_path, "source=active", "agent.mpc.horizon=3")[1]  # mpc's: never read
    with pytest.raises(RunConfigChanged, match="agent.name"):
        reopen(tmp_path, "source=active", "agent=mpc")
    assert (run_dir / "data").is_dir()  # nothing collected is touched


def test_settings_of_another_curiosity_signal_do_not_block_a_resume(tmp_path: Path) -> None:
    """A disagreement run never reads learning progress's or RND's settings (e.g. the default
    of ``lp_refresh_every`` changed from 500 to 20 after the committed runs began); the signal
    that reads them does."""
    start(tmp_path, "source=active", "curiosity.lp_refresh_every=500")
    assert reopen(tmp_path, "source=active", "curiosity.rnd_lr=0.01")[1]
    assert reopen(tmp_path, "source=active")[1]  # lp_refresh_every at today's default
    with pytest.raises(RunConfigChanged, match="curiosity.normalize"):
        reopen(tmp_path, "source=active", "curiosity.normalize=false")
    other = tmp_path / "lp"
    other.mkdir()
    start(other, "source=active", "curiosity=learning_progress", "curiosity.lp_refresh_every=500")
    with pytest.raises(RunConfigChanged, match="curiosity.lp_refresh_every"):
        reopen(other, "source=active", "curiosity=learning_progress")


def test_pixel_settings_count_only_for_a_pixel_run(tmp_path: Path) -> None:
    start(tmp_path, "source=video_states")
    assert reopen(tmp_path, "source=video_states", "pixels.size=32")[1]
    other = tmp_path / "px"
    other.mkdir()
    start(other, "source=video_pixels")
    with pytest.raises(RunConfigChanged, match="pixels.size"):
        reopen(other, "source=video_pixels", "pixels.size=32")


def test_a_moved_run_folder_resumes_where_it_is(tmp_path: Path) -> None:
    start(tmp_path, "source=active", "out_dir=/somewhere/else")
    assert reopen(tmp_path, "source=active", f"out_dir={tmp_path}")[1]


#: a run of the graph model, the default before ``world_model.contact_features`` existed (its
#: value there, false, is the schema's default)
GRAPH_RUN = ("source=active", "world_model=graph")


def drop_key(run_dir: Path, group: str, key: str, record: bool = True) -> None:
    """Rewrite the saved config as code from before ``group.key`` existed wrote it (and, with
    ``record``, run.json's ``config_keys`` too; without, the file just lost the line)."""
    saved = yaml.safe_load((run_dir / "config.yaml").read_text())
    del saved[group][key]
    (run_dir / "config.yaml").write_text(yaml.safe_dump(saved, sort_keys=False))
    if record:
        info = json.loads((run_dir / "run.json").read_text())
        info["config_keys"].remove(f"{group}.{key}")
        (run_dir / "run.json").write_text(json.dumps(info))


def test_a_setting_newer_than_the_run_resumes_only_at_its_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = start(tmp_path, *GRAPH_RUN)
    drop_key(run_dir, "world_model", "contact_features")
    assert OmegaConf.select(run_defaults(), "world_model.contact_features") is False
    assert reopen(tmp_path, *GRAPH_RUN)[1]
    assert "at their defaults (added to it): ['world_model.contact_features']" in (
        capsys.readouterr().err
    )
    # set to anything but its default it would change the run: refused
    with pytest.raises(RunConfigChanged, match="world_model.contact_features"):
        reopen(tmp_path, *GRAPH_RUN, "world_model.contact_features=true")


def test_a_lost_line_is_damage_not_a_newer_setting(tmp_path: Path) -> None:
    run_dir = start(tmp_path, "source=active")
    info = json.loads((run_dir / "run.json").read_text())
    assert "world_model.contact_features" in info["config_keys"]
    drop_key(run_dir, "world_model", "contact_features", record=False)
    damaged = (run_dir / "config.yaml").read_text()
    with pytest.raises(RunDirError, match=r"lost settings .*\['world_model.contact_features'\]"):
        reopen(tmp_path, "source=active")
    assert (run_dir / "config.yaml").read_text() == damaged  # nothing written into it
    assert (run_dir / "data").is_dir()


def test_a_run_from_before_the_key_record_resumes_as_it_did(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = start(tmp_path, *GRAPH_RUN)
    info = json.loads((run_dir / "run.json").read_text())
    del info["config_keys"]
    (run_dir / "run.json").write_text(json.dumps(info))
    drop_key(run_dir, "world_model", "contact_features", record=False)
    assert reopen(tmp_path, *GRAPH_RUN)[1]  # a lost line and a newer key read the same
    assert "['world_model.contact_features']" in capsys.readouterr().err


@pytest.mark.parametrize("text", ["{", "[1]", '{"config_keys": 3}', "\xff"])
def test_a_damaged_run_json_is_refused_naming_it(tmp_path: Path, text: str) -> None:
    run_dir = start(tmp_path, "source=active")
    drop_key(run_dir, "world_model", "contact_features")
    (run_dir / "run.json").write_bytes(text.encode("latin-1"))
    with pytest.raises(RunDirError, match="run.json"):
        reopen(tmp_path, "source=active")


def test_a_setting_the_code_no_longer_has_blocks_a_resume(tmp_path: Path) -> None:
    run_dir = start(tmp_path, "source=active")
    saved = yaml.safe_load((run_dir / "config.yaml").read_text())
    saved["loop"]["retired_option"] = 3
    (run_dir / "config.yaml").write_text(yaml.safe_dump(saved, sort_keys=False))
    with pytest.raises(RunConfigChanged, match="loop.retired_option"):
        reopen(tmp_path, "source=active")


def test_a_newer_setting_is_recorded_so_a_later_default_cannot_slip_in(tmp_path: Path) -> None:
    run_dir = start(tmp_path, *GRAPH_RUN)
    drop_key(run_dir, "world_model", "contact_features")
    assert reopen(tmp_path, *GRAPH_RUN)[1]  # resumed at the default, false ...
    saved = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert saved["world_model"]["contact_features"] is False  # ... and that is on record now
    keys = json.loads((run_dir / "run.json").read_text())["config_keys"]
    assert "world_model.contact_features" in keys  # a later loss of the line is damage
    # were the default flipped later, the run would be told apart from its record
    cfg, resolved = load_config(
        "run", RunConfig, ["run_name=r", *GRAPH_RUN, "world_model.contact_features=true"]
    )
    flipped = OmegaConf.create(OmegaConf.to_container(run_defaults()))
    flipped.world_model.contact_features = True
    with pytest.raises(RunConfigChanged, match="world_model.contact_features"):
        open_run_dir(tmp_path, "r", resolved, cfg.seed, unread_settings(cfg), flipped)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("3\n", "not a contactlab config"),  # a bare scalar
        ("", "non-empty YAML mapping"),  # a crash left it empty
        ("null\n", "non-empty YAML mapping"),
        ("[1, 2]\n", "mapping"),
        ("a: " + "[" * 2000 + "]" * 2000 + "\n", "not a contactlab config"),  # nesting
        ("loop:\n  warmup: 500\nloop.warmup: 1000\n", "no key of one holds a dot"),
    ],
)
def test_a_damaged_config_is_refused_naming_the_file(
    tmp_path: Path, text: str, needle: str
) -> None:
    run_dir = start(tmp_path, "source=active")
    (run_dir / "config.yaml").write_text(text)
    with pytest.raises(RunDirError, match=needle) as err:
        reopen(tmp_path, "source=active")
    assert str(run_dir / "config.yaml") in str(err.value)
    assert (run_dir / "data").is_dir()


def test_a_flag_saved_as_a_number_is_a_difference(tmp_path: Path) -> None:
    run_dir = start(tmp_path, "source=active")
    text = (run_dir / "config.yaml").read_text()
    (run_dir / "config.yaml").write_text(
        text.replace("observe_actions: true", "observe_actions: 1")
    )
    with pytest.raises(RunConfigChanged, match="loop.observe_actions"):
        reopen(tmp_path, "source=active")


def planned_random_run(tmp_path: Path, *overrides: str) -> tuple[CompareConfig, Path, Path, str]:
    """A one-run comparison (random, seed 0, debug, ``overrides``): its config, runs folder,
    the run's folder (created, empty) and the config that run would save."""
    cfg = CompareConfig(sources=["random"], seeds=1, budget=600)
    runs = tmp_path / "runs"
    (planned,) = plan_runs(cfg, ["experiment=debug", *overrides], runs)
    folder = runs / planned.name
    folder.mkdir(parents=True)
    return cfg, runs, folder, OmegaConf.to_yaml(planned.resolved, resolve=True)


def test_a_comparison_never_keeps_a_finished_run_of_another_config(tmp_path: Path) -> None:
    cfg, runs, folder, saved = planned_random_run(tmp_path)
    (folder / "config.yaml").write_text(saved.replace("warmup: 200", "warmup: 300"))
    (folder / "summary.json").write_text("{}")  # finished: compare would have kept it
    with pytest.raises(RunConfigChanged, match=r"random-s0.*loop.warmup"):
        plan_runs(cfg, ["experiment=debug"], runs)
    (folder / "config.yaml").write_text(saved.replace("standoff: 0.005", "standoff: 0.03"))
    assert plan_runs(cfg, ["experiment=debug"], runs)  # what a random run never reads


def test_a_dry_run_writes_nothing_into_a_run_folder(tmp_path: Path) -> None:
    cfg, runs, folder, full = planned_random_run(tmp_path, "world_model=graph")
    saved = yaml.safe_load(full)
    del saved["world_model"]["contact_features"]  # a run from before the setting existed
    text = yaml.safe_dump(saved, sort_keys=False)
    (folder / "config.yaml").write_text(text)
    overrides = ["experiment=debug", "world_model=graph"]
    assert plan_runs(cfg, overrides, runs, record=False)
    assert (folder / "config.yaml").read_text() == text
    assert plan_runs(cfg, overrides, runs)  # for real: recorded
    assert "contact_features: false" in (folder / "config.yaml").read_text()


def test_a_moved_folder_resumes_without_reading_run_json(tmp_path: Path) -> None:
    """run.json only judges settings missing from config.yaml: a folder that only moved
    resumes even when its run.json is damaged (nothing there is needed)."""
    run_dir = start(tmp_path, "source=active", "out_dir=/somewhere/else")
    (run_dir / "run.json").write_text("{")
    assert reopen(tmp_path, "source=active", f"out_dir={tmp_path}")[1]


def test_a_check_of_the_inputs_neither_names_a_run_nor_blocks_its_resume(
    tmp_path: Path,
) -> None:
    """``probe.expect_hash`` checks the probe set and sets nothing: adding, changing or
    dropping it resumes the run, it does not move the default run folder (nor a compare's),
    and a saved config from before the key existed hashes as it did."""
    run_dir = start(tmp_path, "source=active")
    saved = (run_dir / "config.yaml").read_text()
    assert reopen(tmp_path, "source=active", "probe.expect_hash=abcdef12")[1]
    assert reopen(tmp_path, "source=active", "probe.expect_hash=0123456789")[1]
    assert (run_dir / "config.yaml").read_text() == saved
    with pytest.raises(RunConfigChanged, match="probe.seed"):  # a real setting still counts
        reopen(tmp_path, "source=active", "probe.expect_hash=abcdef12", "probe.seed=5")
    plain, pinned = (load_config("run", RunConfig, o) for o in ([], ["probe.expect_hash=abcdef12"]))
    assert run_dir_of(*plain) == run_dir_of(*pinned)
    without_key = OmegaConf.create(OmegaConf.to_container(plain[1]))
    del without_key.probe["expect_hash"]  # the config as it was before the key existed
    assert config_hash(without_key) == config_hash(plain[1])
    assert run_dir_of(*plain) != run_dir_of(*load_config("run", RunConfig, ["probe.seed=5"]))
    fields = OmegaConf.to_container(OmegaConf.structured(CompareConfig))
    base = OmegaConf.create({**fields, "run_overrides": ["experiment=debug"]})  # as the CLI
    checked = OmegaConf.merge(
        base, {"run_overrides": ["experiment=debug", "probe.expect_hash=abcdef12"]}
    )
    assert config_hash(identity(checked)) == config_hash(identity(base))
    other = OmegaConf.merge(base, {"run_overrides": ["experiment=debug", "probe.seed=5"]})
    assert config_hash(identity(other)) != config_hash(identity(base))
