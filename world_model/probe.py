"""Probe sets on disk, and scoring a world model on one.

A probe set is a dataset of kind ``"probe"`` (see :mod:`world_model.dataset`) whose episodes
are fixed-length sequences. Its *content hash* is the sha256 of its shards' sha256 digests, so
two runs that report the same hash were scored on the same data. Loading checks that the probe
set was made for the scene in hand (same env id and scene hash) and refuses otherwise.

A probe set is complete or rejected: :func:`save_probe_set` writes it into a hidden temporary
folder next to its path, adds the completeness marker ``complete.json`` (content hash and row
count) last, and renames the folder into place, so a writer killed midway leaves nothing at the
path. Loading checks the marker against the content (:class:`IncompleteProbeSet` otherwise);
a set written before the marker existed is accepted only if every regime has its
``min_per_regime`` object entity-transitions.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from envs.layout import EntityLayout
from world_model.atomic import write_atomic
from world_model.dataset import (
    META_FILE,
    DatasetError,
    DatasetMeta,
    DatasetWriter,
    Transitions,
    load_dataset,
)
from world_model.evaluation import (
    constant_velocity,
    constant_velocity_rollout,
    nothing_moves,
    one_step_metrics,
    reach_mask,
    rollout_metrics,
)
from world_model.inference import given_mask_for, predict_mean, rollout_mean
from world_model.protocol import WorldModel

if TYPE_CHECKING:
    import torch


class ProbeMismatch(DatasetError):
    """The probe set was made for another scene (env id or scene hash differ)."""


class IncompleteProbeSet(DatasetError):
    """The probe set's writer was stopped midway: no completeness marker, or one that does not
    match the content. ``contactlab probe make`` rebuilds it."""


COMPLETE_FILE = "complete.json"


@dataclass
class ProbeSet:
    """A loaded probe set.

    Attributes:
        path: its folder.
        data: every transition (``N`` rows, sequences contiguous).
        seq_len: ``H``, steps per sequence.
        content_hash: sha256 over the shards' digests.
    """

    path: Path
    data: Transitions
    seq_len: int
    content_hash: str

    @property
    def layout(self) -> EntityLayout:
        return EntityLayout.from_dict(self.data.meta.layout)

    def sequences(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(obs (S, H+1, D), actions (S, H, A), regime (S, H, E))`` of the ``S`` sequences."""
        d, h = self.data, self.seq_len
        s = len(d) // h
        obs = d.obs.reshape(s, h, -1)
        obs_seq = np.concatenate([obs, d.next_obs.reshape(s, h, -1)[:, -1:]], axis=1)
        actions = (
            d.action.reshape(s, h, -1) if d.action is not None else np.zeros((s, h, 0), np.float32)
        )
        return obs_seq, actions, d.regime.reshape(s, h, -1)


def save_probe_set(
    path: str | Path, arrays: dict[str, np.ndarray], meta: DatasetMeta, seq_len: int
) -> str:
    """Write a probe set (arrays from :func:`envs.probe.collect_probe`); return its content hash.

    Written into ``.<name>.partial-<pid>`` beside ``path``, completed with ``complete.json``
    and renamed to ``path`` (which must not exist, or be an empty folder).
    """
    path = Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise DatasetError(
            f"{path}: a probe set already exists here; remove it or choose another path"
        )
    extra = {**meta.extra, "seq_len": int(seq_len)}
    meta = DatasetMeta(**{**meta.to_dict(), "kind": "probe", "extra": extra})
    fields = {k: v for k, v in arrays.items() if k != "scenario"}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    with DatasetWriter(tmp, meta) as writer:
        writer.extend(**fields)
    digest = content_hash(tmp)
    rows = len(next(iter(fields.values())))
    marker = {"content_hash": digest, "rows": rows}
    write_atomic(tmp / COMPLETE_FILE, json.dumps(marker, indent=2).encode())
    if path.is_dir():
        path.rmdir()  # an empty folder made by someone else: replaced by the complete one
    os.rename(tmp, path)
    return digest


def remove_partial_probe_sets(path: str | Path) -> list[Path]:
    """Delete temporary folders left beside ``path`` by probe-set writers that died."""
    path = Path(path)
    stale = sorted(path.parent.glob(f".{path.name}.partial-*")) if path.parent.is_dir() else []
    for folder in stale:
        shutil.rmtree(folder, ignore_errors=True)
    return stale


def _check_complete(path: Path, data: Transitions, digest: str) -> None:
    marker = path / COMPLETE_FILE
    rebuild = "rebuild it with `contactlab probe make` (same env and probe settings)"
    if marker.is_file():
        try:
            info = json.loads(marker.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, OSError) as exc:
            raise IncompleteProbeSet(f"{marker}: unreadable completeness marker ({exc})") from None
        if not isinstance(info, dict) or info.get("content_hash") != digest:
            raise IncompleteProbeSet(
                f"{path}: its shards do not match {COMPLETE_FILE} (content hash or rows "
                f"differ): an incomplete or altered probe set; {rebuild}"
            )
        if info.get("rows") != len(data):
            raise IncompleteProbeSet(
                f"{path}: {len(data)} rows, {COMPLETE_FILE} says {info.get('rows')}; {rebuild}"
            )
        return
    # Made before the marker existed: complete only if collection reached its goal.
    need = int(data.meta.extra.get("min_per_regime", 0))
    objects = EntityLayout.from_dict(data.meta.layout).indices("object")
    counts = np.bincount(data.regime[:, objects].ravel().astype(np.int64), minlength=4)[:4]
    if need and (counts < need).any():
        raise IncompleteProbeSet(
            f"{path}: incomplete probe set (no {COMPLETE_FILE}, and object entity-transitions "
            f"per regime {counts.tolist()} fall short of min_per_regime={need}: its writer "
            f"was stopped midway); {rebuild}"
        )


def content_hash(path: str | Path) -> str:
    """sha256 over the sha256 digests of a dataset's shards, in order."""
    meta = json.loads((Path(path) / META_FILE).read_text())
    digests = "".join(shard["sha256"] for shard in meta["shards"])
    return hashlib.sha256(digests.encode()).hexdigest()


def check_probe_scene(
    path: Path, meta: DatasetMeta, env_id: str | None, scene_hash: str | None
) -> None:
    """Raise :class:`ProbeMismatch` when the probe set at ``path`` (its ``meta``) was made for
    another scene than ``env_id`` / ``scene_hash`` (``None``: not checked)."""
    if env_id is not None and meta.env_id != env_id:
        raise ProbeMismatch(f"{path}: probe set was made for {meta.env_id}, not {env_id}")
    if scene_hash is not None and meta.mjcf_sha256 != scene_hash:
        raise ProbeMismatch(
            f"{path}: probe set was made for another version of {meta.env_id} (scene hash "
            f"{meta.mjcf_sha256[:12]}, the env now has {scene_hash[:12]}). Rebuild it with "
            "`contactlab probe make` (into a new folder) or point probe.path at a matching one."
        )


def load_probe_set(
    path: str | Path, env_id: str | None = None, scene_hash: str | None = None
) -> ProbeSet:
    """Load and verify a probe set; with ``env_id``/``scene_hash`` also check it fits that scene.

    Raises:
        DatasetError: missing, corrupt, or not a probe set (the message names the file).
        IncompleteProbeSet: its writer was stopped midway (no matching ``complete.json``).
        ProbeMismatch: made for another scene.
    """
    path = Path(path)
    data = load_dataset(path)
    meta = data.meta
    if meta.kind != "probe":
        raise DatasetError(f"{path}: dataset kind is {meta.kind!r}, not 'probe'")
    check_probe_scene(path, meta, env_id, scene_hash)
    seq_len = int(meta.extra.get("seq_len", 0))
    if seq_len < 1 or len(data) % seq_len:
        raise DatasetError(
            f"{path}: {len(data)} rows do not split into sequences of seq_len={seq_len}"
        )
    digest = content_hash(path)
    _check_complete(path, data, digest)
    return ProbeSet(path=path, data=data, seq_len=seq_len, content_hash=digest)


def agent_motion(layout: EntityLayout, next_obs: np.ndarray) -> np.ndarray:
    """The agent's observed next state, ``(..., 13 * n_agents)``: what an action-free ("video")
    learner is conditioned on in place of the action it never sees."""
    return layout.split(next_obs)[..., layout.indices("agent"), :].reshape(*next_obs.shape[:-1], -1)


def evaluate_on_probe(
    model: WorldModel,
    probe: ProbeSet,
    prefix: str = "probe",
    condition: str = "action",
    predicted: torch.Tensor | None = None,
) -> dict[str, Any]:
    """Contact-stratified metrics of ``model`` on ``probe``, scored on the objects.

    One-step metrics use every transition; open-loop rollouts start each sequence from its
    first observation with the agent's own true motion given (so action-free and
    action-conditioned models are scored alike on what the objects do).

    Args:
        condition: ``"action"`` for action-conditioned models, ``"agent_motion"`` for models
            conditioned on the agent's observed next state (:func:`agent_motion`).
        predicted: ``(M, N, D)`` the members' one-step predictions of the probe's transitions
            under that conditioning (:func:`world_model.inference.predict_members`), when the
            caller already has them; computed here otherwise.
    """
    d = probe.data
    layout = probe.layout
    if condition == "agent_motion":
        actions = agent_motion(layout, d.next_obs)
    elif d.action is not None:
        actions = d.action
    else:
        raise ValueError(f"{probe.path}: the probe set has no actions to condition on")
    mean = predict_mean(model, d.obs, actions) if predicted is None else predicted.mean(0).numpy()
    metrics = split_one_step_metrics(probe, mean, prefix)
    obs_seq, act_seq, regime_seq = probe.sequences()
    if condition == "agent_motion":
        act_seq = agent_motion(layout, obs_seq[:, 1:])
    imagined = rollout_mean(model, obs_seq, act_seq, given_mask=given_mask_for(layout, ("agent",)))
    metrics.update(rollout_metrics(obs_seq, imagined, regime_seq, layout, prefix=prefix))
    return metrics


def split_one_step_metrics(probe: ProbeSet, pred_next: np.ndarray, prefix: str) -> dict[str, float]:
    """:func:`one_step_metrics` of ``pred_next (N, D)`` on the whole probe (``{prefix}/...``),
    on the part within an agent's reach (``{prefix}/reach/...``) and beyond it
    (``{prefix}/beyond/...``; see :func:`world_model.evaluation.reach_mask`)."""
    d, layout = probe.data, probe.layout
    reach = reach_mask(d.obs, d.next_obs, layout)
    out: dict[str, float] = {}
    for part, mask in (("", None), ("/reach", reach), ("/beyond", ~reach)):
        out.update(
            one_step_metrics(
                d.obs, d.next_obs, pred_next, d.regime, d.pair_kind, layout,
                prefix=prefix + part, mask=mask,
            )
        )  # fmt: skip
    return out


BASELINES = ("nothing_moves", "constant_velocity")


def baseline_metrics(probe: ProbeSet, dt: float) -> dict[str, float]:
    """The physics baselines scored by the same code as a model: ``baseline/nothing_moves/...``
    (``o' = o``) and ``baseline/constant_velocity/...`` (``pos' = pos + v dt``, the quaternion
    turned by ``w dt``), one-step (whole probe, reach, beyond) and open-loop rollouts with the
    agent's true motion given, like a model's.

    Args:
        dt: seconds per env step of the probe's scene.
    """
    d, layout = probe.data, probe.layout
    obs_seq, _, regime_seq = probe.sequences()
    given = given_mask_for(layout, ("agent",))
    preds = {
        "nothing_moves": nothing_moves(d.obs),
        "constant_velocity": constant_velocity(d.obs, layout, dt),
    }
    h = obs_seq.shape[1] - 1
    rollouts = {
        "nothing_moves": np.where(given, obs_seq[:, 1:], obs_seq[:, :1]).astype(np.float32),
        "constant_velocity": constant_velocity_rollout(
            obs_seq[:, 0], layout, dt, h, obs_seq[:, 1:], given
        ),
    }
    out: dict[str, float] = {}
    for name in BASELINES:
        prefix = f"baseline/{name}"
        out.update(split_one_step_metrics(probe, preds[name], prefix))
        out.update(rollout_metrics(obs_seq, rollouts[name], regime_seq, layout, prefix=prefix))
    return out


def with_baselines(metrics: dict[str, float], baselines: dict[str, float]) -> dict[str, float]:
    """``metrics`` (a model's ``probe/...``) with the baselines' keys and the ``vs_cv`` ratios
    added: the row every evaluation logs."""
    out = {**metrics, **baselines}
    out.update(vs_cv(out))
    return out


def vs_cv(metrics: dict[str, float], prefix: str = "probe") -> dict[str, float]:
    """``{prefix}/<group>/vs_cv``: every ``{prefix}/<group>/pos_mm`` (and rollout ``final_mm``)
    divided by constant velocity's on the same group (from ``baseline/constant_velocity/...``
    in ``metrics``). Below 1: the model beats physics extrapolation there."""
    out: dict[str, float] = {}
    for key, value in metrics.items():
        if not key.startswith(prefix + "/") or not key.endswith(("/pos_mm", "/final_mm")):
            continue
        base = metrics.get("baseline/constant_velocity/" + key[len(prefix) + 1 :])
        if base is not None and base > 0:
            group = key.rsplit("/", 1)[0]
            suffix = "vs_cv" if key.endswith("/pos_mm") else "final_vs_cv"
            out[f"{group}/{suffix}"] = float(value / base)
    return out
