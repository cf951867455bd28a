"""Re-train the default world model on one run's transitions in the order they were collected,
under the run's own online schedule, with a chosen replay sampler; score it on a probe set.

Separates the schedule from the data: the transitions, the update budget
(``loop.updates_per_step``), the rounds (``loop.update_every`` after ``loop.warmup``) and the
batch are those of ``contactlab run``; only which stored sequences each batch draws changes.

    python docs/results/online_schedule/replay_online.py RUN_DATA PROBE SAMPLER SEED OUT_JSON

``SAMPLER``: ``uniform`` (``contactlab run``'s: uniform over everything stored so far),
``offline`` (every update after the last transition, uniform: the whole budget at the end),
``recentF_W`` (a fraction ``F`` percent of each batch uniform over the latest ``W`` stored
transitions, the rest uniform over all, e.g. ``recent50_1000``), or ``fullnorm`` (a diagnostic:
``uniform``, with the model's normalisers fitted on the whole run's data before training and
then frozen: what the normalisers alone explain of the online-offline gap), or ``warmW`` (a
diagnostic: the online schedule's first round on the first ``W`` transitions, then the whole
offline budget on all of them: does a model that started on a small early set end worse than
one trained from scratch, given the same later training?), or ``nocatchup`` (the online
schedule without the first round's catch-up on the warm-up data: ``updates_per_step`` per
transition collected after the warm-up only, so 1,000 fewer updates at 20k), or ``datanorm``
(the online schedule with the model's normalisers fed every stored transition once, when it
is stored, instead of every sampled batch: statistics of the data, not of the sample stream),
or ``shrink`` (the online schedule, and each time the stored data doubles from twice the
warm-up on, every parameter moves 40% of the way to a freshly initialised model's: "shrink and
perturb", Ash & Adams 2020, against the warm-start gap). ``+fullnorm`` after any of them adds
the fitted, frozen normalisers of ``fullnorm`` (e.g. ``warm1000+fullnorm``); ``+fulltargets``
only those of the targets (``target_norm``, ``pos_res_norm``), the inputs' as in the run;
``+warminputs`` keeps the inputs' normalisers (``obs_norm``, ``delta_norm``) as they are after
the first training round (the warm-up's statistics) and lets the targets' follow the batches;
``+floorX`` floors the standard deviations of the inputs' normalisers at ``X`` (e.g.
``+floor0.05``; the model's own floor is 1e-3); ``+physP_V_W`` replaces the inputs'
normalisers by fixed physical scales, the same on every axis and never updated: positions
``/ P`` m (mean 0), velocities ``/ V`` m/s, angular velocities ``/ W`` rad/s (e.g.
``+phys0.2_0.15_0.5``: about a whole PushBlocks run's x-y spreads).
"""

from __future__ import annotations

import json
import re
import sys
import time

import gymnasium as gym
import numpy as np
import torch

import envs  # noqa: F401  (registers the scenes)
from agent.config.load import load_config
from agent.config.run import RunConfig
from agent.parts import conditioning_dim
from world_model.batch import SequenceBatch
from world_model.dataset import load_dataset
from world_model.models import build_model
from world_model.probe import (
    baseline_metrics,
    evaluate_on_probe,
    load_probe_set,
    with_baselines,
)
from world_model.replay import Replay
from world_model.trainer import ModelTrainer

_INPUTS = ("obs_norm.", "delta_norm.")  # the normalisers of the model's inputs
_TARGETS = ("target_norm.", "pos_res_norm.")  # those of what it predicts


def pin(model: torch.nn.Module, prefixes: tuple[str, ...]) -> None:
    """From now on the normalisers named by ``prefixes`` keep their present statistics; the
    model's other normalisers still merge every batch."""
    kept = {k: v.clone() for k, v in model.state_dict().items() if k.startswith(prefixes)}
    merge = model.update_normalizers

    def merge_the_others(batch: SequenceBatch) -> None:
        merge(batch)
        model.load_state_dict(kept, strict=False)

    model.update_normalizers = merge_the_others  # type: ignore[method-assign]


def main(data_dir: str, probe_dir: str, sampler: str, seed: int, out: str) -> None:
    base, *mods = sampler.split("+")
    if base == "fullnorm":  # short for uniform+fullnorm
        base, mods = "uniform", ["fullnorm", *mods]
    frozen_norm, targets_only = "fullnorm" in mods, "fulltargets" in mods
    warm_inputs = "warminputs" in mods
    floors = [float(x[len("floor") :]) for x in mods if x.startswith("floor")]
    phys = [re.fullmatch(r"phys([0-9.]+)_([0-9.]+)_([0-9.]+)", x) for x in mods]
    scales = [tuple(float(v) for v in p.groups()) for p in phys if p]
    m = re.fullmatch(r"recent(\d+)_(\d+)", base)
    warm = re.fullmatch(r"warm(\d+)", base)
    known = {"fullnorm", "fulltargets", "warminputs"}
    bad = [
        x
        for x in mods
        if x not in known and not re.fullmatch(r"floor[0-9.]+|phys[0-9.]+_[0-9.]+_[0-9.]+", x)
    ]
    if (
        base not in ("uniform", "offline", "nocatchup", "datanorm", "shrink") and not (m or warm)
    ) or bad:
        raise SystemExit(f"unknown SAMPLER {sampler!r}: see the module docstring")
    cfg, _ = load_config("run", RunConfig, [])
    loop, wm = cfg.loop, cfg.world_model
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    data = load_dataset(data_dir)
    probe = load_probe_set(probe_dir)
    scene = gym.make(probe.data.meta.env_id).unwrapped
    layout, dt = scene.layout, scene.dt
    video = data.meta.action_dim == conditioning_dim(layout, 0, observe_actions=False)
    cond = "agent_motion" if video else "action"
    assert data.action is not None
    frac, window = (int(m[1]) / 100, int(m[2])) if m else (0.0, 1)
    replay = Replay(len(data), layout.obs_dim, data.action.shape[1], layout.n_entities, rng)
    model = build_model(wm, layout, data.action.shape[1], dt)
    if floors:
        model.obs_norm.min_std = model.delta_norm.min_std = floors[-1]
    if scales:
        p_std, v_std, w_std = scales[-1]
        std = torch.ones(13)
        std[0:3], std[7:10], std[10:13] = p_std, v_std, w_std
        model.obs_norm.std32.copy_(std)
        model.obs_norm.mean32.zero_()
        pin(model, _INPUTS)
    trainer = ModelTrainer(model, wm)
    n_recent = round(frac * loop.batch_size)
    if frozen_norm or targets_only:
        inputs = {k: v.clone() for k, v in model.state_dict().items() if k.startswith(_INPUTS)}
        whole = Replay(len(data), layout.obs_dim, data.action.shape[1], layout.n_entities, rng)
        whole.extend(data)
        with torch.no_grad():
            for _ in range(2 * int(len(data) * loop.updates_per_step)):
                model.update_normalizers(whole.sample_sequences(loop.batch_size, wm.horizon))
        if frozen_norm:
            model.update_normalizers = lambda batch: None  # type: ignore[method-assign]
        else:  # the inputs' normalisers start afresh and follow the batches, as in the run
            model.load_state_dict(inputs, strict=False)
            pin(model, _TARGETS)

    feed = model.update_normalizers
    fed = 0
    if base == "datanorm":
        model.update_normalizers = lambda batch: None  # type: ignore[method-assign]

    def feed_new(upto: int) -> None:
        """Merge the stored rows ``fed .. upto`` into the normalisers, as 1-step sequences."""
        nonlocal fed
        if base == "datanorm" and upto > fed:
            b = replay.at(np.arange(fed, upto))
            with torch.no_grad():
                feed(
                    SequenceBatch(
                        obs=torch.stack([b.obs, b.next_obs], dim=1),
                        action=b.action[:, None],
                        terminated=b.terminated[:, None],
                        truncated=b.truncated[:, None],
                        regime=b.regime[:, None],
                    )
                )
            fed = upto

    def train(n_updates: int) -> None:
        feed_new(len(replay))
        first = trainer.updates == 0
        for _ in range(n_updates):
            trainer.update(replay.sample_sequences(loop.batch_size, wm.horizon, n_recent, window))
        if warm_inputs and first and trainer.updates > 0:
            pin(model, _INPUTS)  # the inputs' statistics stay as the first round left them

    shrink_at = {2**k * 2 * loop.warmup for k in range(20)}
    online = base != "offline" and not warm
    start = loop.warmup if base == "nocatchup" else 0  # the first step that earns updates
    t0 = time.perf_counter()
    for i in range(len(data)):
        replay.add(
            data.obs[i], data.action[i], data.next_obs[i], float(data.reward[i]),
            bool(data.terminated[i]), bool(data.truncated[i]), data.regime[i],
            int(data.episode[i]), int(data.step[i]),
        )  # fmt: skip
        step = i + 1
        if warm and step == int(warm[1]):
            train(int(step * loop.updates_per_step))
        if base == "shrink" and step in shrink_at:
            fresh = build_model(wm, layout, data.action.shape[1], dt)
            with torch.no_grad():
                for p, q in zip(model.parameters(), fresh.parameters(), strict=True):
                    p.mul_(0.6).add_(q, alpha=0.4)
        if online and step >= loop.warmup and step % loop.update_every == 0:
            train(int((step - start) * loop.updates_per_step) - trainer.attempts)
    if not online:
        train(int(len(data) * loop.updates_per_step))
    model.eval()
    metrics = with_baselines(
        evaluate_on_probe(model, probe, condition=cond), baseline_metrics(probe, dt)
    )
    result = {
        "data": data_dir,
        "transitions": len(data),
        "sampler": sampler,
        "condition": cond,
        "updates": trainer.attempts,
        "seed": seed,
        "train_s": time.perf_counter() - t0,
        "probe_hash": probe.content_hash,
        "metrics": metrics,
    }
    with open(out, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    a = sys.argv[1:]
    main(a[0], a[1], a[2], int(a[3]), a[4])
