"""The contact-seeking explorer: box support against hand-computed widths, the chooser finds a
known optimum among its candidates, every imagined push reaches and moves its object when
MuJoCo itself is the imagined dynamics, the reach-and-push controller really pushes the chosen
object in MuJoCo (planar and 3-D agents) at the imagined speed, place goals are reached and
held and never inside an object, a diverged model is not silently obeyed, and a resumed
explorer acts exactly as the uninterrupted one."""

from __future__ import annotations

import math
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

import envs  # noqa: F401
from agent.explorers.seek import SeekExplorer, simulator_step, support
from agent.explorers.seek_config import SeekConfig


def _env() -> gym.Env:
    return gym.make("contactlab/PushBlocks-v0")


def _still(states: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
    """Imagined dynamics that change nothing (the scores below read the start states)."""
    return states


def test_support_of_boxes_matches_hand_computed_widths() -> None:
    ext = np.array([0.1, 0.2, 0.3])
    level = np.array([1.0, 0.0, 0.0, 0.0])
    x, diag = np.array([1.0, 0.0, 0.0]), np.array([1.0, 1.0, 0.0]) / math.sqrt(2)
    assert support(level, ext, x) == pytest.approx(0.1)
    assert support(level, ext, diag) == pytest.approx(0.3 / math.sqrt(2))
    turned = np.array([math.cos(math.pi / 4), 0.0, 0.0, math.sin(math.pi / 4)])  # 90 deg about z
    assert support(turned, ext, x) == pytest.approx(0.2)
    dirs = np.stack([x, diag])  # batched directions against one box
    np.testing.assert_allclose(support(level, ext, dirs), [0.1, 0.3 / math.sqrt(2)])


def _explorer(env: gym.Env, score, cfg: SeekConfig | None = None, seed: int = 0) -> SeekExplorer:
    layout = env.unwrapped.layout
    return SeekExplorer(
        layout, 2, _still, score, 2, cfg or SeekConfig(), np.random.default_rng(seed)
    )


def test_the_chooser_picks_the_candidate_with_the_highest_imagined_return() -> None:
    env = _env()
    layout = env.unwrapped.layout
    agent, target = int(layout.indices("agent")[0]), int(layout.indices("object")[2])
    others = [int(i) for i in layout.indices("object") if i != target]
    obs, _ = env.reset(seed=3)

    def score(obs_t: torch.Tensor, action: torch.Tensor, predicted: torch.Tensor) -> torch.Tensor:
        # interesting: the agent right beside object `target` (and no other), pushing it to +x
        blocks = obs_t.reshape(len(obs_t), layout.n_entities, -1)
        gaps = (blocks[:, agent : agent + 1, 0:2] - blocks[:, others, 0:2]).norm(dim=-1)
        gap = (blocks[:, agent, 0:2] - blocks[:, target, 0:2]).norm(dim=-1)
        alone = (gap < 0.1) & (gaps.min(-1).values > 0.12)
        return alone.float() * (1.0 + action[:, 0])

    explorer = _explorer(env, score, SeekConfig(directions=24))
    goal = explorer.choose(obs)
    assert goal["kind"] == "object" and goal["entity"] == target
    assert goal["direction"][0] > 0.9 and goal["speed"] > 0.6  # the best of 24 sampled angles
    assert explorer.chosen == {"object": 1, "place": 0, "blind": 0}
    # the imagined start puts the agent just behind the object, `standoff` from its surface
    goals, starts, _ = explorer.candidates(obs)
    blocks = layout.split(starts)
    k = next(i for i, g in enumerate(goals) if g["kind"] == "object")
    entity = goals[k]["entity"]
    centre_gap = np.linalg.norm(blocks[k, agent, 0:2] - blocks[k, entity, 0:2])
    ext, gap = layout.extents_array(), explorer.cfg.standoff
    assert ext[agent, 0] + ext[entity, 0] + gap <= centre_gap + 1e-6  # at least the box gap
    assert centre_gap <= ext[agent, 0] + np.linalg.norm(ext[entity, 0:2]) + gap + 1e-6


def test_softmax_choice_draws_feasible_goals_with_the_stated_odds() -> None:
    explorer = _explorer(_env(), lambda o, a, p: o[:, 0], SeekConfig(choice="softmax"))
    returns = np.array([5.0, 0.0, 1.0, 2.0, 3.0, np.nan])
    idx = np.array([1, 2, 3, 4])  # what choose() offers: the feasible, finitely scored ones
    draws = np.bincount([explorer._draw(idx, returns) for _ in range(20000)], minlength=6)
    r = returns[idx]
    odds = np.exp(r / r.std())  # hand-computed: exp(z / 1), z = return / std
    np.testing.assert_allclose(draws[idx] / 20000, odds / odds.sum(), atol=0.01)
    assert draws[0] == draws[5] == 0
    flat = np.bincount([explorer._draw(idx, np.ones(6)) for _ in range(4000)], minlength=6)
    np.testing.assert_allclose(flat[idx] / 4000, 0.25, atol=0.03)  # equal returns: uniform
    greedy = _explorer(
        _env(), lambda o, a, p: o[:, 0], SeekConfig(choice="softmax", temperature=1e-3)
    )
    assert {greedy._draw(idx, returns) for _ in range(200)} == {4}


def test_the_controller_pushes_the_chosen_object_in_mujoco() -> None:
    env = _env()
    layout = env.unwrapped.layout
    obs, _ = env.reset(seed=1)
    explorer = _explorer(env, lambda o, a, p: torch.zeros(len(o)))
    for entity in layout.indices("object")[:2]:
        blocks = layout.split(obs)
        outward = blocks[entity, 0:2] / (np.linalg.norm(blocks[entity, 0:2]) + 1e-9)
        explorer.goal = {  # push the object away from the table's centre (the agent can get
            # behind it from the centre side)
            "kind": "object",
            "entity": int(entity),
            "direction": outward.tolist(),
            "speed": 0.8,
        }
        explorer.phase, explorer.t = "approach", 0
        start = blocks[entity, 0:2].copy()
        pushed = False
        for _ in range(explorer.cfg.approach_steps + explorer.cfg.push_steps):
            action = explorer._control(layout.split(obs))
            if action is None:  # the goal is finished
                break
            obs, *_ = env.step(action)
            pushed = pushed or explorer.phase == "push"
        moved = layout.split(obs)[entity, 0:2] - start
        assert pushed, "the agent never reached its staging point"
        assert float(moved @ outward) > 0.02, f"object {entity} moved {moved}, not pushed"


def test_a_place_goal_is_reached_and_held() -> None:
    env = _env()
    layout = env.unwrapped.layout
    agent = int(layout.indices("agent")[0])
    obs, _ = env.reset(seed=2)
    blocks = layout.split(obs)
    spot = torch.tensor(blocks[layout.indices("object")[:2], 0:2].mean(0))  # between 2 blocks

    def score(obs_t: torch.Tensor, action: torch.Tensor, predicted: torch.Tensor) -> torch.Tensor:
        # the nearer the spot the better; pushes (non-zero actions) are not interesting
        blocks = obs_t.reshape(len(obs_t), layout.n_entities, -1)
        return -(blocks[:, agent, 0:2] - spot).norm(dim=-1) - 10 * action.abs().sum(-1)

    explorer = _explorer(env, score, SeekConfig(places=256))
    explorer.visited = [-0.3, -0.3, 0.3, 0.3]  # as after a warm-up that went everywhere
    near = []
    for _ in range(60):
        obs, *_ = env.step(explorer.act(obs))
        near.append(float(np.linalg.norm(layout.split(obs)[agent, 0:2] - spot.numpy())))
    assert explorer.chosen["place"] >= 1 and explorer.chosen["object"] == 0
    assert min(near) < 0.05 and max(near[-10:]) < 0.05  # got there and stayed


def test_a_resumed_explorer_acts_exactly_as_the_uninterrupted_one(tmp_path: Path) -> None:
    def score(obs_t: torch.Tensor, action: torch.Tensor, predicted: torch.Tensor) -> torch.Tensor:
        return obs_t[:, 0] * action[:, 0] + obs_t[:, 1]

    env_a = _env()
    a = _explorer(env_a, score, seed=7)
    obs_a, _ = env_a.reset(seed=4)
    for _ in range(37):  # mid-goal
        obs_a, *_ = env_a.step(a.act(obs_a))
    torch.save(a.state_dict(), tmp_path / "seek.pt")
    # Another explorer (another seed) given the checkpoint: from here both see the same
    # observations (the explorer is a function of the observation and its state), and must act
    # alike to the bit.
    b = _explorer(_env(), score, seed=99)
    b.load_state_dict(torch.load(tmp_path / "seek.pt", weights_only=True))  # as checkpoints load
    for _ in range(80):
        act_a, act_b = a.act(obs_a), b.act(obs_a)
        np.testing.assert_array_equal(act_a, act_b)
        obs_a, *_ = env_a.step(act_a)
    assert a.chosen == b.chosen


@pytest.mark.parametrize(
    ("key", "value", "needle"),
    [
        ("directions", 0, "agent.seek.directions"),
        ("places", -1, "agent.seek.places"),
        ("min_speed", 0.0, "min_speed"),
        ("max_speed", 1.5, "max_speed"),
        ("standoff", float("nan"), "agent.seek.standoff"),
        ("runup", -0.01, "agent.seek.runup"),
        ("gain", 0.0, "agent.seek.gain"),
        ("speed_scale", "fast", "agent.seek.speed_scale"),
        ("choice", "greedy", "agent.seek.choice"),
        ("temperature", 0.0, "agent.seek.temperature"),
        ("temperature", float("inf"), "agent.seek.temperature"),
        ("value", "speed", "agent.seek.value"),
    ],
)
def test_bad_settings_name_the_key(key: str, value: float | str, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        SeekConfig(**{key: value})


def test_a_scene_without_a_point_agent_is_refused_with_a_clear_message() -> None:
    env = _env()
    with pytest.raises(ValueError, match="agent=mpc"):
        SeekExplorer(
            env.unwrapped.layout, 7, _still, lambda o, a, p: o[:, 0], 2, SeekConfig(),
            np.random.default_rng(0),
        )  # fmt: skip


@pytest.mark.parametrize(("scene", "action_dim"), [("PushBlocks", 2), ("Tower", 3)])
def test_every_imagined_push_reaches_and_moves_its_object(scene: str, action_dim: int) -> None:
    # The review of 2026-11-30 found the imagined push (at rest 3 cm away, 4 steps) never
    # touched its object: curiosity chose among approaches. With MuJoCo as the imagined
    # dynamics, every push candidate of the default settings, at every sampled speed, must
    # move its object along the push direction within the imagined steps.
    env = gym.make(f"contactlab/{scene}-v0")
    layout = env.unwrapped.layout
    agent = int(layout.indices("agent")[0])
    moved, speeds = [], []
    for seed in range(2):
        obs, _ = env.reset(seed=seed)
        explorer = SeekExplorer(
            layout, action_dim, simulator_step(env), lambda o, a, p: torch.zeros(len(o)), 1,
            SeekConfig(places=0, directions=6), np.random.default_rng(seed),
        )  # fmt: skip
        goals, starts, actions = explorer.candidates(obs)
        states = torch.as_tensor(starts)[None]
        for _ in range(explorer.cfg.imagine_steps):
            states = explorer.step_fn(states, torch.as_tensor(actions))
        before, after = layout.split(starts), layout.split(states[0].numpy())
        for k, goal in enumerate(goals):
            entity, direction = goal["entity"], np.asarray(goal["direction"])
            moved.append(float((after[k, entity, 0:2] - before[k, entity, 0:2]) @ direction))
            speeds.append(goal["speed"])
            if action_dim == 3:  # pushed at the object's height
                assert before[k, agent, 2] == pytest.approx(before[k, entity, 2])
    assert min(speeds) < 0.4  # slow pushes are among them
    assert min(moved) > 1e-3, f"an imagined push moved its object only {min(moved):.4f} m"


def test_a_round_body_is_touched_at_the_sum_of_its_radii() -> None:
    env = gym.make("contactlab/Billiards-v0")
    layout = env.unwrapped.layout
    obs, _ = env.reset(seed=0)
    blocks = layout.split(obs)
    agent, ball = int(layout.indices("agent")[0]), int(layout.indices("object")[0])
    explorer = SeekExplorer(
        layout, 2, _still, lambda o, a, p: o[:, 0], 1, SeekConfig(), np.random.default_rng(0)
    )
    diag = np.array([1.0, 1.0, 0.0]) / math.sqrt(2)  # where a box would overstate by 41%
    reach = explorer._reach(blocks[agent], blocks[ball], ball, diag)
    assert float(reach) == pytest.approx(0.025 + 0.025, abs=1e-6)  # striker and ball radii


def test_the_executed_push_has_the_imagined_speed_and_a_3d_agent_pushes_at_the_height() -> None:
    env = gym.make("contactlab/Tower-v0")
    layout = env.unwrapped.layout
    agent, top = int(layout.indices("agent")[0]), int(layout.indices("object")[-1])
    obs, _ = env.reset(seed=0)
    explorer = SeekExplorer(
        layout, 3, _still, lambda o, a, p: o[:, 0], 1, SeekConfig(), np.random.default_rng(0)
    )
    blocks = layout.split(obs)
    start = blocks[top, 0:3].copy()
    toward = start[:2] - blocks[agent, 0:2]  # push the top block away from the agent
    direction = toward / np.linalg.norm(toward)
    explorer.goal = {"kind": "object", "entity": top, "direction": direction.tolist(), "speed": 0.5}
    pushes, heights = [], []
    for _ in range(explorer.cfg.approach_steps + explorer.cfg.push_steps):
        action = explorer._control(layout.split(obs))
        if action is None:
            break
        if explorer.phase == "push":
            pushes.append(action)
            now = layout.split(obs)
            heights.append(float(now[agent, 2] - now[top, 2]))
        obs, *_ = env.step(action)
    assert pushes, "the agent never reached its staging point at the block's height"
    assert max(map(abs, heights[:5])) < 0.02  # the push is at the top block's height ...
    # ... with the planar push `speed` in L2 norm (as imagined: speed * direction), not per axis
    np.testing.assert_allclose(np.linalg.norm(np.array(pushes)[:, :2], axis=1), 0.5, rtol=1e-5)
    moved = layout.split(obs)[top, 0:3] - start
    assert float(moved[:2] @ direction) > 0.02, f"the top block moved {moved}"


@pytest.mark.parametrize("scale", ["l2", "box"])
def test_push_speeds_span_the_action_box_only_with_the_box_scale(scale: str) -> None:
    env = _env()
    obs, _ = env.reset(seed=0)
    cfg = SeekConfig(min_speed=1.0, max_speed=1.0, speed_scale=scale, places=0, directions=64)
    goals, _, actions = _explorer(env, lambda o, a, p: o[:, 0], cfg).candidates(obs)
    planar = np.linalg.norm(actions[:, :2], axis=1)
    largest = np.abs(actions[:, :2]).max(1)
    # every imagined push stays inside the action box and has the goal's speed as its L2 norm
    assert largest.max() <= 1.0 + 1e-6
    np.testing.assert_allclose(planar, [g["speed"] for g in goals], rtol=1e-5)
    if scale == "l2":  # speed 1 is an L2 norm of 1 in every direction
        np.testing.assert_allclose(planar, 1.0, rtol=1e-5)
    else:  # the largest action along each direction: one component at 1, up to sqrt(2) on
        np.testing.assert_allclose(largest, 1.0, rtol=1e-5)  # diagonals
        assert planar.max() > 1.3 and planar.min() >= 1.0 - 1e-6
    # the executed push toward a point far along the goal's direction keeps that speed (the
    # controller caps the L2 norm, then clips each component to the box)
    explorer = _explorer(env, lambda o, a, p: o[:, 0], cfg)
    for goal, speed in zip(goals, planar, strict=True):
        aim = np.append(np.asarray(goal["direction"]) * 10.0, 0.0)
        push = explorer._toward(np.zeros(3), aim, goal["speed"])
        assert np.linalg.norm(push[:2]) == pytest.approx(speed, rel=1e-5)


@pytest.mark.parametrize("choice", ["best", "softmax"])
def test_place_goals_inside_an_object_are_never_chosen(choice: str) -> None:
    env = _env()
    layout = env.unwrapped.layout
    agent = int(layout.indices("agent")[0])
    obs, _ = env.reset(seed=5)
    centres = layout.split(obs)[layout.indices("object"), 0:2]

    def score(obs_t: torch.Tensor, action: torch.Tensor, predicted: torch.Tensor) -> torch.Tensor:
        # the nearer an object's centre the better: the best places would be inside one
        blocks = obs_t.reshape(len(obs_t), layout.n_entities, -1)
        gaps = (blocks[:, agent : agent + 1, 0:2] - torch.as_tensor(centres)).norm(dim=-1)
        return -gaps.min(-1).values - 10 * action.abs().sum(-1)

    explorer = _explorer(env, score, SeekConfig(places=1024, directions=1, choice=choice))
    explorer.visited = [-0.33, -0.33, 0.33, 0.33]  # as after a warm-up that went everywhere
    goals, starts, _ = explorer.candidates(obs)
    feasible = explorer._feasible(goals, starts)
    places = [k for k, g in enumerate(goals) if g["kind"] == "place"]
    inside = [
        k for k in places
        if np.linalg.norm(np.asarray(goals[k]["point"]) - centres, axis=-1).min() < 0.03
    ]  # fmt: skip
    assert inside, "no sampled place fell inside an object: the test checks nothing"
    assert not feasible[inside].any()
    assert feasible[places].any()
    for _ in range(1 if choice == "best" else 20):  # a drawn goal: many draws, none inside
        goal = explorer.choose(obs)
        assert goal["kind"] == "place"
        gap = np.linalg.norm(np.asarray(goal["point"]) - centres, axis=-1).min()
        assert gap > 0.025 + 0.025  # at least the pusher's radius and a block's half-width
    assert explorer.chosen["place"] == (1 if choice == "best" else 20)


class _FixedCandidates(SeekExplorer):
    """The same candidate goals at every choice, so that which one is picked can be compared
    across choices."""

    fixed: tuple[list, np.ndarray, np.ndarray]

    def candidates(self, obs: np.ndarray) -> tuple[list, np.ndarray, np.ndarray]:
        return self.fixed


def test_a_model_that_scores_nothing_finite_is_not_obeyed_silently() -> None:
    env = _env()
    layout = env.unwrapped.layout
    agent = int(layout.indices("agent")[0])
    obs, _ = env.reset(seed=0)

    def score(obs_t: torch.Tensor, action: torch.Tensor, predicted: torch.Tensor) -> torch.Tensor:
        # finite only for goals whose staging point is left of x = 0: the infeasible ones below
        x = obs_t.reshape(len(obs_t), layout.n_entities, -1)[:, agent, 0]
        return torch.where(x < 0, torch.ones_like(x), torch.full_like(x, float("nan")))

    explorer = _FixedCandidates(
        layout, 2, _still, score, 2, SeekConfig(places=0), np.random.default_rng(0)
    )
    explorer.fixed = SeekExplorer.candidates(explorer, obs)
    goals, starts, _ = explorer.fixed
    explorer.visited = [0.02, -0.4, 0.4, 0.4]  # as if the agent had only been right of x = 0
    feasible = explorer._feasible(goals, starts)
    assert feasible.any() and not feasible.all()
    picks = [goals.index(explorer.choose(obs)) for _ in range(8)]
    assert explorer.chosen["blind"] == 8 and explorer.chosen["object"] == 0
    assert all(feasible[k] for k in picks)  # never the infeasible goals that scored finitely
    assert len(set(picks)) > 1  # drawn at random, not always the same candidate


def test_a_checkpoint_from_before_the_blind_count_loads() -> None:
    env = _env()
    explorer = _explorer(env, lambda o, a, p: o[:, 0])
    state = explorer.state_dict()
    del state["chosen"]["blind"]  # as saved by the explorer before 2026-12-01
    explorer.load_state_dict(state)
    assert explorer.chosen == {"object": 0, "place": 0, "blind": 0}


def test_rate_value_divides_each_return_by_its_hand_computed_expected_steps() -> None:
    env = _env()
    layout = env.unwrapped.layout
    agent = int(layout.indices("agent")[0])
    obs, _ = env.reset(seed=5)
    cfg = SeekConfig(value="rate", directions=6, places=6, approach_steps=40, push_steps=25)
    # every candidate equally interesting: the rate must pick the goal that is quickest to do
    explorer = _explorer(env, lambda o, a, p: torch.ones(len(o)), cfg, seed=2)
    explorer.top_speed = 0.01  # m per step
    goals, _, _ = explorer.candidates(obs)
    steps = explorer.expected_steps(goals, obs)
    blocks = layout.split(obs.astype(np.float64))
    for goal, n in zip(goals, steps, strict=True):
        if goal["kind"] == "place":  # hand-computed: distance over speed, capped, plus the stay
            d = np.linalg.norm(blocks[agent, :2] - np.asarray(goal["point"]))
            assert n == pytest.approx(min(d / 0.01, 40) + 25)
        else:  # the staging point lies `runup` behind the surface: farther than the centre-gap
            e = goal["entity"]
            d = np.linalg.norm(blocks[agent, :2] - blocks[e, :2])
            assert 25 <= n <= min((d + 0.2) / 0.01, 40) + 25
    assert steps.min() < steps.max()
    explorer.rng = np.random.default_rng(2)  # the same candidates again
    goal = explorer.choose(obs)
    feasible = explorer._feasible(goals, explorer.candidates(obs)[1])
    assert goal == goals[int(np.argmin(np.where(feasible, steps, np.inf)))]
    # before the agent has been seen to move, the approach counts nothing: returns decide
    still = _explorer(env, lambda o, a, p: torch.ones(len(o)), cfg)
    np.testing.assert_array_equal(still.expected_steps(goals, obs), np.full(len(goals), 25.0))


def test_top_speed_is_the_fastest_observed_step_and_skips_episode_boundaries() -> None:
    env = _env()
    layout = env.unwrapped.layout
    agent = int(layout.indices("agent")[0])
    explorer = _explorer(env, lambda o, a, p: o[:, 0], SeekConfig(value="rate"))
    obs, _ = env.reset(seed=1)
    xy = [layout.split(obs)[agent, :2].astype(np.float64)]
    for _ in range(30):
        obs, *_ = env.step(explorer.act(obs))
        xy.append(layout.split(obs)[agent, :2].astype(np.float64))
    explorer.act(obs)
    fastest = max(np.linalg.norm(b - a) for a, b in zip(xy[:-1], xy[1:], strict=True))
    assert fastest > 0.001 and explorer.top_speed == pytest.approx(fastest)
    explorer.reset()  # a new episode starts elsewhere: that jump is not a step
    far = layout.split(obs.copy())
    far[agent, :2] += 1.0
    explorer.act(far.reshape(-1))
    assert explorer.top_speed == pytest.approx(fastest)
    state = explorer.state_dict()
    del state["last"], state["top_speed"]  # as saved before agent.seek.value existed
    explorer.load_state_dict(state)
    assert explorer.top_speed == 0.0 and explorer.last is None
