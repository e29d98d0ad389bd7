"""Where a long run's time goes, and seeds per hour at cpu_long for each lever, measured in one run.

    .venv/bin/python benchmarks/step_profile.py [--steps 6] [--pause-training]

1. The step, under torch.profiler (`--steps` steps after two warm-up steps) at the cpu_long
   profile in bf16 autocast: the named parts of `Trainer.train_step` (augment, forward, loss,
   backward, optimizer, metrics: inclusive time each), and every op's self time grouped by kind
   (convolutions forward and backward per layer width, batch norm, linear layers, optimizer
   arithmetic, the rest), as shares of the step.
2. Outside the step, timed directly: one periodic evaluation (kNN + linear probe on 10,000 /
   10,000 images), amortised over a cpu_long run's evaluations.
3. Seeds per hour at cpu_long = 3600 / (steps x s/step + evaluations x s/evaluation + one-time
   cost), for each lever measured side by side (the step timed alternately, best of `--repeats`):
   eager bf16 (today's default) and bf16 + torch.compile (`fast="compile"`, its compile time paid
   once per run and counted; `inductor_cache.warm` says whether this machine had compiled before:
   a cold compile costs far more than one read from the cache).
Writes results/benchmarks/step_profile-<cpu>.json only if the machine was quiet (`idle.py`).
"""
from __future__ import annotations

import argparse
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from cpu_step import seconds_per_step  # noqa: E402
from idle import quiet_machine, run_shape, write_if_idle  # noqa: E402
from ssllib.config import profile_config  # noqa: E402
from ssllib.data import load_dataset  # noqa: E402
from ssllib.evaluate import evaluate_backbone  # noqa: E402
from ssllib.hardware import cpu_model, device_name  # noqa: E402
from ssllib.train import Trainer  # noqa: E402

PARTS = ("augment", "forward", "loss", "backward", "optimizer", "metrics")


def op_kind(name: str, shapes) -> str:
    """An op's kind for the table: convolutions by their output channels (the layer's width)."""
    if "convolution_backward" in name:
        return f"conv backward, {shapes[2][0]} ch" if len(shapes) > 2 and shapes[2] else "conv backward"
    if "convolution" in name or "conv2d" in name:
        return f"conv forward, {shapes[1][0]} ch" if len(shapes) > 1 and shapes[1] else "conv forward"
    if "batch_norm" in name:
        return "batch norm (fwd + bwd)"
    if re.search(r"aten::(addmm|mm|bmm|linear|matmul)", name):
        return "linear layers (heads, probe)"
    if re.search(r"aten::(threshold_backward|clamp_min_?|relu_?)$", name):
        return "ReLU (fwd + bwd)"
    if re.search(r"aten::add_?$", name):
        return "adds (residuals, gradient accumulation)"
    if "_foreach" in name or "sgd" in name.lower():
        return "optimizer arithmetic"
    return "other (copies, casts, augmentation ops, metrics, ...)"


def profile_step(trainer: Trainer, steps: int) -> dict:
    from torch.profiler import ProfilerActivity, profile

    trainer.train_step()
    trainer.train_step()
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        t0 = time.perf_counter()
        for _ in range(steps):
            trainer.train_step()
        wall = (time.perf_counter() - t0) / steps
    parts, kinds = defaultdict(float), defaultdict(float)
    for e in prof.key_averages(group_by_input_shape=True):
        if e.key in PARTS:
            parts[e.key] += e.cpu_time_total / 1e6 / steps
        elif not e.key.startswith("ProfilerStep"):
            kinds[op_kind(e.key, e.input_shapes)] += e.self_cpu_time_total / 1e6 / steps
    total = sum(kinds.values())
    return {"seconds_per_step_profiled": wall,
            "parts_seconds_per_step": dict(parts),
            "parts_share": {k: v / wall for k, v in parts.items()},
            "op_kinds_share": dict(sorted(((k, v / total) for k, v in kinds.items()), key=lambda kv: -kv[1]))}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="cpu_long")
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--dataset", default="cifar10", help="cifar10, or synthetic for a plumbing check")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--levers", default="bf16,compile", help="fast modes to compare (the first is the baseline)")
    ap.add_argument("--out", default=None)
    ap.add_argument("--pause-training", action="store_true")
    ap.add_argument("--allow-busy", action="store_true")
    ap.add_argument("--wait-s", type=float, default=240.0)
    args = ap.parse_args()
    data = load_dataset(args.dataset, args.data_dir)
    cfg = profile_config(args.profile, dataset=args.dataset)
    levers = args.levers.split(",")
    from torch._inductor.runtime.cache_dir_utils import cache_dir as inductor_cache_dir
    cache = Path(inductor_cache_dir())  # created empty if it was not there
    inductor = {"dir": str(cache), "warm": any(cache.iterdir())}  # has this machine compiled before?
    with quiet_machine(args.pause_training, args.wait_s) as machine:
        trainers, once = {}, {}
        for mode in levers:  # a lever's one-time cost: building, and compiling on the first steps
            t0 = time.perf_counter()
            trainers[mode] = Trainer(cfg.replace(fast=mode), data, "cpu")
            trainers[mode].train_step()
            trainers[mode].train_step()
            once[mode] = time.perf_counter() - t0
        best = {mode: float("inf") for mode in levers}
        for _ in range(args.repeats):  # alternately, so that a change in load hits all alike
            for mode in levers:
                best[mode] = min(best[mode], seconds_per_step(trainers[mode], args.steps))
        prof = profile_step(trainers[levers[0]], args.steps)
        t0 = time.perf_counter()
        evaluate_backbone(trainers[levers[0]].model.backbone, data, cfg, torch.device("cpu"), seed=0)
        eval_s = time.perf_counter() - t0
    total, n_evals = run_shape(cfg, cfg.train_subset or len(data.train_x))
    run_s = {m: total * best[m] + n_evals * eval_s + once[m] - 2 * best[m] for m in levers}
    result = {"device": device_name(torch.device("cpu")), "cpu_model": cpu_model(), "torch": torch.__version__,
              "threads": torch.get_num_threads(), "profile": args.profile, "data_source": data.source,
              "steps_per_run": total, "evaluations_per_run": n_evals, "steps_timed": args.steps,
              "repeats": args.repeats, "idle": machine["idle"], "machine_before": machine["before"],
              "machine_after": machine["after"], "paused_training": bool(machine["paused_training_pids"]),
              "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "inductor_cache": inductor, "profile_of": levers[0], **prof, "evaluation_seconds": eval_s,
              "evaluation_share_of_run": n_evals * eval_s / run_s[levers[0]],
              "levers": {m: {"seconds_per_step": best[m], "one_time_seconds": once[m], "run_minutes": run_s[m] / 60,
                             "seeds_per_hour": 3600 / run_s[m]} for m in levers},
              "baseline": levers[0]}
    for m in levers[1:]:
        result["levers"][m]["seeds_per_hour_ratio"] = run_s[levers[0]] / run_s[m]
    print(f"{result['device']}, {args.profile}: {total} steps + {n_evals} evaluations a run (idle={machine['idle']})")
    print("  the step: " + ", ".join(f"{k} {100 * v:.0f}%" for k, v in prof["parts_share"].items()))
    print("  by op: " + ", ".join(f"{k} {100 * v:.0f}%" for k, v in list(prof["op_kinds_share"].items())[:8]))
    print(f"  one evaluation {eval_s:.1f} s ({100 * result['evaluation_share_of_run']:.1f}% of a run)")
    for m, r in result["levers"].items():
        print(f"  {m}: {r['seconds_per_step']:.3f} s/step, one-time {r['one_time_seconds']:.0f} s, "
              f"{r['run_minutes']:.1f} min a run, {r['seeds_per_hour']:.2f} seeds/hour"
              + (f" ({r['seeds_per_hour_ratio']:.2f}x)" if "seeds_per_hour_ratio" in r else ""))
    return write_if_idle(result, "step_profile", machine, args.allow_busy, args.out)


if __name__ == "__main__":
    sys.exit(main())
