"""contactlab scenes: contact-rich MuJoCo environments with contact-regime labels.

Importing this package registers the Gymnasium ids ``contactlab/PushBlocks-v0``,
``contactlab/Billiards-v0``, ``contactlab/Tower-v0`` and ``contactlab/MJCFScene-v0`` (a user's
own MJCF file: ``gymnasium.make("contactlab/MJCFScene-v0", mjcf_path="my_scene.xml")``) and
``contactlab/GymScene-v0`` (the model of a Gymnasium MuJoCo env:
``gymnasium.make("contactlab/GymScene-v0", gym_id="Hopper-v5")``).
No torch here: this package is the bottom of ``envs <- world_model <- curiosity <- agent``.
"""

from __future__ import annotations

from gymnasium.envs.registration import register, registry

from envs.layout import ENTITY_FEATURES, FEATURE_DIM, Entity, EntityLayout
from envs.regimes import PAIR_NAMES, REGIME_NAMES, LabelConfig, PairKind, Regime

SCENES: dict[str, str] = {
    "push_blocks": "contactlab/PushBlocks-v0",
    "billiards": "contactlab/Billiards-v0",
    "tower": "contactlab/Tower-v0",
}
MAX_EPISODE_STEPS = 200

_ENTRY_POINTS = {
    "contactlab/PushBlocks-v0": "envs.push_blocks:PushBlocksEnv",
    "contactlab/Billiards-v0": "envs.billiards:BilliardsEnv",
    "contactlab/Tower-v0": "envs.tower:TowerEnv",
    "contactlab/MJCFScene-v0": "envs.scene:ContactSceneEnv",
    "contactlab/GymScene-v0": "envs.gym_scene:GymSceneEnv",
}
for _id, _entry in _ENTRY_POINTS.items():
    if _id not in registry:
        register(id=_id, entry_point=_entry, max_episode_steps=MAX_EPISODE_STEPS)

__all__ = [
    "ENTITY_FEATURES",
    "FEATURE_DIM",
    "MAX_EPISODE_STEPS",
    "PAIR_NAMES",
    "REGIME_NAMES",
    "SCENES",
    "Entity",
    "EntityLayout",
    "LabelConfig",
    "PairKind",
    "Regime",
]
