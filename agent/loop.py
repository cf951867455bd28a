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
from tqdm import tqdm

from agent.explorers.base import Explorer, RandomExplorer
from agent.learner import ActiveLearner

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
) -> None:
    """Collect until ``learner.env_step == budget``; ``checkpoint()`` runs at episode ends."""
    obs, _ = env.reset(seed=episode_seed(seed, learner.episode))
    explorer.reset()
    bar = tqdm(total=budget, initial=learner.env_step, desc="run", unit="step")
    while learner.env_step < budget:
        acting = warmup if learner.env_step < learner.cfg.warmup else explorer
        action = acting.act(obs)
        next_obs, _, terminated, truncated, info = env.step(action)
        reward = reward_fn(obs, learner.conditioning(action, next_obs), next_obs)
        learner.observe(obs, action, next_obs, reward, terminated, truncated, info)
        bar.update(learner.env_step - bar.n)
        if learner.last_eval:
            bar.set_postfix(
                impact_mm=f"{learner.last_eval.get('probe/impact/pos_mm', float('nan')):.1f}"
            )
        obs = next_obs
        if terminated or truncated or learner.env_step >= budget:
            checkpoint()
            obs, _ = env.reset(seed=episode_seed(seed, learner.episode))
            explorer.reset()
    bar.close()
