"""Settings of the contact-seeking explorer (:mod:`agent.explorers.seek`), importable without
torch."""

from __future__ import annotations

import math
from dataclasses import dataclass

SPEED_SCALES = ("l2", "box")  #: values of ``agent.seek.speed_scale``
CHOICES = ("best", "softmax")  #: values of ``agent.seek.choice``
VALUES = ("return", "rate")  #: values of ``agent.seek.value``


@dataclass(frozen=True)
class SeekConfig:
    """Explorer ``seek`` (config group ``agent=seek``, keys ``agent.seek.*``).

    Attributes:
        directions: approach directions sampled per object at each choice (uniform angles).
        places: "go to this spot and stay" goals sampled at each choice, scored beside the
            contact goals, so that where the agent goes is decided by curiosity, not by
            construction (the noisy-TV switch is such a spot).
        min_speed: slowest push tried, as a fraction of the full action (see
            ``speed_scale``).
        max_speed: fastest push tried.
        speed_scale: what a push speed of 1 is: ``"l2"``, an x-y action of L2 norm 1 in every
            direction (the default); ``"box"``, the largest x-y action along the push
            direction inside the action box, ``1 / max(|cos a|, |sin a|)`` (up to sqrt(2) on
            diagonals, as fast as the demonstrator and the probe policy push there).
        imagine_steps: model steps imagined from each candidate's start to score it; long
            enough that even the slowest push closes ``standoff`` and pushes the object (with
            MuJoCo as the step function: every feasible push of PushBlocks and Tower moves its
            object by > 1 mm in 10 steps, 84% in 8; ``tests/agent/test_seek.py``).
        standoff: gap (m) between the agent's and the object's surfaces at the imagined start
            of a push: the agent at rest, contact imminent.
        runup: gap (m) between the surfaces at the executed push's staging point, so that the
            agent arrives at its push speed (the imagined push starts closer, from rest: the
            model scores the same contact, at a lower impact speed, in few steps).
        approach_steps: steps allowed to reach the staging point behind an object (a contact
            goal not reached by then is given up and a new one chosen) or a place (the agent
            then stays where it is for ``push_steps``).
        push_steps: steps spent pushing through an object (or staying at a place).
        gain: action per metre of position error when moving to a point (saturates at 1).
        choice: how a goal is taken from the scored candidates: ``"best"``, the highest
            imagined return (the default); ``"softmax"``, drawn with probability
            ``exp(z / temperature)``, ``z`` the feasible candidates' returns over their
            standard deviation (all equal: uniform), so that the agent keeps
            trying what is nearly as interesting instead of the one extreme the model is
            most unsure of (stochastic acquisition, Kirsch et al. 2023).
        temperature: the softmax's temperature, in standard deviations of the returns
            (smaller is greedier); used only with ``choice="softmax"``.
        value: what a candidate is worth: ``"return"``, its imagined intrinsic return (the
            default); ``"rate"``, that return per env step the goal is expected to take, the
            approach (straight-line distance to its staging point or spot over the fastest
            step the agent has been seen to make, at most ``approach_steps``) plus
            ``push_steps``, so that a far goal must promise more than a near one (cost-aware
            acquisition: information per step of the budget, not per goal).
    """

    directions: int = 12
    places: int = 8
    min_speed: float = 0.3
    max_speed: float = 1.0
    speed_scale: str = "l2"
    imagine_steps: int = 10
    standoff: float = 0.005
    runup: float = 0.03
    approach_steps: int = 40
    push_steps: int = 25
    gain: float = 10.0
    choice: str = "best"
    temperature: float = 1.0
    value: str = "return"

    def __post_init__(self) -> None:
        for key in ("directions", "imagine_steps", "approach_steps", "push_steps"):
            value = getattr(self, key)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"agent.seek.{key} must be an integer >= 1, got {value!r}")
        if not isinstance(self.places, int) or self.places < 0:
            raise ValueError(f"agent.seek.places must be an integer >= 0, got {self.places!r}")
        for key in ("min_speed", "max_speed", "standoff", "runup", "gain"):
            value = getattr(self, key)
            if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise ValueError(f"agent.seek.{key} must be a finite number >= 0, got {value!r}")
        if not 0 < self.min_speed <= self.max_speed <= 1:
            raise ValueError(
                "agent.seek.min_speed and max_speed must satisfy 0 < min_speed <= max_speed <= 1,"
                f" got {self.min_speed!r} and {self.max_speed!r}"
            )
        if self.speed_scale not in SPEED_SCALES:
            raise ValueError(
                f"agent.seek.speed_scale must be one of {list(SPEED_SCALES)},"
                f" got {self.speed_scale!r}"
            )
        if self.gain == 0:
            raise ValueError("agent.seek.gain must be > 0, got 0")
        if self.choice not in CHOICES:
            raise ValueError(
                f"agent.seek.choice must be one of {list(CHOICES)}, got {self.choice!r}"
            )
        if self.value not in VALUES:
            raise ValueError(f"agent.seek.value must be one of {list(VALUES)}, got {self.value!r}")
        t = self.temperature
        if not isinstance(t, int | float) or not math.isfinite(t) or t <= 0:
            raise ValueError(f"agent.seek.temperature must be a finite number > 0, got {t!r}")
