"""``contactlab run`` end to end through the CLI: the smoke test, resume, bad configs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from world_model.dataset import load_dataset


def cli(
    *args: str, cwd: Path, timeout: float = 600, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    out = subprocess.run(
        [sys.executable, "-m", "agent.cli", *args],
        cwd=cwd,
        capture_output=True,
        timeout=timeout,
        env=env,
    )
    # Decoded here: text=True would turn a progress bar's "\r" into "\n", and the check that
    # no bar is drawn into a log could never fail.
    out.stdout, out.stderr = out.stdout.decode(), out.stderr.decode()
    return out


def test_run_debug_completes_and_writes_metrics(tmp_path: Path, with_report: None) -> None:
    out = cli("run", "experiment=debug", "run_name=smoke", cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    run = tmp_path / "runs/smoke"
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    # debug: warm-up 200, training rounds every 100 steps, eval_every 200, log-spaced points
    assert [r["step"] for r in rows] == [200, 300, 400, 500, 600]
    last = rows[-1]
    for key in (
        "probe/impact/pos_mm",
        "probe/contact_gap",
        "explore/moved1",
        "explore/regime/rest",
        "wm/updates",
    ):
        assert last[key] is not None, key
    assert last["wm/updates"] == 150  # 0.25 updates per collected transition, warm-up included
    data = load_dataset(run / "data")
    assert len(data) == 600 and data.meta.extra["source"] == "seek/disagreement/actions"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["env_steps"] == 600 and len(summary["probe"]["content_hash"]) == 64
    assert summary["explorer_steps"] == {"warmup": 200, "seek": 400}
    assert summary["wall_steps"] == 600 and 0 < summary["eval_seconds"] < summary["wall_s"]
    for name in ("config.yaml", "run.json", "checkpoint.pt"):
        assert (run / name).exists()
    # The closing summary: final errors per regime, updates, time, interaction, paths.
    tail = out.stdout[out.stdout.index("run finished") :]
    assert "run finished: 600 env steps, 150 world-model updates" in tail
    assert "steps/s" in tail and "probe evaluations" in tail
    for regime in ("impact", "contact", "free", "rest", "all"):
        assert f"\n  {regime} " in tail
    assert f"{last['probe/impact/pos_mm']:.2f}" in tail
    assert "interaction: an object moved in" in tail and "acted by: " in tail
    for name in ("metrics.csv", "summary.json", "report.html"):
        assert str(Path("runs/smoke") / name) in tail  # relative to where the command ran
    # Not a terminal: one plain line per evaluation, no progress-bar stream.
    assert out.stdout.count("\nstep ") == len(rows) and "\r" not in out.stdout + out.stderr


@pytest.mark.parametrize("agent", ["random", "ppo"])
def test_run_debug_with_other_explorers(tmp_path: Path, agent: str) -> None:
    system_tmp = tmp_path / "system_tmp"  # the run must leave nothing in the system's tmp
    system_tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(system_tmp)}
    out = cli(
        "run",
        "experiment=debug",
        f"agent={agent}",
        "curiosity=rnd",
        "run_name=x",
        cwd=tmp_path,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert len(load_dataset(tmp_path / "runs/x/data")) == 600
    # SB3 used to leave an empty SB3-<date> folder each run; torch's one shared compile cache
    # (torchinductor_<user>, made when torch imports dynamo) is a cache, not a run's leftover.
    left = [p.name for p in system_tmp.iterdir() if not p.name.startswith("torchinductor_")]
    assert left == []
    if agent == "ppo":  # SB3's own training stats are kept in the run's TensorBoard folder
        assert any((tmp_path / "runs/x/tb/sb3").glob("events.out.tfevents.*"))


def test_killed_run_resumes_rather_than_restarts(tmp_path: Path) -> None:
    args = [
        sys.executable,
        "-m",
        "agent.cli",
        "run",
        "experiment=debug",
        "agent=random",
        "budget=800",
        "run_name=k",
    ]
    proc = subprocess.Popen(
        args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    checkpoint = tmp_path / "runs/k/checkpoint.pt"
    deadline = time.time() + 300
    while not checkpoint.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert checkpoint.exists()
    out = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "resuming" in out.stdout and "env step 0/" not in out.stdout
    data = load_dataset(tmp_path / "runs/k/data")
    assert len(data) == 800
    pairs = set(zip(data.episode.tolist(), data.step.tolist(), strict=True))
    assert len(pairs) == 800, "no transition stored twice"
    steps = [
        json.loads(line)["step"]
        for line in (tmp_path / "runs/k/metrics.jsonl").read_text().splitlines()
    ]
    assert steps == sorted(set(steps)) and steps[-1] == 800


#: Bad inputs users type, each with the key its error must name. Kept here as the list
#: docs/reliability.md points to: typos, wrong types, out-of-range values, unknown keys and
#: options, contradictory settings.
BAD_INPUTS = [
    ("agent=dqn", "agent"),  # unknown choice of a config group
    ("curiosity=surprise", "curiosity"),
    ("curiosity.name=boredom", "curiosity"),
    ("world_model.kind=transformer", "kind"),
    ("loop.update_evry=5", "update_evry"),  # typo
    ("+foo=1", "foo"),  # unknown key
    ("seed=abc", "seed"),  # wrong type
    ("budget=1.5", "budget"),
    ("budget=-5", "budget"),  # out of range
    ("threads=0", "threads"),
    ("world_model.n_members=0", "n_members"),
    ("agent.mpc.elites=1000", "elites"),
    ("loop.passive_fraction=2", "passive_fraction"),
    ("loop.recent_fraction=-0.5", "recent_fraction"),
    ("loop.recent_window=0", "recent_window"),
    ("pixels.size=60", "pixels.size"),
    ("env.name=mjcf", "mjcf_path"),
    ("env.name=mjcf env.mjcf_path=/no/such.xml", "mjcf_path"),
    ("loop.warmup=100000", "loop.warmup"),  # contradictory settings
    ("source=video_pixels loop.observe_actions=true", "observe_actions"),
    ("agent=ppo loop.observe_actions=false", "observe_actions"),
    ("agent=sac loop.passive_fraction=0.5", "passive_fraction"),
    ("agent=random loop.passive_fraction=0.5 loop.collectors=2", "collectors"),
    ("pixels.readout=magic", "pixels.readout"),
]


@pytest.mark.parametrize(("overrides", "needle"), BAD_INPUTS)
def test_bad_run_config_fails_fast_naming_the_key(
    tmp_path: Path, overrides: str, needle: str
) -> None:
    start = time.perf_counter()
    out = cli("run", *overrides.split(), cwd=tmp_path)
    elapsed = time.perf_counter() - start
    assert out.returncode == 2, out.stderr[-1000:]
    assert needle in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "runs").exists() and not (tmp_path / "probes").exists()
    # Fails before any expensive work (nothing above was created); the bound only catches a
    # run that started: ~1.3 s here with interpreter start-up, room left for a test beside
    # another on 2 cores (the README's command runs two at once).
    assert elapsed < 15


@pytest.mark.parametrize(
    ("args", "needle"),
    [(["run", "--frobnicate"], "--frobnicate"), (["frobnicate"], "frobnicate")],
)
def test_unknown_cli_options_and_commands_name_them(
    tmp_path: Path, args: list[str], needle: str
) -> None:
    out = cli(*args, cwd=tmp_path)
    assert out.returncode == 2 and needle in out.stderr


def test_resume_with_a_changed_config_shows_the_difference(tmp_path: Path) -> None:
    run = tmp_path / "runs/c"
    run.mkdir(parents=True)
    first = cli("run", "experiment=debug", "run_name=c", "--print-config", cwd=tmp_path)
    (run / "config.yaml").write_text(first.stdout)  # as if a run had started with it
    out = cli("run", "experiment=debug", "run_name=c", "seed=7", cwd=tmp_path)
    assert out.returncode == 2
    assert "another config" in out.stderr and "-seed: 0" in out.stderr
    assert "+seed: 7" in out.stderr
    assert not (run / "data").exists()  # refused before any work
