"""Seeds per hour at cpu_long: one seed on all the cores, or several seeds side by side with fewer
threads each, measured in one run.

    .venv/bin/python benchmarks/side_by_side.py [--layouts 1x2,2x1] [--steps 8] [--pause-training]

A layout "PxT" trains P seeds at once, each in its own process with T threads (P x T = the cores;
"1x2" is what `ssllib run` does by default on 2 cores).  The step profile
(results/benchmarks/step_profile-*.json) says why this can pay: batch norm, ReLU and the residual
adds (~half the bf16 step) are small memory-bound ops and the width-16 convolutions are too narrow
for oneDNN to keep two threads busy, so one thread per seed wastes less of each core.  Nothing in a
seed's run changes but its thread count: the same config, the same augmentation draws (the RNG does
not depend on threads), the same record; only the order of floating-point sums inside a kernel may
differ, as it does between any two machines.

Each process builds a `Trainer` at the profile (seed = its index), takes two warm-up steps, waits
for the others (a barrier), times `--steps` steps, waits again, then times one periodic evaluation
(kNN + linear probe), all P processes at once.  A layout's seconds per step and per evaluation are
its slowest process's; a layout is measured `--repeats` times, alternating with the others, best of
the repeats.  Seeds per hour = P x 3600 / (steps x s/step + evaluations x s/evaluation).  Writes
results/benchmarks/side_by_side-<cpu>.json only if the machine was quiet (`idle.py`).
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def parse_layout(text: str) -> tuple[int, int]:
    try:
        processes, threads = (int(x) for x in text.lower().split("x"))
        assert processes >= 1 and threads >= 1
    except (ValueError, AssertionError):
        raise SystemExit(f"error: layout {text!r} is not PxT (processes x threads, e.g. 1x2 or 2x1)") from None
    return processes, threads


def worker(index, threads, args, barrier, results):
    """One seed's process: its own threads, its own Trainer; times steps and one evaluation."""
    import torch

    torch.set_num_threads(threads)
    from ssllib.config import profile_config
    from ssllib.data import load_dataset
    from ssllib.evaluate import evaluate_backbone
    from ssllib.train import Trainer

    data = load_dataset(args.dataset, args.data_dir)
    cfg = profile_config(args.profile, dataset=args.dataset).replace(seed=index)
    trainer = Trainer(cfg, data, "cpu")
    trainer.train_step()
    trainer.train_step()
    barrier.wait()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        trainer.train_step()
    step_s = (time.perf_counter() - t0) / args.steps
    barrier.wait()
    t0 = time.perf_counter()
    evaluate_backbone(trainer.model.backbone, data, cfg, torch.device("cpu"), seed=0)
    results.put({"index": index, "seconds_per_step": step_s, "evaluation_seconds": time.perf_counter() - t0,
                 "threads_seen": torch.get_num_threads()})


def measure(layout: tuple[int, int], args) -> dict:
    """Run one layout once: P processes of T threads, started together; the slowest one counts."""
    processes, threads = layout
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(processes), ctx.Queue()
    env_before = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = str(threads)  # the children's OpenMP pools are sized at start
    try:
        procs = [ctx.Process(target=worker, args=(i, threads, args, barrier, results)) for i in range(processes)]
        for p in procs:
            p.start()
        got = [results.get(timeout=1800) for _ in procs]
        for p in procs:
            p.join()
    finally:
        if env_before is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = env_before
    if any(p.exitcode for p in procs):
        raise SystemExit(f"error: a worker of layout {processes}x{threads} failed")
    return {"seconds_per_step": max(g["seconds_per_step"] for g in got),
            "evaluation_seconds": max(g["evaluation_seconds"] for g in got),
            "per_process": sorted(got, key=lambda g: g["index"])}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="cpu_long")
    ap.add_argument("--layouts", default=f"1x{os.cpu_count()},{os.cpu_count()}x1",
                    help="PxT,... (the first is the baseline)")
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--dataset", default="cifar10", help="cifar10, or synthetic for a plumbing check")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--out", default=None)
    ap.add_argument("--pause-training", action="store_true")
    ap.add_argument("--allow-busy", action="store_true")
    ap.add_argument("--wait-s", type=float, default=240.0)
    args = ap.parse_args()
    layouts = [parse_layout(x) for x in args.layouts.split(",")]  # a bad one is refused before torch loads
    import torch

    from idle import quiet_machine, run_shape, write_if_idle
    from ssllib.config import profile_config
    from ssllib.data import load_dataset
    from ssllib.hardware import cpu_model, device_name

    cfg = profile_config(args.profile, dataset=args.dataset)
    data = load_dataset(args.dataset, args.data_dir)  # decoded into the cache once, before the children
    total, n_evals = run_shape(cfg, cfg.train_subset or len(data.train_x))
    best: dict[str, dict] = {}
    with quiet_machine(args.pause_training, args.wait_s) as machine:
        for _ in range(args.repeats):  # alternately, so that a change in load hits every layout alike
            for layout in layouts:
                name = f"{layout[0]}x{layout[1]}"
                got = measure(layout, args)
                if name not in best or got["seconds_per_step"] < best[name]["seconds_per_step"]:
                    best[name] = got
    out = {}
    for (processes, threads) in layouts:
        name = f"{processes}x{threads}"
        b = best[name]
        run_s = total * b["seconds_per_step"] + n_evals * b["evaluation_seconds"]
        out[name] = {"processes": processes, "threads_each": threads, **b, "run_minutes": run_s / 60,
                     "seeds_per_hour": processes * 3600 / run_s}
    base = f"{layouts[0][0]}x{layouts[0][1]}"
    for name, r in out.items():
        r["seeds_per_hour_ratio"] = r["seeds_per_hour"] / out[base]["seeds_per_hour"]
    result = {"device": device_name(torch.device("cpu")), "cpu_model": cpu_model(), "cores": os.cpu_count(),
              "torch": torch.__version__,
              "profile": args.profile, "data_source": data.source, "steps_per_run": total,
              "evaluations_per_run": n_evals, "steps_timed": args.steps, "repeats": args.repeats,
              "idle": machine["idle"], "machine_before": machine["before"], "machine_after": machine["after"],
              "paused_training": bool(machine["paused_training_pids"]),
              "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "baseline": base,
              **{f"seeds_per_hour {name}": round(r["seeds_per_hour"], 3) for name, r in out.items()}, "layouts": out}
    print(f"{cpu_model()}, {os.cpu_count()} cores, {args.profile}: {total} steps + {n_evals} evaluations a run "
          f"(idle={machine['idle']})")
    for name, r in out.items():
        print(f"  {name}: {r['seconds_per_step']:.3f} s/step, evaluation {r['evaluation_seconds']:.1f} s, "
              f"{r['run_minutes']:.1f} min a run, {r['seeds_per_hour']:.2f} seeds/hour "
              f"({r['seeds_per_hour_ratio']:.2f}x)")
    return write_if_idle(result, "side_by_side", machine, args.allow_busy, args.out)


if __name__ == "__main__":
    sys.exit(main())
