"""Parallel collection: Ray actors stepping env copies for the uniform-random part of a run.

With ``loop.collectors=N > 1`` a run starts N :class:`EnvCollector` actors, each owning a copy
of the env. They roll out whole episodes of uniform random actions: the warm-up of every
explorer, and the whole budget for ``agent=random``. The driver feeds each episode's
transitions, in episode order, to the same ``learner.observe`` the serial loop uses (store,
train every ``update_every`` steps, evaluate, log) and checkpoints at episode ends, while the
actors already step the next episodes: collection overlaps training.

What runs where (the choice made here): actors only ever act at random; an MPC or scripted
explorer plans and steps on the driver after the warm-up, in its own env, as with one
collector. Shipping model weights to actors each round would buy nothing on these scenes: an
env step costs ~0.3 ms, a planning step tens of ms on the driver's model.

The warm-up phase collects whole episodes only (the episode that would cross ``loop.warmup``
is left to the serial loop), so every stored sequence is one real episode. Episode ``e`` is
reset with ``episode_seed(seed, e)`` and acts with a generator seeded from it, whichever
actor runs it: the data depend on the seed, not on N or on timing, and a run resumed from a
checkpoint (taken at an episode end) continues with exactly the episodes it would have had.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import ray
from tqdm import tqdm

from agent.config import EnvConfig, RunConfig
from agent.explorers.registry import EXPLORERS
from agent.learner import ActiveLearner
from agent.loop import RewardFn, episode_seed

# (obs, action, next_obs, terminated, truncated, info) of one env step
Step = tuple[np.ndarray, np.ndarray, np.ndarray, bool, bool, dict]
# One episode as stacked arrays, (T, ...) each: obs, action, next_obs, terminated, truncated,
# sim_unstable, distractor_on and contact/<label> (a tenth of the pickling of per-step dicts).
Episode = dict[str, np.ndarray]


def episode_actions_rng(seed: int, episode: int) -> np.random.Generator:
    """The action generator of episode ``episode`` (apart from the env's own reset stream)."""
    return np.random.default_rng(np.random.SeedSequence([episode_seed(seed, episode), 1]))


class EnvCollector:
    """(A Ray actor.) One env copy rolling out uniform-random episodes on request."""

    def __init__(self, env_cfg: EnvConfig, seed: int) -> None:
        from agent.make_env import make_env

        self.env = make_env(env_cfg)
        self.seed = seed
        self.action_dim = int(self.env.action_space.shape[0])  # type: ignore[index]

    def episode(self, index: int) -> Episode:
        """Episode ``index`` from its reset to its end (truncation or instability)."""
        obs, _ = self.env.reset(seed=episode_seed(self.seed, index))
        rng = episode_actions_rng(self.seed, index)
        rows: list[dict[str, Any]] = []
        while True:
            action = rng.uniform(-1.0, 1.0, self.action_dim).astype(np.float32)
            next_obs, _, terminated, truncated, info = self.env.step(action)
            rows.append(
                {
                    "obs": obs, "action": action, "next_obs": next_obs,
                    "terminated": bool(terminated), "truncated": bool(truncated),
                    "sim_unstable": bool(info["sim_unstable"]),
                    "distractor_on": bool(info.get("distractor_on", False)),
                    **{f"contact/{k}": v for k, v in info["contact"].items()},
                }
            )  # fmt: skip
            obs = next_obs
            if terminated or truncated:
                return {k: np.stack([r[k] for r in rows]) for k in rows[0]}


def episode_steps(episode: Episode) -> Iterator[Step]:
    """The steps of a stacked episode, as ``env.step`` gave them (arrays are copies)."""
    labels = [k for k in episode if k.startswith("contact/")]
    for i in range(len(episode["obs"])):
        info = {
            "contact": {k[len("contact/") :]: episode[k][i].copy() for k in labels},
            "sim_unstable": bool(episode["sim_unstable"][i]),
            "distractor_on": bool(episode["distractor_on"][i]),
        }
        yield (
            episode["obs"][i].copy(),
            episode["action"][i].copy(),
            episode["next_obs"][i].copy(),
            bool(episode["terminated"][i]),
            bool(episode["truncated"][i]),
            info,
        )


class CollectorPool:
    """N collector actors; :meth:`episodes` yields consecutive episodes in order, keeping two
    requests per actor in flight. An actor that dies is restarted and its request re-run
    (episodes are deterministic, so nothing changes)."""

    def __init__(self, env_cfg: EnvConfig, seed: int, n: int, actor_cpus: float = 1) -> None:
        actor = ray.remote(num_cpus=actor_cpus, max_restarts=2, max_task_retries=2)(EnvCollector)
        self.actors: list[Any] = [actor.remote(env_cfg, seed) for _ in range(n)]
        self._inflight: deque[Any] = deque()

    def episodes(self, start: int) -> Iterator[Episode]:
        """Episodes ``start, start + 1, ...`` (episode ``e`` runs on actor ``e mod N``).

        Arrays are read-only views of Ray's object store; :func:`episode_steps` copies them.
        """
        inflight, nxt = self._inflight, start

        def submit() -> None:
            nonlocal nxt
            inflight.append(self.actors[nxt % len(self.actors)].episode.remote(nxt))
            nxt += 1

        for _ in range(2 * len(self.actors)):
            submit()
        while True:
            ref = inflight.popleft()
            submit()
            yield ray.get(ref)

    def close(self) -> None:
        """Let the requests in flight (at most two episodes per actor) end, stop the actors."""
        ray.wait(list(self._inflight), num_returns=len(self._inflight), timeout=30)
        self._inflight.clear()
        for actor in self.actors:
            ray.kill(actor)


def collect_in_parallel(
    cfg: RunConfig,
    learner: ActiveLearner,
    reward_fn: RewardFn,
    checkpoint: Callable[[], None],
) -> None:
    """Feed ``learner`` random episodes from ``cfg.loop.collectors`` actors until the random part
    of the run is collected (the warm-up's whole episodes; the budget for ``agent=random``)."""
    random_only = EXPLORERS.get(cfg.agent.name).uniform_random  # the whole budget is random
    limit = cfg.budget if random_only else cfg.loop.warmup
    horizon = cfg.env.max_episode_steps

    def more() -> bool:
        if random_only:
            return learner.env_step < limit
        return learner.env_step + horizon <= limit  # whole warm-up episodes only

    if not more():
        return
    from agent.sweep.cluster import connect

    session = connect(num_cpus=cfg.loop.collectors)
    pool = CollectorPool(cfg.env, cfg.seed, cfg.loop.collectors)
    bar = tqdm(
        total=limit,
        initial=learner.env_step,
        unit="step",
        desc=f"collect x{cfg.loop.collectors}",
        disable=None,  # no bar when stderr is not a terminal
    )
    try:
        for episode in pool.episodes(start=learner.episode):
            for obs, action, next_obs, terminated, truncated, info in episode_steps(episode):
                reward = reward_fn(obs, learner.conditioning(action, next_obs), next_obs)
                learner.observe(obs, action, next_obs, reward, terminated, truncated, info)
                if learner.env_step >= limit:
                    break
            bar.update(learner.env_step - bar.n)
            checkpoint()  # at an episode end (or the budget), as in the serial loop
            if not more():
                break
    finally:
        bar.close()
        pool.close()
        session.stop()
