"""What happens after every real env step, whoever chose the action.

:class:`ActiveLearner.observe` is called with each real transition, by our own loop
(``random``, ``mpc``) or by the SB3 reward wrapper (``ppo``, ``sac``): store it (replay and
the run's on-disk dataset), update the world model and the curiosity signal every
``update_every`` steps, evaluate on the probe set every ``eval_every`` steps, log. Parts are
built by the composition root (:mod:`agent.run`) and injected; nothing is built here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from agent.config import LoopConfig
from agent.interaction import InteractionTracker
from curiosity.calibration import calibration_by_regime
from envs.layout import EntityLayout
from world_model.dataset import DatasetWriter
from world_model.inference import predict_members
from world_model.metrics_log import MetricsLogger
from world_model.models.base import LatentDynamicsModel
from world_model.probe import ProbeSet, agent_motion, evaluate_on_probe, with_baselines
from world_model.replay import Replay
from world_model.trainer import ModelTrainer, NonFiniteUpdateError

_LABELS = ("regime", "pair_kind", "critical", "approach_speed", "impulse")


@dataclass
class ActiveLearner:
    """Stores, trains, evaluates and logs. See the module docstring.

    ``env_step`` counts stored transitions; unstable ones (``info["sim_unstable"]``) are
    never stored and do not count.
    """

    cfg: LoopConfig
    replay: Replay
    writer: DatasetWriter
    trainer: ModelTrainer
    curiosity: Any  # curiosity.CuriositySignal: __call__, update, state_dict
    probe: ProbeSet
    logger: MetricsLogger
    interaction: InteractionTracker
    horizon: int
    layout: EntityLayout
    env_step: int = 0
    episode: int = 0
    episode_step: int = 0
    updates: int = 0
    last_eval: dict[str, float] = field(default_factory=dict)
    #: ``baseline/...`` metrics of the physics baselines on the probe set (constant per probe
    #: set: computed once by the composition root), logged in every evaluation row.
    baselines: dict[str, float] = field(default_factory=dict)
    #: steps evaluated besides multiples of ``eval_every`` (:func:`agent.schedule.eval_steps`)
    eval_at: frozenset[int] = frozenset()
    eval_seconds: float = 0.0  #: wall time spent in probe evaluations this session
    _train_log: dict[str, float] = field(default_factory=dict)

    def observe(
        self,
        obs: np.ndarray,
        action: np.ndarray,
        next_obs: np.ndarray,
        reward: float,
        terminated: bool,
        truncated: bool,
        info: dict,
    ) -> None:
        """One real transition; ``reward`` is the intrinsic reward the explorer saw."""
        action = self.conditioning(action, next_obs)
        if not info["sim_unstable"]:
            self.before_store(obs, next_obs)
            labels = info["contact"]
            row = dict(
                obs=obs, action=action, next_obs=next_obs, reward=np.float32(reward),
                terminated=terminated, truncated=truncated, episode=self.episode,
                step=self.episode_step, **{k: labels[k] for k in _LABELS},
            )  # fmt: skip
            self.writer.append(**row)
            self.replay.add(
                obs,
                action,
                next_obs,
                reward,
                terminated,
                truncated,
                labels["regime"],
                self.episode,
                self.episode_step,
            )
            self.interaction.update(obs, next_obs, labels, bool(info.get("distractor_on", False)))
            self.env_step += 1
            self.episode_step += 1
            if self.env_step >= self.cfg.warmup and self.env_step % self.cfg.update_every == 0:
                # Keep updates == updates_per_step * transitions: the warm-up data is caught up on.
                self._train(int(self.env_step * self.cfg.updates_per_step) - self.updates)
            if self.env_step % self.cfg.eval_every == 0 or self.env_step in self.eval_at:
                start = time.perf_counter()
                self.evaluate()
                self.eval_seconds += time.perf_counter() - start
        if terminated or truncated:
            self.episode += 1
            self.episode_step = 0

    @property
    def condition(self) -> str:
        """What the world model is conditioned on: ``"action"`` or ``"agent_motion"``."""
        return "action" if self.cfg.observe_actions else "agent_motion"

    def conditioning(self, action: np.ndarray, next_obs: np.ndarray) -> np.ndarray:
        """The action, or for a video source (which never sees actions) the agent's observed
        next state in its place."""
        if self.cfg.observe_actions:
            return action
        return agent_motion(self.layout, np.asarray(next_obs, dtype=np.float32)).astype(np.float32)

    def _train(self, n_updates: int) -> None:
        if n_updates < 1:
            return
        wm: dict[str, float] = {}
        for _ in range(n_updates):
            try:
                wm = self.trainer.update(self.next_batch())
            except NonFiniteUpdateError as exc:
                raise NonFiniteUpdateError(f"at env step {self.env_step}, {exc}") from None
            self.updates += 1
        cur = self.update_curiosity()
        self._train_log = {**wm, **cur}

    def evaluate(self) -> dict[str, float]:
        """Probe metrics + the latest training and interaction figures, logged at ``env_step``."""
        model = self.trainer.model
        model.eval()
        try:
            metrics = self.probe_metrics()
        finally:
            model.train()
        metrics = with_baselines(metrics, self.baselines)
        metrics.update(self._train_log)
        metrics.update(self.interaction.flush())
        metrics["wm/updates"] = float(self.updates)
        self.logger.log(self.env_step, metrics)
        self.last_eval = metrics
        return metrics

    def before_store(self, obs: np.ndarray, next_obs: np.ndarray) -> None:
        """Called with each stable transition just before it is stored (at
        ``replay.next_row``); the pixel learner renders its frames here."""

    def recent_count(self) -> int:
        """How many of a batch's ``loop.batch_size`` items come from the newest
        ``loop.recent_window`` transitions (``loop.recent_fraction``)."""
        return round(self.cfg.recent_fraction * self.cfg.batch_size)

    def next_batch(self) -> Any:
        """One training batch for the world model: ``H``-step sequences from the replay, the
        first :meth:`recent_count` of them among the newest ``loop.recent_window``."""
        return self.replay.sample_sequences(
            self.cfg.batch_size, self.horizon, self.recent_count(), self.cfg.recent_window
        )

    def update_curiosity(self) -> dict[str, float]:
        """One update of the curiosity signal (its own model, normalisers); its log terms."""
        return self.curiosity.update(self.replay.sample(self.cfg.batch_size))

    def probe_metrics(self) -> dict[str, float]:
        """The model's contact-stratified probe metrics and the curiosity calibration, from one
        pass of the model over the probe's transitions (both read the same predictions)."""
        members = self._probe_predictions()
        metrics = evaluate_on_probe(
            self.state_model, self.probe, condition=self.condition, predicted=members
        )
        metrics.update(self.calibration(members))
        return metrics

    def _probe_conditioning(self) -> np.ndarray | None:
        """What the model is conditioned on for each probe transition (the action, or the
        agent's observed motion for a video source); ``None`` if the probe has no actions."""
        d = self.probe.data
        return d.action if self.cfg.observe_actions else agent_motion(self.layout, d.next_obs)

    def _probe_predictions(self) -> torch.Tensor | None:
        """``(M, N, D)`` every member's one-step prediction of the probe's transitions."""
        cond = self._probe_conditioning()
        return (
            None if cond is None else predict_members(self.state_model, self.probe.data.obs, cond)
        )

    @property
    def state_model(self) -> LatentDynamicsModel:
        """The trainer's model, which here is a state model (the pixel learner overrides what
        uses this)."""
        model = self.trainer.model
        assert isinstance(model, LatentDynamicsModel), "ActiveLearner trains a state model"
        return model

    def on_replay_restored(self) -> None:
        """Called on resume once the replay holds the stored transitions again."""

    def calibration(self, members: torch.Tensor | None = None) -> dict[str, float]:
        """Is the curiosity signal high where the model is wrong? Spearman's rho between the raw
        signal and the model's true one-step object position error on the probe transitions,
        overall and per regime (``curiosity/calibration/*``).

        Args:
            members: ``(M, N, D)`` the members' predictions of the probe transitions
                (:meth:`_probe_predictions`), if already computed.
        """
        d, layout = self.probe.data, self.layout
        cond = self._probe_conditioning()
        if cond is None:
            return {}
        if members is None:
            members = predict_members(self.state_model, d.obs, cond)
        objects = layout.indices("object")
        pred = layout.split(members.mean(0).numpy())[:, objects, 0:3]
        error = np.linalg.norm(pred - layout.split(d.next_obs)[:, objects, 0:3], axis=-1).mean(
            axis=1
        )
        signal = []
        with torch.no_grad():
            for s in range(0, len(d), 4096):
                chunk = [torch.as_tensor(x[s : s + 4096]) for x in (d.obs, cond, d.next_obs)]
                signal.append(
                    self.curiosity.raw(*chunk, predicted=members[:, s : s + 4096]).numpy()
                )
        return calibration_by_regime(np.concatenate(signal), error, d.regime, layout)

    def state_dict(self) -> dict[str, Any]:
        return {
            "env_step": self.env_step,
            "episode": self.episode,
            "updates": self.updates,
            "trainer": self.trainer.state_dict(),
            "curiosity": self.curiosity.state_dict(),
            "interaction": self.interaction.state_dict(),
            "replay_rng": self.replay.rng.bit_generator.state,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.env_step, self.episode = int(state["env_step"]), int(state["episode"])
        self.updates = int(state["updates"])
        self.episode_step = 0
        self.trainer.load_state_dict(state["trainer"])
        self.curiosity.load_state_dict(state["curiosity"])
        self.interaction.load_state_dict(state["interaction"])
        self.replay.rng.bit_generator.state = state["replay_rng"]
