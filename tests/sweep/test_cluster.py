"""The local Ray: every server on loopback, token auth on; the shared-storage check."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from agent.sweep.cluster import NotSharedStorage, RaySession, raise_if_not_shared


def _descendants(root: int) -> set[int]:
    parent: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {root}
    while frontier:
        frontier = {p for p, pp in parent.items() if pp in frontier} - found
        found |= frontier
    return found


@pytest.mark.skipif(shutil.which("ss") is None, reason="needs ss (iproute2)")
def test_local_ray_listens_on_loopback_only(ray_session: RaySession) -> None:
    import ray

    assert ray_session.local and ray_session.address.startswith("127.0.0.1:")
    assert {n["NodeManagerAddress"] for n in ray.nodes()} == {"127.0.0.1"}
    assert ray.get(ray.remote(lambda: 1).remote()) == 1  # workers up, so their ports are open
    ours = _descendants(os.getpid())
    listening = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout
    seen = 0
    for line in listening.splitlines():
        pids = {int(p) for p in re.findall(r"pid=(\d+)", line)}
        if pids & ours:
            seen += 1
            local = line.split()[3]
            assert local.rsplit(":", 1)[0] in ("127.0.0.1", "[::ffff:127.0.0.1]", "[::1]"), line
    assert seen >= 5  # GCS, raylet, object manager, agents, workers


def test_token_authentication_stays_on(ray_session: RaySession) -> None:
    from ray._private.authentication.authentication_utils import is_token_auth_enabled

    assert is_token_auth_enabled()


def test_unshared_folder_is_refused_naming_folder_and_node() -> None:
    results = {
        "10.0.0.1": {"host": "head", "ok": True, "exists": True},
        "10.0.0.2": {"host": "worker-2", "ok": False, "exists": False},
    }
    with pytest.raises(NotSharedStorage) as err:
        raise_if_not_shared(Path("/data/runs/sweep-abc"), results)
    message = str(err.value)
    assert "sweep folder /data/runs/sweep-abc is not shared storage" in message
    assert "visible from node 10.0.0.2 (worker-2" in message
    raise_if_not_shared(Path("/x"), {"10.0.0.1": results["10.0.0.1"]})  # all fine: no error


def test_shared_folder_passes_the_check_on_every_node(
    ray_session: RaySession, tmp_path: Path
) -> None:
    from agent.sweep.cluster import check_shared_storage

    check_shared_storage(tmp_path / "sweep")
    assert not [p for p in (tmp_path / "sweep").iterdir() if p.name.startswith(".shared")]


@pytest.mark.slow  # Ray retries the refused handshake for ~20 s before giving up
def test_joining_without_the_token_mode_fails_with_advice(
    ray_session: RaySession,
    tmp_path: Path,
    cli: Callable[..., list[str]],
    cli_env: dict[str, str],
) -> None:
    env = {k: v for k, v in cli_env.items() if k != "RAY_AUTH_MODE"}
    out = subprocess.run(
        cli("sweep", "seed=0", "experiment=debug", f"ray.address={ray_session.address}"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert out.returncode == 2, out.stderr[-2000:]
    assert "cannot join the Ray cluster" in out.stderr and "RAY_AUTH_MODE=token" in out.stderr


def test_joining_an_address_where_nothing_listens_fails_fast(
    tmp_path: Path, cli: Callable[..., list[str]], cli_env: dict[str, str]
) -> None:
    start = time.perf_counter()
    out = subprocess.run(
        cli("sweep", "seed=0", "experiment=debug", "ray.address=127.0.0.1:1"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=cli_env,
        timeout=120,
    )
    assert out.returncode == 2 and "nothing answers there" in out.stderr, out.stderr[-2000:]
    assert time.perf_counter() - start < 10


@pytest.mark.slow
def test_sweep_on_a_two_node_cluster_checks_storage_and_uses_both_nodes(
    probe_root: str, tmp_path: Path, cli: Callable[..., list[str]], cli_env: dict[str, str]
) -> None:
    from ray.cluster_utils import Cluster

    from agent.sweep.cluster import _loopback_only

    with _loopback_only(True):  # both nodes on 127.0.0.1, as in the rest of these tests
        cluster = Cluster(
            initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False}
        )
        cluster.add_node(num_cpus=1)
    try:
        cluster.wait_for_nodes()
        out = subprocess.run(
            cli(
                "sweep",
                "seed=0,1",
                "experiment=debug",
                "agent=random",
                "budget=300",
                f"probe.root={probe_root}",
                f"ray.address={cluster.address}",
            ),  # fmt: skip
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env=cli_env,
            timeout=600,
        )
    finally:
        cluster.shutdown()
    assert out.returncode == 0, out.stderr[-3000:]
    assert "2 node(s), 2 CPUs" in out.stdout
    logs = [p.read_text() for p in (tmp_path / "runs").glob("sweep-*/seed-*/trial.log")]
    nodes = {re.search(r"node (\w+)", log).group(1) for log in logs}
    assert len(logs) == 2 and len(nodes) == 2  # one CPU per node: one trial on each


def test_local_ray_runs_trials_at_normal_priority(ray_session: RaySession) -> None:
    """Ray nices its workers to 15 by default; next to other work our trials would crawl."""
    import ray

    @ray.remote
    def niceness() -> int:
        return os.nice(0)

    assert ray.get(niceness.remote()) == os.nice(0)
