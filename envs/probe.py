"""Probe-set collection: held-out, regime-balanced sequences made by a policy no learner uses.

A probe set is short sequences (``seq_len`` steps each) from four scenarios, taken in turn:

* ``strike``: the scripted :class:`envs.scripted.StrikePolicy` drives the agent through objects;
* ``random``: uniform random actions;
* ``launch``: an object is thrown across the table (0.5-2 m/s, a small hop) while the agent idles;
* ``drop``: an object is lifted 5-20 cm, tilted at random, and let fall while the agent idles.

``strike`` uses :func:`envs.scripted.strike_policy` (the point-agent strike of the built-in
scenes, or a Jacobian strike for any other actuator layout). In a scene with no free body to
throw (Gymnasium's Hopper, Pusher's puck on slide joints) ``launch`` and ``drop`` become
*limp* turns: zero actions for :data:`SETTLE_STEPS` unrecorded steps, so the robot falls and
settles, then an idle sequence is recorded (where a robot's links come to rest).

Collection goes on until every regime has at least ``min_per_regime`` object entity-transitions
(so impacts are not drowned by rest) and stops with a clear error if ``max_steps`` run out
first. The result is plain numpy arrays; ``world_model`` saves them as a dataset of kind
``probe`` with a content hash (this package stays free of storage formats and torch).
"""

from __future__ import annotations

from collections.abc import Iterator

import mujoco
import numpy as np
from tqdm import tqdm

from envs.placement import yaw_quat
from envs.probe_config import SCENARIOS, ProbeConfig  # noqa: F401 (SCENARIOS re-exported)
from envs.regimes import REGIME_NAMES, Regime
from envs.scene import ContactSceneEnv
from envs.scripted import RandomPolicy, ReachStrikePolicy, StrikePolicy, strike_policy

SETTLE_STEPS = 100  # limp steps before a launch/drop sequence in a scene with nothing to throw
_LABEL_KEYS = ("regime", "pair_kind", "critical", "approach_speed", "impulse")


class ProbeShortfall(RuntimeError):
    """``max_steps`` ran out before every regime reached ``min_per_regime``."""


def collect_probe(
    env: ContactSceneEnv, cfg: ProbeConfig, seed: int, progress: bool = True
) -> dict[str, np.ndarray]:
    """Collect a probe set from ``env`` (the unwrapped scene). Deterministic given ``seed``.

    Returns arrays with one row per transition, sequences contiguous: ``obs``, ``next_obs``
    ``(N, D)`` float32; ``action`` ``(N, A)`` float32; ``reward``, ``terminated``,
    ``truncated`` ``(N,)``; ``episode`` (the sequence id) int64, ``step`` int32; per-entity
    labels ``(N, E)``: ``regime``, ``pair_kind`` int8, ``critical`` bool, ``approach_speed``,
    ``impulse`` float32; and ``scenario`` ``(N,)`` int8 (index into ``cfg.scenarios``).
    """
    rng = np.random.default_rng(seed)
    objects = env.layout.indices("object")
    rows: dict[str, list] = {
        k: [] for k in ("obs", "action", "next_obs", "episode", "step", "scenario", *_LABEL_KEYS)
    }
    counts = np.zeros(len(Regime), dtype=np.int64)
    steps = sequence = 0
    bar = tqdm(
        total=cfg.min_per_regime * len(Regime),
        desc="probe",
        unit="label",
        disable=None if progress else True,  # None: off when not a terminal
    )
    # Whole episodes are kept: the counts are checked between episodes, as they always were,
    # so a probe set's content (and hash) does not depend on how the sequences are produced.
    for scenario, episode, unrecorded in probe_episodes(env, cfg, rng):
        steps += unrecorded
        for seq in episode:
            for k, v in seq.items():
                rows[k].append(v)
            rows["episode"].append(np.full(cfg.seq_len, sequence, dtype=np.int64))
            rows["step"].append(np.arange(cfg.seq_len, dtype=np.int32))
            rows["scenario"].append(
                np.full(cfg.seq_len, cfg.scenarios.index(scenario), dtype=np.int8)
            )
            sequence += 1
            steps += cfg.seq_len
            new = np.bincount(seq["regime"][:, objects].ravel(), minlength=len(Regime))
            bar.update(
                int(
                    np.minimum(counts + new, cfg.min_per_regime).sum()
                    - np.minimum(counts, cfg.min_per_regime).sum()
                )
            )
            counts += new
        if (counts >= cfg.min_per_regime).all():
            break
        if steps >= cfg.max_steps:
            bar.close()
            short = {
                REGIME_NAMES[r]: int(counts[r])
                for r in range(len(Regime))
                if counts[r] < cfg.min_per_regime
            }
            raise ProbeShortfall(
                f"probe collection stopped after max_steps={cfg.max_steps} env steps with "
                f"regimes short of min_per_regime={cfg.min_per_regime}: {short}. "
                "Raise max_steps or lower min_per_regime."
            )
    bar.close()
    out = {k: np.concatenate(v) for k, v in rows.items()}
    n = len(out["obs"])
    out["reward"] = np.zeros(n, dtype=np.float32)
    out["terminated"] = np.zeros(n, dtype=bool)
    out["truncated"] = np.zeros(n, dtype=bool)
    out["truncated"][cfg.seq_len - 1 :: cfg.seq_len] = True  # every sequence ends cut short
    return out


def probe_episodes(
    env: ContactSceneEnv, cfg: ProbeConfig, rng: np.random.Generator
) -> Iterator[tuple[str, list[dict[str, np.ndarray]], int]]:
    """Endless ``(scenario, sequences, unrecorded_steps)``, one per episode of the probe
    policy, scenarios taken in turn.

    Each sequence holds ``cfg.seq_len`` steps: ``obs``, ``action``, ``next_obs`` and the
    per-entity labels, stacked (``strike``/``random`` episodes give up to
    ``cfg.sequences_per_episode``, ``launch``/``drop`` one; an unstable sequence ends the
    episode's list). ``unrecorded_steps`` counts limp steps taken first in scenes with nothing
    to throw. :func:`collect_probe` stops when every regime is covered; ``contactlab collect
    policy=probe`` takes a fixed number of steps (training data of the probe's distribution,
    with another seed).
    """
    throwable = _free_objects(env)
    n_actions = env.model.nu
    turn = 0
    while True:
        scenario = cfg.scenarios[turn % len(cfg.scenarios)]
        turn += 1
        obs, _ = env.reset(seed=int(rng.integers(2**31)))
        policy: StrikePolicy | ReachStrikePolicy | RandomPolicy
        policy = strike_policy(env, rng) if scenario == "strike" else RandomPolicy(n_actions, rng)
        policy.reset()
        n_seq = cfg.sequences_per_episode if scenario in ("strike", "random") else 1
        unrecorded = 0
        if scenario in ("launch", "drop") and len(throwable):
            obs = _throw(env, scenario, int(rng.choice(throwable)), rng)
        elif scenario in ("launch", "drop"):  # nothing to throw: the agent goes limp
            settled_obs, unrecorded = _settle(env, SETTLE_STEPS)
            if settled_obs is None:
                yield scenario, [], unrecorded
                continue
            obs = settled_obs
        episode = []
        for _ in range(n_seq):
            seq = _sequence(env, obs, policy, scenario, cfg.seq_len)
            if seq is None:  # unstable or cut short: the whole sequence is dropped
                break
            obs = seq["next_obs"][-1]
            episode.append(seq)
        yield scenario, episode, unrecorded


def _settle(env: ContactSceneEnv, n_steps: int) -> tuple[np.ndarray | None, int]:
    """Zero actions for ``n_steps`` unrecorded steps (a robot falls and comes to rest);
    returns the observation (``None`` if the episode ended) and the steps taken."""
    action = np.zeros(env.model.nu, dtype=np.float32)
    obs = None
    for i in range(n_steps):
        obs, _, terminated, truncated, info = env.step(action)
        if info["sim_unstable"] or terminated or truncated:
            return None, i + 1
    return obs, n_steps


def _free_objects(env: ContactSceneEnv) -> np.ndarray:
    """Indices of the object entities whose own body has a free joint (can be thrown)."""
    m, free = env.model, int(mujoco.mjtJoint.mjJNT_FREE)
    out = []
    for i in env.layout.indices("object"):
        body = env.layout.entities[int(i)].body_id
        jnt = int(m.body_jntadr[body])
        if jnt >= 0 and int(m.jnt_type[jnt]) == free:
            out.append(int(i))
    return np.array(out, dtype=np.int64)


def _sequence(
    env: ContactSceneEnv,
    obs: np.ndarray,
    policy: StrikePolicy | ReachStrikePolicy | RandomPolicy,
    scenario: str,
    seq_len: int,
) -> dict[str, np.ndarray] | None:
    idle = scenario in ("launch", "drop")
    seq: dict[str, list] = {k: [] for k in ("obs", "action", "next_obs", *_LABEL_KEYS)}
    for _ in range(seq_len):
        action = np.zeros(env.model.nu, dtype=np.float32) if idle else policy(obs)
        next_obs, _, terminated, truncated, info = env.step(action)
        if info["sim_unstable"] or terminated or truncated:
            return None
        seq["obs"].append(obs)
        seq["action"].append(action)
        seq["next_obs"].append(next_obs)
        for k in _LABEL_KEYS:
            seq[k].append(info["contact"][k])
        obs = next_obs
    return {k: np.stack(v) for k, v in seq.items()}


def _throw(env: ContactSceneEnv, scenario: str, index: int, rng: np.random.Generator) -> np.ndarray:
    """Launch object ``index`` across the table, or lift, tilt and drop it."""
    pos = env.layout.split(env._state.ravel())[index, 0:3].copy()
    if scenario == "launch":
        heading = rng.uniform(-np.pi, np.pi)
        speed = rng.uniform(0.5, 2.0)
        linvel = np.array([speed * np.cos(heading), speed * np.sin(heading), rng.uniform(0.0, 1.0)])
        return env.place_object(index, linvel=linvel, angvel=rng.normal(0.0, 2.0, 3))
    pos[2] += rng.uniform(0.05, 0.2)
    tilt = rng.normal(0.0, 0.5, 3)
    quat = yaw_quat(rng.uniform(-np.pi, np.pi)) + np.concatenate([[0.0], tilt * 0.5])
    return env.place_object(index, pos=pos, quat=quat, linvel=np.zeros(3), angvel=np.zeros(3))
