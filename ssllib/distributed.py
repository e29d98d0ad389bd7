"""Data-parallel training under torchrun, with the one training loop.

    torchrun --nproc-per-node N -m ssllib run table2 --profile gpu --variant simsiam

The run keeps its meaning on N processes: `batch_size` is the global batch (the lr scaling is
unchanged); every rank takes the same global batch from the same seeded generators, augments it
with the same stream and keeps its own 1/N shard, so the views are those of one process; every
BatchNorm normalises over the global batch (torch's SyncBatchNorm on GPUs, GlobalBatchNorm below
on CPUs, where SyncBatchNorm is not implemented), as in SimSiam's reference code; gradients are
averaged over the ranks after the backward pass (what DistributedDataParallel does, without its
bucketing: the losses call the predictor outside the model's forward, which DDP's wrapper would
not see); the logged metrics are computed on the gathered global batch.  Only rank 0 takes the
run's lock and writes checkpoints and the result; every rank resumes from the same checkpoint.

Only losses that are a mean of per-sample terms mean the same on a sharded batch (PER_SAMPLE);
the others (a batch centre, negatives, a memory of images) are refused under N > 1.
"""
from __future__ import annotations

import os

import torch
import torch.distributed as dist
from torch.nn.modules.batchnorm import _BatchNorm

from .config import ConfigError

PER_SAMPLE = ("simsiam", "mirror_simsiam", "naive_siamese", "symmetric_predictor", "inverse_predictor")


def launched() -> bool:
    """Started by torchrun with more than one process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def setup(device: torch.device) -> tuple[int, int]:
    """(rank, world size); joins the process group torchrun describes on first use."""
    if not launched():
        return 0, 1
    if not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return dist.get_rank(), dist.get_world_size()


def check(cfg, world: int) -> None:
    """What a run on `world` processes cannot mean the same way: one clear error."""
    if cfg.loss not in PER_SAMPLE or cfg.phases:
        raise ConfigError(f"loss {cfg.loss!r} is not a mean of per-sample terms, so it cannot be split over "
                          f"{world} processes; allowed under torchrun: {', '.join(PER_SAMPLE)}")
    if cfg.batch_size % world:
        raise ConfigError(f"bad value {cfg.batch_size} for batch_size: not divisible by the {world} processes")


class GlobalBatchNorm(_BatchNorm):
    """BatchNorm over the global batch of all ranks, on any device: per-channel sums and sums of
    squares are all-reduced with autograd (torch.distributed.nn), then normalised as BN does
    (biased variance for the output, unbiased for the running estimate).  In one process the same
    arithmetic without the all-reduce: the single-process reference of the equivalence test.
    (It is not torch's fused BN: at SimSiam's initialisation BN's backward is ill-conditioned, and
    the two differ by ~1e-2 in the backbone's gradient at the second step, in one process alike.)"""

    def _check_input_dim(self, x):
        if x.dim() not in (2, 4):
            raise ValueError(f"expected 2D or 4D input (got {x.dim()}D)")

    def forward(self, x):
        if not self.training:
            return super().forward(x)
        dims = [0] + list(range(2, x.dim()))
        xf = x.float()
        count = torch.tensor([x.numel() / x.shape[1]], device=x.device, dtype=torch.float32)
        stats = torch.cat([xf.sum(dims), (xf * xf).sum(dims), count])
        if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            from torch.distributed.nn.functional import all_reduce
            stats = all_reduce(stats)
        c = x.shape[1]
        n = stats[-1]
        mean = stats[:c] / n
        var = stats[c:2 * c] / n - mean * mean
        if self.track_running_stats:
            with torch.no_grad():
                m = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked + 1)
                self.running_mean.mul_(1 - m).add_(m * mean)
                self.running_var.mul_(1 - m).add_(m * var * n / (n - 1))
                self.num_batches_tracked.add_(1)
        shape = [1, c] + [1] * (x.dim() - 2)
        y = (xf - mean.view(shape)) * torch.rsqrt(var.view(shape) + self.eps)
        if self.affine:
            y = y * self.weight.view(shape) + self.bias.view(shape)
        return y.to(x.dtype)


def wanted(world: int) -> bool:
    """Global-batch BN: under torchrun, or in one process with SSLLIB_GLOBAL_BN=1 (the reference)."""
    return world > 1 or os.environ.get("SSLLIB_GLOBAL_BN") == "1"


def global_batchnorm(module: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """Every BatchNorm of `module` normalising over the global batch (SyncBatchNorm on a GPU)."""
    if device.type == "cuda" and dist.is_available() and dist.is_initialized():
        return torch.nn.SyncBatchNorm.convert_sync_batchnorm(module)
    for name, child in module.named_children():
        if isinstance(child, _BatchNorm):
            new = GlobalBatchNorm(child.num_features, child.eps, child.momentum, child.affine,
                                  child.track_running_stats)
            new.load_state_dict(child.state_dict())
            setattr(module, name, new.to(next(child.buffers(), torch.empty(0)).device))
        else:
            global_batchnorm(child, device)
    return module


def shard(t: torch.Tensor, rank: int, world: int) -> torch.Tensor:
    n = t.shape[0] // world
    return t[rank * n:(rank + 1) * n]


def average_gradients(params, world: int) -> None:
    for p in params:
        if p.grad is not None:
            dist.all_reduce(p.grad)
            p.grad.div_(world)


@torch.no_grad()
def gather(t: torch.Tensor, world: int) -> torch.Tensor:
    """The global batch from every rank's shard, in rank order."""
    if world == 1:
        return t
    parts = [torch.empty_like(t) for _ in range(world)]
    dist.all_gather(parts, t.contiguous())
    return torch.cat(parts)


def mean(x: torch.Tensor, world: int) -> torch.Tensor:
    """The mean over ranks of a per-rank mean (equal shards: the global mean)."""
    if world == 1:
        return x
    x = x.detach().clone()
    dist.all_reduce(x)
    return x / world


def barrier(world: int) -> None:
    if world > 1:
        dist.barrier()

