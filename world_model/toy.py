"""A tiny synthetic scene with known dynamics, for tests and benchmarks (no MuJoCo).

Entities: one agent and ``n_objects`` objects on a plane inside the box ``|x|, |y| <= 1``. The
agent's velocity is the action (``A = 2``). Objects glide at constant velocity and bounce
elastically off the walls: a bounce step is labelled ``impact`` with pair ``object-static``,
every other step ``free`` (``rest`` for an object with zero velocity). Heights, orientations and
angular velocities are constant, so only positions and linear velocities change.
"""

from __future__ import annotations

import numpy as np

from envs.layout import Entity, EntityLayout
from envs.regimes import PairKind, Regime
from world_model.dataset import DatasetMeta, Transitions

DT = 0.05
HEIGHT = 0.05


def toy_layout(n_objects: int = 2) -> EntityLayout:
    """Agent first, then ``n_objects`` objects."""
    agent = Entity("agent", "agent", 1, (1.0, 0.05, 0.5))
    objects = tuple(
        Entity(f"ball{i}", "object", 2 + i, (0.2 + 0.1 * i, 0.03, 0.5)) for i in range(n_objects)
    )
    return EntityLayout(entities=(agent, *objects))


def _state(pos: np.ndarray, vel: np.ndarray) -> np.ndarray:
    """``(E, 2)`` planar positions and velocities to ``(E * 13,)`` observations."""
    e = len(pos)
    s = np.zeros((e, 13), np.float32)
    s[:, 0:2], s[:, 2] = pos, HEIGHT
    s[:, 3] = 1.0
    s[:, 7:9] = vel
    return s.reshape(-1)


def toy_transitions(
    n_episodes: int,
    episode_len: int,
    rng: np.random.Generator,
    n_objects: int = 2,
    speed: float = 1.0,
) -> Transitions:
    """Random-action episodes of the toy scene.

    Args:
        n_episodes: episodes to simulate (ids ``0 .. n_episodes - 1``).
        episode_len: steps per episode; the last step is ``truncated``.
        rng: randomness for starts and actions.
        n_objects: objects besides the agent.
        speed: initial object velocities are uniform in ``[-speed, speed]`` per axis.

    Returns:
        :class:`Transitions` with ``N = n_episodes * episode_len`` rows.
    """
    layout = toy_layout(n_objects)
    e = layout.n_entities
    rows: dict[str, list[np.ndarray]] = {k: [] for k in ("obs", "action", "next_obs", "regime")}
    for _ in range(n_episodes):
        pos = rng.uniform(-0.9, 0.9, size=(e, 2))
        vel = rng.uniform(-speed, speed, size=(e, 2))
        for _t in range(episode_len):
            action = rng.uniform(-1.0, 1.0, size=2)
            obs = _state(pos, vel)
            vel[0] = action
            new_pos = pos + vel * DT
            new_vel = vel.copy()
            regime = np.full(e, Regime.FREE, np.int8)
            for axis in range(2):
                out = np.abs(new_pos[1:, axis]) > 1.0
                side = np.sign(new_pos[1:, axis])
                new_pos[1:, axis] = np.where(out, 2.0 * side - new_pos[1:, axis], new_pos[1:, axis])
                new_vel[1:, axis] = np.where(out, -new_vel[1:, axis], new_vel[1:, axis])
                regime[1:][out] = Regime.IMPACT
            new_pos[0] = np.clip(new_pos[0], -1.0, 1.0)
            regime[1:][(np.abs(vel[1:]).sum(1) == 0) & (regime[1:] != Regime.IMPACT)] = Regime.REST
            pos, vel = new_pos, new_vel
            rows["obs"].append(obs)
            rows["action"].append(action.astype(np.float32))
            rows["next_obs"].append(_state(pos, vel))
            rows["regime"].append(regime)
    n = n_episodes * episode_len
    regime_arr = np.stack(rows["regime"]).astype(np.int8)
    pair = np.where(regime_arr == Regime.IMPACT, PairKind.OBJECT_STATIC, PairKind.NONE).astype(
        np.int8
    )
    step = np.tile(np.arange(episode_len, dtype=np.int32), n_episodes)
    meta = DatasetMeta(
        env_id="toy/BouncingBalls-v0",
        env_version="0",
        mjcf_sha256="none",
        mujoco_version="none",
        layout=layout.to_dict(),
        action_dim=2,
        kind="train",
    )
    return Transitions(
        meta=meta,
        obs=np.stack(rows["obs"]),
        action=np.stack(rows["action"]),
        next_obs=np.stack(rows["next_obs"]),
        reward=np.zeros(n, np.float32),
        terminated=np.zeros(n, bool),
        truncated=step == episode_len - 1,
        regime=regime_arr,
        pair_kind=pair,
        critical=np.zeros((n, e), bool),
        approach_speed=np.where(regime_arr == Regime.IMPACT, speed, 0.0).astype(np.float32),
        impulse=np.zeros((n, e), np.float32),
        episode=np.repeat(np.arange(n_episodes, dtype=np.int64), episode_len),
        step=step,
    )
