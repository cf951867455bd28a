"""``seek``: an explorer that goes where the world model expects to learn from a contact.

Why it exists (docs/explorers.md, "Why MPC rarely reached objects"): the receding-horizon
planner (:mod:`agent.explorers.mpc`) scores what it can imagine from where the agent stands,
~0.5 s ahead; far from objects every imagined step is free motion, where the model is sure, so
its curiosity landscape is flat and the agent wanders. ``seek`` scores *contact events* instead
of action sequences, in the spirit of goal-exploration processes (Forestier & Oudeyer's
IMGEP; Pathak et al.'s disagreement as the interest measure):

1. **Candidate goals.** At each choice, for every object, ``directions`` approach directions
   and a push speed each (sampled), plus ``places`` spots to go to and stay at (so that where
   the agent goes is decided by curiosity, not by construction).
2. **Imagined from where the event begins.** Each candidate is turned into an imagined start
   state: the current observation with the agent moved to just behind the object, at rest,
   ``standoff`` (5 mm) from its surface along the direction (at the object's height for an
   agent that moves in z; half-widths from the layout's extents and bounding radii), pushing
   at that speed; or standing at the spot. The world model imagines ``imagine_steps`` (10)
   steps of each (every member its own trajectory), long enough for the slowest push to reach
   the object and move it, and the curiosity signal scores them, exactly as the MPC planner
   scores its imagined steps. One batched call of the model for all candidates.
3. **The chosen goal is executed** (the best; or drawn with odds rising with its return,
   ``agent.seek.choice=softmax``; with ``agent.seek.value=rate`` the return is first divided
   by the steps the goal is expected to take, :meth:`SeekExplorer.expected_steps`) by a
   reach-and-push controller (the demonstrator's skill):
   move to the staging point ``runup`` (3 cm) behind the object, push through it at the
   chosen speed (the L2 norm of the x-y action, as imagined) for ``push_steps``, or stay at
   the spot; then choose again. A staging point not reached in ``approach_steps`` is given
   up. The executed push is the imagined contact with a run-up: it begins at speed.

Cost: one choice per ~25-60 env steps, each ``imagine_steps`` model steps of
``(members, candidates)`` states; per executed action a few microseconds of control
(``benchmarks/planner_latency.py`` times it beside the MPC planner).

Like the demonstrator it drives a point agent whose action is its velocity in x, y (and z):
the built-in scenes. Other action layouts are refused when the explorer is built.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mujoco
import numpy as np
import torch
from torch import Tensor

from agent.config.errors import ConfigError
from agent.explorers.base import imagined_score
from agent.explorers.seek_config import SeekConfig
from envs.layout import EntityLayout
from envs.scripted import is_point_agent

# score(obs_mean (P, D), action (P, A), predicted (M, P, D)) -> (P,) intrinsic reward
ScoreFn = Callable[[Tensor, Tensor, Tensor], Tensor]
# step(states (M, P, D), action (P, A)) -> next states (M, P, D), one per member
StepFn = Callable[[Tensor, Tensor], Tensor]

ARRIVED = 0.02  # m: the agent is at its staging point or spot
OVERSHOOT = 0.15  # m past the object's centre the push aims at (arrive at speed, as the demo)


def support(quat: np.ndarray, extents: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """Half-width of oriented boxes along world directions.

    Args:
        quat: ``(..., 4)`` body orientations ``(w, x, y, z)``.
        extents: ``(..., 3)`` body-frame half-sizes.
        direction: ``(..., 3)`` unit world directions.

    Returns:
        ``(...,)`` ``sum_i |d . R e_i| * extents_i``: how far the box reaches from its centre
        along ``direction``.
    """
    w, x, y, z = np.moveaxis(quat, -1, 0)
    # columns of the rotation matrix: the body axes in the world frame
    ax = np.stack([1 - 2 * (y * y + z * z), 2 * (x * y + w * z), 2 * (x * z - w * y)], -1)
    ay = np.stack([2 * (x * y - w * z), 1 - 2 * (x * x + z * z), 2 * (y * z + w * x)], -1)
    az = np.stack([2 * (x * z + w * y), 2 * (y * z - w * x), 1 - 2 * (x * x + y * y)], -1)
    dots = np.stack(
        [(ax * direction).sum(-1), (ay * direction).sum(-1), (az * direction).sum(-1)], -1
    )
    return np.asarray((np.abs(dots) * extents).sum(-1))


def simulator_step(env: Any) -> StepFn:
    """The simulator as imagined dynamics, for checking what ``seek`` imagines: each state is
    put into ``env``'s MuJoCo (:meth:`envs.scene.ContactSceneEnv.set_state_from_obs`) and
    stepped with its action, so the "imagined" step is what would happen."""
    scene = env.unwrapped

    def step(states: Tensor, action: Tensor) -> Tensor:
        out = np.empty(states.shape, np.float32)
        for m in range(states.shape[0]):
            for p in range(states.shape[1]):
                scene.set_state_from_obs(states[m, p].numpy())
                out[m, p] = scene.step(action[p].numpy())[0]
        return torch.as_tensor(out)

    return step


def check_point_agent(model: mujoco.MjModel, layout: EntityLayout) -> None:
    """Refuse a scene whose actions are not a point agent's x, y(, z) velocity, before a run
    builds anything: 2 or 3 actuators, actuator ``i`` driving a slide joint along axis ``i``
    (:func:`envs.scripted.is_point_agent`, as in the built-in scenes). Gymnasium's Pusher
    (7 hinge torques) and Hopper (3 hinge torques) are refused.

    Raises:
        ConfigError: naming what the scene's actuators drive, and ``agent=mpc``.
    """
    if model.nu in (2, 3) and is_point_agent(model, layout):
        return
    joint_trn = (int(mujoco.mjtTrn.mjTRN_JOINT), int(mujoco.mjtTrn.mjTRN_JOINTINPARENT))
    drives = {
        (
            "slide"
            if int(model.jnt_type[model.actuator_trnid[a, 0]]) == int(mujoco.mjtJoint.mjJNT_SLIDE)
            else "hinge/ball"
        )
        if int(model.actuator_trntype[a]) in joint_trn
        else "non-joint"
        for a in range(model.nu)
    }
    raise ConfigError(
        "agent=seek drives a point agent whose action is its x, y(, z) velocity (2 or 3 "
        "actuators on slide joints along x, y(, z), as in the built-in scenes); this scene has "
        f"{model.nu} actions driving {sorted(drives) or 'nothing'} joints: use agent=mpc"
    )


class SeekExplorer:
    """Chooses contact (or place) goals by the curiosity of imagined events; executes them.

    Args:
        layout: the scene's entity layout (the first ``agent`` entity is driven; ``object``
            entities are the targets).
        action_dim: 2 (planar agent) or 3 (agent that also moves in z).
        step: imagined dynamics, one next state per member (e.g. ``model.step``).
        score: intrinsic reward of an imagined step (the normalised curiosity signal).
        n_members: ``M``.
        cfg: settings.
        rng: source of the candidate goals.
    """

    def __init__(
        self,
        layout: EntityLayout,
        action_dim: int,
        step: StepFn,
        score: ScoreFn,
        n_members: int,
        cfg: SeekConfig,
        rng: np.random.Generator,
    ) -> None:
        agents, objects = layout.indices("agent"), layout.indices("object")
        if len(agents) == 0 or len(objects) == 0:
            raise ConfigError(
                "agent=seek needs an entity of kind 'agent' and at least one of kind 'object' "
                f"in the scene's layout, got kinds {layout.kinds}"
            )
        if action_dim not in (2, 3):
            raise ConfigError(
                f"agent=seek drives a point agent whose action is its x, y(, z) velocity (the "
                f"built-in scenes); this scene has {action_dim} actions: use agent=mpc"
            )
        self.layout, self.action_dim, self.cfg, self.rng = layout, action_dim, cfg, rng
        self.step_fn, self.score_fn, self.n_members = step, score, n_members
        self.agent, self.objects = int(agents[0]), objects
        self.extents = layout.extents_array().astype(np.float64)
        # bounding-sphere radii: a round body reaches no further than this in any direction
        self.radii = layout.props_array()[:, 1].astype(np.float64)
        self.goal: dict[str, Any] | None = None  # the goal being executed
        self.phase, self.t = "approach", 0
        self.visited: list[float] | None = None  # agent's x-y range seen: [x0, y0, x1, y1]
        self.last: list[float] | None = None  # agent's x-y at the previous step of the episode
        self.top_speed = 0.0  # fastest x-y step (m) the agent has been seen to make
        # goals chosen so far, by kind; "blind": drawn at random (no finite imagined score)
        self.chosen = {"object": 0, "place": 0, "blind": 0}

    # -- the explorer interface ------------------------------------------------------------

    def act(self, obs: np.ndarray) -> np.ndarray:
        blocks = self.layout.split(np.asarray(obs, dtype=np.float64))
        self._see(blocks)
        for _ in range(2):  # a goal finished at this step gives way to a new one at once
            if self.goal is None:
                self.goal = self.choose(obs)
                self.phase, self.t = "approach", 0
            action = self._control(blocks)
            if action is not None:
                return action
            self.goal = None
        return np.zeros(self.action_dim, np.float32)  # pragma: no cover (a new goal acts)

    def reset(self) -> None:
        self.goal, self.phase, self.t = None, "approach", 0
        self.last = None  # a new episode: no step from the last one's final position

    def state_dict(self) -> dict[str, Any]:
        return {
            "rng": self.rng.bit_generator.state,
            "goal": None if self.goal is None else dict(self.goal),
            "phase": self.phase,
            "t": self.t,
            "visited": self.visited,
            "chosen": dict(self.chosen),
            "last": self.last,
            "top_speed": self.top_speed,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = state["rng"]
        self.goal = None if state["goal"] is None else dict(state["goal"])
        self.phase, self.t = str(state["phase"]), int(state["t"])
        self.visited = None if state["visited"] is None else [float(v) for v in state["visited"]]
        self.chosen = {"blind": 0} | {k: int(v) for k, v in state["chosen"].items()}
        # checkpoints from before agent.seek.value have neither (a run of theirs uses "return")
        last = state.get("last")
        self.last = None if last is None else [float(v) for v in last]
        self.top_speed = float(state.get("top_speed", 0.0))

    # -- choosing ----------------------------------------------------------------------------

    def candidates(self, obs: np.ndarray) -> tuple[list[dict[str, Any]], np.ndarray, np.ndarray]:
        """Sample this choice's goals and their imagined start states.

        Returns:
            the goals (dicts: ``kind`` ``"object"`` with ``entity``, ``direction`` (x, y) and
            ``speed``; or ``"place"`` with ``point`` (x, y)), the start states ``(C, D)`` and
            the actions held while imagining them ``(C, A)``.
        """
        cfg, obs = self.cfg, np.asarray(obs, dtype=np.float64)
        blocks = self.layout.split(obs)
        agent = blocks[self.agent]
        goals: list[dict[str, Any]] = []
        starts, actions = [], []
        for entity in self.objects:
            angles = self.rng.uniform(-np.pi, np.pi, cfg.directions)
            speeds = self.rng.uniform(cfg.min_speed, cfg.max_speed, cfg.directions)
            dirs = np.stack([np.cos(angles), np.sin(angles), np.zeros_like(angles)], -1)
            if cfg.speed_scale == "box":  # a speed of 1: the largest action along the direction
                speeds = speeds / np.abs(dirs[:, :2]).max(-1)
            target = blocks[entity]
            reach = self._reach(agent, target, entity, dirs)
            for k in range(cfg.directions):
                start = blocks.copy()
                start[self.agent, 0:2] = target[0:2] - dirs[k, :2] * (reach[k] + cfg.standoff)
                if self.action_dim == 3:  # an agent that moves in z pushes at the object's height
                    start[self.agent, 2] = target[2]
                start[self.agent, 7:13] = 0.0  # at rest, about to push
                starts.append(start.reshape(-1))
                actions.append(self._pad(speeds[k] * dirs[k, :2]))
                goals.append(
                    {
                        "kind": "object",
                        "entity": int(entity),
                        "direction": [float(dirs[k, 0]), float(dirs[k, 1])],
                        "speed": float(speeds[k]),
                    }
                )
        lo, hi = self._area(blocks)
        for _ in range(cfg.places):
            point = self.rng.uniform(lo, hi)
            start = blocks.copy()
            start[self.agent, 0:2] = point
            start[self.agent, 7:13] = 0.0
            starts.append(start.reshape(-1))
            actions.append(np.zeros(self.action_dim))
            goals.append({"kind": "place", "point": [float(point[0]), float(point[1])]})
        return goals, np.array(starts, np.float32), np.array(actions, np.float32)

    @torch.no_grad()
    def imagined_returns(self, starts: np.ndarray, actions: np.ndarray) -> np.ndarray:
        """Intrinsic return of ``imagine_steps`` imagined steps from each start, ``(C,)``:
        every member follows its own trajectory and the signal scores each step, as the MPC
        planner scores its imagined steps."""
        start = torch.as_tensor(starts)
        act = torch.as_tensor(actions)
        states = start.expand(self.n_members, *start.shape)
        total = torch.zeros(len(start))
        for _ in range(self.cfg.imagine_steps):
            nxt = self.step_fn(states, act)
            total += self.score_fn(states.mean(0), act, nxt)
            states = nxt
        return total.numpy()

    def choose(self, obs: np.ndarray) -> dict[str, Any]:
        """The feasible candidate goal with the highest imagined intrinsic return (with
        ``choice="softmax"``: one drawn with odds rising with it, :meth:`_draw`). If the
        model returns no finite score for any feasible goal (it diverged), a feasible goal is
        drawn at random and counted as ``chosen["blind"]`` rather than silently taking the
        first candidate."""
        goals, starts, actions = self.candidates(obs)
        feasible = self._feasible(goals, starts)
        returns = self.imagined_returns(starts, actions)
        if self.cfg.value == "rate":
            returns = returns / self.expected_steps(goals, obs)
        scored = feasible & np.isfinite(returns)
        if scored.any():
            if self.cfg.choice == "softmax":
                best = self._draw(np.flatnonzero(scored), returns)
            else:
                best = int(np.argmax(np.where(scored, returns, -np.inf)))
            self.chosen[goals[best]["kind"]] += 1
        else:
            best = int(self.rng.choice(np.flatnonzero(feasible)))
            self.chosen["blind"] += 1
        return goals[best]

    def expected_steps(self, goals: list[dict[str, Any]], obs: np.ndarray) -> np.ndarray:
        """``(C,)`` env steps each goal is expected to take (``agent.seek.value=rate``): the
        straight-line x-y distance from the agent to the goal's staging point
        (:meth:`_stage`, where :meth:`_control` heads now) or spot over :attr:`top_speed`, at most
        ``approach_steps`` (after which a goal is given up or its stay begins), plus
        ``push_steps``. Before the agent has been seen to move, every approach counts 0."""
        cfg, blocks = self.cfg, self.layout.split(np.asarray(obs, dtype=np.float64))
        agent = blocks[self.agent]
        dist = np.zeros(len(goals))
        for k, goal in enumerate(goals):
            if goal["kind"] == "place":
                dist[k] = np.linalg.norm(agent[:2] - np.asarray(goal["point"]))
                continue
            stage = self._stage(blocks, int(goal["entity"]), np.asarray(goal["direction"]))
            dist[k] = np.linalg.norm(agent[:2] - stage)
        if self.top_speed <= 0:
            approach = np.zeros(len(goals))
        else:
            approach = np.minimum(dist / self.top_speed, cfg.approach_steps)
        return approach + cfg.push_steps

    def _draw(self, idx: np.ndarray, returns: np.ndarray) -> int:
        """One of the candidates ``idx``, drawn with probability ``exp(z / temperature)``,
        ``z`` their returns standardised (all equal: uniform)."""
        r = returns[idx].astype(np.float64)
        spread = float(r.std())
        z = (r - r.max()) / (self.cfg.temperature * spread) if spread > 0 else np.zeros(len(r))
        p = np.exp(z)
        return int(self.rng.choice(idx, p=p / p.sum()))

    # -- executing ---------------------------------------------------------------------------

    def _control(self, blocks: np.ndarray) -> np.ndarray | None:
        """The action toward the current goal, or ``None`` if the goal is finished."""
        assert self.goal is not None
        cfg, goal, dims = self.cfg, self.goal, self.action_dim
        agent = blocks[self.agent, 0:3]
        self.t += 1
        if goal["kind"] == "place":
            point = np.append(np.asarray(goal["point"]), agent[2])  # at the agent's own height
            if self.phase == "approach" and (
                np.linalg.norm(agent[:2] - point[:2]) < ARRIVED or self.t > cfg.approach_steps
            ):
                self.phase, self.t = "stay", 1
            if self.phase == "stay" and self.t > cfg.push_steps:
                return None
            return self._toward(agent, point, None)
        target = blocks[goal["entity"], 0:3]
        direction = np.append(np.asarray(goal["direction"]), 0.0)
        if self.phase == "approach":
            stage = np.append(self._stage(blocks, int(goal["entity"]), direction[:2]), target[2])
            # an agent that moves in z must also be at the object's height (x, y, z distance)
            if np.linalg.norm((agent - stage)[:dims]) < ARRIVED:
                self.phase, self.t = "push", 1
            elif self.t > cfg.approach_steps:
                return None  # not reachable in time: choose again
            else:
                return self._toward(agent, stage, None)
        if self.t > cfg.push_steps:
            return None
        aim = np.append(target[:2] + direction[:2] * OVERSHOOT, target[2])
        return self._toward(agent, aim, float(goal["speed"]))

    def _stage(self, blocks: np.ndarray, entity: int, direction: np.ndarray) -> np.ndarray:
        """x-y of a contact goal's staging point: ``runup`` behind the surface of ``entity``
        along the push ``direction`` (x, y), where the agent now is its own width away."""
        dirs = np.append(direction, 0.0)
        reach = self._reach(blocks[self.agent], blocks[entity], entity, dirs)
        return np.asarray(blocks[entity, :2] - dirs[:2] * (reach + self.cfg.runup))

    def _reach(
        self, agent: np.ndarray, target: np.ndarray, entity: int, dirs: np.ndarray
    ) -> np.ndarray:
        """Centre-to-centre distance along ``dirs`` at which the agent touches the target:
        each body's half-width along the direction, the smaller of its oriented box's
        (:func:`support`) and its bounding sphere's (exact for balls, which a box overstates
        by up to 41% on diagonals)."""
        me = self.agent
        own = np.minimum(support(agent[3:7], self.extents[me], dirs), self.radii[me])
        other = np.minimum(support(target[3:7], self.extents[entity], dirs), self.radii[entity])
        return np.asarray(own + other)

    def _toward(self, agent: np.ndarray, goal: np.ndarray, speed: float | None) -> np.ndarray:
        """Proportional control toward ``goal``, each component clipped to [-1, 1]. A push
        (``speed`` given) is at most ``speed`` in the plane, as the L2 norm of the x-y
        action, as the imagined push ``speed * direction`` has; moving to a point (``None``)
        uses the full action box, as fast as the agent goes."""
        action = self.cfg.gain * (goal - agent)[: self.action_dim]
        planar = float(np.linalg.norm(action[:2]))
        if speed is not None and planar > speed:
            action[:2] *= speed / planar
        return np.clip(action, -1.0, 1.0).astype(np.float32)

    def _pad(self, xy: np.ndarray) -> np.ndarray:
        return np.append(xy, np.zeros(self.action_dim - 2))

    def _see(self, blocks: np.ndarray) -> None:
        x, y = float(blocks[self.agent, 0]), float(blocks[self.agent, 1])
        if self.last is not None:
            step = float(np.hypot(x - self.last[0], y - self.last[1]))
            self.top_speed = max(self.top_speed, step)
        self.last = [x, y]
        v = self.visited  # plain floats: a checkpoint holds no numpy objects (weights_only)
        self.visited = (
            [x, y, x, y] if v is None else [min(v[0], x), min(v[1], y), max(v[2], x), max(v[3], y)]
        )

    def _feasible(self, goals: list[dict[str, Any]], starts: np.ndarray) -> np.ndarray:
        """``(C,)`` whether each goal can be chosen.

        - A contact goal whose imagined start (the agent ``standoff`` from the object's
          surface; not the run-up's staging point) lies outside where the agent has been (its
          visited x-y range, 1 cm wider), e.g. between an object and a wall or past the end
          of the agent's joint, is an event the agent cannot bring about; it is left out
          unless no contact goal is feasible (early in a run).
        - A place goal inside an object (the agent's and the object's half-widths overlap in
          the plane) is an imagined state that cannot happen; it is left out. Places are
          drawn near the visited range (:meth:`_area`): going somewhere new is how it grows.
        """
        ok = np.ones(len(goals), bool)
        blocks = self.layout.split(starts)
        contact = np.array([g["kind"] == "object" for g in goals])
        for k in np.flatnonzero(~contact):
            offsets = blocks[k, self.objects, 0:3] - blocks[k, self.agent, 0:3]
            offsets[:, 2] = 0.0
            gaps = np.linalg.norm(offsets, axis=-1)
            dirs = offsets / np.maximum(gaps, 1e-9)[:, None]
            reach = [
                self._reach(blocks[k, self.agent], blocks[k, e], int(e), d)
                for e, d in zip(self.objects, dirs, strict=True)
            ]
            ok[k] = bool(np.all(gaps > np.asarray(reach)))
        if self.visited is None:
            return ok
        xy = blocks[:, self.agent, 0:2]
        lo, hi = np.array(self.visited[0:2]) - 0.01, np.array(self.visited[2:4]) + 0.01
        inside = np.all((xy >= lo) & (xy <= hi), axis=-1)
        if (inside & contact).any():
            ok[contact] = inside[contact]
        return ok

    def _area(self, blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where place goals are sampled: the agent's visited x-y range (before any visit,
        the agent and the objects now), 5 cm wider on each side. Objects outside it are not
        included: a spot the agent cannot reach (past its joint's range) would look novel to
        the model for ever, a trap."""
        if self.visited is not None:
            lo, hi = np.array(self.visited[0:2]), np.array(self.visited[2:4])
        else:  # act() records a visit before it chooses; candidates() may be called first
            xy = blocks[np.append(self.objects, self.agent), 0:2]
            lo, hi = xy.min(0), xy.max(0)
        return lo - 0.05, hi + 0.05


def build_seek(inputs: Any) -> SeekExplorer:
    """``seek``: curiosity-chosen contact goals (``agent.seek.*``), executed by reach-and-push.

    Args:
        inputs: :class:`agent.explorers.registry.ExplorerInputs`.
    """
    model = inputs.model
    return SeekExplorer(
        inputs.layout,
        inputs.action_dim,
        model.step,
        imagined_score(inputs),
        model.n_members,
        inputs.cfg.agent.seek,
        inputs.child_rng(),
    )
