"""Building and finding a scene's probe set: the one place probe paths are decided."""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path

import mujoco

from agent.config import EnvConfig, ProbeSetConfig
from envs.probe import collect_probe
from envs.regimes import LabelConfig
from envs.scene import ContactSceneEnv
from world_model.dataset import META_FILE, DatasetError, DatasetMeta
from world_model.probe import (
    ProbeMismatch,
    ProbeSet,
    check_probe_scene,
    load_probe_set,
    remove_partial_probe_sets,
    save_probe_set,
)


def _as_floats(labels: Mapping[str, float | None]) -> dict[str, float | None]:
    """Thresholds as floats: ``45`` and ``45.0`` are one setting."""
    return {k: None if v is None else float(v) for k, v in labels.items()}


def probe_labels(env: EnvConfig) -> dict[str, float | None]:
    """The labeller thresholds a probe set of ``env`` is labelled with (``env.labels``)."""
    labels = env.labels if isinstance(env.labels, LabelConfig) else LabelConfig(**env.labels)
    return _as_floats(dataclasses.asdict(labels))


def labels_suffix(labels: Mapping[str, float | None]) -> str:
    """``""`` for the default labeller thresholds, else ``-l<8 hex digits>`` of their hash: the
    part of a probe set's folder name that tells its labels apart."""
    labels = _as_floats(labels)
    if labels == dataclasses.asdict(LabelConfig()):
        return ""
    return "-l" + hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:8]


def probe_path(probe: ProbeSetConfig, env: EnvConfig, scene: ContactSceneEnv) -> Path:
    """``probe.path``, or
    ``<root>/<scene>-<distractor>-n<min>-h<seq_len>-s<seed>[-<scene hash>][-l<labels hash>]``
    (the scene hash for MJCF files, Gymnasium models, physics overrides and entity or support
    options; the labels hash for labeller thresholds other than the defaults): probe sets made
    with different settings never share a folder."""
    if probe.path:
        return Path(probe.path)
    scene_name = f"gym-{env.id}" if env.name == "gym" else env.name
    name = f"{scene_name}-{env.distractor}-n{probe.min_per_regime}-h{probe.seq_len}-s{probe.seed}"
    defaults = (env.entities, env.links, env.support_geoms) == ("roots", "agent", None)
    if env.name in ("mjcf", "gym") or scene.physics or not defaults:
        name += f"-{scene.scene_hash[:12]}"
    return Path(probe.root) / (name + labels_suffix(probe_labels(env)))


def check_probe_labels(probe: ProbeSet, env: EnvConfig) -> None:
    """Refuse a probe set labelled with other thresholds than ``env.labels``: its regimes would
    not be the run's. One made before probe sets recorded their labels (no ``labels`` in its
    ``meta.json`` ``extra``) is taken as it is."""
    recorded = probe.data.meta.extra.get("labels")
    if recorded is None:
        return
    wanted = probe_labels(env)
    differ = sorted(k for k in set(recorded) | set(wanted) if recorded.get(k) != wanted.get(k))
    if differ:
        keys = ", ".join(
            f"env.labels.{k}: the probe set {recorded.get(k)!r}, this run {wanted.get(k)!r}"
            for k in differ
        )
        raise ProbeMismatch(
            f"{probe.path}: labelled with other thresholds than this run's ({keys}); use the "
            "same env.labels, or another probe.path / probe.root"
        )


def check_probe_hash(loaded: ProbeSet, probe: ProbeSetConfig) -> None:
    """Refuse a probe set whose content hash does not start with ``probe.expect_hash`` (when
    set): results scored on it would not be comparable with the ones it was expected from."""
    want = probe.expect_hash
    if want is not None and not loaded.content_hash.startswith(str(want).lower()):
        raise ProbeMismatch(
            f"{loaded.path}: content hash {loaded.content_hash}, but probe.expect_hash={want} "
            "(the set was made by other code, physics or labels); set probe.expect_hash to "
            "its hash or null to use it, or point probe.path / probe.root at the expected set"
        )


def make_probe_set(
    probe: ProbeSetConfig, env: EnvConfig, scene: ContactSceneEnv, path: Path
) -> ProbeSet:
    """Collect the probe set of ``scene`` and save it at ``path``."""
    arrays = collect_probe(scene, probe.collection(), seed=probe.seed)
    meta = DatasetMeta(
        env_id=scene.spec.id if scene.spec is not None else "contactlab/MJCFScene-v0",
        env_version=_version(scene),
        mjcf_sha256=scene.scene_hash,
        mujoco_version=mujoco.__version__,
        layout=scene.layout.to_dict(),
        action_dim=scene.model.nu,
        kind="probe",
        extra={
            "seed": probe.seed,
            "min_per_regime": probe.min_per_regime,
            "distractor": env.distractor,
            "labels": probe_labels(env),
        },
    )
    save_probe_set(path, arrays, meta, probe.seq_len)
    return load_probe_set(path)


def ensure_probe_set(probe: ProbeSetConfig, env: EnvConfig, scene: ContactSceneEnv) -> ProbeSet:
    """Load the scene's probe set, building it first if it does not exist yet.

    Raises ``world_model.probe.ProbeMismatch`` when the one on disk was made for another
    version of the scene or labelled with other thresholds (it is never silently rebuilt
    over).
    """
    path = probe_path(probe, env, scene)
    # Runs started together (a sweep) share probe sets: one builds, the others wait for it
    # (meta.json appears with the first shard, so "exists" is only trusted under the lock).
    with _probe_lock(path):
        remove_partial_probe_sets(path)  # left by writers killed midway (we hold the lock)
        if not path.exists():
            print(f"probe set {path} not found: building it (seed {probe.seed}) ...")
            make_probe_set(probe, env, scene, path)
    return _checked(load_probe_set(path), probe, env, scene)


def _checked(
    loaded: ProbeSet, probe: ProbeSetConfig, env: EnvConfig, scene: ContactSceneEnv
) -> ProbeSet:
    """``loaded``, once it is known to fit the run: made for ``scene``, labelled with
    ``env.labels``, and with ``probe.expect_hash`` when that is set (``ProbeMismatch``
    otherwise)."""
    env_id = scene.spec.id if scene.spec is not None else None
    check_probe_scene(loaded.path, loaded.data.meta, env_id, scene.scene_hash)
    check_probe_labels(loaded, env)
    check_probe_hash(loaded, probe)
    return loaded


def build_probe_set_command(
    probe: ProbeSetConfig, env: EnvConfig, scene: ContactSceneEnv
) -> tuple[ProbeSet, bool]:
    """``contactlab probe make``: build the probe set; a rejected one (incomplete or damaged:
    it does not load) at the same path is replaced, a good one is never overwritten. With
    ``probe.expect_hash`` set, a complete set that has that hash is kept (returned with
    ``True``: kept, not built), and the set, kept or built, must have it.

    Raises:
        FileExistsError: a probe set that loads (without ``probe.expect_hash``), or a folder
            that is not a dataset, is there.
        ProbeMismatch: the set on disk or the one built does not have ``probe.expect_hash``,
            or the one kept was made for another scene or labelled with other thresholds
            than ``env.labels``.
    """
    path = probe_path(probe, env, scene)
    with _probe_lock(path):
        remove_partial_probe_sets(path)
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            if not (path / META_FILE).is_file():
                raise FileExistsError(f"{path} exists: remove it first, or set probe.path=...")
            try:
                existing = load_probe_set(path)
            except DatasetError as exc:
                print(f"rebuilding the rejected probe set {path}: {exc}")
                shutil.rmtree(path)
            else:
                if probe.expect_hash is None:
                    raise FileExistsError(
                        f"{path} exists and holds a complete probe set: remove it first, set "
                        "probe.path=..., or give its hash as probe.expect_hash to keep it"
                    )
                return _checked(existing, probe, env, scene), True
        built = make_probe_set(probe, env, scene, path)
    check_probe_hash(built, probe)
    return built, False


@contextlib.contextmanager
def _probe_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on ``<parent>/.<name>.lock``; none where the folder is read-only (a
    finished probe set shared read-only needs no building)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = open(path.parent / f".{path.name}.lock", "a")  # noqa: SIM115 - held until exit
    except OSError:
        yield
        return
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _version(scene: ContactSceneEnv) -> str:
    spec = scene.spec
    return f"v{spec.version}" if spec is not None and spec.version is not None else "v0"
