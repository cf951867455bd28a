"""Explorers, world models and curiosity signals are looked up by name in registries: the
config checks read them (no hard-coded lists), and a part registered from outside the package
(here, from this test module) is validated and built by the run's own builder
(:mod:`agent.parts`) and runs a whole ``contactlab run``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from agent.config import ConfigError, RunConfig, load_config
from agent.explorers.base import Explorer, RandomExplorer
from agent.explorers.registry import EXPLORERS, ExplorerInputs, register_explorer
from agent.parts import build_explorer, build_parts
from curiosity import SIGNALS, CuriosityConfig, register_signal
from curiosity.disagreement import Disagreement
from curiosity.state_metric import StateMetric
from envs.layout import EntityLayout
from world_model.config import WorldModelConfig
from world_model.models import LatentDynamicsModel, LatentMLPModel, build_model
from world_model.protocol import WorldModel
from world_model.registry import MODELS, register_model


class PushRight:
    """Toy explorer: always pushes along +x."""

    def __init__(self, action_dim: int) -> None:
        self.action = np.zeros(action_dim, np.float32)
        self.action[0] = 1.0

    def act(self, obs: np.ndarray) -> np.ndarray:
        return self.action

    def reset(self) -> None:
        pass

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


def build_push_right(inputs: ExplorerInputs) -> Explorer:
    return PushRight(inputs.action_dim)


def build_small_mlp(
    cfg: WorldModelConfig, layout: EntityLayout, action_dim: int, dt: float | None
) -> LatentDynamicsModel:
    return LatentMLPModel(cfg, layout.obs_dim, action_dim)


def build_toy_signal(
    cfg: CuriosityConfig,
    model: WorldModel,
    metric: StateMetric,
    make_model: Callable[[], WorldModel] | None,
) -> Disagreement:
    return Disagreement(model, metric)


@pytest.fixture
def toys() -> Iterator[None]:
    register_explorer("push_right")(build_push_right)
    register_model("small_mlp")(build_small_mlp)
    register_signal("toy_disagreement")(build_toy_signal)
    yield
    EXPLORERS.unregister("push_right")
    MODELS.unregister("small_mlp")
    SIGNALS.unregister("toy_disagreement")


TOY_OVERRIDES = [
    "experiment=debug",
    "agent.name=push_right",
    "world_model.kind=small_mlp",
    "curiosity.name=toy_disagreement",
]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("agent.name=push_right", "agent.name must be one of ('mpc', 'seek', 'ppo', 'sac',"),
        ("world_model.kind=small_mlp", "world_model.kind must be one of ('graph', 'mlp',"),
        ("curiosity.name=toy_disagreement", "curiosity.name must be one of ('prediction_error',"),
    ],
)
def test_unregistered_names_fail_fast_naming_the_key_and_the_known_names(
    override: str, message: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load_config("run", RunConfig, ["experiment=debug", override])
    assert message in str(err.value)


def test_the_run_checks_read_the_explorer_flags(toys: None) -> None:
    with pytest.raises(ConfigError, match="agent=demonstrator or agent=random, not agent=push"):
        load_config("run", RunConfig, [*TOY_OVERRIDES, "loop.observe_actions=false"])
    with pytest.raises(ConfigError, match="needs agent=mpc or agent=random"):
        load_config("run", RunConfig, [*TOY_OVERRIDES, "loop.passive_fraction=0.5"])
    cfg, _ = load_config("run", RunConfig, [*TOY_OVERRIDES, "loop.collectors=2"])
    assert cfg.loop.collectors == 2  # an explorer of our own loop may have collectors


def test_registered_parts_are_built_by_the_runs_builder(toys: None) -> None:
    cfg, _ = load_config("run", RunConfig, TOY_OVERRIDES)
    torch.manual_seed(0)
    parts = build_parts(cfg.env, cfg.world_model, cfg.curiosity)
    try:
        assert isinstance(parts.model, LatentMLPModel)
        assert parts.signal is not None and parts.signal.name == "disagreement"
        rng = np.random.default_rng(0)
        explorer = build_explorer(cfg, parts, RandomExplorer(parts.action_dim, rng), rng, lambda: 0)
        assert isinstance(explorer, PushRight)
        obs, _ = parts.env.reset(seed=0)
        assert explorer.act(obs)[0] == 1.0
    finally:
        parts.env.close()


@pytest.mark.slow  # 45 s here under load: a probe set, a run and its report
def test_a_whole_run_with_registered_parts(toys: None, tmp_path: Path) -> None:
    from agent.run import run

    overrides = [*TOY_OVERRIDES, "budget=300", f"out_dir={tmp_path}", "run_name=toy"]
    overrides += [f"probe.root={tmp_path / 'probes'}"]
    cfg, resolved = load_config("run", RunConfig, overrides)
    run_dir = run(cfg, resolved)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["env_steps"] == 300
    assert summary["explorer_steps"] == {"warmup": 200, "push_right": 100}
    assert "probe/impact/pos_mm" in summary["final"]


def test_build_model_names_the_known_kinds() -> None:
    cfg = WorldModelConfig()
    object.__setattr__(cfg, "kind", "cnn")  # past the config's own check
    with pytest.raises(ValueError, match=r"WorldModelConfig.kind must be one of \('graph'"):
        build_model(cfg, None, 2)  # type: ignore[arg-type]  # fails before reading the layout
