"""The data path of one run, top to bottom.

act -> env step -> intrinsic reward -> store (learner.observe: replay, dataset, world-model
and curiosity updates every N steps, probe evaluation every E steps, logging) -> checkpoint
at episode ends -> repeat until the env-step budget is spent. SB3 explorers run the same
``learner.observe`` from inside their own loop (:mod:`agent.explorers.sb3`).
"""

from __future__ import annotations

from collections.abc import Callable

import gymnasium as gym
import numpy as np

from agent.explorers.base import Explorer, RandomExplorer
from agent.learner import ActiveLearner
from agent.progress import Progress

# reward(obs, action, next_obs) -> intrinsic reward of one real transition
RewardFn = Callable[[np.ndarray, np.ndarray, np.ndarray], float]


def episode_seed(run_seed: int, episode: int) -> int:
    """Reset seed of episode ``episode``: a resumed run replays the same starts."""
    return (run_seed * 1_000_003 + episode) % 2**31


def run_loop(
    env: gym.Env,
    explorer: Explorer,
    warmup: RandomExplorer,
    learner: ActiveLearner,
    reward_fn: RewardFn,
    budget: int,
    seed: int,
    checkpoint: Callable[[], None],
    progress: Progress | None = None,
) -> None:
    """Collect until ``learner.env_step == budget``; ``checkpoint()`` runs at episode ends;
    ``progress`` (default: a new one) is told the step and the latest evaluation."""
    obs, _ = env.reset(seed=episode_seed(seed, learner.episode))
    explorer.reset()
    bar = progress or Progress(budget, learner.env_step, cycle=learner.cfg.update_every)
    while learner.env_step < budget:
        acting = warmup if learner.env_step < learner.cfg.warmup else explorer
        action = acting.act(obs)
        next_obs, _, terminated, truncated, info = env.step(action)
        reward = reward_fn(obs, learner.conditioning(action, next_obs), next_obs)
        learner.observe(obs, action, next_obs, reward, terminated, truncated, info)
        bar.update(learner.env_step, learner.last_eval)
        obs = next_obs
        if terminated or truncated or learner.env_step >= budget:
            checkpoint()
            obs, _ = env.reset(seed=episode_seed(seed, learner.episode))
            explorer.reset()
    if progress is None:
        bar.close()
