"""Training the runs the cache lacks: the only writer of results/.  `run_experiment` trains (or
finds cached) every variant x seed of an item; `run_configs` the configs a caller built, each built
once a run; `run_one` one config, under the locks that stop two processes training it twice.
Reading without training is `ssllib.records`.
"""
from __future__ import annotations

import contextlib
import datetime as dt

from . import distributed, records
from .config import Config, config_hash
from .data import load_dataset
from .decomposition import is_collapsed
from .evaluate import evaluate_backbone
from .hardware import pick_device
from .results import (CacheError, checkpoint_path, entry_path, git_state, provenance, read_entry,
                      rewrite_entry, training_lock_path, write_entry)
from .storage import remove_stale_temps, run_lock
from .train import SNAPSHOT_METRICS, Trainer


def run_one(cfg, profile: str, *, force=False, device="auto", data_dir=None, progress=True, data=None,
            share=True) -> dict:
    """The cached record of `cfg` (its own, or a shared run: `records.lookup`), training it first if
    it has none (or if `force`).  `data`: the dataset, or a function of the config that loads it
    (called only if it trains).  share=False: a shared run does not count, the config is trained
    under its own record (resuming its own checkpoint, unlike `force`), which then replaces it."""
    path = entry_path(cfg, profile)
    if not force:
        record, _ = records.lookup(cfg, profile, damaged_means="recomputing", share=share)
        if record is not None:
            return record
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
        if got_key == "waited" and world == 1 and not force and share and (shared := records.shared_run(cfg, profile)):
            return shared
        data = data(cfg) if callable(data) else data or load_dataset(cfg.dataset, data_dir)
        return _train_and_record(cfg, profile, path, force, device, data, progress, writes=rank == 0,
                                 interrupted_before=got == "stale")


def run_configs(cfgs: list, profile: str, *, force=False, device="auto", data_dir=None, progress=True,
                share=True) -> list[dict]:
    """`run_one` for each config a caller built (`records.configs`); each dataset loaded once, and
    only if something trains."""
    loaded = {}

    def data(cfg):
        if cfg.dataset not in loaded:
            loaded[cfg.dataset] = load_dataset(cfg.dataset, data_dir)
        return loaded[cfg.dataset]

    return [run_one(cfg, profile, force=force, device=device, progress=progress, data=data, share=share)
            for cfg in cfgs]


def run_experiment(name: str, profile: str = "cpu", seeds=None, variants=None, overrides=None, force=False,
                   device="auto", data_dir=None, progress=True) -> list[dict]:
    """Run (or find cached) every variant x seed of item `name` at `profile`; returns the records."""
    return run_configs(records.configs(name, profile, variants, seeds, overrides), profile, force=force,
                       device=device, data_dir=data_dir, progress=progress)


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


# metrics a newer ssllib computes at the end of a run, which older records may lack: the snapshot's
# (train.SNAPSHOT_METRICS prefixes) and the backbone evaluation's knn20_acc (evaluate.FAIR_KNN)
EVAL_ADDED = ("knn20_acc",)
# points: the re-evaluation's kNN accuracy beside the record's.  kNN is a vote over the same features,
# so it comes out again; the linear probe's 300 Adam steps move with the floating-point summation
# order (the CIFAR-100 raw-pixel probe moved by up to 2.3 points between 1 and 2 threads): its
# difference is recorded, not checked
SAME_ENCODER = 0.5


def add_metrics(record: dict, data=None, device="auto") -> dict:
    """Add the metrics a newer ssllib computes at the end of a run (never changing existing ones)
    to a cached record: from the run's final checkpoint, or, for an untrained control (0 steps), from
    the state its seed builds.  The backbone evaluation is recomputed whole and must give the
    record's kNN accuracy again within SAME_ENCODER points (else CacheError: not the encoder the
    record measured); its and the linear probe's differences are kept (`metrics_added_check`).
    Returns the record, rewritten in place when something was added."""
    cfg = Config(**record["config"])
    ckpt = checkpoint_path(cfg, record["profile"])
    data = data or load_dataset(cfg.dataset)
    trainer = Trainer(cfg, data, device)
    if trainer.total == 0:  # the state at step 0 is the final one: fit trains nothing, calibrates, evaluates
        fresh = trainer.fit(None, progress=False).metrics
    elif trainer.load(ckpt) and trainer.step == trainer.total:
        fresh = {**evaluate_backbone(trainer.model.backbone, data, cfg, trainer.device, seed=cfg.seed)[0],
                 **trainer.snapshot_metrics()}
    else:
        raise CacheError(f"no final checkpoint for {cfg.experiment}/{cfg.variant} seed {cfg.seed} at {ckpt}: "
                         "retrain it (`ssllib run ... --force`) to measure the new metrics")
    check = {k: round(fresh[k] - record["metrics"][k], 4) for k in ("knn_acc", "linear_acc")}
    if abs(check["knn_acc"]) > SAME_ENCODER:
        raise CacheError(f"{cfg.experiment}/{cfg.variant} seed {cfg.seed}: re-evaluated accuracies differ from "
                         f"the record's by {check} points: not the encoder it measured")
    new = {k: v for k, v in fresh.items()
           if (k.startswith(SNAPSHOT_METRICS) or k in EVAL_ADDED) and k not in record["metrics"]}
    if not new:
        return record
    updated = dict(record, metrics={**record["metrics"], **new},
                   metrics_added=sorted(set(record.get("metrics_added", [])) | set(new)),
                   metrics_added_check=check)
    return rewrite_entry(updated, entry_path(cfg, record["profile"]))
