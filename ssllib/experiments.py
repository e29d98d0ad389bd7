"""The run-or-load entry point for the paper items of `ssllib.items`.

An experiment is a set of *variants*: plain dicts of config overrides on top of a profile.
`run_experiment` trains each (variant, seed) that is not cached yet and returns the records.
"""
from __future__ import annotations

import contextlib
import json
import datetime as dt

from . import distributed
from .config import PROFILES, Config, ConfigError, config_hash, profile_config
from .data import load_dataset
from .storage import remove_stale_temps
from .decomposition import is_collapsed
from .experiment_spec import Experiment
from .hardware import pick_device
from .items import ITEMS
from .results import (CacheError, checkpoint_path, entry_path, git_state, provenance, read_curve,
                      read_entry, rewrite_entry, run_lock, training_lock_path, write_entry)


EXPERIMENTS = ITEMS  # every paper item, declared in ssllib.items


def get_experiment(name: str) -> Experiment:
    if name not in EXPERIMENTS:
        raise ConfigError(f"unknown experiment {name!r}; allowed: {', '.join(sorted(EXPERIMENTS))}")
    return EXPERIMENTS[name]


def config_layers(experiment: str, variant: str, profile: str, overrides=None) -> list[tuple[str, dict]]:
    """The layers a run's config is merged from, in order, each with its name: the profile, the
    experiment's scale at that profile, the variant, the variant's scale at that profile, and the
    command line's --set (each later one wins; Config's defaults lie under them all)."""
    exp = get_experiment(experiment)
    if variant not in exp.variants:
        raise ConfigError(f"unknown variant {variant!r} of {experiment}; "
                          f"allowed: {', '.join(exp.variants)}")
    if profile not in PROFILES:
        raise ConfigError(f"unknown profile {profile!r}; allowed: {', '.join(PROFILES)}")
    return [(f"profile {profile}", PROFILES[profile]), (f"{experiment}.scale[{profile}]", exp.scale.get(profile, {})),
            (f"variant {variant}", exp.variants[variant]),
            (f"{experiment}.variant_scale[{profile}][{variant}]", exp.variant_scale.get(profile, {}).get(variant, {})),
            ("--set", dict(overrides or {}))]


def make_config(experiment: str, variant: str, profile: str, seed: int = 0, **overrides):
    merged = {k: v for _, layer in config_layers(experiment, variant, profile, overrides)[1:] for k, v in layer.items()}
    return profile_config(profile, experiment=experiment, variant=variant, seed=seed, **merged)


def explain_config(experiment: str, variant: str, profile: str, seed: int = 0, overrides=None) -> list[str]:
    """`python -m ssllib config`: every field of the merged config, the layer that set it, and the
    run's cache key and training key (the key without the experiment and variant names)."""
    import dataclasses

    cfg = make_config(experiment, variant, profile, seed, **(overrides or {}))
    where = {"experiment": "the experiment argument", "variant": "the variant argument", "seed": "--seed"}
    for name, layer in config_layers(experiment, variant, profile, overrides):
        where |= dict.fromkeys(layer, name)
    width = max(len(f.name) for f in dataclasses.fields(cfg))
    lines = [f"{f.name:<{width}} = {getattr(cfg, f.name)!r:<24} ({where.get(f.name, 'Config default')})"
             for f in dataclasses.fields(cfg)]
    return lines + [f"cache key (config hash): {config_hash(cfg)}", f"training key: {config_hash(cfg, labels=False)}",
                    f"record: {entry_path(cfg, profile)}"]


def run_one(cfg, profile: str, *, force=False, allow_train=True, device="auto", data_dir=None,
            progress=True, data=None) -> dict:
    """The cached record of `cfg`, training it first if needed (or if `force`)."""
    path = entry_path(cfg, profile)
    if path.exists() and not force:
        try:
            return read_entry(path)
        except CacheError as e:
            print(f"cache entry damaged, not used ({'recomputing' if allow_train else 'read-only: listed as missing'}): {e}")
    shared = find_same_run(cfg, profile)
    if shared is not None and not force:
        return shared
    if not allow_train:
        raise CacheError(f"no cached result for {cfg.experiment}/{cfg.variant} (seed {cfg.seed}, "
                         f"profile {profile}, hash {config_hash(cfg)}) and training is not allowed here")
    rank, world = distributed.setup(pick_device(device))  # (0, 1) unless torchrun started us
    # one process trains a config, another waits and reads it; under torchrun rank 0 holds the lock.
    # The second lock is the training's own: the same training asked for under two experiment
    # names (Table 2's SimSiam and Figure 3's) is trained once, the other waits and shares it
    with (run_lock(path) if rank == 0 else contextlib.nullcontext("free")) as got, \
            (run_lock(training_lock_path(cfg, profile)) if rank == 0 else contextlib.nullcontext("free")) as got_key:
        distributed.barrier(world)  # every rank past this point: rank 0 holds the lock
        if (got == "waited" or world > 1) and path.exists():
            try:
                return read_entry(path)
            except CacheError as e:
                print(f"cache entry damaged, not used (recomputing): {e}")
        if got_key == "waited" and world == 1 and not force and (shared := find_same_run(cfg, profile)) is not None:
            return shared
        return _train_and_record(cfg, profile, path, force, device, data or load_dataset(cfg.dataset, data_dir),
                                 progress, writes=rank == 0, interrupted_before=got == "stale")


def how_it_started(resumed_at: int, had_checkpoint: bool, interrupted_before: bool) -> str:
    """What the record says about earlier attempts: resumed from a checkpoint, or
    started over because the checkpoint was unusable or gone (a new machine), or a first attempt."""
    if resumed_at:
        return f"resumed at step {resumed_at}"
    if had_checkpoint:
        return "started over: its checkpoint could not be used"
    return "started over: an earlier attempt left no checkpoint" if interrupted_before else "trained from the start"


def _train_and_record(cfg, profile, path, force, device, data, progress, writes=True,
                      interrupted_before=False) -> dict:
    from .train import Trainer

    started, git = dt.datetime.now(dt.timezone.utc), dict(git_state())
    ckpt = checkpoint_path(cfg, profile)
    for folder in (path.parent, ckpt.parent):  # temp files of writers killed mid-write
        remove_stale_temps(folder)
    if force and ckpt.exists():
        ckpt.unlink()
    had_checkpoint = ckpt.exists()
    result = Trainer(cfg, data, device).fit(ckpt, progress=progress)
    result.info["start"] = how_it_started(result.info["resumed_at_step"], had_checkpoint, interrupted_before)
    ended = dt.datetime.now(dt.timezone.utc)
    metrics = dict(result.metrics, collapsed=is_collapsed(result.metrics["m_r"]))
    record = {
        "experiment": cfg.experiment, "profile": profile, "variant": cfg.variant, "seed": cfg.seed,
        "config_hash": config_hash(cfg), "config": cfg.to_dict(), "metrics": metrics,
        "train": result.info, "provenance": provenance(data, result.info, started, ended, git),
        "spectrum": [round(float(s), 6) for s in result.spectrum],
    }
    if result.evals:
        record["learning_curve"] = result.evals
    if not writes:  # under torchrun rank 0 writes the result
        return record
    return write_entry(path, record, result.curve)


def add_metrics_from_checkpoint(record: dict, data=None, device="auto") -> dict:
    """Add metrics that a newer ssllib computes at the end of a run (never changing existing ones)
    to a cached record, from the run's final checkpoint.  Returns the record, rewritten in place
    when something was added."""
    from .train import SNAPSHOT_METRICS, Trainer

    cfg = Config(**record["config"])
    ckpt = checkpoint_path(cfg, record["profile"])
    data = data or load_dataset(cfg.dataset)
    trainer = Trainer(cfg, data, device)
    if not trainer.load(ckpt) or trainer.step != trainer.total:
        raise CacheError(f"no final checkpoint for {cfg.experiment}/{cfg.variant} at {ckpt}")
    new = {k: v for k, v in trainer.snapshot_metrics().items()
           if k.startswith(SNAPSHOT_METRICS) and k not in record["metrics"]}
    if not new:
        return record
    updated = dict(record, metrics={**record["metrics"], **new},
                   metrics_added=sorted(set(record.get("metrics_added", [])) | set(new)))
    return rewrite_entry(updated, entry_path(cfg, record["profile"]))


def find_same_run(cfg, profile: str) -> dict | None:
    """A valid record of another experiment that trained exactly `cfg` (labels aside), returned
    under this experiment's name and `profile` with `reused_from` saying where it came from
    (`<experiment>/<file>`, or `<profile>/<experiment>/<file>` from another profile's folder: a
    length is a config, so e.g. the 20-epoch learning curve is the 20-epoch run of its seed).
    Nothing is written: a run shared between chapters is found by its training key each time."""
    key = config_hash(cfg, labels=False)
    needs = EXPERIMENTS[cfg.experiment].needs.get(cfg.variant, ()) if cfg.experiment in EXPERIMENTS else ()
    root = entry_path(cfg, profile).parent.parent.parent
    own = sorted((root / profile).glob("*/*.json"))
    others = sorted(p for p in root.glob("*/*/*.json") if p.parent.parent.name != profile)
    for path in own + others:
        try:
            quick = json.loads(path.read_text())
            if "reused_from" in quick or config_hash(Config(**quick["config"]), labels=False) != key:
                continue
            record = read_entry(path)
        except (CacheError, OSError, ValueError, TypeError, KeyError, RecursionError):
            continue  # not a record of ours (a JSON nested past Python's limit included): skipped
        if needs and not set(needs) <= set((read_curve(record) or [{}])[0]):
            continue
        where = f"{record['experiment']}/{path.name}"
        return dict(record, experiment=cfg.experiment, variant=cfg.variant, config_hash=config_hash(cfg),
                    config=cfg.to_dict(), profile=profile,
                    reused_from=where if record["profile"] == profile else f"{record['profile']}/{where}")
    return None


def run_experiment(name: str, profile: str = "cpu", seeds=None, variants=None, overrides=None,
                   force=False, allow_train=True, device="auto", data_dir=None, progress=True,
                   allow_missing=False):
    """Run (or load) every variant x seed of an experiment; returns the list of records.

    allow_missing (with allow_train=False): leave out runs that are not cached instead of raising;
    `missing_runs` names them.
    """
    exp = get_experiment(name)
    variants = list(variants or exp.variants_at(profile))
    seeds = list(seeds if seeds is not None else exp.seeds_at(profile))
    configs = [make_config(name, v, profile, s, **(overrides or {})) for v in variants for s in seeds]
    data = None
    records = []
    for cfg in configs:
        path = entry_path(cfg, profile)
        if data is None and (force or not path.exists()) and allow_train:
            data = load_dataset(cfg.dataset, data_dir)
        try:
            records.append(run_one(cfg, profile, force=force, allow_train=allow_train, device=device,
                                   data_dir=data_dir, progress=progress, data=data))
        except CacheError:
            if not allow_missing or allow_train:
                raise
    return records


def missing_runs(name: str, profile: str, seeds=None, overrides=None) -> list[str]:
    """'variant (seed s)' for every run of the experiment without a cached result ('variant (seed
    s, damaged)' where its record is there and fails its checks)."""
    exp = get_experiment(name)
    seeds = list(seeds if seeds is not None else exp.seeds_at(profile))
    out = []
    for v in exp.variants_at(profile):
        for s in seeds:
            cfg = make_config(name, v, profile, s, **(overrides or {}))
            path, damaged = entry_path(cfg, profile), False
            if path.exists():
                try:
                    read_entry(path)
                    continue
                except CacheError:
                    damaged = True
            if find_same_run(cfg, profile) is None:
                out.append(f"{v} (seed {s}{', damaged' if damaged else ''})")
    return out
