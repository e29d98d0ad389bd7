"""A GPU campaign for a short-lived, bare GPU machine.

The lent machines have torch but no papermill, give about 15 minutes of device time in all and at
most 10 minutes a command, and return only what is written under one folder ($OUT).  So:

    # on the GPU machine (the data archive carried in data/, which git ignores):
    python scripts/gpu_campaign.py run --out "$OUT" --budget-s 480 --data-dir data
    # back here, on the files that came back:
    python scripts/gpu_campaign.py merge <files_at>/results.tar

`run` trains PLAN in order of what a GPU changes most: Table 2 at full width (SimSiam, the
random-init control, the three collapsing variants), then the epoch benchmark.  All of Table 2's
trained runs get the same number of epochs, sized from SimSiam's measured seconds per step (a
throwaway trainer, 10 warm-up + 20 timed steps) so that they fit the budget together; a run that
would not fit what is left is skipped and said so.  Each record is packed into $OUT/results.tar
as soon as its run ends (a timeout still returns the finished ones;
the returned folder holds at most 8 files, two levels deep), with $OUT/campaign.json saying what
ran, what was skipped and why.  `merge` checks every record (checksums, config hash) before
copying it into results/<profile>/.

`runs` trains a given list of runs (experiment:variant:seed) at one profile instead, `--jobs` at
a time as separate `python -m ssllib run` processes sharing the GPU (a width-16 model leaves an
H200 mostly idle, so runs side by side cost little more than one): the issue-16 runs at `cpu_long`.
The returned folder may be at most two levels deep and hold at most 8 files, so every finished
record is packed into $OUT/results.tar (rewritten, atomically, as each run ends) and the runs'
logs into $OUT/logs.tar; a run still going at the budget's end is stopped and said so in
campaign.json.  `merge` takes the tar as well as a folder, and never replaces a record that
results/ already holds: it prints both side by side (the same config trained on two devices) and,
with `--agreement FILE`, adds them to a JSON that the scorecard shows.

`--profile smoke --dataset synthetic --device cpu` runs the same paths on a CPU in seconds: the test
suite does (tests/test_campaign.py), so the first GPU minutes waste nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# (experiment, variant): Table 2 first; the untrained control costs only its evaluation
PLAN = [("table2", "simsiam"), ("table2", "random_init"), ("table2", "naive_siamese"),
        ("table2", "mirror_simsiam"), ("table2", "symmetric_predictor")]
BENCHMARK_RESERVE_S = 60  # kept for benchmarks/gpu_epoch.py after the runs


def seconds_per_step(cfg, data, device) -> float:
    from ssllib.hardware import pick_device
    from ssllib.train import Trainer

    trainer = Trainer(cfg, data, device)
    dev = pick_device(device)

    def sync():
        if dev.type == "cuda":
            import torch
            torch.cuda.synchronize(dev)

    for _ in range(10):
        trainer.train_step()
    sync()
    t0 = time.perf_counter()
    for _ in range(20):
        trainer.train_step()
    sync()
    return (time.perf_counter() - t0) / 20


def plan_epochs(s_per_step: float, per_epoch: int, budget_s: float, n_trained: int, eval_s: float,
                cap: float) -> float:
    """Epochs for each of `n_trained` runs so that they fit `budget_s` together, evaluation of each
    (`eval_s`) included; at most `cap` (the profile's own length), at least a tenth of an epoch."""
    per_run = budget_s / n_trained - eval_s
    return round(min(cap, max(0.1, per_run / (s_per_step * per_epoch))), 2)


def run(args) -> int:
    work = Path(tempfile.mkdtemp(prefix="campaign-"))  # packed into $OUT/results.tar as runs end
    os.environ["SSLLIB_RESULTS"] = str(work / "results")
    from ssllib.data import load_dataset
    from ssllib.experiments import make_config
    from ssllib.runner import run_one
    from ssllib.hardware import device_name, pick_device
    from ssllib.train import schedule

    started = time.time()
    log = {"profile": args.profile, "budget_s": args.budget_s, "device": device_name(pick_device(args.device)),
           "runs": [], "skipped": []}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    data = load_dataset(args.dataset, args.data_dir)
    base = make_config("table2", "simsiam", args.profile, 0, dataset=args.dataset)
    per_epoch = schedule(base, len(data.train_y) if not base.train_subset else base.train_subset)[0]
    s_step = seconds_per_step(base, data, args.device)
    trained = [v for e, v in PLAN if not v.startswith("random")]
    budget = args.budget_s - BENCHMARK_RESERVE_S * (not args.no_benchmark) - (time.time() - started)
    epochs = plan_epochs(s_step, per_epoch, budget, len(trained), args.eval_s, cap=base.epochs)
    log.update(seconds_per_step=round(s_step, 4), steps_per_epoch=per_epoch, epochs=epochs)
    flush(out, work, log)
    for experiment, variant in PLAN:
        overrides = {"dataset": args.dataset}
        if not variant.startswith("random"):
            overrides |= {"epochs": epochs, "warmup_epochs": min(base.warmup_epochs, epochs / 10)}
        cfg = make_config(experiment, variant, args.profile, 0, **overrides)
        expected = cfg.epochs * per_epoch * s_step + args.eval_s
        left = args.budget_s - (time.time() - started)
        if expected > left:
            log["skipped"].append({"run": f"{experiment}/{variant}", "reason":
                                   f"needs ~{expected:.0f} s, {left:.0f} s left"})
            flush(out, work, log)
            continue
        t0 = time.time()
        record = run_one(cfg, args.profile, device=args.device, progress=False, data=data)
        log["runs"].append({"run": f"{experiment}/{variant}", "epochs": cfg.epochs, "seconds": round(time.time() - t0, 1),
                            "linear_acc": record["metrics"]["linear_acc"], "m_r": record["metrics"]["m_r"]})
        flush(out, work, log)
        print(f"{experiment}/{variant}: {time.time() - t0:.0f} s, linear {record['metrics']['linear_acc']:.1f}%, "
              f"m_r {record['metrics']['m_r']:.3f}", flush=True)
    left = args.budget_s - (time.time() - started)
    if not args.no_benchmark and left > BENCHMARK_RESERVE_S / 2:
        bench = [sys.executable, str(ROOT / "benchmarks" / "gpu_epoch.py"), "--device", args.device,
                 "--profile", args.profile, "--dataset", args.dataset, "--out", str(out / "benchmarks")]
        bench += ["--data-dir", args.data_dir] if args.data_dir else []
        bench += ["--steps", str(args.bench_steps), "--baseline-steps", str(args.bench_steps), "--warmup", "1"] \
            if args.bench_steps else []
        done = subprocess.run(bench, capture_output=True, text=True, timeout=left)
        log["benchmark"] = {"returncode": done.returncode, "tail": done.stdout[-500:] + done.stderr[-500:]}
    log["seconds"] = round(time.time() - started, 1)
    flush(out, work, log)
    return 0


def pack(folder: Path, tar_path: Path) -> None:
    """`folder`'s files into one tar at `tar_path`, written to a temporary name and renamed."""
    from ssllib.storage import atomic_write

    def write(tmp):
        with tarfile.open(tmp, "w") as tar:
            for f in sorted(folder.rglob("*")):
                if f.is_file() and not f.name.endswith(".lock"):
                    tar.add(f, arcname=str(f.relative_to(folder)))
    atomic_write(tar_path, write)


def flush(out: Path, work: Path, log: dict) -> None:
    """What a campaign has so far, into `out`: the log as campaign.json and each folder of `work`
    (results, logs) as <folder>.tar, so that a run stopped at any moment returns what ended."""
    from ssllib.storage import atomic_write

    atomic_write(out / "campaign.json", lambda tmp: tmp.write_text(json.dumps(log, indent=1)))
    for folder in sorted(p for p in work.iterdir() if p.is_dir()):
        pack(folder, out / f"{folder.name}.tar")


def parse_run(text: str) -> tuple[str, str, int]:
    """experiment:variant:seed, each a registered name (so that every path built from them, as the
    run's log file, stays inside its folder); one line naming the bad value otherwise."""
    from ssllib.experiments import EXPERIMENTS

    try:
        experiment, variant, seed = text.split(":")
        seed = int(seed)
    except ValueError:
        raise SystemExit(f"bad run {text!r}: expected experiment:variant:seed, e.g. table3:baseline:0")
    if experiment not in EXPERIMENTS:
        raise SystemExit(f"bad run {text!r}: unknown experiment {experiment!r}; allowed: {', '.join(EXPERIMENTS)}")
    if variant not in EXPERIMENTS[experiment].variants:
        raise SystemExit(f"bad run {text!r}: unknown variant {variant!r} of {experiment}; allowed: "
                         f"{', '.join(EXPERIMENTS[experiment].variants)}")
    return experiment, variant, seed


def runs(args) -> int:
    """Train `args.run` (experiment:variant:seed) at `args.profile`, `args.jobs` processes at a time,
    within `args.budget_s`; each finished record goes into $OUT/results.tar as soon as it ends."""
    from ssllib.data import load_dataset
    from ssllib.hardware import device_name, pick_device

    started = time.time()
    todo = [parse_run(r) for r in args.run]
    if args.jobs < 1:
        raise SystemExit(f"bad --jobs {args.jobs}: at least 1 run at a time")
    out, work = Path(args.out), Path(tempfile.mkdtemp(prefix="campaign-"))
    out.mkdir(parents=True, exist_ok=True)
    (work / "logs").mkdir()
    env = dict(os.environ, SSLLIB_RESULTS=str(work / "results"), PYTHONUNBUFFERED="1",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    load_dataset(args.dataset, args.data_dir)  # decoded once into the cache, before the runs share it
    log = {"profile": args.profile, "jobs": args.jobs, "budget_s": args.budget_s,
           "device": device_name(pick_device(args.device)), "finished": [], "failed": [], "stopped": [],
           "not_started": []}

    def save():
        log["seconds"] = round(time.time() - started, 1)
        flush(out, work, log)

    running: dict[str, tuple[subprocess.Popen, float]] = {}
    while todo or running:
        while todo and len(running) < args.jobs and time.time() - started < args.budget_s:
            experiment, variant, seed = todo.pop(0)
            name = f"{experiment}:{variant}:{seed}"
            cmd = [sys.executable, "-m", "ssllib", "run", experiment, "--profile", args.profile, "--variant",
                   variant, "--seed", str(seed), "--device", args.device, "--no-progress"]
            cmd += ["--data-dir", args.data_dir] if args.data_dir else []
            cmd += [x for kv in args.set for x in ("--set", kv)] + (["--set", f"dataset={args.dataset}"]
                                                                      if args.dataset != "cifar10" else [])
            with open(work / "logs" / f"{name.replace(':', '_')}.log", "w") as logf:  # the child keeps its copy
                running[name] = (subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, env=env, cwd=ROOT),
                                 time.time())
        time.sleep(0.2)
        for name, (proc, t0) in list(running.items()):
            if proc.poll() is None and time.time() - started < args.budget_s:
                continue
            if proc.poll() is None:
                proc.kill()
                proc.wait()
                log["stopped"].append({"run": name, "seconds": round(time.time() - t0, 1)})
            else:
                entry = {"run": name, "seconds": round(time.time() - t0, 1)}
                log["finished" if proc.returncode == 0 else "failed"].append(entry)
                print(f"{name}: {'done' if proc.returncode == 0 else 'FAILED'} in {entry['seconds']:.0f} s",
                      flush=True)
            del running[name]
            save()
        if time.time() - started >= args.budget_s and todo:
            log["not_started"] += [":".join(map(str, r)) for r in todo]
            todo = []
    save()
    return 0 if not log["failed"] else 1


def _returned_records(source: Path):
    """(path, record or CacheError) for every record in a returned folder or results.tar."""
    from ssllib.results import CacheError, read_entry

    if source.is_file():
        folder = Path(tempfile.mkdtemp(prefix="returned-"))
        with tarfile.open(source) as tar:
            tar.extractall(folder, filter="data") if hasattr(tarfile, "data_filter") else tar.extractall(folder)
        source = folder
    os.environ["SSLLIB_RESULTS"] = str(source)
    for path in sorted(source.glob("*/*/*.json")):
        try:
            yield path, read_entry(path)
        except CacheError as e:
            yield path, e


def _destination(target: Path, record: dict, path: Path):
    """The folder a returned record goes to, or why it may not go anywhere: its profile and
    experiment must be registered names, its curve a plain file name beside it, and every path
    inside `target` (a record edited and re-sealed could otherwise name any folder)."""
    from ssllib.config import PROFILES
    from ssllib.experiments import EXPERIMENTS

    if record.get("profile") not in PROFILES:
        return f"unknown profile {record.get('profile')!r}; allowed: {', '.join(sorted(PROFILES))}"
    if record.get("experiment") not in EXPERIMENTS:
        return f"unknown experiment {record.get('experiment')!r}"
    if record.get("curve_file") != f"{path.stem}.curve.csv":
        return f"its curve file {record.get('curve_file')!r} is not {path.stem}.curve.csv"
    dest = target / record["profile"] / record["experiment"]
    root = target.resolve()
    for p in (dest / path.name, dest / record["curve_file"]):
        if not p.resolve().is_relative_to(root):
            return f"{p} lies outside {target}"
    return dest


def _summary(record: dict) -> dict:
    p = record["provenance"]
    return {"linear_acc": record["metrics"]["linear_acc"], "knn_acc": record["metrics"]["knn_acc"],
            "m_r": record["metrics"]["m_r"], "device": p.get("device"), "arithmetic": p.get("arithmetic"),
            "torch": p.get("torch"), "train_seconds": record["train"].get("train_seconds")}


def write_agreement(path: Path, rows: list[dict]) -> None:
    """Add `rows` (one config held here and returned) to the agreement JSON at `path`, which
    `ssllib.scorecard.device_agreement` shows; a run already in it is replaced, others are kept."""
    from ssllib.storage import atomic_write

    old = json.loads(path.read_text()) if path.exists() else {}
    new = {r["run"] for r in rows}
    doc = {"what": AGREEMENT_WHAT, "profile": rows[0]["profile"],
           "runs": [r for r in old.get("runs", []) if r["run"] not in new] + rows}
    atomic_write(path, lambda tmp: tmp.write_text(json.dumps(doc, indent=1) + "\n"))


AGREEMENT_WHAT = ("The same configs (same config hash) trained on two devices: the record results/ holds and "
                  "the one a lent GPU returned (scripts/gpu_campaign.py merge --agreement)")


def _held(path: Path) -> dict | None:
    """The valid record results/ already holds at `path`; None when it holds none, or a damaged one
    (which the valid returned record then replaces)."""
    from ssllib.results import CacheError, read_entry

    if not path.exists():
        return None
    try:
        return read_entry(path)
    except CacheError as e:
        print(f"replacing a damaged local copy: {e}")
        return None


def merge(args) -> int:
    """Copy every valid record (and its curve) from a returned folder or tar into the repository's
    results; one that results/ already holds is kept, and the two are shown side by side."""
    from ssllib.results import CacheError

    target = Path(args.into)
    if not Path(args.source).exists():
        print(f"error: nothing to merge: {args.source} does not exist", file=sys.stderr)
        return 2
    copied = rejected = 0
    agreement = []
    try:
        returned = list(_returned_records(Path(args.source)))
    except (tarfile.TarError, OSError) as e:
        print(f"error: {args.source} cannot be unpacked safely ({e}); nothing merged", file=sys.stderr)
        return 2
    for path, record in returned:
        if isinstance(record, CacheError):
            print(f"not merged: {record}")
            rejected += 1
            continue
        dest = _destination(target, record, path)
        if isinstance(dest, str):
            print(f"not merged: {path.name}: {dest}")
            rejected += 1
            continue
        mine = _held(dest / path.name)
        if mine is not None:
            if "reused_from" not in mine:
                row = {"run": f"{record['experiment']}:{record['config']['variant']}:{record['config']['seed']}",
                       "profile": record["profile"], "kept": _summary(mine), "returned": _summary(record)}
                agreement.append(row)
                print(f"already in results (kept): {row['run']}: linear {row['kept']['linear_acc']:.1f} / "
                      f"kNN {row['kept']['knn_acc']:.1f} here, {row['returned']['linear_acc']:.1f} / "
                      f"{row['returned']['knn_acc']:.1f} returned")
                continue
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path.with_name(record["curve_file"]), dest / record["curve_file"])
        shutil.copy2(path, dest / path.name)
        copied += 1
    if args.agreement and agreement:
        write_agreement(Path(args.agreement), agreement)
    print(f"merged {copied} records into {target}, {rejected} rejected, {len(agreement)} already held")
    return 0 if copied or agreement or not rejected else 2


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="train the plan into --out, within --budget-s seconds")
    r.add_argument("--out", default=os.environ.get("OUT", "campaign_out"))
    r.add_argument("--budget-s", type=float, default=480.0)
    r.add_argument("--profile", default="gpu")
    r.add_argument("--dataset", default="cifar10")
    r.add_argument("--device", default="auto")
    r.add_argument("--data-dir", default=None)
    r.add_argument("--eval-s", type=float, default=20.0, help="allowance for each run's final evaluation")
    r.add_argument("--no-benchmark", action="store_true")
    r.add_argument("--bench-steps", type=int, default=None, help="benchmark steps (default: one epoch)")
    q = sub.add_parser("runs", help="train the given runs at one profile, --jobs at a time, into --out")
    q.add_argument("run", nargs="+", help="experiment:variant:seed, in order of priority")
    q.add_argument("--out", default=os.environ.get("OUT", "campaign_out"))
    q.add_argument("--budget-s", type=float, default=480.0, help="no run starts after it; running ones stop")
    q.add_argument("--jobs", type=int, default=4)
    q.add_argument("--profile", default="cpu_long")
    q.add_argument("--dataset", default="cifar10")
    q.add_argument("--device", default="auto")
    q.add_argument("--data-dir", default=None)
    q.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="passed to every run")
    m = sub.add_parser("merge", help="validate and copy returned records into results/")
    m.add_argument("source", help="the returned results.tar, or a folder holding <profile>/<experiment>/*.json")
    m.add_argument("--into", default=str(ROOT / "results"))
    m.add_argument("--agreement", default=None, help="write records held here and returned side by side")
    args = ap.parse_args(argv)
    return {"run": run, "runs": runs, "merge": merge}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
