"""Contact physics as an experiment axis: global overrides of a compiled scene's contact model.

Every key is optional; a missing or ``None`` key keeps the scene's own values. Overrides edit
the compiled ``mujoco.MjModel`` (not the MJCF), for every geom and every explicit contact pair:

* ``solref_timeconst``: contact stiffness, the time constant (s) of the contact spring;
  smaller is stiffer (``geom_solref[:, 0]``, ``pair_solref[:, 0]``).
* ``solref_dampratio``: contact damping ratio; 1 is critical (no bounce), below 1 bouncier
  (``geom_solref[:, 1]``, ``pair_solref[:, 1]``).
* ``friction_scale``: multiplies every sliding friction coefficient (``geom_friction[:, 0]``,
  ``pair_friction[:, 0:2]``).
* ``solver_iterations``: constraint-solver iterations (``opt.iterations``).

Setting all geoms to one ``solref`` makes MuJoCo's per-pair mixing (``solmix``, ``priority``)
irrelevant for it: every contact gets exactly the given time constant and damping ratio.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import mujoco

PHYSICS_KEYS = ("solref_timeconst", "solref_dampratio", "friction_scale", "solver_iterations")


def normalize_physics(physics: Mapping[str, Any] | None) -> dict[str, float | int]:
    """The overrides that are set (``None`` values dropped), checked; ``{}`` for none.

    Raises:
        ValueError: an unknown key, or a value that is not a positive finite number
            (``solver_iterations``: a positive integer).
    """
    out: dict[str, float | int] = {}
    for key, value in dict(physics or {}).items():
        if key not in PHYSICS_KEYS:
            raise ValueError(f"unknown physics key {key!r}; valid keys: {list(PHYSICS_KEYS)}")
        if value is None:
            continue
        if key == "solver_iterations":
            if isinstance(value, bool) or int(value) != value or int(value) < 1:
                raise ValueError(f"physics.{key}={value!r} must be an integer >= 1")
            out[key] = int(value)
        else:
            number = float(value)
            if not (math.isfinite(number) and number > 0):
                raise ValueError(f"physics.{key}={value!r} must be a finite number > 0")
            out[key] = number
    return out


def physics_fingerprint(physics: Mapping[str, Any]) -> str:
    """Canonical text of a normalised override dict, folded into the scene hash (``""`` if
    nothing is overridden, so scenes with their own physics keep their hash)."""
    return json.dumps(dict(physics), sort_keys=True) if physics else ""


def apply_physics(model: mujoco.MjModel, physics: Mapping[str, Any]) -> None:
    """Apply normalised overrides (:func:`normalize_physics`) to ``model`` in place.

    Raises:
        ValueError: ``solref_timeconst`` below two physics timesteps, which MuJoCo would
            silently clamp (the run would not get the stiffness it asked for); or only one of
            the two solref keys for a scene with direct (negative) solref values, which
            would mix the two conventions.
    """
    timeconst = physics.get("solref_timeconst")
    dampratio = physics.get("solref_dampratio")
    if (timeconst is None) != (dampratio is None) and (model.geom_solref[:, 0] <= 0).any():
        raise ValueError(
            "the scene gives some geoms a direct (negative) solref of stiffness and damping; "
            "set both physics.solref_timeconst and physics.solref_dampratio to replace it"
        )
    if timeconst is not None:
        floor = 2 * model.opt.timestep
        if timeconst < floor:
            raise ValueError(
                f"physics.solref_timeconst={timeconst} is below 2 x timestep ({floor:g} s); "
                "MuJoCo would clamp it to that. Use a larger value or a smaller timestep."
            )
        model.geom_solref[:, 0] = timeconst
        model.pair_solref[:, 0] = timeconst
    if dampratio is not None:
        model.geom_solref[:, 1] = dampratio
        model.pair_solref[:, 1] = dampratio
    scale = physics.get("friction_scale")
    if scale is not None:
        model.geom_friction[:, 0] *= scale
        model.pair_friction[:, 0:2] *= scale
    iterations = physics.get("solver_iterations")
    if iterations is not None:
        model.opt.iterations = int(iterations)
