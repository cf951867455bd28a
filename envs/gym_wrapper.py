"""Contact labels for any MuJoCo-based Gymnasium env, Gymnasium's own included.

``make_labelled("Pusher-v5")`` (or ``ContactLabels(gymnasium.make(...))``) adds
``info["contact"]`` to every step, computed over every physics substep exactly as in the
contactlab scenes. For envs built on Gymnasium's ``MujocoEnv`` the wrapper takes over the
env's substep loop (``_step_mujoco_simulation``: same ``mj_step`` calls, same
``mj_rnePostConstraint``), so the physics is unchanged. Other envs exposing ``.model`` and
``.data`` are labelled from the contacts present at the end of each step only (a bounce that
begins and ends inside one step is then missed); ``per_substep`` tells which applies.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import mujoco
import numpy as np

from envs.entities import discover_entities, find_support_geoms
from envs.labeler import ContactLabeler, EntityStateReader
from envs.regimes import LabelConfig


class ContactLabels(gym.Wrapper):
    """Adds per-entity contact-regime labels to ``info["contact"]``.

    Args:
        env: a Gymnasium env whose ``unwrapped`` has MuJoCo ``model`` and ``data``.
        label_config: labeller thresholds.
        support_geoms: names of the ground-support geoms (default: the world's planes).

    Attributes:
        layout: the labelled entities (:class:`envs.layout.EntityLayout`), also in
            ``info["contact_entities"]`` at reset.
        per_substep: whether labels see every substep (``MujocoEnv``-based envs) or only the
            end of each step.
    """

    def __init__(
        self,
        env: gym.Env,
        label_config: LabelConfig | None = None,
        support_geoms: tuple[str, ...] | None = None,
    ) -> None:
        super().__init__(env)
        base = env.unwrapped
        if not hasattr(base, "model") or not hasattr(base, "data"):
            raise TypeError(f"{type(base).__name__} has no MuJoCo model/data to label")
        self._model: mujoco.MjModel = base.model
        self._data: mujoco.MjData = base.data
        self.layout = discover_entities(self._model, require_objects=False)
        body_ids = np.array([e.body_id for e in self.layout.entities], dtype=np.int64)
        self._read_states = EntityStateReader(self._model, body_ids)
        self.labeler = ContactLabeler(
            self._model, self.layout, find_support_geoms(self._model, support_geoms), label_config
        )
        self.per_substep = hasattr(base, "_step_mujoco_simulation")
        self._substeps = 0
        if self.per_substep:
            # An instance attribute: only this env's substep loop changes.
            setattr(base, "_step_mujoco_simulation", self._step_simulation)  # noqa: B010
        self._state = np.zeros((self.layout.n_entities, 13))

    def _step_simulation(self, ctrl: np.ndarray, n_frames: int) -> None:
        """Gymnasium's ``MujocoEnv._step_mujoco_simulation`` with the labeller fed per substep."""
        m, d = self._model, self._data
        d.ctrl[:] = ctrl
        self.labeler.step_physics(d, n_frames)
        self._substeps += n_frames
        mujoco.mj_rnePostConstraint(m, d)  # so cfrc_ext holds real contact forces (gym #1541)

    def reset(self, **kwargs: Any) -> tuple[Any, dict]:
        obs, info = self.env.reset(**kwargs)
        self.labeler.reset(self._data)
        self._state = self._read_states(self._data)
        info["contact_entities"] = self.layout.names
        return obs, info

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict]:
        self.labeler.begin_step(self._state)
        self._substeps = 0
        obs, reward, terminated, truncated, info = self.env.step(action)
        if not self.per_substep:
            self.labeler._record(self._data)  # end-of-step contacts: the best it can see
        state = self._read_states(self._data)
        n = self._substeps if self.per_substep else getattr(self.env.unwrapped, "frame_skip", 1)
        info["contact"] = self.labeler.end_step(state, max(n, 1)).as_dict()
        self._state = state
        return obs, reward, terminated, truncated, info


def make_labelled(
    env_id: str, label_config: LabelConfig | None = None, **kwargs: Any
) -> ContactLabels:
    """``gymnasium.make(env_id, **kwargs)`` wrapped in :class:`ContactLabels`."""
    return ContactLabels(gym.make(env_id, **kwargs), label_config=label_config)
