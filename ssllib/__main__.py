"""Command line: `python -m ssllib list | show <experiment> | run <experiment> [options] | queue [options] |
config <experiment> <variant> [options]`.

    python -m ssllib run table2 --profile cpu --variant simsiam --seed 0 --set epochs=3
Every bad value is one line on stderr naming it and the allowed values, and exit status 2.
"""
from __future__ import annotations

import argparse
import json
import sys

from . import queue, runner
from .config import PROFILES, ConfigError
from .data import DataError, load_dataset
from .experiments import EXPERIMENTS, explain_config, get_experiment, make_config
from .hardware import DeviceError
from .results import CacheError, entry_path, read_entry
from .runner import run_configs
from .side_by_side import child_command, train_side_by_side
from .storage import StorageError
from .submit import submit
from .train import TrainingDiverged


RESERVED = {"experiment": "the experiment argument", "variant": "--variant", "seed": "--seed"}


def parse_sets(pairs):
    out = {}
    for p in pairs or []:
        if "=" not in p:
            raise ConfigError(f"bad --set {p!r}: expected key=value")
        k, v = p.split("=", 1)
        if k in RESERVED:
            raise ConfigError(f"bad --set {p!r}: {k} is not set with --set; use {RESERVED[k]}")
        out[k] = v
    return out


class OneLineParser(argparse.ArgumentParser):
    """argparse, with its errors (a bad --seed, a missing argument) as one line and exit 2."""

    def error(self, message):
        print(f"error: {message}", file=sys.stderr)
        sys.exit(2)


def submit_jobs(args) -> int:
    names = ["all"] if args.experiment == "all" else [get_experiment(args.experiment).name]
    overrides = parse_sets(args.set)
    if args.variant and names == ["all"]:
        raise ConfigError("--variant needs one experiment, not 'all'")
    jobs, skipped = submit(names, args.profile, args.folder, args.cluster, args.seed, overrides, args.variant)
    for run, why in skipped:
        print(f"not submitted: {run} ({why})")
    for job in jobs:
        print(f"submitted job {job.job_id}")
    if args.wait:
        for job in jobs:
            print(f"job {job.job_id}: {job.result()}")
    print(f"{len(jobs)} submitted, {len(skipped)} not")
    return 0


def add_metrics(configs, args) -> int:
    """`run --add-metrics`: each config's own cached record gets the metrics it lacks (runner.add_metrics)."""
    loaded = {}
    for cfg in configs:
        path = entry_path(cfg, args.profile)
        if not path.exists():
            raise CacheError(f"{cfg.experiment}/{cfg.variant} seed {cfg.seed}: no record of its own at {args.profile} "
                             f"({path.name}); train it first")
        if cfg.dataset not in loaded:
            loaded[cfg.dataset] = load_dataset(cfg.dataset, args.data_dir)
        before = read_entry(path)
        after = runner.add_metrics(before, loaded[cfg.dataset], args.device)
        added = sorted(set(after["metrics"]) - set(before["metrics"]))
        print(f"{cfg.variant} seed {cfg.seed}: " + (f"added {', '.join(added)} (re-evaluated accuracies differ by "
              f"{after['metrics_added_check']})" if added else "nothing to add"))
    return 0


def run_queue(args) -> int:
    """`queue`: the plan's missing runs in order (ssllib.queue); --dry-run prints them, otherwise
    the next --next of them not already being trained are trained, --side-by-side at a time."""
    rows = queue.rows(queue.build())
    if args.dry_run:
        print(f"{len(rows)} planned runs missing, {sum(r.hours for r, *_ in rows):.1f} CPU hours; in order:")
        for i, (r, rate, claims) in enumerate(rows, 1):
            print(f"{i:3d}. {r}  [{r.hours:.2f} h]  {rate:.2f} claims/h: {'; '.join(claims)}")
        return 0
    todo = [queue.child(r, args.device) for r, *_ in rows[:args.next]]
    if not todo:
        print("nothing to start: every planned run is cached or being trained")
        return 0
    return train_side_by_side(todo, args.side_by_side)


def main(argv=None) -> int:
    ap = OneLineParser(prog="python -m ssllib", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="experiments, their variants, and the profiles")
    show = sub.add_parser("show", help="the cached results of an experiment")
    run = sub.add_parser("run", help="train (or load from the cache) an experiment")
    submit = sub.add_parser("submit", help="every missing run of an experiment (or all) as a submitit job")
    queue = sub.add_parser("queue", help="the plan's missing runs, most claims settled per CPU hour first")
    queue.add_argument("--dry-run", action="store_true", help="print the order, costs and claims served")
    queue.add_argument("--next", type=int, default=1, metavar="N", help="train the next N (default 1)")
    queue.add_argument("--side-by-side", type=int, default=1, metavar="P", help="P at a time, cores/P threads each")
    queue.add_argument("--device", default="auto")
    config = sub.add_parser("config", help="a run's merged config, which layer set each value, and its keys")
    config.add_argument("experiment")
    config.add_argument("variant")
    config.add_argument("--profile", default="cpu")
    config.add_argument("--seed", type=int, default=0)
    config.add_argument("--set", action="append", metavar="KEY=VALUE", help="config override")
    for p in (show, run, submit):
        p.add_argument("experiment")
        p.add_argument("--profile", default="cpu")
        p.add_argument("--variant", action="append",
                       help="repeatable; default: all (at a long length: the experiment's long_variants)")
        p.add_argument("--seed", type=int, action="append",
                       help="repeatable; default: the experiment's seeds at the profile (0; 0, 1 and 2 at cpu_long)")
        p.add_argument("--set", action="append", metavar="KEY=VALUE", help="config override")
    run.add_argument("--force", action="store_true", help="retrain even if cached")
    run.add_argument("--own-record", action="store_true",
                     help="train under this item's own record even where a run of another item or length "
                          "has the same training key (it replaces that shared run here; resumes its checkpoint)")
    run.add_argument("--add-metrics", action="store_true",
                     help="add the metrics a newer ssllib records (e.g. knn20_acc) to this item's cached records, "
                          "from their final checkpoints (an untrained control needs none); trains nothing")
    run.add_argument("--device", default="auto")
    run.add_argument("--data-dir", default=None, help="folder holding cifar10-jpeg.tar.xz")
    run.add_argument("--no-progress", action="store_true")
    run.add_argument("--side-by-side", type=int, default=1, metavar="P",
                     help="train P runs at once, each in its own process with cores/P threads "
                          "(ssllib.side_by_side)")
    submit.add_argument("--cluster", default=None, help="slurm | local | debug (default: slurm if found, else local)")
    submit.add_argument("--folder", default=None, help="submitit's logs and the ledger (default ~/.cache/ssllib/submitit)")
    submit.add_argument("--wait", action="store_true", help="wait for the jobs and print their results")
    try:
        args = ap.parse_args(argv)
    except SystemExit as e:  # --help (0) or a bad argument (2, its one line already printed)
        return e.code
    try:
        if args.cmd == "list":
            for name, exp in EXPERIMENTS.items():
                print(f"{name}: {exp.title}\n  variants: {', '.join(exp.variants)}")
            print(f"profiles: {', '.join(PROFILES)}")
            return 0
        if args.cmd == "queue":
            if args.next < 1:
                raise ConfigError(f"bad --next {args.next}; allowed: 1 or more")
            return run_queue(args)
        if args.profile not in PROFILES:
            raise ConfigError(f"unknown profile {args.profile!r}; allowed: {', '.join(PROFILES)}")
        if args.cmd == "config":
            print("\n".join(explain_config(args.experiment, args.variant, args.profile, args.seed, parse_sets(args.set))))
            return 0
        if args.cmd == "submit":
            return submit_jobs(args)
        get_experiment(args.experiment)
        overrides = parse_sets(args.set)
        variants = args.variant or EXPERIMENTS[args.experiment].variants_at(args.profile)
        seeds = args.seed or EXPERIMENTS[args.experiment].seeds_at(args.profile)
        if args.cmd == "show":
            for v in variants:
                for s in seeds:
                    path = entry_path(make_config(args.experiment, v, args.profile, s, **overrides),
                                      args.profile)
                    if not path.exists():
                        print(f"{v} seed {s}: not cached ({path})")
                        continue
                    try:
                        r = read_entry(path)
                    except CacheError as e:  # one line per damaged entry; the others still shown
                        print(f"{v} seed {s}: damaged, `run` will recompute it ({e})")
                        continue
                    m = {k: r["metrics"].get(k) for k in ("linear_acc", "knn_acc", "z_std_sqrt_d", "m_o",
                                                           "m_r", "collapsed")}
                    print(f"{v} seed {s}: {json.dumps(m)}  [{path.name}]")
            return 0
        configs = {(v, s): make_config(args.experiment, v, args.profile, s, **overrides)  # validate
                   for v in variants for s in seeds}                                     # before any run
        if args.add_metrics:
            return add_metrics(configs.values(), args)
        force = args.force
        if args.side_by_side != 1:
            todo = [child_command(args.experiment, args.profile, v, s, args.set, args.data_dir, args.device, force,
                                  args.own_record)
                    for (v, s), cfg in configs.items() if force or not entry_path(cfg, args.profile).exists()]
            failed = train_side_by_side(todo, args.side_by_side)
            if failed:
                return failed
            force = False  # every run is trained now: what follows reads them
        records = run_configs(list(configs.values()), args.profile, force=force, device=args.device,
                              data_dir=args.data_dir, progress=not args.no_progress,  # each built once, above
                              share=not args.own_record)
        for r in records:
            print(f"{r['variant']} seed {r['seed']}: linear {r['metrics']['linear_acc']:.2f}% "
                  f"knn {r['metrics']['knn_acc']:.2f}% m_r {r['metrics']['m_r']:.3f} "
                  f"collapsed={r['metrics']['collapsed']}")
        return 0
    except (ConfigError, DataError, CacheError, StorageError, TrainingDiverged, DeviceError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # the usual 128 + SIGINT; no temp file is left (storage.atomic_write)
        print("interrupted: run it again to resume from the last checkpoint", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
