"""Several runs side by side on one CPU, each in its own process with a share of the cores.

    python -m ssllib run table4 --profile cpu_long --seed 0 --seed 1 --side-by-side 2

On 2 cores, two seeds trained at once with one thread each give 1.16x the seeds per hour of one
seed at a time with two threads (`benchmarks/side_by_side.py`, results/benchmarks/side_by_side-*.json):
batch norm, ReLU and the adds are small memory-bound ops and the narrow convolutions do not keep two
threads busy.  Each run is exactly the run `ssllib run` would train alone (the same config, key and
augmentation draws; its record's provenance names its thread count); only the order of a kernel's
floating-point sums may differ, as between any two machines.  A run already cached is not started.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

from .config import ConfigError


def threads_each(processes: int) -> int:
    return max(1, (os.cpu_count() or 1) // processes)


def child_command(experiment: str, profile: str, variant: str, seed: int, sets: list[str] | None,
                  data_dir: str | None, device: str, force: bool, own_record: bool = False,
                  add_metrics: bool = False) -> list[str]:
    cmd = [sys.executable, "-m", "ssllib", "run", experiment, "--profile", profile, "--variant", variant,
           "--seed", str(seed), "--device", device, "--no-progress"]
    for s in sets or []:
        cmd += ["--set", s]
    if data_dir:
        cmd += ["--data-dir", data_dir]
    return (cmd + (["--force"] if force else []) + (["--own-record"] if own_record else [])
            + (["--add-metrics"] if add_metrics else []))


def train_side_by_side(commands: list[list[str]], processes: int, log=print) -> int:
    """Run `commands` (each one `ssllib run` of one variant and seed), `processes` at a time, each
    with OMP_NUM_THREADS = cores // processes.  Returns 0, or the first failing child's exit code
    after the others have finished (a failed run does not stop the rest)."""
    if processes < 1:
        raise ConfigError(f"--side-by-side {processes}: needs 1 or more processes")
    env = dict(os.environ, OMP_NUM_THREADS=str(threads_each(processes)))
    waiting, running, failed = list(commands), [], 0
    try:
        while waiting or running:
            while waiting and len(running) < processes:
                cmd = waiting.pop(0)
                log(f"side by side ({threads_each(processes)} threads): {' '.join(cmd[2:])}")
                running.append((cmd, subprocess.Popen(cmd, env=env)))
            time.sleep(0.5)
            for cmd, proc in list(running):
                if proc.poll() is not None:
                    running.remove((cmd, proc))
                    if proc.returncode:
                        log(f"failed (exit {proc.returncode}): {' '.join(cmd[2:])}")
                        failed = failed or proc.returncode
    except KeyboardInterrupt:  # the children got the same Ctrl-C; wait for them to save and leave
        for _, proc in running:
            proc.wait()
        raise
    return failed
