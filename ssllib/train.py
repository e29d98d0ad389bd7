"""The one training loop, for every variant (the variant is data: loss, predictor, options).

Appendix A.1: SGD (momentum 0.9, weight decay 1e-5), lr = base_lr x batch/256, linear warm-up then
cosine decay per step, predictor lr fixed, online linear probe on detached backbone features.
The decomposition metrics of Section 3.1 are logged every `log_every` steps on view a's z.
A checkpoint is written every `ckpt_every` steps (atomically) and a run resumes from it
automatically; data order and augmentation come from seeded generators whose states are saved, so
a resumed run reproduces the uninterrupted one.
"""
from __future__ import annotations

import copy
import dataclasses
import itertools
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import torch
import torch.nn.functional as F
from torch.profiler import record_function as scope
try:
    from tqdm import tqdm
except ImportError:  # a bare GPU machine: train without a progress bar
    tqdm = None

from . import distributed
from .augment import simsiam_augment
from .config import ConfigError, config_hash
from .data import balanced_subset
from .storage import atomic_torch_save
from .decomposition import bias_centre_metrics, centre_products, decomposition_metrics
from .evaluate import calibrate_bn, evaluate_backbone
from .gradients import decorrelation_alignment
from .hardware import device_name, fast_features, load_average, make_sgd, pick_device
from .integrity import check_sealed, one_line, sealed
from .loss_registry import build_loss
from .models import BiasOnly, build_model, last_bias


def schedule(cfg, n_train: int) -> tuple[int, int, int]:
    """(steps per epoch, total steps, warm-up steps)."""
    per_epoch = max(1, n_train // cfg.batch_size)
    return per_epoch, round(cfg.epochs * per_epoch), round(cfg.warmup_epochs * per_epoch)


def lr_factor(step: int, total: int, warmup: int, kind: str = "cosine") -> float:
    if step < warmup:
        return (step + 1) / warmup
    if total <= warmup or kind == "constant":
        return 1.0
    return 0.5 * (1 + math.cos(math.pi * (step - warmup) / (total - warmup)))


def mixed(segments: list[dict], key: str):
    """A record's top-level value of `key` over its training's segments: the one value, or where a
    resume changed it, "mixed: " and each segment's (the record then says what it is made of)."""
    values = [seg[key] for seg in segments]
    if len(set(map(str, values))) <= 1:
        return values[-1] if values else None
    return "mixed: " + "; ".join(f"{seg[key]} from step {seg['from_step']}" for seg in segments)


@dataclass
class TrainResult:
    metrics: dict
    curve: list = field(default_factory=list)
    spectrum: torch.Tensor | None = None
    info: dict = field(default_factory=dict)
    evals: list = field(default_factory=list)  # the learning curve, when cfg.eval_every is set


def no_bar():  # stands in for tqdm where it is not installed
    return SimpleNamespace(update=lambda n=1: None, set_postfix=lambda **kw: None, close=lambda: None)


class TrainingDiverged(RuntimeError):
    """The loss became inf/nan: the run stops with this one-line error instead of a result."""


# metrics of the final model taken from `snapshot_metrics` into the record
SNAPSHOT_METRICS = ("bias_", "a8_", "p_", "decor_")


class Trainer:
    def __init__(self, cfg, data, device="auto"):
        self.cfg, self.data, self.device = cfg, data, pick_device(device)
        self.rank, self.world = distributed.setup(self.device)  # torchrun: N processes, one run
        torch.manual_seed(cfg.seed)
        self.fast = fast_features(cfg.fast, self.device)
        self.model = build_model(cfg).to(self.device)
        if distributed.wanted(self.world):
            distributed.check(cfg, self.world)
            self.model = distributed.global_batchnorm(self.model, self.device)
        if self.fast["channels_last"]:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.model.predictor.requires_grad_(cfg.predictor_trainable)
        self.forward = torch.compile(self.model) if self.fast["compile"] else self.model
        self.probe = torch.nn.Linear(self.model.backbone.out_dim, data.num_classes).to(self.device)
        n = len(data.train_y) if cfg.train_subset == 0 else min(cfg.train_subset, len(data.train_y))
        keep = balanced_subset(data.train_y, n) if n < len(data.train_y) else slice(None)
        self.train_x = data.train_x[keep].to(self.device)  # a fixed class-balanced subset (seed 0),
        self.train_y = data.train_y[keep].to(self.device)  # the same for every run seed
        if cfg.batch_size > n:
            raise ConfigError(f"bad value {cfg.batch_size!r} for batch_size: larger than the {n} training "
                              "images (train_subset); a batch cannot hold more images than the set")
        self.per_epoch, self.total, self.warmup = schedule(cfg, n)
        if cfg.phases:  # Figure 5(b): one loss per phase, switched at fixed steps
            self.loss_fn = torch.nn.ModuleList(
                [build_loss(dataclasses.replace(cfg, loss=p[0], options=p[2] if len(p) > 2 else {}),
                            num_images=n) for p in cfg.phases]).to(self.device)
            ends = itertools.accumulate(p[1] for p in cfg.phases)
            self.phase_ends = [round(e * self.total) for e in ends]
        else:
            self.loss_fn, self.phase_ends = build_loss(cfg, num_images=n).to(self.device), []
        lr = cfg.base_lr * cfg.batch_size / 256
        self.lr = lr
        decayed = list(self.model.backbone.parameters()) + list(self.model.projector.parameters())
        decayed += list(self.loss_fn.parameters())  # e.g. an inverse predictor, trained like f
        groups = [  # (parameters, peak lr, lr fixed?, weight decay)
            (decayed, lr, False, cfg.weight_decay),
            # Chen & He Table 1(b): a predictor fixed at its random initialisation is not optimised
            (list(self.model.predictor.parameters()) if cfg.predictor_trainable else [], lr,
             cfg.predictor_fixed_lr, cfg.weight_decay),
            (list(self.probe.parameters()), cfg.probe_lr, False, 0.0),
        ]
        groups = [g for g in groups if g[0]]  # e.g. the identity predictor has no parameters
        self.peak_lr = [(peak, fixed) for _, peak, fixed, _ in groups]
        self.opt = make_sgd([dict(params=p, lr=peak, weight_decay=wd) for p, peak, _, wd in groups],
                            self.fast["fused_sgd"], lr=lr, momentum=cfg.momentum,
                            weight_decay=cfg.weight_decay)
        self.g_data = torch.Generator().manual_seed(cfg.seed)
        self.g_aug = torch.Generator(device=self.device).manual_seed(cfg.seed + 1)
        self.step, self.perm, self.curve, self.elapsed = 0, None, [], 0.0
        self.evals, self.eval_seconds = [], 0.0  # the learning curve (cfg.eval_every)
        self.segments = []  # each stretch of training this run had: from which step, on what, how
        self.last_eval = (None, None)  # (step, evaluate_backbone's result) of the latest monitor()
        self.target = None  # Chen & He's k-step alternation: the encoder that computes eta
        self.nonfinite, self.last_finite_check = None, 0  # the GPU's on-device loss check

    # ---- checkpoints -------------------------------------------------------------------------
    def state(self) -> dict:
        return dict(step=self.step, perm=self.perm, curve=self.curve, elapsed=self.elapsed, evals=self.evals,
                    segments=self.segments,
                    config_hash=config_hash(self.cfg), model=self.model.state_dict(),
                    loss_fn=self.loss_fn.state_dict(), probe=self.probe.state_dict(),
                    target=self.target.state_dict() if self.target is not None else None,
                    opt=self.opt.state_dict(), g_data=self.g_data.get_state(),
                    g_aug=self.g_aug.get_state(), rng=torch.get_rng_state())  # rng: e.g. random negatives

    def save(self, path: Path) -> None:
        if self.rank != 0:  # under torchrun rank 0 writes; every rank resumes from its file
            return
        atomic_torch_save(sealed(self.state()), path)

    def load(self, path: Path) -> bool:
        """Resume from `path` if it holds a checkpoint of this very config.  The file is loaded
        with weights_only=True (tensors, numbers, strings, lists and dicts: a pickled object in a
        shared cache folder cannot run code) and its checksum verified (ssllib.integrity); one that
        cannot be read, does not match its checksum, is of another config or does not fit this
        model is reported in one line and the run starts over from step 0."""
        if not path.is_file():
            return False
        try:
            s = check_sealed(torch.load(path, map_location=self.device, weights_only=True), "checkpoint")
            if s.get("config_hash") != config_hash(self.cfg):
                raise ValueError("it is not a checkpoint of this config")
            self._restore(s)
        except Exception as e:  # noqa: BLE001  (any damage: report, and train from scratch)
            import sys
            print(f"checkpoint {path} not used ({one_line(e)}); starting over from step 0", file=sys.stderr)
            self.__init__(self.cfg, self.data, self.device)  # undo a partial restore
            return False
        return True

    def _restore(self, s: dict) -> None:
        self.model.load_state_dict(s["model"])
        self.loss_fn.load_state_dict(s["loss_fn"])
        self.probe.load_state_dict(s["probe"])
        self.opt.load_state_dict(s["opt"])
        self.g_data.set_state(s["g_data"].cpu())  # generator states are CPU byte tensors,
        self.g_aug.set_state(s["g_aug"].cpu())    # whatever map_location moved them to
        if "rng" in s:  # checkpoints written before the global RNG was saved lack it
            torch.set_rng_state(s["rng"].cpu())
        self.step, self.perm, self.curve, self.elapsed = s["step"], s["perm"], s["curve"], s["elapsed"]
        self.evals = s.get("evals", [])
        self.segments = s.get("segments", [])  # older checkpoints did not keep them
        if s.get("target") is not None:
            self.target = self.frozen_copy()
            self.target.load_state_dict(s["target"])

    # ---- one step ----------------------------------------------------------------------------
    def batch_indices(self) -> torch.Tensor:
        i = self.step % self.per_epoch
        if i == 0 or self.perm is None:
            self.perm = torch.randperm(len(self.train_x), generator=self.g_data)
        return self.perm[i * self.cfg.batch_size:(i + 1) * self.cfg.batch_size]

    def frozen_copy(self):
        """The k-step target encoder: a copy of the model that is never optimised."""
        return copy.deepcopy(self.model).requires_grad_(False)

    def phase(self) -> int:
        return next((i for i, end in enumerate(self.phase_ends) if self.step < end), 0)

    def current_loss(self):
        return self.loss_fn[self.phase()] if self.phase_ends else self.loss_fn

    def set_lr(self) -> float:
        f = lr_factor(self.step, self.total, self.warmup, self.cfg.lr_schedule)
        for group, (peak, fixed) in zip(self.opt.param_groups, self.peak_lr):
            group["lr"] = peak if fixed else peak * f
        return self.lr * f

    def check_finite(self, loss: torch.Tensor, due: bool) -> None:
        """Stop on an inf/nan loss.  On a GPU the test stays on the device (a flag, or-ed every
        step) and is read on the host only at steps that synchronise anyway (logging, the last), so
        that no step waits for the GPU; on a CPU it is read every step."""
        bad = ~torch.isfinite(loss.detach())
        if self.device.type == "cuda":
            self.nonfinite = bad if self.nonfinite is None else self.nonfinite | bad
            if not due:
                return
            if not bool(self.nonfinite):
                self.last_finite_check = self.step
                return
            where = f"between steps {self.last_finite_check} and {self.step}"
        else:
            if not bool(bad):
                return
            where = f"at step {self.step}"
        raise TrainingDiverged(f"{self.cfg.experiment}/{self.cfg.variant}: loss {loss.item()} {where}; nothing "
                               "was recorded (lower the learning rate or the loss weight)")

    def train_step(self) -> dict:
        idx = self.batch_indices().to(self.device)
        x = self.train_x[idx]
        with scope("augment"):  # named parts of the step, for benchmarks/step_profile.py
            views = [simsiam_augment(x, self.g_aug) for _ in range(self.cfg.n_views)]
        if self.world > 1:  # every rank augments the global batch alike and keeps its own shard
            views = [distributed.shard(v, self.rank, self.world) for v in views]
            idx = distributed.shard(idx, self.rank, self.world)
        if self.fast["channels_last"]:
            views = [v.contiguous(memory_format=torch.channels_last) for v in views]
        autocast = torch.autocast(self.device.type, torch.bfloat16, enabled=self.fast["bf16_autocast"])
        with autocast, scope("forward"):
            feats, z = self.forward(views)
        feats, z = [f.float() for f in feats], [v.float() for v in z]  # losses and metrics in fp32
        loss_fn = self.current_loss()
        extra = {"index": idx} if getattr(loss_fn, "needs_index", False) else {}
        if self.cfg.target_every:  # k-step alternation: eta from an encoder refreshed every k steps
            k = self.per_epoch if self.cfg.target_every == "epoch" else self.cfg.target_every
            if self.target is None or self.step % k == 0:
                self.target = self.frozen_copy()
            with torch.no_grad(), autocast:  # the same arithmetic as the online encoder
                extra["targets"] = [v.float() for v in self.target(views)[1]]
        with scope("loss"):
            loss = loss_fn(z, self.model.predictor, **extra)
        log_now = self.step % self.cfg.log_every == 0 or self.step == self.total - 1
        self.check_finite(loss, due=log_now)
        logits = self.probe(feats[0].detach())
        probe_loss = F.cross_entropy(logits, self.train_y[idx])
        lr = self.set_lr()
        self.opt.zero_grad(set_to_none=True)
        with scope("backward"):
            (loss + probe_loss).backward()
        if self.world > 1:
            distributed.average_gradients([p for g in self.opt.param_groups for p in g["params"]], self.world)
        with scope("optimizer"):
            self.opt.step()
        row = None
        if log_now:
            with scope("metrics"):
                row = self.log_row(z[0].detach(), logits, idx, loss, lr)
        self.step += 1
        return row

    @torch.no_grad()
    def log_row(self, z0, logits, idx, loss, lr) -> dict:
        """A training-log row: loss, lr, online probe, Sec. 3.1's indicators of z, Fig. 5(a)'s eta."""
        z0 = distributed.gather(z0, self.world)  # metrics of the global batch
        hits = (logits.argmax(1) == self.train_y[idx]).float().mean()
        row = dict(step=self.step, epoch=self.step / self.per_epoch, loss=distributed.mean(loss, self.world).item(),
                   lr=lr, probe_acc=100 * distributed.mean(hits, self.world).item(), **decomposition_metrics(z0))
        if self.phase_ends:
            row["phase"] = self.phase()
        if any(True for _ in self.model.predictor.parameters()):  # a copy: BN statistics stay untouched
            row.update(centre_products(z0, copy.deepcopy(self.model.predictor)(z0)))
        return row

    @torch.no_grad()
    def snapshot_metrics(self) -> dict:
        """Metrics of the current model on one fixed augmented two-view batch: the decomposition
        (used for 0-step runs, which have no training log) and, when the predictor has an output
        bias, Table 6's bias-centre similarity and A.8's coefficient."""
        g = torch.Generator(device=self.device).manual_seed(self.cfg.seed + 2)
        x = self.train_x[: self.cfg.batch_size]
        model = copy.deepcopy(self.model).train()  # batch statistics, as in the training log
        _, z = model([simsiam_augment(x, g), simsiam_augment(x, g)])
        out = decomposition_metrics(z[0])
        # the predictor's output p = h(z): where the loss acts on P (Symmetric Predictor, Fig. 2b),
        # h(f(.)) is the encoder that can collapse even while z does not
        out.update({f"p_{k}": v for k, v in decomposition_metrics(model.predictor(z[0])).items()})
        bias = last_bias(model.predictor)
        if bias is not None and bias.shape[0] == z[0].shape[1]:
            a8 = isinstance(model.predictor, BiasOnly)  # A.8's derivation is for p = Z + b only
            out.update(bias_centre_metrics(bias, z[0], z[1], a8=a8))
        out.update(decorrelation_alignment(z[0], z[1]))  # Figure 5(c), on this model's z
        return out

    def due_for_eval(self) -> bool:
        """Every `eval_every` epochs (and at steps 0 and total), unless already done here."""
        if not self.cfg.eval_every or (self.evals and self.evals[-1]["step"] == self.step):
            return False
        every = max(1, round(self.cfg.eval_every * self.per_epoch))
        return self.step % every == 0 or self.step == self.total

    def monitor(self) -> None:
        """The learning curve: kNN and linear accuracy of the backbone as it is now, on
        the run's fixed evaluation split, with the latest logged collapse indicators.  It touches
        no training state or generator, so a run with it trains exactly as one without."""
        t0 = time.time()
        self.last_eval = (self.step, evaluate_backbone(self.model.backbone, self.data, self.cfg, self.device,
                                                       seed=self.cfg.seed))
        m = self.last_eval[1][0]
        last = self.curve[-1] if self.curve else {}
        self.evals.append(dict(step=self.step, epoch=round(self.step / self.per_epoch, 4),
                               knn_acc=m["knn_acc"], linear_acc=m["linear_acc"],
                               spectral_auc=m["spectral_auc"], effective_rank=m["effective_rank"],
                               **{k: last[k] for k in ("m_o", "m_r", "z_std_sqrt_d") if k in last}))
        self.eval_seconds += time.time() - t0

    # ---- the loop ----------------------------------------------------------------------------
    def fit(self, ckpt_path: Path | None = None, progress: bool = True,
            max_steps: int | None = None) -> TrainResult | None:
        """Train to the end (resuming from `ckpt_path` if it matches) and evaluate.

        `max_steps` stops the loop early *without* a checkpoint at that step and returns None: it
        simulates a run killed mid-way (the tests use it to check resume).
        """
        resumed_at = self.step if ckpt_path is not None and self.load(ckpt_path) else 0
        start_step = self.step
        self.segments = self.segments + [{  # a resume across a change of arithmetic or processes says so
            "from_step": self.step, "device": device_name(self.device), "processes": self.world,
            "arithmetic": "bf16 autocast" if self.fast["bf16_autocast"] else "fp32"}]
        loads = [load_average()]  # the machine's load over the run, sampled at every checkpoint
        t0 = time.time()
        bar = tqdm(total=self.total, initial=self.step, disable=not progress, desc=self.cfg.variant,
                   mininterval=5) if tqdm is not None else no_bar()
        while self.step < self.total:
            if max_steps is not None and self.step >= max_steps:
                bar.close()
                return None
            if self.due_for_eval():
                t_eval = time.time()
                self.monitor()
                t0 += time.time() - t_eval  # evaluation is not training time
            row = self.train_step()
            bar.update(1)
            if row is not None:
                self.curve.append(row)
                bar.set_postfix(loss=f"{row['loss']:.3f}", m_r=f"{row['m_r']:.3f}")
            if ckpt_path is not None and self.step % self.cfg.ckpt_every == 0:
                self.elapsed += time.time() - t0
                t0 = time.time()
                self.save(ckpt_path)
                loads.append(load_average())
        bar.close()
        if self.device.type == "cuda":
            torch.cuda.synchronize()
        self.elapsed += time.time() - t0
        steps_here = self.step - start_step
        if self.due_for_eval():  # the curve ends at the end of training
            self.monitor()
        eval_t0 = time.time()
        if self.cfg.bn_calibration:
            calibrate_bn(self.model.backbone, self.train_x, self.cfg.bn_calibration, seed=self.cfg.seed + 3)
        if not self.cfg.bn_calibration and self.last_eval[0] == self.step:
            metrics, spectrum, (f_te, y_te) = self.last_eval[1]  # the curve's last point: the same call
        else:
            metrics, spectrum, (f_te, y_te) = evaluate_backbone(self.model.backbone, self.data, self.cfg,
                                                                self.device, seed=self.cfg.seed)
        with torch.no_grad():
            online = self.probe(f_te.to(self.device)).argmax(1).cpu() == y_te
        metrics["online_linear_acc"] = 100 * online.float().mean().item()
        snapshot = self.snapshot_metrics()
        last = self.curve[-5:] if self.curve else [snapshot]
        for key in ("z_std", "z_std_sqrt_d", "m_o", "m_r", "covariance", "covariance_z", "eta_p", "eta_z"):
            if all(key in r for r in last):
                metrics[key] = sum(r[key] for r in last) / len(last)
        metrics.update({k: v for k, v in snapshot.items() if k.startswith(SNAPSHOT_METRICS)})
        if ckpt_path is not None:
            self.save(ckpt_path)
        images = self.total * self.cfg.batch_size * self.cfg.n_views
        info = dict(steps=self.total, processes=mixed(self.segments, "processes"), steps_per_epoch=self.per_epoch, warmup_steps=self.warmup,
                    train_images=len(self.train_x), resumed_at_step=resumed_at,
                    train_class_counts=torch.bincount(self.train_y.cpu()).tolist(),
                    train_seconds=self.elapsed, eval_seconds=time.time() - eval_t0,
                    images_per_s=images / self.elapsed if self.elapsed > 0 and steps_here else None,
                    device=mixed(self.segments, "device"), fast=self.fast,
                    arithmetic=mixed(self.segments, "arithmetic"), segments=self.segments,
                    monitor_seconds=self.eval_seconds,  # the learning curve's evaluations in this process
                    load_average=[x for x in loads + [load_average()] if x is not None])
        return TrainResult(metrics, self.curve, spectrum, info, self.evals)
