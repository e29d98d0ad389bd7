"""Plain-data experiment configuration and the four profiles.

A `Config` holds every hyper-parameter of one training run.  Its defaults are the paper's
Appendix A.1 settings (solo-learn defaults); a *profile* only scales them (width, batch, epochs,
data subset), it never changes which code runs.  An experiment's *variant* (loss, predictor, ...)
is applied on top of the profile, and the user's `--set key=value` overrides come last.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import inspect
import json
import math
from dataclasses import dataclass, field, fields

from . import data, loss_registry as losses, models  # the registries live next to what they register


class ConfigError(ValueError):
    """A bad parameter: the message is one line naming the bad value and the allowed ones."""


@dataclass(frozen=True)
class Config:
    # what is trained
    experiment: str = "table2"
    variant: str = "simsiam"
    loss: str = "simsiam"
    predictor: str = "mlp"
    # data
    dataset: str = "cifar10"
    train_subset: int = 0            # 0 = the whole training set
    n_views: int = 2
    # architecture (A.1: ResNet-18, projector 2048-2048-2048, predictor 2048-512-2048)
    encoder: str = "resnet18"
    width: int = 64                  # channels of the first stage; 64 is the standard ResNet-18
    proj_hidden: int = 2048
    proj_dim: int = 2048
    pred_hidden: int = 512
    normalize_z: bool = False        # Section 4 / Table 5: l2-normalise the encoder output z
    proj_last_bn: bool = True        # Section 4's BN experiment removes the projector's final BN
    proj_last_bn_affine: bool = True # False: the reference head's final BatchNorm1d(affine=False)
    head_bn: str = "default"         # Chen & He Table 3: BN in the MLP heads, none|hidden|default|all
    predictor_trainable: bool = True # Chen & He Table 1: False = predictor fixed at random init
    bn_calibration: int = 0          # control: BN statistics recomputed on this many training images before eval
    target_every: int = 0            # Chen & He Sec. 5: eta refreshed every k steps (0 = every step), or "epoch"
    # optimisation (A.1)
    batch_size: int = 256
    epochs: float = 1000.0
    warmup_epochs: float = 10.0
    base_lr: float = 0.5             # lr = base_lr * batch_size / 256
    weight_decay: float = 1e-5
    momentum: float = 0.9
    predictor_fixed_lr: bool = True  # "learning rate of predictor is fixed (not cosine decay)"
    lr_schedule: str = "cosine"      # after warm-up: "cosine" decay (A.1) or "constant"
    probe_lr: float = 0.1            # online linear probe (A.1)
    # evaluation
    eval_train_size: int = 0         # images of the training set used as kNN bank / probe train (0 = all)
    eval_test_size: int = 0          # images of the test set used for evaluation (0 = all)
    knn_k: int = 200
    eval_every: float = 0.0          # epochs between kNN / linear evaluations during training (0 = end only)
    # bookkeeping (part of the hash: a different seed is a different result)
    seed: int = 0
    log_every: int = 10
    ckpt_every: int = 50
    # how the arithmetic runs, not what is computed (ssllib.train.fast_features; the equivalence
    # test checks it): off | auto (on CUDA: channels_last + bf16 autocast + fused SGD) | bf16 |
    # compile (auto + torch.compile)
    fast: str = "auto"
    # variant-specific options, e.g. {"momentum": 0.8} for a moving-average target
    options: dict = field(default_factory=dict)
    # Figure 5(b): a schedule of losses, [[loss, fraction of the steps(, options)], ...]; empty = `loss` only
    phases: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def replace(self, **overrides) -> "Config":
        return replace_checked(self, overrides)


# Keys that do not change what is computed: excluded from the hash so that e.g. a different
# logging cadence still finds the cached result.
NON_SEMANTIC = ("log_every", "ckpt_every", "fast")
FAST_MODES = ("off", "auto", "bf16", "compile")
# Fields added after results were first committed, with a default that keeps the old behaviour:
# left out of the hash while at that default, so adding a field never orphans the cache.
LATE_FIELDS: dict = {"normalize_z": False, "proj_last_bn": True, "proj_last_bn_affine": True, "lr_schedule": "cosine", "phases": [],
                     "head_bn": "default", "predictor_trainable": True, "target_every": 0,
                     "bn_calibration": 0, "eval_every": 0.0}
SUBSET_SAMPLING = "class-balanced, seed 0"  # ssllib.data.balanced_subset
FULL_TRAIN_SIZE = {"cifar10": 50000, "cifar100": 50000}  # a "subset" this large is the whole set
HEAD_BN = ("none", "hidden", "default", "all")
LR_SCHEDULES = ("cosine", "constant")

PROFILES: dict[str, dict] = {
    # seconds per run: the plumbing, not the science
    "smoke": dict(width=4, proj_hidden=64, proj_dim=64, pred_hidden=16, batch_size=32,
                  train_subset=256, epochs=1.0, warmup_epochs=0.0, eval_train_size=256,
                  eval_test_size=256, knn_k=20, log_every=2, ckpt_every=4),
    # the committed results the book shows: <= ~20 min a run on 2 CPU cores
    "cpu": dict(width=16, proj_hidden=512, proj_dim=512, pred_hidden=128, batch_size=256,
                epochs=1.5, warmup_epochs=0.1, eval_train_size=10000, eval_test_size=10000,
                log_every=5, ckpt_every=25),
    # the cpu model at the length where SimSiam has learned more than every control:
    # 10 epochs of all 50,000 images, a 2-epoch warm-up (absolute, not scaled from A.1's 10 of
    # 1000), kNN / linear every 2 epochs; ~17 min a run at bf16 on 2 cores, evaluations included
    "cpu_long": dict(width=16, proj_hidden=512, proj_dim=512, pred_hidden=128, batch_size=256,
                     epochs=10.0, warmup_epochs=2.0, eval_train_size=10000, eval_test_size=10000,
                     eval_every=2.0, log_every=10, ckpt_every=50),
    # full-width ResNet-18 in minutes on one H100
    "gpu": dict(batch_size=512, epochs=100.0, warmup_epochs=5.0, log_every=20, ckpt_every=500),
    # Appendix A.1 as written
    "paper": dict(),
}


# the same model for 20 epochs: CIFAR-100's long length (ssllib/plan.py says why), ~33 min a run
PROFILES["cpu_long20"] = dict(PROFILES["cpu_long"], epochs=20.0)


def _allowed(names) -> str:
    return ", ".join(sorted(names))


WORD_VALUES = {"target_every": ("epoch",)}  # int fields that also take a word


def _coerce(name: str, value, default):
    """Turn a `--set` string into the type of the field's default (or one of its WORD_VALUES)."""
    if not isinstance(value, str) or isinstance(default, str) or value in WORD_VALUES.get(name, ()):
        return value
    try:
        if isinstance(default, bool):
            if value.lower() in ("1", "true", "yes"):
                return True
            if value.lower() in ("0", "false", "no"):
                return False
            raise ValueError(value)
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
        if isinstance(default, (dict, list)):
            return json.loads(value)
    except ValueError:
        words = "".join(f" or {w!r}" for w in WORD_VALUES.get(name, ()))
        raise ConfigError(f"bad value {value!r} for {name}: expected {type(default).__name__}{words}") from None
    return value


# sizes past which a config cannot be meant (and would exhaust memory before saying so)
UPPER = {"width": 512, "proj_hidden": 65536, "proj_dim": 65536, "pred_hidden": 65536, "batch_size": 65536,
         "n_views": 64, "epochs": 100000.0, "seed": 2**31 - 1}


def _check_type(name: str, value, default) -> None:
    """A value of the field's type (an int where a float is expected too), finite, within UPPER."""
    if value in WORD_VALUES.get(name, ()):
        return
    expected = (bool,) if isinstance(default, bool) else (int,) if isinstance(default, int) else \
        (int, float) if isinstance(default, float) else (type(default),)
    if not isinstance(value, expected) or (isinstance(value, bool) and bool not in expected):
        raise ConfigError(f"bad value {value!r} for {name}: expected {type(default).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"bad value {value!r} for {name}: must be a finite number")
    if name in UPPER and value > UPPER[name]:
        raise ConfigError(f"bad value {value!r} for {name}: at most {UPPER[name]:g}")


def replace_checked(cfg: Config, overrides: dict) -> Config:
    names = {f.name: f for f in fields(Config)}
    clean = {}
    for key, value in overrides.items():
        if key not in names:
            raise ConfigError(f"unknown config key {key!r}; allowed: {_allowed(names)}")
        clean[key] = _coerce(key, value, getattr(cfg, key))
        f = names[key]
        _check_type(key, clean[key], f.default_factory() if f.default is dataclasses.MISSING else f.default)
    out = dataclasses.replace(cfg, **clean)
    validate(out)
    return out


def validate(cfg: Config) -> None:
    checks = [("loss", cfg.loss, losses.LOSSES), ("predictor", cfg.predictor, models.PREDICTORS),
              ("encoder", cfg.encoder, models.ENCODERS), ("dataset", cfg.dataset, data.DATASETS)]
    for what, value, registry in checks:
        if value not in registry:
            raise ConfigError(f"unknown {what} {value!r}; allowed: {_allowed(registry)}")
    if cfg.fast not in FAST_MODES:
        raise ConfigError(f"unknown fast {cfg.fast!r}; allowed: {_allowed(FAST_MODES)}")
    if (not (cfg.target_every == "epoch" or isinstance(cfg.target_every, int) and cfg.target_every >= 0)
            or (cfg.target_every and cfg.loss != "simsiam")):
        raise ConfigError(f"bad target_every {cfg.target_every!r}: must be an int >= 0 or 'epoch', and set "
                          "only with loss 'simsiam'")
    if cfg.head_bn not in HEAD_BN:
        raise ConfigError(f"unknown head_bn {cfg.head_bn!r}; allowed: {_allowed(HEAD_BN)}")
    if cfg.lr_schedule not in LR_SCHEDULES:
        raise ConfigError(f"unknown lr_schedule {cfg.lr_schedule!r}; allowed: {_allowed(LR_SCHEDULES)}")
    for phase in cfg.phases:
        if not (isinstance(phase, (list, tuple)) and len(phase) in (2, 3) and phase[0] in losses.LOSSES
                and isinstance(phase[1], (int, float)) and phase[1] > 0
                and (len(phase) == 2 or isinstance(phase[2], dict))):
            raise ConfigError(f"bad phase {phase!r}: expected [loss, fraction > 0] or [loss, fraction, "
                              f"options] with loss one of {_allowed(losses.LOSSES)}")
    check_options(cfg.loss, cfg.options)
    for phase in cfg.phases:
        check_options(phase[0], phase[2] if len(phase) > 2 else {})
    if cfg.phases and abs(sum(p[1] for p in cfg.phases) - 1) > 1e-6:
        raise ConfigError(f"bad phases {cfg.phases!r}: the fractions must sum to 1")
    for loss, options in [(cfg.loss, cfg.options)] + [(p[0], p[2] if len(p) > 2 else {}) for p in cfg.phases]:
        _check_loss_builds(cfg, loss, json.dumps(options, sort_keys=True))
    for name in ("eval_train_size", "eval_test_size"):  # 0 = all; 1 image would record 0% or 100%
        if 0 < getattr(cfg, name) < 10:
            raise ConfigError(f"bad value {getattr(cfg, name)!r} for {name}: 0 (all images) or at least 10")
    if cfg.eval_train_size and cfg.knn_k > cfg.eval_train_size:
        raise ConfigError(f"bad value {cfg.knn_k!r} for knn_k: larger than the kNN bank "
                          f"(eval_train_size {cfg.eval_train_size})")
    if cfg.probe_lr <= 0:
        raise ConfigError(f"bad value {cfg.probe_lr!r} for probe_lr: must be > 0")
    if not 0 <= cfg.momentum < 1:
        raise ConfigError(f"bad value {cfg.momentum!r} for momentum: must be in [0, 1)")
    if cfg.bn_calibration < 0:
        raise ConfigError(f"bad value {cfg.bn_calibration!r} for bn_calibration: must be >= 0")
    positive = ("width", "proj_hidden", "proj_dim", "pred_hidden", "batch_size", "knn_k", "log_every",
                "ckpt_every")
    for name in positive:
        if getattr(cfg, name) <= 0:
            raise ConfigError(f"bad value {getattr(cfg, name)!r} for {name}: must be > 0")
    for name in ("epochs", "warmup_epochs", "eval_every", "train_subset", "eval_train_size", "eval_test_size",
                 "base_lr", "weight_decay", "seed"):
        if getattr(cfg, name) < 0:
            raise ConfigError(f"bad value {getattr(cfg, name)!r} for {name}: must be >= 0")
    if cfg.n_views < 2 or (cfg.n_views % 2 and cfg.loss == "simsiam"):
        raise ConfigError(f"bad value {cfg.n_views!r} for n_views: must be >= 2, and even with loss "
                          "'simsiam' (its views pair up)")


@functools.lru_cache(maxsize=None)
def _loss_options_ok(loss: str, options_json: str, dim: int, hidden: int) -> str:
    """'' if loss `loss` builds with these options, else why not: a throwaway build, once per loss,
    options and size in a process (reading a thousand records builds a few dozen, not a thousand)."""
    try:
        cfg = Config(loss=loss, options=json.loads(options_json), proj_dim=dim, pred_hidden=hidden)
        losses.build_loss(cfg, num_images=1)
    except (TypeError, ValueError) as e:
        return str(e)
    return ""


def _check_loss_builds(cfg: Config, loss: str, options_json: str) -> None:
    """The loss and each phase's loss are built (once per process: `_loss_options_ok`) when a config
    is validated, so that a bad value (tau 0 inside `phases`) is one line before any training, not a
    traceback at the phase's first step."""
    why = _loss_options_ok(loss, options_json, cfg.proj_dim, cfg.pred_hidden)
    if why:
        keys = [k for k in inspect.signature(losses.LOSSES[loss].__init__).parameters
                if k not in ("self", "dim", "hidden", "num_images")]
        raise ConfigError(f"bad options {json.loads(options_json)!r} for loss {loss!r} ({why}); "
                          f"allowed option keys: {', '.join(keys) or 'none'}")


def check_options(loss: str, options) -> None:
    """Each option a loss takes, of the type of its default (a bool is a bool, not "false"), as
    its __init__ declares them: a value of another type would be passed on silently (the string
    "false" is truthy) and train something other than what the record says.  One ConfigError line."""

    if not isinstance(options, dict):
        raise ConfigError(f"bad options {options!r}: expected a dict of option: value")
    params = {k: p for k, p in inspect.signature(losses.LOSSES[loss].__init__).parameters.items()
              if k not in ("self", "dim", "hidden", "num_images")}
    for key, value in options.items():
        if key not in params:
            raise ConfigError(f"unknown option {key!r} for loss {loss!r}; allowed option keys: "
                              f"{', '.join(params) or 'none'}")
        default = params[key].default
        expected = (bool,) if isinstance(default, bool) else (int,) if isinstance(default, int) else \
            (int, float) if isinstance(default, float) else (type(default),)
        if not isinstance(value, expected) or (isinstance(value, bool) and bool not in expected) or \
                (isinstance(value, float) and not math.isfinite(value)):
            raise ConfigError(f"bad option {key}={value!r} for loss {loss!r}: expected "
                              f"{type(default).__name__} (e.g. {default!r})")


def profile_config(profile: str, **overrides) -> Config:
    if profile not in PROFILES:
        raise ConfigError(f"unknown profile {profile!r}; allowed: {_allowed(PROFILES)}")
    return replace_checked(Config(), {**PROFILES[profile], **overrides})


LABELS = ("experiment", "variant")  # names, not hyper-parameters


def config_hash(cfg: Config, labels: bool = True) -> str:
    """sha256 of the canonical JSON of every semantic field: the cache key.

    With labels=False the experiment/variant names are left out: two experiments that train the
    very same thing (e.g. plain SimSiam as a baseline) share one training run.
    """
    d = {k: v for k, v in cfg.to_dict().items()
         if k not in NON_SEMANTIC and not (k in LATE_FIELDS and v == LATE_FIELDS[k])
         and (labels or k not in LABELS)}
    if 0 < cfg.train_subset < FULL_TRAIN_SIZE.get(cfg.dataset, float("inf")):
        d["subset"] = SUBSET_SAMPLING  # which images a subset holds changed: the first
        # n before (one class, as the archive is decoded class by class), a balanced sample now
    blob = json.dumps(d, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
