"""What a run is: the paper items of `ssllib.items` by name, and the config of one run of one of
them, merged from its layers (`config_layers`, printed by `python -m ssllib config`).

An experiment is a set of *variants*: plain dicts of config overrides on top of a profile.
Reading their cached records is `ssllib.records`; training the missing ones is `ssllib.runner`.
"""
from __future__ import annotations

import dataclasses

from .config import PROFILES, ConfigError, config_hash, profile_config
from .experiment_spec import Experiment
from .items import ITEMS
from .results import entry_path


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
    cfg = make_config(experiment, variant, profile, seed, **(overrides or {}))
    where = {"experiment": "the experiment argument", "variant": "the variant argument", "seed": "--seed"}
    for name, layer in config_layers(experiment, variant, profile, overrides):
        where |= dict.fromkeys(layer, name)
    width = max(len(f.name) for f in dataclasses.fields(cfg))
    lines = [f"{f.name:<{width}} = {getattr(cfg, f.name)!r:<24} ({where.get(f.name, 'Config default')})"
             for f in dataclasses.fields(cfg)]
    return lines + [f"cache key (config hash): {config_hash(cfg)}", f"training key: {config_hash(cfg, labels=False)}",
                    f"record: {entry_path(cfg, profile)}"]
