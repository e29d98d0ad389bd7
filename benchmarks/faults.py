"""Reliability under faults, measured: a real `python -m ssllib run` SIGKILLed at N
random moments, then run to the end, against an uninterrupted run.

    .venv/bin/python benchmarks/faults.py --kills 20

Each try waits until the process is training (a checkpoint written since it started), then kills
it after a random 0-0.3 s, with every write held open 50 ms ($SSLLIB_SLOW_WRITES) so that kills
also land inside checkpoint and result writes (counted: a temp file present at the kill).
Writes results/benchmarks/faults-<cpu>.json: kills, how many landed inside a write, whether the
final record (metrics, spectrum, curve) is bit-identical, and the temp/lock files left over.
tests/test_processes.py runs the same loop with 3 kills.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN = [sys.executable, "-m", "ssllib", "run", "table2", "--profile", "smoke", "--variant", "simsiam",
       "--set", "dataset=synthetic", "--set", "epochs=12", "--no-progress"]


def env_for(folder: Path, **extra) -> dict:
    return dict(os.environ, SSLLIB_RESULTS=str(folder / "results"), SSLLIB_CHECKPOINTS=str(folder / "ckpt"),
                PYTHONPATH=str(ROOT), **extra)


def outcome(folder: Path) -> dict:
    """What must not depend on interruptions: metrics, spectrum and the curve file."""
    (path,) = (folder / "results" / "smoke" / "table2").glob("*.json")
    record = json.loads(path.read_text())
    return {"metrics": record["metrics"], "spectrum": record["spectrum"],
            "curve": path.with_name(record["curve_file"]).read_text(), "hash": record["config_hash"]}


def checkpoint_written_after(folder: Path, since: float, proc, timeout=60.0) -> bool:
    """Wait until the run has written a checkpoint after `since` (it is training), or has ended."""
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        if any(p.stat().st_mtime > since for p in folder.rglob("*.pt*") if p.exists()):
            return True
        time.sleep(0.01)
    return False


def kill_loop(work: Path, kills: int, seed: int = 0) -> dict:
    """`kills` SIGKILLs of one run in `work`, then the run to its end, against a straight run."""
    t0 = time.time()
    straight = work / "straight"
    subprocess.run(RUN, env=env_for(straight), check=True, capture_output=True, cwd=ROOT)
    rng = random.Random(seed)
    interrupted = work / "interrupted"
    env = env_for(interrupted, SSLLIB_SLOW_WRITES="0.05")
    killed = tries = inside_writes = 0
    while killed < kills and tries < 3 * kills:
        tries += 1
        started = time.time()
        proc = subprocess.Popen(RUN, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        if checkpoint_written_after(interrupted / "ckpt", started, proc):
            time.sleep(rng.uniform(0, 0.3))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
            proc.wait()
            inside_writes += any(".tmp" in p.name for p in interrupted.rglob("*"))
        proc.wait()
        if proc.returncode == 0:  # it finished before the kill: start this config over
            for path in (interrupted / "results").rglob("*"):
                path.unlink() if path.is_file() else None
    done = subprocess.run(RUN, env=env, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    leftovers = [p.name for p in interrupted.rglob("*") if ".tmp" in p.name or p.name.endswith(".lock")]
    return {"kills": killed, "tries": tries, "kills_inside_a_write": inside_writes,
            "bit_identical": outcome(interrupted) == outcome(straight), "files_left_over": len(leftovers),
            "seconds": round(time.time() - t0, 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="folder for the JSON (default results/benchmarks)")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from input_pipeline import write_json
    from ssllib.hardware import cpu_model, device_name

    import torch
    with tempfile.TemporaryDirectory() as work:
        result = {"device": device_name(torch.device("cpu")), "what": "kill anywhere, then resume",
                  **kill_loop(Path(work), args.kills, args.seed)}
    out = write_json(result, f"faults-{cpu_model().replace(' ', '_')}.json", args.out)
    print(f"{result['kills']} kills ({result['kills_inside_a_write']} inside a write) in {result['tries']} tries: "
          f"final record bit-identical: {result['bit_identical']}, files left over: {result['files_left_over']}")
    print(f"wrote {out}")
    return 0 if result["bit_identical"] and not result["files_left_over"] else 1


if __name__ == "__main__":
    sys.exit(main())
