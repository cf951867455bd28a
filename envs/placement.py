"""Random non-overlapping placement of bodies on a table, shared by the scenes' resets."""

from __future__ import annotations

import numpy as np


def sample_positions(
    rng: np.random.Generator,
    radii: np.ndarray,
    half_extent: tuple[float, float],
    max_tries: int = 1000,
) -> np.ndarray:
    """Sample ``len(radii)`` x, y positions inside ``[-hx, hx] x [-hy, hy]`` with no two discs
    (of the given radii, plus 5 mm) overlapping. Returns shape ``(n, 2)``.

    Raises ``RuntimeError`` if the table is too crowded to place them in ``max_tries`` draws.
    """
    hx, hy = half_extent
    placed: list[np.ndarray] = []
    for r in radii:
        for _ in range(max_tries):
            p = rng.uniform([-hx + r, -hy + r], [hx - r, hy - r])
            if all(
                np.linalg.norm(p - q) > r + rq + 0.005
                for q, rq in zip(placed, radii[: len(placed)], strict=True)
            ):
                placed.append(p)
                break
        else:
            raise RuntimeError(
                f"could not place {len(radii)} bodies without overlap in {max_tries} tries"
            )
    return np.array(placed)


def yaw_quat(yaw: float) -> np.ndarray:
    """(w, x, y, z) quaternion of a rotation by ``yaw`` radians about world z."""
    return np.array([np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)])
