"""Experiments, named after the paper item they reproduce, and the run-or-load entry point.

An experiment is a set of *variants*: plain dicts of config overrides on top of a profile.
`run_experiment` trains each (variant, seed) that is not cached yet and returns the records.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .config import ConfigError, config_hash, profile_config
from .data import load_dataset
from .decomposition import is_collapsed
from .results import (CacheError, checkpoint_path, entry_path, git_state, provenance, read_entry,
                      write_entry)


@dataclass
class Experiment:
    name: str
    title: str
    variants: dict
    notebook: str
    default_seeds: dict = field(default_factory=dict)  # profile -> seeds


EXPERIMENTS = {
    "table2": Experiment(
        name="table2",
        title="Table 2 / Figure 7: Siamese architectures with and without collapse (Sec. 2.3, A.4)",
        variants={
            "simsiam": dict(loss="simsiam", predictor="mlp"),
            "mirror_simsiam": dict(loss="mirror_simsiam", predictor="mlp"),
            "naive_siamese": dict(loss="naive_siamese", predictor="none"),
            "symmetric_predictor": dict(loss="symmetric_predictor", predictor="mlp"),
            # control: the same evaluation on a randomly initialised encoder (no training step)
            "random_init": dict(loss="simsiam", predictor="mlp", epochs=0.0, warmup_epochs=0.0),
        },
        notebook="table2_siamese_variants.ipynb",
    ),
}


def get_experiment(name: str) -> Experiment:
    if name not in EXPERIMENTS:
        raise ConfigError(f"unknown experiment {name!r}; allowed: {', '.join(sorted(EXPERIMENTS))}")
    return EXPERIMENTS[name]


def make_config(experiment: str, variant: str, profile: str, seed: int = 0, **overrides):
    exp = get_experiment(experiment)
    if variant not in exp.variants:
        raise ConfigError(f"unknown variant {variant!r} of {experiment}; "
                          f"allowed: {', '.join(exp.variants)}")
    return profile_config(profile, experiment=experiment, variant=variant, seed=seed,
                          **{**exp.variants[variant], **overrides})


def run_one(cfg, profile: str, *, force=False, allow_train=True, device="auto", data_dir=None,
            progress=True, data=None) -> dict:
    """The cached record of `cfg`, training it first if needed (or if `force`)."""
    from .train import Trainer

    path = entry_path(cfg, profile)
    if path.exists() and not force:
        try:
            return read_entry(path)
        except CacheError as e:
            print(f"cache entry rejected, recomputing: {e}")
    if not allow_train:
        raise CacheError(f"no cached result for {cfg.experiment}/{cfg.variant} (seed {cfg.seed}, "
                         f"profile {profile}, hash {config_hash(cfg)}) and training is not allowed here")
    started, git = dt.datetime.now(dt.timezone.utc), git_state()
    data = data or load_dataset(cfg.dataset, data_dir)
    ckpt = checkpoint_path(cfg, profile)
    if force and ckpt.exists():
        ckpt.unlink()
    result = Trainer(cfg, data, device).fit(ckpt, progress=progress)
    ended = dt.datetime.now(dt.timezone.utc)
    metrics = dict(result.metrics, collapsed=is_collapsed(result.metrics["m_r"]))
    record = {
        "experiment": cfg.experiment, "profile": profile, "variant": cfg.variant, "seed": cfg.seed,
        "config_hash": config_hash(cfg), "config": cfg.to_dict(), "metrics": metrics,
        "train": result.info, "provenance": provenance(data, result.info, started, ended, git),
        "spectrum": [round(float(s), 6) for s in result.spectrum],
    }
    return write_entry(path, record, result.curve)


def run_experiment(name: str, profile: str = "cpu", seeds=None, variants=None, overrides=None,
                   force=False, allow_train=True, device="auto", data_dir=None, progress=True):
    """Run (or load) every variant x seed of an experiment; returns the list of records."""
    exp = get_experiment(name)
    variants = list(variants or exp.variants)
    seeds = list(seeds if seeds is not None else exp.default_seeds.get(profile, [0]))
    configs = [make_config(name, v, profile, s, **(overrides or {})) for v in variants for s in seeds]
    data = None
    records = []
    for cfg in configs:
        path = entry_path(cfg, profile)
        if data is None and (force or not path.exists()) and allow_train:
            data = load_dataset(cfg.dataset, data_dir)
        records.append(run_one(cfg, profile, force=force, allow_train=allow_train, device=device,
                               data_dir=data_dir, progress=progress, data=data))
    return records
