"""The cpu profile's training step in fp32 and in bf16 autocast, measured in the same run.

    .venv/bin/python benchmarks/cpu_step.py [--steps 6] [--repeats 3]

Times `ssllib.train.Trainer.train_step` (augmentation, forward, loss, backward, SGD) at the cpu
profile (width-16 ResNet-18, batch 256, two views) with `fast="off"` (plain fp32) and `fast="bf16"`
(channels_last + bf16 autocast), alternating, best of `--repeats` for each side.  FLOPs of one
step are counted by torch's FlopCounterMode; torch.mm of two 4096x4096 matrices in fp32 and bf16,
timed in the same run (best of `--repeats` too, its size recorded), gives each arithmetic's
roofline.  Prints the ratios and writes results/benchmarks/cpu_step-<cpu>.json, only if the machine
was quiet before and after (`benchmarks/idle.py`; `--pause-training` stops background `ssllib run`
processes for the measurement and resumes them; `--allow-busy` writes a figure marked idle=false).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from gpu_epoch import step_flops  # noqa: E402
from idle import quiet_machine, write_if_idle  # noqa: E402
from ssllib.config import profile_config  # noqa: E402
from ssllib.data import load_dataset  # noqa: E402
from ssllib.hardware import cpu_model, cpu_native_bf16, device_name  # noqa: E402
from ssllib.train import Trainer  # noqa: E402


def seconds_per_step(trainer: Trainer, steps: int) -> float:
    trainer.train_step()  # warm-up: first-call allocations and kernel selection
    t0 = time.perf_counter()
    for _ in range(steps):
        trainer.train_step()
    return (time.perf_counter() - t0) / steps


def matmul_gflops(dtype, n: int = 4096, reps: int = 3, repeats: int = 3) -> float:
    """torch.mm's GFLOP/s on two n x n matrices: the best of `repeats` timings of `reps` products."""
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(reps):
            a @ b
        best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 * reps / best / 1e9


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="cpu")
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--repeats", type=int, default=3, help="timings per side; the best is kept")
    ap.add_argument("--matmul-n", type=int, default=4096)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--dataset", default="cifar10", help="cifar10, or synthetic for a plumbing check")
    ap.add_argument("--out", default=None, help="folder for the JSON (default results/benchmarks)")
    ap.add_argument("--pause-training", action="store_true", help="SIGSTOP background `ssllib run` meanwhile")
    ap.add_argument("--allow-busy", action="store_true", help="write the JSON even if the machine was busy")
    ap.add_argument("--wait-s", type=float, default=240.0, help="how long to wait for a quiet machine first")
    args = ap.parse_args()
    data = load_dataset(args.dataset, args.data_dir)
    cfg = profile_config(args.profile, dataset=args.dataset, log_every=10 ** 6)
    with quiet_machine(args.pause_training, args.wait_s) as machine:
        trainers = {mode: Trainer(cfg.replace(fast=mode), data, "cpu") for mode in ("off", "bf16")}
        best = {mode: float("inf") for mode in trainers}
        for _ in range(args.repeats):  # alternate, so that a change in load hits both sides alike
            for mode, trainer in trainers.items():
                best[mode] = min(best[mode], seconds_per_step(trainer, args.steps))
        flops = step_flops(cfg, torch.device("cpu"))
        roof = {"off": matmul_gflops(torch.float32, args.matmul_n, repeats=args.repeats),
                "bf16": matmul_gflops(torch.bfloat16, args.matmul_n, repeats=args.repeats)}
    result = {"device": device_name(torch.device("cpu")), "cpu_model": cpu_model(),
              "native_bf16": cpu_native_bf16(), "threads": torch.get_num_threads(),
              "torch": torch.__version__, "aten_cpu_capability": torch.backends.cpu.get_cpu_capability(),
              "profile": args.profile, "width": cfg.width, "batch": cfg.batch_size, "views": cfg.n_views,
              "step_gflop": flops / 1e9, "steps_timed": args.steps, "repeats": args.repeats,
              "matmul_n": args.matmul_n, "idle": machine["idle"], "machine_before": machine["before"],
              "machine_after": machine["after"], "paused_training": bool(machine["paused_training_pids"]),
              "data_source": data.source, "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    for mode, name in (("off", "fp32"), ("bf16", "bf16")):
        gflops = flops / best[mode] / 1e9
        result |= {f"{name}_seconds_per_step": best[mode], f"{name}_gflop_per_s": gflops,
                   f"{name}_matmul_gflop_per_s": roof[mode], f"{name}_fraction_of_matmul": gflops / roof[mode]}
    result["bf16_speedup"] = best["off"] / best["bf16"]
    print(f"{result['device']}, profile {args.profile}: {flops / 1e9:.0f} GFLOP per step")
    for name in ("fp32", "bf16"):
        print(f"  {name}: {result[f'{name}_seconds_per_step']:.3f} s/step = {result[f'{name}_gflop_per_s']:.0f} "
              f"GFLOP/s, {100 * result[f'{name}_fraction_of_matmul']:.0f}% of torch.mm's "
              f"{result[f'{name}_matmul_gflop_per_s']:.0f}")
    print(f"  bf16 autocast is {result['bf16_speedup']:.2f}x fp32 (machine before {machine['before']}, "
          f"after {machine['after']}, idle={machine['idle']})")
    return write_if_idle(result, "cpu_step", machine, args.allow_busy, args.out)


if __name__ == "__main__":
    sys.exit(main())
