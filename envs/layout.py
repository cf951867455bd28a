"""The per-entity observation layout every contactlab scene exposes as metadata.

A scene's observation is the concatenation, over its entities, of the same
:data:`ENTITY_FEATURES` block, so an object-centric model can reshape
``obs[..., :n_entities * FEATURE_DIM]`` to ``(..., n_entities, FEATURE_DIM)``.

Per-entity block (all in the world frame, SI units):

======  =========  ========================================
index   name       meaning
======  =========  ========================================
0:3     pos        body origin position (m)
3:7     quat       body orientation, (w, x, y, z)
7:10    linvel     linear velocity of the body origin (m/s)
10:13   angvel     angular velocity (rad/s)
======  =========  ========================================
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

ENTITY_FEATURES: dict[str, slice] = {
    "pos": slice(0, 3),
    "quat": slice(3, 7),
    "linvel": slice(7, 10),
    "angvel": slice(10, 13),
}
FEATURE_DIM = 13

ENTITY_KINDS = ("agent", "object", "distractor")


@dataclass(frozen=True)
class Entity:
    """One body whose state appears in the observation.

    Attributes:
        name: MJCF body name.
        kind: ``"agent"``, ``"object"`` or ``"distractor"``.
        body_id: MuJoCo body id.
        props: static properties ``(mass kg, size m, friction)`` for models that condition on
            them; ``size`` is the radius of the geom's bounding sphere.
        extents: half-sizes ``(x, y, z)`` in the body frame of a box centred on the body origin
            that holds all its geoms (shape-aware contact features use it); ``None`` in layouts
            saved before it existed, where :meth:`EntityLayout.extents_array` falls back to the
            bounding sphere.
        shape: the body's geom as a convex shape in the body frame, ``(c_x, c_y, c_z, rho,
            r_disk)``: the Minkowski sum of a box of half-sizes ``c``, a ball of radius ``rho``
            and a disk of radius ``r_disk`` in the body's xy plane (a box ``(sx, sy, sz, 0, 0)``,
            a sphere ``(0, 0, 0, r, 0)``, a capsule ``(0, 0, h, r, 0)``, a cylinder ``(0, 0, h,
            0, r)``); ``None`` where the body is not one such geom centred on its origin (then
            :meth:`EntityLayout.shapes_array` gives the box of ``extents``). Derived from the
            model each time a scene is built: neither saved nor compared.
    """

    name: str
    kind: str
    body_id: int
    props: tuple[float, float, float] = (0.0, 0.0, 0.0)
    extents: tuple[float, float, float] | None = None
    shape: tuple[float, float, float, float, float] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in ENTITY_KINDS:
            raise ValueError(
                f"Entity {self.name!r}: kind must be one of {ENTITY_KINDS}, got {self.kind!r}"
            )


@dataclass(frozen=True)
class EntityLayout:
    """Which entities the observation holds, in order. Exposed as ``env.metadata["layout"]``.

    ``ground`` is the height (m) of the top of the scene's ground support (its planes, or the
    table geoms ``env.support_geoms`` names), from which the graph model's floor features
    measure heights; ``None`` where it is unknown (a layout read back from a dataset, a scene
    without a ground geom), which those features take as 0. It is the scene's, recomputed
    from the model each time a scene is built: not saved by :meth:`to_dict` and not compared.
    """

    entities: tuple[Entity, ...]
    feature_dim: int = FEATURE_DIM
    features: dict[str, slice] = field(default_factory=lambda: dict(ENTITY_FEATURES))
    ground: float | None = field(default=None, compare=False)

    @property
    def n_entities(self) -> int:
        return len(self.entities)

    @property
    def obs_dim(self) -> int:
        return self.n_entities * self.feature_dim

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.entities)

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(e.kind for e in self.entities)

    def indices(self, kind: str) -> np.ndarray:
        """Entity indices of one kind, e.g. ``layout.indices("object")``."""
        return np.array([i for i, e in enumerate(self.entities) if e.kind == kind], dtype=np.int64)

    def props_array(self) -> np.ndarray:
        """Static properties, shape ``(n_entities, 3)``: mass, size, friction."""
        return np.array([e.props for e in self.entities], dtype=np.float32).reshape(-1, 3)

    def extents_array(self) -> np.ndarray:
        """Body-frame half-sizes, shape ``(n_entities, 3)``; an entity saved without them gets
        its bounding-sphere radius on every axis."""
        return np.array(
            [e.extents if e.extents is not None else (e.props[1],) * 3 for e in self.entities],
            dtype=np.float32,
        ).reshape(-1, 3)

    def shapes_array(self) -> np.ndarray:
        """Convex shapes ``(n_entities, 5)`` as :attr:`Entity.shape` describes them; an entity
        without one is the box of its :meth:`extents_array`."""
        ext = self.extents_array()
        rows = [
            e.shape if e.shape is not None else (*ext[i], 0.0, 0.0)
            for i, e in enumerate(self.entities)
        ]
        return np.array(rows, dtype=np.float32).reshape(-1, 5)

    def split(self, obs: np.ndarray) -> np.ndarray:
        """Reshape ``(..., obs_dim)`` observations to ``(..., n_entities, feature_dim)``."""
        obs = np.asarray(obs)
        if obs.shape[-1] != self.obs_dim:
            raise ValueError(
                f"observation has {obs.shape[-1]} values, layout expects {self.obs_dim}"
            )
        return obs.reshape(*obs.shape[:-1], self.n_entities, self.feature_dim)

    def to_dict(self) -> dict:
        """JSON-friendly form, stored in dataset and probe-set metadata."""
        return {
            "feature_dim": self.feature_dim,
            "features": {k: [s.start, s.stop] for k, s in self.features.items()},
            "entities": [
                {"name": e.name, "kind": e.kind, "body_id": e.body_id, "props": list(e.props)}
                | ({} if e.extents is None else {"extents": list(e.extents)})
                for e in self.entities
            ],
        }

    @classmethod
    def from_dict(cls, d: dict) -> EntityLayout:
        entities = tuple(
            Entity(
                x["name"],
                x["kind"],
                int(x["body_id"]),
                tuple(x["props"]),
                tuple(x["extents"]) if x.get("extents") is not None else None,
            )
            for x in d["entities"]
        )
        features = {k: slice(int(a), int(b)) for k, (a, b) in d["features"].items()}
        return cls(entities=entities, feature_dim=int(d["feature_dim"]), features=features)
