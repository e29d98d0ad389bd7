"""Every missing run of an experiment as a cluster job, through submitit.

    python -m ssllib submit table4 --profile gpu            # Slurm where there is one
    python -m ssllib submit all --profile smoke --cluster local

Each (variant, seed) not in the cache becomes one job of `run_one`, with the resources of its
profile (RESOURCES).  Submitting is idempotent: a run that is cached, being trained (its lock is
held), or submitted before and not finished (the ledger in the submitit folder, and no result file
of that job yet) is not submitted again.  A job preempted or timed out on Slurm is requeued by
submitit (`checkpoint`) and resumes from the run's own checkpoint.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from contextlib import contextmanager
from pathlib import Path

from .config import ConfigError, config_hash
from .experiments import EXPERIMENTS, get_experiment, make_config
from .records import shared_run
from .runner import run_one
from .data import cache_dir
from .storage import StorageError, atomic_write, process_alive
from .results import entry_path
from .storage import lock_is_live, lock_path

CLUSTERS = ("slurm", "local", "debug")  # submitit's executors
# per profile: minutes, GPUs and CPUs of one job
RESOURCES = {"smoke": dict(timeout_min=10, gpus_per_node=0, cpus_per_task=2),
             "cpu": dict(timeout_min=60, gpus_per_node=0, cpus_per_task=2),
             "cpu_long": dict(timeout_min=120, gpus_per_node=0, cpus_per_task=2),
             "cpu_long20": dict(timeout_min=240, gpus_per_node=0, cpus_per_task=2),
             "gpu": dict(timeout_min=120, gpus_per_node=1, cpus_per_task=8),
             "paper": dict(timeout_min=24 * 60, gpus_per_node=1, cpus_per_task=8)}


class RunJob:
    """One (experiment, variant, seed) at a profile: what a job executes.  On preemption submitit
    calls `checkpoint`, which resubmits the same job; training resumes from its own checkpoint."""

    def __init__(self, experiment: str, variant: str, seed: int, profile: str, overrides: dict | None = None):
        self.experiment, self.variant, self.seed, self.profile = experiment, variant, seed, profile
        self.overrides = dict(overrides or {})

    def __call__(self) -> str:
        cfg = make_config(self.experiment, self.variant, self.profile, self.seed, **self.overrides)
        record = run_one(cfg, self.profile, progress=False)
        return record["config_hash"]

    def checkpoint(self):
        import submitit

        return submitit.helpers.DelayedSubmission(RunJob(self.experiment, self.variant, self.seed,
                                                         self.profile, self.overrides))


def ledger_path(folder: Path) -> Path:
    return Path(folder) / "ledger.json"


def read_ledger(folder: Path) -> dict:
    """config hash -> the job submitted for it (job_id, run, when).  A damaged ledger is moved aside
    (`ledger.json.damaged`) with one line and a new one started: the training locks still keep a
    run from being trained twice at once."""
    path = ledger_path(folder)
    if not path.exists():
        return {}
    try:
        ledger = json.loads(path.read_text())
        if isinstance(ledger, dict) and all(isinstance(v, dict) and "job_id" in v for v in ledger.values()):
            return ledger
        why = "not a map of config hash -> job"
    except (ValueError, UnicodeDecodeError) as e:
        why = str(e)
    print(f"damaged submit ledger {path} ({why}): moved to {path.name}.damaged, starting a new one")
    path.replace(path.with_name(path.name + ".damaged"))
    return {}


# Slurm states of a job that will never write its result (sacct's words)
DEAD_SLURM = ("FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE", "PREEMPTED")


def job_state(folder: Path, entry: dict) -> str:
    """What became of a job the ledger names: "finished" (its result file is written), "running",
    or "dead (why)": a local job whose process is gone (a kill -9), a Slurm job sacct reports
    failed, cancelled, timed out...  A state that cannot be read counts as running."""
    from submitit.core.utils import JobPaths

    if JobPaths(Path(folder), job_id=entry["job_id"], task_id=0).result_pickle.exists():
        return "finished"
    if entry.get("cluster", "local") in ("local", "debug"):  # a local job's id is its PID
        try:
            pid = int(entry["job_id"])
        except ValueError:
            return "running"
        return "running" if process_alive(pid) else "dead (its process is gone)"
    try:
        import submitit

        state = submitit.SlurmJob(folder=folder, job_id=entry["job_id"]).state
    except (OSError, RuntimeError, ValueError):  # no sacct here: cannot tell
        return "running"
    return f"dead ({state})" if state.split()[0] in DEAD_SLURM else "running"


def in_flight(folder: Path, ledger: dict, key: str) -> bool:
    """Submitted before and still running (job_state)."""
    return key in ledger and job_state(folder, ledger[key]) == "running"


@contextmanager
def ledger_lock(folder: Path):
    """One submit at a time per folder: two at once would each find a run pending and send it."""
    with open(Path(folder) / "ledger.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def pending(names, profile: str, folder: Path, seeds=None, overrides=None, variants=None) -> tuple[list, list]:
    """(runs to submit as (experiment, variant, seed, hash), runs left out with the reason)."""
    todo, skipped, ledger = [], [], read_ledger(folder)
    names = list(EXPERIMENTS) if names == ["all"] else names
    for name in names:
        exp = get_experiment(name)
        for variant in variants or exp.variants_at(profile):
            for seed in (seeds if seeds is not None else exp.seeds_at(profile)):
                cfg = make_config(name, variant, profile, seed, **(overrides or {}))
                path, key = entry_path(cfg, profile), config_hash(cfg)
                label = f"{name}/{variant} seed {seed}"
                if path.exists() or shared_run(cfg, profile) is not None:
                    skipped.append((label, "cached"))
                elif lock_is_live(lock_path(path)):
                    skipped.append((label, "being trained now"))
                elif in_flight(folder, ledger, key):
                    skipped.append((label, "submitted before, not finished"))
                elif key in ledger and key not in {k for *_, k in todo}:
                    state = job_state(folder, ledger[key])
                    print(f"job {ledger[key]['job_id']} of {label} is {state if state != 'finished' else 'finished with no result in the cache'}: submitting it again")
                    todo.append((name, variant, seed, key))
                elif key in {k for *_, k in todo}:
                    skipped.append((label, "the same run is already in this submission"))
                else:
                    todo.append((name, variant, seed, key))
    return todo, skipped


def submit(names, profile: str, folder: str | Path | None = None, cluster: str | None = None, seeds=None,
           overrides=None, variants=None) -> tuple[list, list]:
    """Submit every pending run, one submit at a time per folder; returns (submitted jobs, skipped
    (run, reason))."""
    if cluster is not None and cluster not in CLUSTERS:
        raise ConfigError(f"unknown cluster {cluster!r}; allowed: {', '.join(CLUSTERS)} (or none: slurm if found)")
    folder = Path(folder or cache_dir() / "submitit" / profile)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not os.access(folder, os.W_OK | os.X_OK):
            raise PermissionError(13, "not writable")
    except OSError as e:
        raise StorageError(f"cannot use the submit folder {folder}: {e.strerror or e}") from None
    with ledger_lock(folder):
        return _submit_pending(names, profile, folder, cluster, seeds, overrides, variants)


def _submit_pending(names, profile, folder, cluster, seeds, overrides, variants):
    import submitit  # only where jobs are sent: a bare machine lists and shows without it

    todo, skipped = pending(names, profile, folder, seeds, overrides, variants)
    if not todo:
        return [], skipped
    executor = submitit.AutoExecutor(folder=folder, cluster=cluster)
    res = RESOURCES.get(profile, RESOURCES["gpu"])
    executor.update_parameters(name=f"ssllib-{profile}", **res)
    try:
        jobs = [executor.submit(RunJob(name, variant, seed, profile, overrides)) for name, variant, seed, _ in todo]
    except OSError as e:
        raise StorageError(f"cannot write the submit folder {folder}: {e.strerror or e}") from None
    ledger = read_ledger(folder)
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    for (name, variant, seed, key), job in zip(todo, jobs):
        ledger[key] = {"job_id": str(job.job_id), "run": f"{name}/{variant} seed {seed}", "submitted": now,
                       "cluster": executor.cluster}
    atomic_write(ledger_path(folder), lambda tmp: tmp.write_text(json.dumps(ledger, indent=1)))
    return jobs, skipped
