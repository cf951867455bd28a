"""SB3 policies trained on intrinsic reward, with SB3 used as a leaf: a reward wrapper and a
callback, never a subclass of its algorithms.

* :class:`IntrinsicRewardWrapper` replaces the env's reward by the curiosity signal of each
  real transition and hands the transition to the active learner (store, update the world
  model, evaluate); SB3 only ever sees the wrapped env.
* :class:`BudgetCallback` stops ``learn`` when the learner's env-step budget is spent and
  keeps the learner's progress bar moving. It reads nothing from ``self.locals``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

# reward(obs, action, next_obs) -> float, for one real transition
RewardFn = Callable[[np.ndarray, np.ndarray, np.ndarray], float]
# hook(obs, action, next_obs, reward, terminated, truncated, info) after every real step
TransitionHook = Callable[[np.ndarray, np.ndarray, np.ndarray, float, bool, bool, dict], None]


class IntrinsicRewardWrapper(gym.Wrapper):
    """Replace the reward with ``reward_fn`` and report every transition to ``on_transition``.

    ``info["extrinsic_reward"]`` keeps the env's own reward.
    """

    def __init__(
        self, env: gym.Env, reward_fn: RewardFn, on_transition: TransitionHook | None = None
    ) -> None:
        super().__init__(env)
        self.reward_fn = reward_fn
        self.on_transition = on_transition
        self._obs: np.ndarray | None = None

    def reset(self, **kwargs: Any) -> tuple[Any, dict]:
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
    """Stop SB3's ``learn`` once ``done()`` says the env-step budget is spent."""

    def __init__(self, done: Callable[[], bool]) -> None:
        super().__init__()
        self.done = done

    def _on_step(self) -> bool:
        return not self.done()


def make_sb3(algo: str, env: gym.Env, seed: int, kwargs: dict[str, Any]) -> Any:
    """Build SB3's ``PPO`` or ``SAC`` with its default MLP policy on ``env``."""
    from stable_baselines3 import PPO, SAC

    cls = {"ppo": PPO, "sac": SAC}[algo]
    return cls("MlpPolicy", env, seed=seed, verbose=0, device="cpu", **kwargs)
