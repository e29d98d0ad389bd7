"""A benchmark measures the machine only when nothing else runs on it.

    with quiet_machine(pause_training=True) as state:   # SIGSTOP `ssllib run`, wait for quiet
        ... time things ...
    state["idle"]                                        # False: the figures include other work

`busy_fraction` reads /proc/stat over a short window (how much of all cores was not idle); the
1-minute load average is recorded too but decays slowly (it reads ~1 a minute after a 2-core job
stops), so the wait before is for both; after, only the busy fraction says whether others ran (the
load average then counts the benchmark's own minutes).  Pausing is asked for by each benchmark run
(`--pause-training`), stops only this checkout's `ssllib run` processes (those whose working folder
lies inside it), and is always undone: on leaving the block, on SIGTERM / SIGHUP / SIGINT, and, after
a SIGKILL, by the next benchmark, which resumes the PIDs the killed one recorded (PAUSED_FILE).
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

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


def training_pids(root: Path = ROOT) -> list[int]:
    """This checkout's training processes: `ssllib run` whose working folder lies inside `root`."""
    done = subprocess.run(["pgrep", "-f", "ssllib run"], capture_output=True, text=True)
    out = []
    for pid in (int(p) for p in done.stdout.split()):
        try:
            cwd = Path(os.readlink(f"/proc/{pid}/cwd")).resolve()
        except OSError:
            continue
        if pid != os.getpid() and (cwd == root or root in cwd.parents):
            out.append(pid)
    return out


def paused_file() -> Path:
    """Where a benchmark records the PIDs it stopped, until it has resumed them."""
    return Path(os.environ.get("SSLLIB_CACHE") or Path.home() / ".cache" / "ssllib") / "paused-training.json"


def _start_time(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def resume(pids: dict) -> None:
    """SIGCONT each PID that is still the process that was stopped (same start time)."""
    for pid, started in pids.items():
        if _start_time(int(pid)) == started:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGCONT)


def resume_left_paused() -> None:
    """Resume what a benchmark killed while it held training paused left stopped (PAUSED_FILE)."""
    path = paused_file()
    try:
        left = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    print(f"resuming {len(left)} training process(es) a killed benchmark left paused: "
          f"{', '.join(map(str, left))}", file=sys.stderr)
    resume(left)
    path.unlink(missing_ok=True)


def state_now() -> dict:
    return {"load_per_core": load_per_core(), "busy_fraction": busy_fraction()}


def quiet(state: dict) -> bool:
    load, busy = state["load_per_core"], state["busy_fraction"]
    return (load is None or load <= MAX_LOAD_PER_CORE) and (busy is None or busy <= MAX_BUSY)


def _leave(signum, frame):
    raise SystemExit(128 + signum)  # the quiet_machine block's `finally` resumes what it paused


@contextlib.contextmanager
def quiet_machine(pause_training: bool = False, wait_s: float = 240.0):
    """Pause this checkout's background training if asked, wait (up to `wait_s`) for a quiet
    machine, and yield a dict that says, once the block ends, the state before and after and
    whether both were quiet.  What it pauses it resumes on every way out."""
    resume_left_paused()
    paused = {str(pid): _start_time(pid) for pid in training_pids()} if pause_training else {}
    handlers = {}
    if paused:
        path = paused_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(paused))
        tmp.replace(path)  # recorded before any SIGSTOP: a SIGKILL from here on is undone next time
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            handlers[sig] = signal.signal(sig, _leave)
        for pid in paused:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGSTOP)
    out = {"paused_training_pids": [int(p) for p in paused]}
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
        resume(paused)
        if paused:
            paused_file().unlink(missing_ok=True)
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


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

