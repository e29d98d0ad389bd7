"""Faults with real processes: `python -m ssllib run` killed at random moments (inside checkpoint
and result writes too) ends bit-identical to an uninterrupted run; two processes of one config
train it once; a stale lock is taken over.

SSLLIB_KILLS sets the number of kills (3 by default, for CI); benchmarks/faults.py runs the same
loop with 20 and commits its figures, which the scorecard page shows."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.processes
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from faults import RUN, env_for, kill_loop  # noqa: E402  (benchmarks/faults.py: the long version)


def test_kill_anywhere_then_resume_is_bit_identical(tmp_path):
    """benchmarks/faults.py's loop: each try waits until the process is training, SIGKILLs it after
    a random 0-0.3 s (mid-step, mid-evaluation, or inside a checkpoint or result write, writes being
    held open 50 ms), restarts; the final record equals an uninterrupted run's, bit for bit."""
    kills = int(os.environ.get("SSLLIB_KILLS", "3"))
    result = kill_loop(tmp_path, kills, seed=kills)
    print(result)
    assert result["kills"] == kills and result["bit_identical"] and result["files_left_over"] == 0


def training(env: dict, locks: Path) -> subprocess.Popen:
    """RUN started, once it holds a lock in `locks` (a generous deadline: a loaded machine can take
    a while to import torch; the test's outcome does not depend on how long)."""
    first = subprocess.Popen(RUN, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    deadline = time.time() + 600
    while not list(locks.glob("*.lock")) and time.time() < deadline and first.poll() is None:
        time.sleep(0.05)
    assert list(locks.glob("*.lock")), "the first process never took the lock"
    return first


def test_two_processes_of_one_config_train_it_once(tmp_path):
    env = env_for(tmp_path)
    locks = tmp_path / "results" / "smoke" / "table2"
    first = training(env, locks)
    second = subprocess.run(RUN, env=env, capture_output=True, text=True, cwd=ROOT)
    out1, err1 = first.communicate()
    assert first.returncode == 0 and second.returncode == 0, (err1, second.stderr)
    assert f"being trained by process {first.pid}" in second.stderr and "waiting" in second.stderr
    assert "waiting" not in err1
    assert out1.splitlines()[-1] == second.stdout.splitlines()[-1]  # the same result, read not retrained
    assert not list(locks.glob("*.lock"))


def test_a_stale_lock_of_a_killed_process_is_taken_over(tmp_path):
    env = env_for(tmp_path)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    probe = subprocess.run([sys.executable, "-c", "from ssllib.experiments import make_config; "
                            "from ssllib.results import entry_path; import socket; "
                            "p = entry_path(make_config('table2', 'simsiam', 'smoke', 0, dataset='synthetic', "
                            "epochs=12.0), 'smoke'); p.parent.mkdir(parents=True); "
                            f"p.with_name(p.name + '.lock').write_text('{dead} ' + socket.gethostname())"],
                           env=env, cwd=ROOT, capture_output=True, text=True)
    assert probe.returncode == 0, probe.stderr
    done = subprocess.run(RUN, env=env, capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0 and "taking over the stale lock" in done.stderr
    assert not list((tmp_path / "results").rglob("*.lock"))
    (path,) = (tmp_path / "results" / "smoke" / "table2").glob("*.json")  # no checkpoint survived it
    assert json.loads(path.read_text())["train"]["start"] == "started over: an earlier attempt left no checkpoint"


def small_disk(path: Path, size: str, read_only: bool = False) -> Path:
    """A real tmpfs of `size` (read-only if asked) at `path`; skipped where mounting is not allowed."""
    path.mkdir(parents=True, exist_ok=True)
    opts = f"size={size}" + (",ro" if read_only else "")
    out = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(path)], capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({out.stderr.strip()}): needs root")
    return path


def unmount(path: Path) -> None:
    subprocess.run(["umount", str(path)], check=False)


def test_a_full_disk_is_one_line_exit_2_and_the_training_is_kept(tmp_path):
    """Results on a small tmpfs with one page left for the lock: training ends, its result does not
    fit: one line naming the file and the full disk, exit 2, no partial record; the final checkpoint
    (on another disk) is kept, so the re-run with space only writes the result.  The disk is sized
    from the record and curve a reference run writes (they grow as records learn new keys)."""
    reference = subprocess.run(RUN, env=env_for(tmp_path / "reference"), capture_output=True, text=True, cwd=ROOT)
    assert reference.returncode == 0, reference.stderr
    pages = sum(-(-p.stat().st_size // 4096) for p in (tmp_path / "reference" / "results").rglob("*.*"))
    size = 4096 * (pages + 2)  # the record, its curve, the lock and one page of slack
    disk = small_disk(tmp_path / "full", f"{size // 1024}k")
    try:
        (disk / "filler").write_bytes(b"\0" * (size - 4096))
        env = dict(env_for(tmp_path), SSLLIB_RESULTS=str(disk))
        out = subprocess.run(RUN, env=env, capture_output=True, text=True, cwd=ROOT)
        err = out.stderr.strip()
        assert out.returncode == 2 and len(err.splitlines()) == 1, err
        assert err.startswith("error: cannot write") and "No space left on device (ENOSPC)" in err
        assert not [p for p in disk.rglob("*") if p.suffix == ".json" or ".tmp" in p.name or p.suffix == ".lock"]
        (disk / "filler").unlink()
        again = subprocess.run(RUN, env=env, capture_output=True, text=True, cwd=ROOT)
        assert again.returncode == 0, again.stderr
        (record,) = disk.rglob("*.json")
        train = json.loads(record.read_text())["train"]
        assert train["resumed_at_step"] == train["steps"]  # nothing retrained
    finally:
        unmount(disk)


def test_a_read_only_results_folder_is_one_line_exit_2_before_training(tmp_path):
    disk = small_disk(tmp_path / "ro", "1m", read_only=True)
    try:
        env = dict(env_for(tmp_path), SSLLIB_RESULTS=str(disk))
        out = subprocess.run(RUN, env=env, capture_output=True, text=True, cwd=ROOT)
        err = out.stderr.strip()
        assert out.returncode == 2 and len(err.splitlines()) == 1, err
        assert "Read-only file system (EROFS)" in err and not list((tmp_path / "ckpt").rglob("*.pt"))
    finally:
        unmount(disk)


def test_one_training_asked_for_by_two_chapters_at_once_is_trained_once(tmp_path):
    """Table 2's SimSiam and Figure 3's SimSiam are one training (one labels-free
    key); asked for at the same moment under the two names, one process trains it and the other
    waits for it and reads it as a shared run."""
    env = env_for(tmp_path)
    first = training(env, tmp_path / "ckpt" / "smoke" / ".training")
    other = [RUN[0], "-m", "ssllib", "run", "fig3", *RUN[5:]]
    other[other.index("--variant") + 1] = "simsiam"
    second = subprocess.run(other, env=env, capture_output=True, text=True, cwd=ROOT)
    out1, err1 = first.communicate()
    assert first.returncode == 0 and second.returncode == 0, (err1, second.stderr)
    assert "waiting" in second.stderr and "waiting" not in err1
    assert out1.splitlines()[-1] == second.stdout.splitlines()[-1]  # the same numbers, trained once
    assert not list((tmp_path / "results" / "smoke" / "fig3").glob("*.json"))  # shared, not copied
