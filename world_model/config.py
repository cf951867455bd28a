"""The frozen configuration of a world model and its trainer (schema of ``configs/world_model``).

Sizes that come from the environment (observation size, action size, entity layout) are not
config values: the composition root passes them to :func:`world_model.models.build_model`.
"""

from __future__ import annotations

from dataclasses import dataclass

from world_model.registry import MODELS

OBJECTIVES = ("reconstructive", "jepa")


@dataclass(frozen=True)
class WorldModelConfig:
    """World model architecture, objective and optimisation.

    Attributes:
        kind: ``"graph"`` (the default of ``contactlab run``, as
            ``configs/world_model/graph_contact.yaml``, with ``contact_features``):
            a learned simulator, an object-centric graph network on relative features that
            predicts each entity's change of velocity and integrates the pose from it
            (:class:`GraphPhysicsModel`); ``"mlp"``: one latent vector per
            scene (:class:`LatentMLPModel`); ``"interaction"``: one latent per entity with
            pairwise messages, predicting normalised state deltas (:class:`InteractionNetModel`).
        objective: ``"reconstructive"``: predict the next state through the decoder, rolling
            the model's own predictions forward over the horizon; ``"jepa"``: predict the next
            latent of an EMA target encoder, with a VICReg anti-collapse term and a readout
            trained on detached latents.
        latent_dim: size of the scene latent (mlp).
        entity_latent_dim: size of each entity's latent (interaction).
        hidden: width of every hidden layer.
        depth: hidden layers per MLP (encoder, transition, decoder, messages).
        layer_norm: layer norm on hidden layers.
        n_members: ``M``, ensemble members (independently initialised; their disagreement is
            a curiosity signal). 5 by default.
        horizon: ``H``, transitions per training sequence (the replay samples this many).
        lr: Adam learning rate.
        grad_clip: maximum global gradient norm.
        ema_tau: jepa: the target encoder moves this fraction toward the online one per update.
        recon_weight: weight of the reconstruction term (``wm/loss/recon``).
        jepa_weight: weight of the latent-prediction term (``wm/loss/jepa``).
        var_weight: weight of the VICReg variance hinge (``wm/loss/var``).
        cov_weight: weight of the VICReg covariance penalty (``wm/loss/cov``).
        readout_weight: weight of the readout term on detached latents (``wm/loss/readout``).
        message_steps: graph: rounds of message passing between entities.
        input_noise: graph: training inputs are noised by this many one-step-change stds
            (velocities; positions by the same times ``dt``), so the model learns to correct
            its own small errors in rollouts. 0 turns it off.
        shape_features: graph: contact features from each entity's extents (its body-frame
            box, ``EntityLayout.extents_array``): node world-frame half-sizes, lowest point
            now and after a constant-velocity step; edge gap along the centre line (box support
            functions instead of bounding spheres), closing speed, and the gap after a
            constant-velocity step, so the network sees whether and how deep a contact begins
            within the step.
        contact_features: graph: where and when contacts begin, from the same boxes: per node
            the lowest corner (the lever arm of a floor contact), its height change at its own
            linear and angular velocity over a step and the step fraction at which it reaches
            the floor; per edge the separating-axis distance between the two boxes, the contact
            normal (world and receiver frame), the closing speed along it, the distance after
            a constant-velocity step, the step fraction at which it closes and the receiver's
            support point along the normal. Heights (here and in ``shape_features``) are
            measured from the top of the scene's ground support (``EntityLayout.ground``: 0 for
            the built-in scenes, -0.325 m for Gymnasium's Pusher table); a scene without a
            ground geom measures them from z = 0 and warns (``agent.parts.floor_warning``).
        fast_separation: graph, with ``contact_features``: compute the boxes' separating-axis
            distance in the receiver's frame (``box_separation_local``), equal to the
            world-frame reference up to float rounding and ~4x faster; a whole training
            update of ``graph_contact`` on PushBlocks gets 1.32x faster on a quiet machine
            (1.74x with two other jobs running; ``python benchmarks/contact_features.py``
            prints both side by side). Off by
            default until the committed ``graph_contact`` results, made with the reference,
            are re-run with it (float rounding makes a run's numbers differ).
        switch_time: graph: the model also predicts, per entity, the fraction ``tau`` of the
            step spent at the old velocity (a sigmoid head on the node latents, 0.5 at the
            start: the trapezoid rule) and integrates the position as
            ``pos' = pos + dt (tau v + (1 - tau) v') + corr``: a velocity that changes at a
            contact within the step moves the body by the time of the change, which the
            additive correction alone must learn as a product of velocity change and timing.
            (docs/world_model.md, "Fifth round").
        geom_shapes: graph, with ``shape_features`` or ``contact_features``: measure those
            features on each body's geom shape (``EntityLayout.shapes_array``: a sphere, an
            upright cylinder or capsule, a box) instead of its bounding box, with
            :func:`~world_model.models.graph_physics.shape_separation`'s 18 axes (the boxes'
            15, the centre line and the axes from each box's point nearest the other's centre).
            A cylinder's bounding box reaches 41% further along its diagonals and a sphere's
            73%, so without it the separation and contact normal of a pusher or a ball beside
            a turned block are off by millimetres. (docs/world_model.md, "Seventh round").
        inner_steps: graph: the network is applied this many times per env step, each time
            on the state its previous application integrated, with every feature and the
            integration over ``dt / inner_steps`` (a learned simulator with a finer step than
            the env's: a contact that begins within the step is seen by the next inner step's
            features). That many times the compute per step (docs/world_model.md, "Seventh
            round"). 1: one application per env step.
        contact_scales: graph, with ``contact_features``: lengths in metres (e.g. ``[0.0005,
            0.002, 0.008]``); for each ``s`` every edge also holds ``tanh(x / s)`` of the pair
            separation and of the separation after a constant-velocity step. Those features
            are otherwise in units of the scene's body size (~5 cm), where a contact's
            sub-millimetre penetration, which sets MuJoCo's soft-contact force, is a change of
            ~0.01 the network must grow large weights to resolve. Empty: none
            (docs/world_model.md, "Eighth round").
        floor_scales: graph, with ``contact_features``: the same for each body's lowest point:
            ``tanh(x / s)`` of its height above the ground and of that height after a
            constant-velocity step. It helps on-table motion but makes airborne bodies, whose
            inputs it pushes far from anything an agent's on-table data holds, worse than
            constant velocity when trained on such data (the eighth round), so it is separate.
        contact_velocity: graph, with ``contact_features``: per edge also how the two
            bodies' points at the contact move against each other over a step (each body's
            linear velocity plus its angular velocity at its support point along the contact
            normal): the closing along the normal, the slip across it and the slip's size.
            The separation features close at the centres' velocities only, which misses a
            turning block's face sweeping into the pusher and the direction friction acts in.
        lr_decay_updates: the learning rate falls from ``lr`` to ``lr / 10`` along a cosine
            over this many updates, then stays there (the schedule follows the trainer's update
            count, so a resumed run continues it). 0: constant ``lr``.
        huber: graph: the per-feature error is squared up to this many target stds and grows
            linearly beyond (pseudo-Huber), so the rare huge errors of launches and impacts do
            not drown the precision of the common steps. 0: plain squared error.
        max_nonfinite: consecutive non-finite updates tolerated before the trainer raises.
        snapshot_every: the trainer keeps a copy of the last good parameters and optimizer
            state, refreshed every this many good updates (restored if parameters go bad).
    """

    kind: str = "mlp"
    objective: str = "reconstructive"
    latent_dim: int = 64
    entity_latent_dim: int = 32
    hidden: int = 128
    depth: int = 2
    layer_norm: bool = True
    n_members: int = 5
    horizon: int = 5
    lr: float = 1e-3
    grad_clip: float = 10.0
    ema_tau: float = 0.01
    recon_weight: float = 1.0
    jepa_weight: float = 1.0
    var_weight: float = 1.0
    cov_weight: float = 0.04
    readout_weight: float = 1.0
    message_steps: int = 2
    input_noise: float = 0.0
    shape_features: bool = False
    contact_features: bool = False
    fast_separation: bool = False
    switch_time: bool = False
    geom_shapes: bool = False
    inner_steps: int = 1
    contact_scales: tuple[float, ...] = ()
    floor_scales: tuple[float, ...] = ()
    contact_velocity: bool = False
    huber: float = 0.0
    lr_decay_updates: int = 0
    max_nonfinite: int = 5
    snapshot_every: int = 10

    def __post_init__(self) -> None:
        MODELS.check(self.kind)  # the registered kinds (world_model/registry.py)
        if self.objective not in OBJECTIVES:
            raise ValueError(
                f"WorldModelConfig.objective must be one of {OBJECTIVES}, got {self.objective!r}"
            )
        for name in (
            "latent_dim",
            "entity_latent_dim",
            "hidden",
            "n_members",
            "horizon",
            "max_nonfinite",
            "snapshot_every",
            "message_steps",
            "inner_steps",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"WorldModelConfig.{name} must be an integer >= 1, got {value!r}")
        if not isinstance(self.depth, int) or self.depth < 0:
            raise ValueError(f"WorldModelConfig.depth must be an integer >= 0, got {self.depth!r}")
        for name in ("contact_scales", "floor_scales"):
            scales = getattr(self, name)
            if isinstance(scales, (str, bytes)) or not isinstance(scales, (list, tuple)):
                raise ValueError(
                    f"WorldModelConfig.{name} must be a list of lengths in metres, got {scales!r}"
                )
            if not all(
                isinstance(s, (int, float)) and not isinstance(s, bool) and 0.0 < s < 10.0
                for s in scales
            ):
                raise ValueError(
                    f"WorldModelConfig.{name} must hold lengths in (0, 10) m, got {scales!r}"
                )
            object.__setattr__(self, name, tuple(float(s) for s in scales))
        for name in ("contact_scales", "floor_scales", "contact_velocity"):
            if getattr(self, name) and not (self.kind == "graph" and self.contact_features):
                raise ValueError(
                    f"WorldModelConfig.{name} needs kind=graph with contact_features=true "
                    f"(got kind={self.kind!r}, contact_features={self.contact_features!r})"
                )
        for name in ("lr", "grad_clip"):
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"WorldModelConfig.{name} must be > 0, got {value!r}")
        n = self.lr_decay_updates
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ValueError(
                "WorldModelConfig.lr_decay_updates must be an integer >= 0, got "
                f"{self.lr_decay_updates!r}"
            )
        if not 0.0 <= self.huber < 1e3:
            raise ValueError(f"WorldModelConfig.huber must be in [0, 1000), got {self.huber!r}")
        if not 0.0 <= self.input_noise < 10.0:
            raise ValueError(
                f"WorldModelConfig.input_noise must be in [0, 10), got {self.input_noise!r}"
            )
        if self.kind == "graph" and self.objective != "reconstructive":
            raise ValueError(
                "WorldModelConfig: kind=graph trains with objective=reconstructive only "
                f"(got {self.objective!r}); the jepa objective is available for kind=mlp and "
                "kind=interaction"
            )
        if not 0.0 < self.ema_tau <= 1.0:
            raise ValueError(f"WorldModelConfig.ema_tau must be in (0, 1], got {self.ema_tau!r}")
        for name in ("recon_weight", "jepa_weight", "var_weight", "cov_weight", "readout_weight"):
            value = getattr(self, name)
            if not value >= 0:
                raise ValueError(f"WorldModelConfig.{name} must be >= 0, got {value!r}")


@dataclass(frozen=True)
class PixelModelConfig:
    """The pixel world model and its readout (``pixels.*``; used by ``loop.observation=pixels``).

    Attributes:
        size: frames are ``size x size`` RGB (a multiple of 8).
        channels: channels of the CNN's first layer (doubled once after).
        latent_dim: size of the frame latent.
        hidden: width of the predictor's hidden layers.
        depth: hidden layers of the predictor.
        n_members: predictor ensemble members.
        lr: Adam learning rate.
        grad_clip: maximum global gradient norm.
        latent_weight: weight of the latent-prediction term against reconstruction.
        foreground_weight: reconstruction weight of a pixel grows by this much per unit of
            its distance (summed over RGB, in [0, 3]) from the batch's mean frame.
        readout: how object states are read out of the latents for scoring (the same for
            every pixel model): ``"delta"``, a ridge regression from ``[z_t, z_hat_{t+1} -
            z_t]`` to the state change, fitted on the readout set's transitions (it can also
            fit a frame-conditioned mean change from those labels: generous to the pixel
            model); ``"state"``, a ridge decoder of each frame's state, scored as the
            decoded change ``g(z_hat_{t+1}) - g(z_t)`` (perception only: strict).
        readout_ridge: ridge penalty of the linear readout (on standardised features).
        readout_min_per_regime: entity-transitions per regime in the readout set.
        readout_seed_offset: the readout set is built with ``probe.seed + readout_seed_offset``.
        max_nonfinite: consecutive non-finite updates tolerated before the trainer raises.
        snapshot_every: good updates between snapshots of the last good state.
    """

    size: int = 64
    channels: int = 16
    latent_dim: int = 64
    hidden: int = 256
    depth: int = 2
    n_members: int = 5
    lr: float = 1e-3
    grad_clip: float = 10.0
    latent_weight: float = 1.0
    foreground_weight: float = 20.0
    readout: str = "delta"
    readout_ridge: float = 0.1
    readout_min_per_regime: int = 200
    readout_seed_offset: int = 1
    max_nonfinite: int = 5
    snapshot_every: int = 10

    def __post_init__(self) -> None:
        for name in ("size", "channels", "latent_dim", "hidden", "n_members", "max_nonfinite"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"pixels.{name} must be an integer >= 1, got {value!r}")
        if self.size % 8:
            raise ValueError(f"pixels.size must be a multiple of 8, got {self.size!r}")
        if self.readout not in ("delta", "state"):
            raise ValueError(f"pixels.readout must be 'delta' or 'state', got {self.readout!r}")
        for name in ("lr", "grad_clip", "readout_ridge"):
            if not getattr(self, name) > 0:
                raise ValueError(f"pixels.{name} must be > 0, got {getattr(self, name)!r}")
        for name in ("latent_weight", "foreground_weight"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"pixels.{name} must be >= 0, got {getattr(self, name)!r}")
