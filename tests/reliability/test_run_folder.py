"""A run folder that nothing can corrupt (issue 14): finished runs re-run, concurrent runs,
damaged checkpoints, metrics and configs, a missing config, a probe set killed mid-write.

Every test works on real run folders made by real ``contactlab run`` processes (one finished
reference run is made once and copied), and ``docs/reliability.md`` lists the attacks and
what each one now does.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import torch

from world_model.checkpoint import CheckpointError, load_checkpoint
from world_model.dataset import load_dataset

# Evaluations on the eval_every grid only (no log-spaced extra points): the rows are 200, 400...
RUN = ["run", "experiment=debug", "agent=random", "run_name=r", "loop.eval_points=0"]
# Timings of the session that wrote summary.json: a resumed session measures its own.
TIMINGS = ("wall_s", "wall_steps", "eval_seconds")


def _without_timings(summary: bytes) -> dict:
    return {k: v for k, v in json.loads(summary).items() if k not in TIMINGS}


def cli(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "agent.cli", *args],
        cwd=cwd, capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One finished ``experiment=debug agent=random`` run (600 steps, 3 checkpoints)."""
    root = tmp_path_factory.mktemp("finished")
    out = cli(*RUN, cwd=root)
    assert out.returncode == 0, out.stderr[-2000:]
    return root


@pytest.fixture
def copy(finished: Path, tmp_path: Path) -> Path:
    """A private copy of the finished run's working directory (run folder and probe sets)."""
    shutil.copytree(finished, tmp_path / "w")
    return tmp_path / "w"


def _files(run: Path) -> dict[str, bytes]:
    """Every file of a run folder (the lock file aside: it names its last owner)."""
    return {
        str(p.relative_to(run)): p.read_bytes()
        for p in sorted(run.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


def _rerun(root: Path, *extra: str) -> subprocess.CompletedProcess:
    return cli(*RUN, *extra, cwd=root)


# Row 1 ---------------------------------------------------------------------------------------


def test_rerunning_a_finished_run_leaves_every_output_byte_identical(copy: Path) -> None:
    run = copy / "runs/r"
    before = _files(run)
    out = _rerun(copy)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "finished already" in out.stdout
    assert _files(run) == before


def test_a_kill_after_the_last_checkpoint_resumes_to_the_same_summary(copy: Path) -> None:
    run = copy / "runs/r"
    summary = (run / "summary.json").read_bytes()
    assert json.loads(summary)["final"], "the reference run has a final evaluation"
    (run / "summary.json").unlink()  # as if killed between the last checkpoint and the summary
    out = _rerun(copy)
    assert out.returncode == 0, out.stderr[-2000:]
    # identical but for the resumed session's own timings; "final" is not {}
    assert _without_timings((run / "summary.json").read_bytes()) == _without_timings(summary)


def test_the_final_row_logged_after_the_last_checkpoint_is_kept_and_repaired(
    tmp_path: Path,
) -> None:
    """budget=500 with eval_every=200: the final row at 500 is off the grid; a re-run keeps it
    byte for byte, and restores it when it is lost (from the final checkpoint, which holds it
    since the schedule evaluates at the budget; summary.json is the fallback for checkpoints
    taken before it)."""
    out = cli(*RUN, "budget=500", cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    run = tmp_path / "runs/r"
    before = _files(run)
    assert [json.loads(r)["step"] for r in before["metrics.jsonl"].splitlines()] == [200, 400, 500]
    assert cli(*RUN, "budget=500", cwd=tmp_path).returncode == 0
    assert _files(run) == before
    lines = before["metrics.jsonl"].splitlines(keepends=True)
    (run / "metrics.jsonl").write_bytes(b"".join(lines[:2]))
    out = cli(*RUN, "budget=500", cwd=tmp_path)
    assert out.returncode == 0 and "rewrote it" in out.stderr
    assert _files(run) == before


# Row 2 ---------------------------------------------------------------------------------------


def test_two_runs_of_one_folder_at_once_one_is_refused_naming_the_other(tmp_path: Path) -> None:
    args = [sys.executable, "-m", "agent.cli", *RUN]
    procs = [
        subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 2], [o[1][-1500:] for o in outs]
    loser = next(i for i, p in enumerate(procs) if p.returncode == 2)
    winner = procs[1 - loser]
    err = outs[loser][1].decode()
    assert "in use by another contactlab process" in err and f"{winner.pid}@" in err
    assert "Traceback" not in err
    rows = (tmp_path / "runs/r/metrics.jsonl").read_text().splitlines()
    assert [json.loads(r)["step"] for r in rows] == [200, 400, 600]  # not each row twice
    data = load_dataset(tmp_path / "runs/r/data")
    assert len(set(zip(data.episode.tolist(), data.step.tolist(), strict=True))) == 600


def test_a_lock_left_by_kill_9_is_taken_over(tmp_path: Path) -> None:
    args = [sys.executable, "-m", "agent.cli", *RUN, "budget=1400"]
    proc = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    checkpoint = tmp_path / "runs/r/checkpoint.pt"
    deadline = time.time() + 300
    while not checkpoint.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert (tmp_path / "runs/r/.lock").read_text().startswith(f"{proc.pid}@")  # stale
    out = cli(*RUN, "budget=1400", cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "resuming" in out.stdout
    assert len(load_dataset(tmp_path / "runs/r/data")) == 1400


# Row 3 ---------------------------------------------------------------------------------------


def _tensor_offsets(path: Path) -> list[int]:
    """Byte offsets in the middle of each tensor data record of a torch zip file, largest
    record first (the local header's own name and extra lengths locate the data)."""
    raw = path.read_bytes()
    with zipfile.ZipFile(path) as z:
        infos = [i for i in z.infolist() if "/data/" in i.filename and i.file_size >= 16]
    infos.sort(key=lambda i: -i.file_size)
    offsets = []
    for info in infos:
        h = info.header_offset
        name_len = int.from_bytes(raw[h + 26 : h + 28], "little")
        extra_len = int.from_bytes(raw[h + 28 : h + 30], "little")
        offsets.append(h + 30 + name_len + extra_len + info.file_size // 2 - 4)
    return offsets


def _flip(path: Path, offset: int, n: int = 8) -> None:
    data = bytearray(path.read_bytes())
    for i in range(offset, offset + n):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def test_flipped_bytes_in_a_checkpoint_are_never_loaded_silently(copy: Path) -> None:
    """8 flipped bytes in each tensor record (weights, Adam moments, RNG states...) and at
    spread offsets: every load either fails naming the file or gives back the exact state."""
    path = copy / "runs/r/checkpoint.pt"
    good = path.read_bytes()
    original = load_checkpoint(path)
    offsets = _tensor_offsets(path)
    offsets += list(range(64, len(good) - 8, len(good) // 40))
    caught = 0
    for offset in offsets:
        path.write_bytes(good)
        _flip(path, offset)
        try:
            state = load_checkpoint(path)
        except CheckpointError as exc:
            assert str(path) in str(exc)
            caught += 1
            continue
        _same(original, state, f"offset {offset}")
    assert caught >= len(_tensor_offsets(path)) > 100  # every tensor record is checked


def _same(a: object, b: object, where: str) -> None:
    if isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), where
        for k in a:
            _same(a[k], b[k], f"{where}/{k}")
    elif isinstance(a, list | tuple):
        assert isinstance(b, list | tuple) and len(a) == len(b), where
        for x, y in zip(a, b, strict=True):
            _same(x, y, where)
    elif isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and torch.equal(a, b), where
    elif hasattr(a, "tobytes"):
        assert a.tobytes() == b.tobytes(), where  # type: ignore[attr-defined]
    else:
        assert a == b, where


def test_a_damaged_checkpoint_falls_back_to_the_previous_one(copy: Path) -> None:
    run = copy / "runs/r"
    (run / "summary.json").unlink()  # killed at the end: the resume reads the checkpoint
    path = run / "checkpoint.pt"
    _flip(path, _tensor_offsets(path)[0])  # the largest tensor: model weights or Adam moments
    out = _rerun(copy)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "checksum mismatch" in out.stderr and "checkpoint.prev.pt" in out.stderr
    assert (run / "checkpoint.bad.pt").exists()
    data = load_dataset(run / "data")
    assert len(set(zip(data.episode.tolist(), data.step.tolist(), strict=True))) == 600
    # Both bad: a clear error naming both, no traceback.
    (run / "summary.json").unlink()
    for name in ("checkpoint.pt", "checkpoint.prev.pt"):
        _flip(run / name, _tensor_offsets(run / name)[0])
    out = _rerun(copy)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "checkpoint.pt" in out.stderr and "checkpoint.prev.pt" in out.stderr


# Row 4 and 6 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("damage", "needle"),
    [
        ("delete", "no config.yaml"),
        ("non_utf8", "not UTF-8"),
        ("python_tag", "no tags such as !!python"),
        ("not_a_mapping", "not a contactlab config"),
    ],
)
def test_a_run_folder_without_a_readable_config_is_refused_by_run_report_and_viz(
    copy: Path, damage: str, needle: str
) -> None:
    run = copy / "runs/r"
    config = run / "config.yaml"
    marker = copy / "pwned"
    if damage == "delete":
        config.unlink()
    elif damage == "non_utf8":
        config.write_bytes(config.read_bytes()[:100] + b"\xff\xfe\x00bad" + config.read_bytes())
    elif damage == "python_tag":
        payload = f'evil: !!python/object/apply:os.system ["touch {marker}"]\n'
        config.write_text(payload + config.read_text())
    else:
        config.write_text("- a list\n- not a config\n")
    before = _files(run)
    commands = [RUN, ["report", "runs/r"], ["viz", "runs/r"]]
    for args in commands:
        out = cli(*args, cwd=copy)
        assert out.returncode == 2, (args, out.stderr[-1500:])
        assert needle in out.stderr and "runs/r" in out.stderr, (args, out.stderr[-1500:])
        assert "Traceback" not in out.stderr
    assert _files(run) == before and not marker.exists()  # refused: nothing added or changed


# Row 5 ---------------------------------------------------------------------------------------


def _damage_metrics(path: Path, how: str) -> None:
    data = path.read_bytes()
    lines = data.splitlines(keepends=True)
    if how == "bad_middle_row":
        lines[1] = b'{"step": 400, "probe/impact/pos_mm": \n'
        path.write_bytes(b"".join(lines))
    elif how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "deleted":
        path.unlink()
    elif how == "non_utf8":
        path.write_bytes(lines[0] + b"\xff\xfe\xfd\n" + b"".join(lines[1:]))


@pytest.mark.parametrize("how", ["bad_middle_row", "truncated", "deleted", "non_utf8"])
@pytest.mark.parametrize("state", ["finished", "killed_at_the_end"])
def test_damaged_metrics_are_repaired_from_the_checkpoint_with_a_warning(
    copy: Path, how: str, state: str
) -> None:
    run = copy / "runs/r"
    jsonl, csv = (run / "metrics.jsonl").read_bytes(), (run / "metrics.csv").read_bytes()
    if state == "killed_at_the_end":
        (run / "summary.json").unlink()
    _damage_metrics(run / "metrics.jsonl", how)
    out = _rerun(copy)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Traceback" not in out.stderr
    assert "runs/r/metrics.jsonl" in out.stderr and "rewrote it" in out.stderr
    assert (run / "metrics.jsonl").read_bytes() == jsonl
    assert (run / "metrics.csv").read_bytes() == csv


@pytest.mark.parametrize("how", ["bad_middle_row", "non_utf8"])
def test_reports_refuse_damaged_metrics_naming_the_file_and_line(copy: Path, how: str) -> None:
    _damage_metrics(copy / "runs/r/metrics.jsonl", how)
    out = cli("report", "runs/r", cwd=copy)
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr[-1500:]
    assert "runs/r/metrics.jsonl: line 2" in out.stderr


# Row 7 ---------------------------------------------------------------------------------------

PROBE = ["probe", "make", "env=billiards", "probe.min_per_regime=40", "probe.seq_len=5"]


def test_a_probe_set_killed_mid_write_is_never_used_and_probe_make_rebuilds(
    tmp_path: Path,
) -> None:
    from world_model.probe import IncompleteProbeSet, load_probe_set

    made = cli(*PROBE, cwd=tmp_path)
    assert made.returncode == 0, made.stderr[-1500:]
    (path,) = _visible(tmp_path / "probes")
    complete = load_probe_set(path)
    reference = tmp_path / "reference"
    shutil.move(path, reference)
    for n in (1, 2, 3):  # killed in its first shard, its meta.json, its completeness marker
        env = {**os.environ, "CONTACTLAB_KILL_IN_WRITE": str(n)}
        killed = cli(*PROBE, cwd=tmp_path, env=env)
        assert killed.returncode == -signal.SIGKILL
        assert not path.exists(), "nothing incomplete is ever at the probe set's path"
    again = cli(*PROBE, cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-1500:]
    assert load_probe_set(path).content_hash == complete.content_hash
    assert _visible(tmp_path / "probes") == [path]
    assert not list((tmp_path / "probes").glob("*.partial-*")), "partials removed"
    # A set cut short by a writer from before the completeness marker: rejected, then rebuilt.
    shutil.rmtree(path)
    _legacy_incomplete(reference, path)
    with pytest.raises(IncompleteProbeSet, match="min_per_regime"):
        load_probe_set(path)
    run = cli("run", "experiment=debug", "env=billiards", cwd=tmp_path)
    assert run.returncode == 2 and "incomplete probe set" in run.stderr, run.stderr[-1500:]
    assert "contactlab probe make" in run.stderr and "Traceback" not in run.stderr
    rebuilt = cli(*PROBE, cwd=tmp_path)
    assert rebuilt.returncode == 0 and "rejected" in rebuilt.stdout, rebuilt.stderr[-1500:]
    assert load_probe_set(path).content_hash == complete.content_hash
    refused = cli(*PROBE, cwd=tmp_path)  # a complete set is never overwritten
    assert refused.returncode == 2 and "complete probe set" in refused.stderr


def _visible(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if not p.name.startswith(".")]


def _legacy_incomplete(source: Path, path: Path) -> None:
    """The first rows of a complete set, written the old way (no marker, straight at path)."""
    from world_model.dataset import DatasetWriter

    data = load_dataset(source)
    fields = [f for f in data.__dataclass_fields__ if f != "meta"]
    keep = (len(data) // 5 // 2) * 5
    with DatasetWriter(path, data.meta) as w:
        w.extend(**{f: getattr(data, f)[:keep] for f in fields if getattr(data, f) is not None})
