"""A benchmark measures the machine only when nothing else runs on it.

    with quiet_machine(pause_training=True) as state:   # SIGSTOP `ssllib run`, wait for quiet
        ... time things ...
    state["idle"]                                        # False: the figures include other work

`busy_fraction` reads /proc/stat over a short window (how much of all cores was not idle); the
1-minute load average is recorded too but decays slowly (it reads ~1 a minute after a 2-core job
stops), so the wait before is for both; after, only the busy fraction says whether others ran (the
load average then counts the benchmark's own minutes).  Background training is resumed (SIGCONT) whatever happens.
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time

MAX_LOAD_PER_CORE = 0.5   # the bound: above it, another process shares the cores
MAX_BUSY = 0.25           # a quarter of all cores busy in a 2-second window


def busy_fraction(seconds: float = 2.0) -> float | None:
    """The fraction of all cores' time that was not idle during the next `seconds` (Linux)."""
    def read():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v), v[3] + v[4]  # total, idle + iowait
    try:
        t0, i0 = read()
        time.sleep(seconds)
        t1, i1 = read()
    except OSError:
        return None
    return round(1 - (i1 - i0) / max(1, t1 - t0), 3)


def load_per_core() -> float | None:
    try:
        return round(os.getloadavg()[0] / (os.cpu_count() or 1), 2)
    except (OSError, AttributeError):
        return None


def training_pids() -> list[int]:
    done = subprocess.run(["pgrep", "-f", "ssllib run"], capture_output=True, text=True)
    return [int(p) for p in done.stdout.split() if int(p) != os.getpid()]


def state_now() -> dict:
    return {"load_per_core": load_per_core(), "busy_fraction": busy_fraction()}


def quiet(state: dict) -> bool:
    load, busy = state["load_per_core"], state["busy_fraction"]
    return (load is None or load <= MAX_LOAD_PER_CORE) and (busy is None or busy <= MAX_BUSY)


@contextlib.contextmanager
def quiet_machine(pause_training: bool = False, wait_s: float = 240.0):
    """Pause background training if asked, wait (up to `wait_s`) for a quiet machine, and yield a
    dict that says, once the block ends, the state before and after and whether both were quiet."""
    paused = training_pids() if pause_training else []
    for pid in paused:
        os.kill(pid, signal.SIGSTOP)
    out = {"paused_training_pids": paused}
    try:
        deadline = time.time() + wait_s
        before = state_now()
        while not quiet(before) and time.time() < deadline:
            time.sleep(10)
            before = state_now()
        out["before"] = before
        yield out
        out["after"] = state_now()  # its load average includes this benchmark's own minutes
        busy_after = out["after"]["busy_fraction"]
        out["idle"] = quiet(out["before"]) and (busy_after is None or busy_after <= MAX_BUSY)
    finally:
        for pid in paused:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


def refuse_unless_idle(machine: dict, allow_busy: bool) -> bool:
    """True (after one line on stderr) when a benchmark must not write its figure: the machine was
    not quiet and --allow-busy was not given."""
    import sys

    if machine["idle"] or allow_busy:
        return False
    print(f"error: the machine was not quiet (before {machine['before']}, after {machine['after']}): "
          "nothing written; stop other work, or --pause-training, or --allow-busy", file=sys.stderr)
    return True


def write_if_idle(result: dict, name: str, machine: dict, allow_busy: bool, out_dir: str | None) -> int:
    """The end of a timing benchmark: write results/benchmarks/<name>-<cpu>.json (or under
    `out_dir`) and return 0, or refuse (one line, exit status 3) when the machine was not quiet."""
    from input_pipeline import write_json
    from ssllib.hardware import cpu_model

    if refuse_unless_idle(machine, allow_busy):
        return 3
    print(f"wrote {write_json(result, f'{name}-{cpu_model().replace(chr(32), chr(95))}.json', out_dir)}")
    return 0


def run_shape(cfg, n_train: int) -> tuple[int, int]:
    """A run's training steps and periodic evaluations (steps 0 and last included), as
    `Trainer.due_for_eval` schedules them: what a seconds-per-step figure is multiplied by."""
    from ssllib.train import schedule

    per_epoch, total, _ = schedule(cfg, n_train)
    if not cfg.eval_every:
        return total, 1
    every = max(1, round(cfg.eval_every * per_epoch))
    return total, len(set(range(0, total + 1, every)) | {0, total})

