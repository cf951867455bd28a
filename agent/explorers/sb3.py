"""SB3 policies trained on intrinsic reward, with SB3 used as a leaf: a reward wrapper and a
callback, never a subclass of its algorithms.

* :class:`IntrinsicRewardWrapper` replaces the env's reward by the curiosity signal of each
  real transition and hands the transition to the active learner (store, update the world
  model, evaluate); SB3 only ever sees the wrapped env.
* :class:`BudgetCallback` stops ``learn`` when the learner's env-step budget is spent, and
  tells the run when a rollout starts (the one moment SB3's state is complete: no half-filled
  PPO rollout, SAC's last transition stored and trained on). It reads nothing from
  ``self.locals``.
* :func:`sb3_state` / :func:`load_sb3_state`: resume. The algorithm is saved with SB3's own
  ``save`` (a zip: policy, every optimizer, SAC's ``log_ent_coef``) and its parameters loaded
  back with SB3's ``load_from_zip_file(load_data=False)`` + ``set_parameters``, which read only
  the ``.pth`` members with ``torch.load(weights_only=True)``. Not ``PPO.load``/``SAC.load``:
  they also unpickle the zip's ``data`` member (cloudpickle), and not ``load_replay_buffer``:
  SB3's replay-buffer file is a plain pickle; either would let a crafted run folder run code
  (``docs/reliability.md``). SAC's replay buffer is therefore kept as its arrays, and the
  counters and random streams that SB3's zip does not hold (``num_timesteps``, update and
  episode counts, the action space's and numpy's global RNG) are kept beside it.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.save_util import load_from_zip_file

if TYPE_CHECKING:
    from agent.config import AgentConfig

# reward(obs, action, next_obs) -> float, for one real transition
RewardFn = Callable[[np.ndarray, np.ndarray, np.ndarray], float]
# hook(obs, action, next_obs, reward, terminated, truncated, info) after every real step
TransitionHook = Callable[[np.ndarray, np.ndarray, np.ndarray, float, bool, bool, dict], None]


class IntrinsicRewardWrapper(gym.Wrapper):
    """Replace the reward with ``reward_fn`` and report every transition to ``on_transition``.

    ``info["extrinsic_reward"]`` keeps the env's own reward.
    """

    def __init__(
        self,
        env: gym.Env,
        reward_fn: RewardFn,
        on_transition: TransitionHook | None = None,
        reset_seed: Callable[[], int] | None = None,
    ) -> None:
        """Args:
        reset_seed: if given, every reset (SB3's own resets after each episode included) is
            seeded with ``reset_seed()`` instead of the seed SB3 passes, so that episode starts
            depend on the episode index only, as in our own loop, and a resumed run replays
            them.
        """
        super().__init__(env)
        self.reward_fn = reward_fn
        self.on_transition = on_transition
        self.reset_seed = reset_seed
        self._obs: np.ndarray | None = None

    def reset(self, **kwargs: Any) -> tuple[Any, dict]:
        if self.reset_seed is not None:
            kwargs["seed"] = self.reset_seed()
        obs, info = self.env.reset(**kwargs)
        self._obs = obs
        return obs, info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        if self._obs is None:
            raise RuntimeError("IntrinsicRewardWrapper.step called before reset")
        next_obs, extrinsic, terminated, truncated, info = self.env.step(action)
        reward = float(self.reward_fn(self._obs, np.asarray(action), next_obs))
        info["extrinsic_reward"] = extrinsic
        if self.on_transition is not None:
            self.on_transition(
                self._obs, np.asarray(action), next_obs, reward, terminated, truncated, info
            )
        self._obs = next_obs
        return next_obs, reward, terminated, truncated, info


class BudgetCallback(BaseCallback):
    """Stop SB3's ``learn`` once ``done()`` says the env-step budget is spent; call
    ``rollout_start()`` at the start of every rollout."""

    def __init__(
        self, done: Callable[[], bool], rollout_start: Callable[[], None] | None = None
    ) -> None:
        super().__init__()
        self.done = done
        self.rollout_start = rollout_start

    def _on_rollout_start(self) -> None:
        if self.rollout_start is not None:
            self.rollout_start()

    def _on_step(self) -> bool:
        return not self.done()


def make_sb3(algo: str, env: gym.Env, seed: int, kwargs: dict[str, Any]) -> Any:
    """Build SB3's ``PPO`` or ``SAC`` with its default MLP policy on ``env``.

    The model starts with a logger that writes nowhere: without one of its own, each
    ``learn()`` would leave an empty ``SB3-<date>`` folder in the system tmp. A run replaces it
    with one that writes to its TensorBoard folder (``agent.run``).
    """
    from stable_baselines3 import PPO, SAC
    from stable_baselines3.common.logger import Logger

    cls = {"ppo": PPO, "sac": SAC}[algo]
    model = cls("MlpPolicy", env, seed=seed, verbose=0, device="cpu", **kwargs)
    model.set_logger(Logger(folder=None, output_formats=[]))
    return model


def build_ppo(env: gym.Env, seed: int, agent: AgentConfig) -> Any:
    """``agent=ppo`` (:data:`agent.explorers.registry.EXPLORERS`) on the wrapped env."""
    kwargs = {"n_steps": agent.sb3_n_steps, "batch_size": agent.sb3_batch_size}
    return make_sb3("ppo", env, seed, kwargs)


def build_sac(env: gym.Env, seed: int, agent: AgentConfig) -> Any:
    """``agent=sac`` (:data:`agent.explorers.registry.EXPLORERS`) on the wrapped env."""
    kwargs = {
        "learning_starts": agent.sb3_learning_starts,
        "train_freq": agent.sb3_train_freq,
        "batch_size": agent.sb3_batch_size,
    }
    return make_sb3("sac", env, seed, kwargs)


_REPLAY_ARRAYS = ("observations", "next_observations", "actions", "rewards", "dones", "timeouts")


def sb3_state(model: Any) -> dict[str, Any]:
    """Everything an SB3 PPO/SAC needs to continue exactly, as checkpoint-safe values.

    Call only at a rollout start (:class:`BudgetCallback`), when no PPO rollout is half
    collected. Returns ``zip`` (SB3's ``save`` output, as uint8 bytes), the counters, the random
    streams and, for SAC, ``replay`` (the filled part of each buffer array, ``pos``, ``full``).
    """
    buf = io.BytesIO()
    model.save(buf)
    state: dict[str, Any] = {
        "zip": np.frombuffer(buf.getvalue(), np.uint8).copy(),
        "num_timesteps": int(model.num_timesteps),
        "n_updates": int(model._n_updates),
        "episode_num": int(model._episode_num),
        "action_space_rng": model.action_space.np_random.bit_generator.state,
        "numpy_rng": np.random.get_state(),  # noqa: NPY002 (SB3 samples minibatches from it)
    }
    replay = getattr(model, "replay_buffer", None)
    if replay is not None:
        n = replay.buffer_size if replay.full else replay.pos
        state["replay"] = {
            **{name: getattr(replay, name)[:n].copy() for name in _REPLAY_ARRAYS},
            "pos": int(replay.pos),
            "full": bool(replay.full),
        }
    return state


def load_sb3_state(model: Any, state: dict[str, Any]) -> None:
    """Restore :func:`sb3_state` into a freshly built ``model`` of the same configuration.

    Raises:
        ValueError: the saved parameters do not match the model's (another algorithm or
            network), from SB3's ``set_parameters(exact_match=True)``.
    """
    _, params, variables = load_from_zip_file(
        io.BytesIO(np.asarray(state["zip"], np.uint8).tobytes()), device="cpu", load_data=False
    )
    model.set_parameters(params, exact_match=True, device="cpu")
    for name, value in (variables or {}).items():  # SAC's log_ent_coef, as SB3's load does
        if value is not None:
            getattr(model, name).data.copy_(value.data)
    model.num_timesteps = int(state["num_timesteps"])
    model._n_updates = int(state["n_updates"])
    model._episode_num = int(state["episode_num"])
    model.action_space.np_random.bit_generator.state = state["action_space_rng"]
    np.random.set_state(state["numpy_rng"])  # noqa: NPY002 (SB3 samples minibatches from it)
    if "replay" in state:
        saved, replay = state["replay"], model.replay_buffer
        for name in _REPLAY_ARRAYS:
            rows = np.asarray(saved[name])
            getattr(replay, name)[: len(rows)] = rows
        replay.pos, replay.full = int(saved["pos"]), bool(saved["full"])
