"""The contact-regime vocabulary shared by labelling, datasets and evaluation.

Every *entity-transition* (one entity over one agent step, i.e. over all physics substeps of
that step) gets exactly one :class:`Regime`, chosen by priority ``IMPACT > CONTACT > FREE >
REST`` (see ``docs/labels.md``), plus a :class:`PairKind` naming the body pair behind it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Regime(IntEnum):
    """What happened to one entity during one agent step (int8 codes in arrays)."""

    IMPACT = 0  # a contact began during the step with normal approach speed > impact_speed
    CONTACT = 1  # touched a body other than its ground support (pushed, leaning, sliding on a wall)
    FREE = 2  # moving, touching nothing but its ground support (or nothing at all)
    REST = 3  # not moving, nothing new happening


REGIME_NAMES: tuple[str, ...] = tuple(r.name.lower() for r in Regime)


class PairKind(IntEnum):
    """The kind of body pair behind an entity's regime (int8 codes in arrays)."""

    NONE = 0
    AGENT_OBJECT = 1  # the entity touched an agent body (or is the agent touching an object)
    OBJECT_OBJECT = 2  # two movable non-agent entities
    OBJECT_STATIC = 3  # a movable entity and the world (walls, table, the ground after a fall)


PAIR_NAMES: tuple[str, ...] = ("none", "agent-object", "object-object", "object-static")

# Bits of ``pair_mask``: which kinds of contact an entity had during the step (any substep).
PAIR_BIT: dict[PairKind, int] = {
    PairKind.AGENT_OBJECT: 1,
    PairKind.OBJECT_OBJECT: 2,
    PairKind.OBJECT_STATIC: 4,
}


@dataclass(frozen=True)
class LabelConfig:
    """Thresholds of the contact labeller. Defaults are documented in ``docs/labels.md``.

    Attributes:
        impact_speed: m/s; a contact beginning with normal approach speed above this is an
            impact. 0.1 m/s is about the speed of a 0.5 mm drop; slow pushes stay ``contact``.
        rest_speed: m/s; below this mean linear speed over the step (and below
            ``rest_angvel``) an entity with nothing new happening is at rest.
        rest_angvel: rad/s; the angular-speed counterpart of ``rest_speed``.
        fall_speed: m/s; a body touching nothing and descending faster is falling
            (``critical``).
        topple_angle: degrees of tilt (body z axis from world z) that count as toppled;
            crossing it during a step is ``critical``.
        jump_speed: m/s; an object's velocity jump through a continuing contact above this is
            an impact (``None`` turns the rule off). An object already touching another body
            (not its ground support) whose linear velocity changes by more than this over one
            step, with no contact beginning, is an ``impact`` too: the impulse came through
            the existing contact (the far ball of a Newton's cradle). 0.5 m/s in one 50 Hz
            step is 2.5 g; the agent is exempt (its own actuators jerk it).
    """

    impact_speed: float = 0.1
    rest_speed: float = 0.01
    rest_angvel: float = 0.1
    fall_speed: float = 0.3
    topple_angle: float = 45.0
    jump_speed: float | None = 0.5

    def __post_init__(self) -> None:
        for name in ("impact_speed", "rest_speed", "rest_angvel", "fall_speed", "jump_speed"):
            value = getattr(self, name)
            if name == "jump_speed" and value is None:
                continue
            if not value > 0:
                raise ValueError(f"LabelConfig.{name} must be > 0, got {value!r}")
        if not 0.0 < self.topple_angle < 180.0:
            raise ValueError(
                f"LabelConfig.topple_angle must be in (0, 180), got {self.topple_angle!r}"
            )
