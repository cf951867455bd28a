"""The frozen configuration of a curiosity signal (schema of ``configs/curiosity``).

Sizes from the environment (observation size, action size, entity layout) and the world model
itself are not config values: the composition root passes them to
:func:`curiosity.build.build_curiosity`.
"""

from __future__ import annotations

from dataclasses import dataclass

from curiosity.registry import SIGNALS
from envs.layout import ENTITY_KINDS

#: The built-in signals (:data:`curiosity.registry.SIGNALS` also holds any registered later).
SIGNAL_NAMES = SIGNALS.names()


@dataclass(frozen=True)
class CuriosityConfig:
    """Which intrinsic reward, its normalisation and its own hyper-parameters.

    Attributes:
        name: ``"prediction_error"``: ensemble-mean one-step error against the observed next
            state; ``"disagreement"``: variance of the members' predictions (Plan2Explore);
            ``"rnd"``: error of a trained predictor of a fixed random network (Burda 2018);
            ``"learning_progress"``: how much the model's error dropped since an older copy;
            or any name registered in :data:`curiosity.registry.SIGNALS`.
        normalize: divide raw rewards by their running standard deviation (and clip).
        clip: normalised rewards are clipped to ``[-clip, clip]`` (``[0, clip]`` for the
            non-negative signals).
        norm_eps: added to the running std before dividing.
        entity_kinds: entity kinds whose 13 observation dims count in state errors and RND
            inputs. Objects and distractors by default: curiosity about what the objects do,
            not the agent's own motion; the learner is not told that the distractor is
            unlearnable, so it can attract it.
        scale_floor: state errors divide each dim by the std of its one-step change; no dim's
            std may fall below this fraction of the largest std of the same feature (pos, quat,
            linvel, angvel) over all entities, so a dim that never changed in the data cannot
            weigh ~1e10 at its first change (see ``curiosity/state_metric.py``). 0 disables.
        rnd_hidden: width of the hidden layers of the RND target and predictor.
        rnd_out: size of the RND embedding (target output).
        rnd_depth: hidden layers of the RND target and of the predictor.
        rnd_lr: Adam learning rate of the RND predictor.
        rnd_input_clip: normalised RND inputs are clipped to ``[-rnd_input_clip, rnd_input_clip]``.
        rnd_seed: seed of the RND networks' initialisation (independent of the global RNG).
        lp_refresh_every: learning progress: calls to ``update`` between refreshes of the old
            model copy. The run loop calls ``update`` once per training round (every
            ``loop.update_every`` env steps, after that round's world-model updates), so the
            default, 20, refreshes every 2,000 env steps, 500 world-model updates, at the
            loop's defaults. (Until 2026-12-01 the default was 500, read as world-model
            updates but counted in rounds: 50,000 env steps, so a 20k run never refreshed.)
        lp_signed: learning progress: keep negative progress (the model got worse: forgetting)
            instead of clamping it at 0.
    """

    name: str = "disagreement"
    normalize: bool = True
    clip: float = 5.0
    norm_eps: float = 1e-8
    entity_kinds: tuple[str, ...] = ("object", "distractor")
    scale_floor: float = 0.1
    rnd_hidden: int = 128
    rnd_out: int = 32
    rnd_depth: int = 2
    rnd_lr: float = 1e-3
    rnd_input_clip: float = 5.0
    rnd_seed: int = 0
    lp_refresh_every: int = 20
    lp_signed: bool = False

    def __post_init__(self) -> None:
        SIGNALS.check(self.name)  # the registered signals (curiosity/registry.py)
        for name in ("normalize", "lp_signed"):
            value = getattr(self, name)
            if not isinstance(value, bool):
                raise ValueError(f"CuriosityConfig.{name} must be true or false, got {value!r}")
        kinds = self.entity_kinds
        if isinstance(kinds, str) or not kinds or any(k not in ENTITY_KINDS for k in kinds):
            raise ValueError(
                f"CuriosityConfig.entity_kinds must be a non-empty list of {ENTITY_KINDS}, "
                f"got {kinds!r}"
            )
        object.__setattr__(self, "entity_kinds", tuple(kinds))  # lists from YAML
        for name in ("rnd_hidden", "rnd_out", "lp_refresh_every"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"CuriosityConfig.{name} must be an integer >= 1, got {value!r}")
        if not isinstance(self.rnd_depth, int) or self.rnd_depth < 0:
            raise ValueError(
                f"CuriosityConfig.rnd_depth must be an integer >= 0, got {self.rnd_depth!r}"
            )
        if not isinstance(self.rnd_seed, int) or isinstance(self.rnd_seed, bool):
            raise ValueError(f"CuriosityConfig.rnd_seed must be an integer, got {self.rnd_seed!r}")
        if not 0.0 <= self.scale_floor <= 1.0:
            raise ValueError(
                f"CuriosityConfig.scale_floor must be in [0, 1], got {self.scale_floor!r}"
            )
        for name in ("clip", "norm_eps", "rnd_lr", "rnd_input_clip"):
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"CuriosityConfig.{name} must be > 0, got {value!r}")
