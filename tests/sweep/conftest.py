"""One local Ray (2 CPUs, loopback only) shared by the Ray tests here, and shared probe sets."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator

import pytest

from agent.sweep.cluster import RaySession, connect


@pytest.fixture(scope="session")
def ray_session() -> Iterator[RaySession]:
    """A local Ray started the way ``contactlab sweep`` starts one."""
    import ray

    if ray.is_initialized():  # pragma: no cover - a Ray left over from another test module
        ray.shutdown()
    session = connect("local", num_cpus=2)
    yield session
    session.stop()


@pytest.fixture(scope="session")
def probe_root(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One probe-set folder for every sweep in this session (each scene's set built once)."""
    return str(tmp_path_factory.mktemp("probes"))


@pytest.fixture
def cli() -> Callable[..., list[str]]:
    """``cli("sweep", ...)``: the argv of the ``contactlab`` command in a fresh interpreter."""
    return lambda *args: [sys.executable, "-m", "agent.cli", *args]


@pytest.fixture
def cli_env() -> dict[str, str]:
    """The test process's environment (token settings included), Ray's address removed."""
    env = dict(os.environ)
    env.pop("RAY_ADDRESS", None)
    return env
