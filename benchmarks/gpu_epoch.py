"""Seconds per epoch of full-width CIFAR ResNet-18 SimSiam, ours vs the conventional way, one run.

    .venv/bin/python benchmarks/gpu_epoch.py                   # on a GPU: the issue-8 numbers
    .venv/bin/python benchmarks/gpu_epoch.py --device cpu --profile smoke --steps 2   # plumbing

Setting: 50,000 images, 2 views, batch 512, projector 2048, predictor 512 (the `gpu`
profile).  (a) Baseline: DataLoader (workers = cores) + torchvision PIL transforms on the CPU, fp32,
contiguous, plain SGD.  (b) Ours: `ssllib.train.Trainer` with its fast path (data resident on the
device as uint8, augmentation batched on the device, channels_last + bf16 autocast + fused SGD;
`--fast compile` adds torch.compile).  Ours is timed over one whole epoch after warm-up steps;
the baseline over `--baseline-steps` steps and scaled to an epoch (said in the output).  The FLOP
floor is the counted FLOPs of one training step x steps per epoch, divided by the bf16 matmul
throughput measured on the same device in the same run.  Without CUDA the GPU figures are
reported as not measured, never estimated.  Writes results/benchmarks/gpu_epoch-<device>.json.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from input_pipeline import TwoViewPIL, sync, write_json  # noqa: E402
from ssllib.config import profile_config  # noqa: E402
from ssllib.data import load_dataset  # noqa: E402
from ssllib.loss_registry import build_loss  # noqa: E402
from ssllib.models import build_model  # noqa: E402
from ssllib.hardware import device_name, pick_device  # noqa: E402
from ssllib.train import Trainer  # noqa: E402


def seconds(fn, device) -> float:
    sync(device)
    t0 = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - t0


def ours(cfg, data, device, warmup: int, steps: int | None) -> tuple[float, int, dict]:
    """(seconds for `steps` training steps after `warmup` steps, steps timed, fast features)."""
    t = Trainer(cfg, data, device)
    steps = steps or t.per_epoch
    for _ in range(warmup):
        t.train_step()
    return seconds(lambda: [t.train_step() for _ in range(steps)], device), steps, t.fast


def baseline(cfg, data, device, warmup: int, steps: int) -> float:
    """Seconds for `steps` steps of the conventional loop (CPU PIL transforms, fp32)."""
    model = build_model(cfg).to(device)
    loss_fn = build_loss(cfg).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-5)
    loader = torch.utils.data.DataLoader(TwoViewPIL(data.train_x), batch_size=cfg.batch_size,
                                         shuffle=True, num_workers=os.cpu_count() or 1, drop_last=True,
                                         pin_memory=device.type == "cuda")
    it = iter(loader)

    def step():
        a, b = next(it)
        _, z = model([a.to(device, non_blocking=True), b.to(device, non_blocking=True)])
        opt.zero_grad(set_to_none=True)
        loss_fn(z, model.predictor).backward()
        opt.step()
    for _ in range(warmup):
        step()
    return seconds(lambda: [step() for _ in range(steps)], device)


def step_flops(cfg, device) -> float:
    """FLOPs of one fwd+bwd SimSiam step (two views), counted by torch's FlopCounterMode."""
    from torch.utils.flop_counter import FlopCounterMode

    model, loss_fn = build_model(cfg).to(device), build_loss(cfg).to(device)
    x = torch.randn(cfg.batch_size, 3, 32, 32, device=device)
    with FlopCounterMode(display=False) as counter:
        _, z = model([x, x.clone()])
        loss_fn(z, model.predictor).backward()
    return float(counter.get_total_flops())


def matmul_tflops(device, n: int = 8192, reps: int = 20) -> float:
    a = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    b = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    a @ b
    return 2 * n ** 3 * reps / seconds(lambda: [a @ b for _ in range(reps)], device) / 1e12


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--profile", default="gpu")
    ap.add_argument("--fast", default="auto", help="ours: auto | compile | bf16 | off")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--steps", type=int, default=None, help="ours: steps timed (default: one epoch)")
    ap.add_argument("--baseline-steps", type=int, default=20)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--dataset", default="cifar10", help="cifar10, or synthetic for a plumbing check")
    ap.add_argument("--out", default=None, help="folder for the JSON (default results/benchmarks)")
    args = ap.parse_args()
    device = pick_device(args.device)
    cfg = profile_config(args.profile, fast=args.fast)
    data = load_dataset(args.dataset, args.data_dir)
    per_epoch = len(data.train_x) // cfg.batch_size
    result = {"device": device_name(device), "torch": torch.__version__, "profile": args.profile,
              "width": cfg.width, "batch": cfg.batch_size, "proj_dim": cfg.proj_dim,
              "pred_hidden": cfg.pred_hidden, "steps_per_epoch": per_epoch, "data_source": data.source,
              "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    t_ours, n_ours, fast = ours(cfg, data, device, args.warmup, args.steps)
    t_base = baseline(cfg, data, device, min(args.warmup, 2), args.baseline_steps)
    flops = step_flops(cfg, device)
    result |= {"ours_fast_features": fast, "ours_steps_timed": n_ours,
               "ours_epoch_seconds": t_ours / n_ours * per_epoch,
               "baseline_steps_timed": args.baseline_steps,
               "baseline_epoch_seconds": t_base / args.baseline_steps * per_epoch,
               "step_tflop": flops / 1e12}
    result["speedup_vs_baseline"] = result["baseline_epoch_seconds"] / result["ours_epoch_seconds"]
    if device.type == "cuda":
        peak = matmul_tflops(device)
        result |= {"bf16_matmul_tflops_measured": peak,
                   "flop_floor_epoch_seconds": flops * per_epoch / (peak * 1e12)}
        result["ours_over_floor"] = result["ours_epoch_seconds"] / result["flop_floor_epoch_seconds"]
        result["gpu_note"] = "measured on this device in this run"
    else:
        result["gpu_note"] = ("not measured: no CUDA device in the run that wrote this file; the "
                              "numbers above are this device's, for the plumbing, not GPU figures")
    out = write_json(result, f"gpu_epoch-{device.type}-{args.profile}.json", args.out)
    print(f"device: {result['device']}, profile {args.profile} (width {cfg.width}, batch {cfg.batch_size})")
    print(f"  baseline (PIL + DataLoader, fp32): {result['baseline_epoch_seconds']:8.1f} s/epoch "
          f"(from {args.baseline_steps} steps)")
    print(f"  ours {fast}: {result['ours_epoch_seconds']:8.1f} s/epoch (from {n_ours} steps) "
          f"= {result['speedup_vs_baseline']:.1f}x faster")
    if "flop_floor_epoch_seconds" in result:
        print(f"  FLOP floor {result['flop_floor_epoch_seconds']:.2f} s/epoch at a measured "
              f"{result['bf16_matmul_tflops_measured']:.0f} TFLOP/s: ours is {result['ours_over_floor']:.1f}x the floor")
    print(f"  {result['gpu_note']}")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
