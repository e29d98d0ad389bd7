"""The result cache: one JSON per full config, with provenance, and the curve beside it.

    results/<profile>/<experiment>/<config-hash>.json        the record (the agreed keys: README)
    results/<profile>/<experiment>/<config-hash>.curve.csv   metrics over training steps

Both files are written to a temporary name and renamed, curve first, so the JSON's presence means
the entry is complete.  Reading checks the record's shape (keys, types, finite metrics), its own
sha256 (`record_sha256`, over the whole record), that its config hashes to its file name, and the
curve's sha256: a damaged or partial entry, or one edited without re-sealing, is reported in one
line and recomputed, never used.  The checksums protect against accidents, not forgery: an entry
edited and re-sealed (its digests recomputed) passes them; two cheap consistency checks (its curve's
name, `collapsed` against `m_r`) catch the commonest edits.
"""
from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import io
import json
import os
import platform
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from . import __version__
from .config import Config, ConfigError, config_hash, validate
from .data import REPO_ROOT, cache_dir
from .storage import atomic_write, process_alive, storage_error
from .integrity import RECORD_KEY, record_digest, schema_faults

REQUIRED = ("experiment", "profile", "config", "metrics", "provenance", "train")
REQUIRED_METRICS = ("linear_acc", "knn_acc", "z_std", "m_o", "m_r", "collapsed")


class CacheError(RuntimeError):
    pass


def _folder_variable(name: str, default: Path) -> Path:
    """A folder named by $`name`; an empty value counts as unset (never the working directory)."""
    return Path(os.environ.get(name) or default)


def results_root() -> Path:
    return _folder_variable("SSLLIB_RESULTS", REPO_ROOT / "results")


def entry_path(cfg: Config, profile: str) -> Path:
    return results_root() / profile / cfg.experiment / f"{config_hash(cfg)}.json"


def checkpoint_path(cfg: Config, profile: str) -> Path:
    return checkpoints_root() / profile / cfg.experiment / f"{config_hash(cfg)}.pt"


def _atomic_write(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text))


def checkpoints_root() -> Path:
    return _folder_variable("SSLLIB_CHECKPOINTS", cache_dir() / "checkpoints")


def training_lock_path(cfg, profile: str) -> Path:
    """The name whose lock (run_lock) guards one *training*, whatever experiment asks for it:
    <checkpoints>/<profile>/.training/<labels-free config hash>.json (never written, only locked),
    beside the checkpoints, so that the results folder holds nothing but results and entry locks."""
    return checkpoints_root() / profile / ".training" / f"{config_hash(cfg, labels=False)}.json"


def lock_path(path: Path) -> Path:
    """The lock file of the result entry at `path` (run_lock)."""
    return path.with_name(path.name + ".lock")


def process_identity(pid: int) -> str:
    """What tells process `pid` apart from a later one given the same PID (after a reboot or a
    container restart): this boot's id and the process's start time (clock ticks since boot),
    read from /proc; "" where /proc does not say."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        start = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
        return f"{boot}:{start}"
    except (OSError, IndexError):
        return ""


# a live holder touches its lock every HEARTBEAT_S seconds; a lock whose holder cannot be checked
# from here (another host, or an identity-less lock of an older ssllib) with no heartbeat for
# STALE_AFTER_S seconds is stale: its process died with its machine, or its container was renamed
HEARTBEAT_S = 30.0
STALE_AFTER_S = 600.0


def _heartbeat_age(lock: Path | None) -> float:
    try:
        return time.time() - lock.stat().st_mtime if lock is not None else 0.0
    except OSError:
        return 0.0


def _holder_runs(holder, lock: Path | None = None) -> bool:
    """Whether a lock's holder can still be running: on this host, its PID is alive and (where the
    lock records it) is the same process, not a later one that reuses the PID; a holder that cannot
    be checked from here (another host, or a lock without the process's identity) runs while its
    heartbeat (the lock's mtime, `lock`) is younger than STALE_AFTER_S.  PID 0 or below never runs."""
    if holder is None:
        return False
    pid, host, identity = holder
    if pid <= 0:
        return False
    if host == socket.gethostname() and identity:
        return process_alive(pid) and process_identity(pid) == identity
    if host == socket.gethostname() and not process_alive(pid):
        return False
    return _heartbeat_age(lock) < STALE_AFTER_S


def lock_is_live(lock: Path) -> bool:
    """A lock held by a process that still runs."""
    return _holder_runs(_lock_holder(lock), lock)


def _lock_holder(lock: Path):
    """(pid, host, identity) written in a lock file (identity "" in a lock of an older ssllib), or
    None while it is being written or unreadable."""
    try:
        pid, host, *identity = lock.read_text().split()
        return int(pid), host, identity[0] if identity else ""
    except (OSError, ValueError):
        return None


def _beat(lock: Path, stop) -> None:
    """The holder's heartbeat: touch `lock` every HEARTBEAT_S seconds until `stop` is set."""
    while not stop.wait(HEARTBEAT_S):
        try:
            os.utime(lock)
        except OSError:
            return


@contextmanager
def run_lock(path: Path, poll: float = 1.0):
    """The exclusive right to train the entry at `path`: a lock file beside it holding
    the trainer's PID and host, created atomically (O_EXCL).  A second process of the same config
    waits for the holder and then reads its result; a lock left by a process that is gone (killed)
    is taken over.  A lock of another host is waited for, since its process cannot be checked from
    here.  Yields how the lock was got: "waited" (for a live holder), "stale" (taken over from a
    dead one: an earlier attempt was interrupted) or "free"."""
    lock = lock_path(path)
    waited = stale = False
    while True:
        try:
            lock.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            holder = _lock_holder(lock)
            try:
                young = time.time() - lock.stat().st_mtime < 10
            except FileNotFoundError:  # released meanwhile: try again
                continue
            if holder is None and young:  # its writer is between create and write
                time.sleep(poll / 10)
                continue
            if not _holder_runs(holder, lock):
                print(f"taking over the stale lock {lock} (its holder {holder or 'unreadable'} cannot be running: "
                      f"gone, a reused PID, or no heartbeat for {_heartbeat_age(lock):.0f} s)", file=sys.stderr)
                lock.unlink(missing_ok=True)
                stale = True
                continue
            if not waited:
                since = dt.datetime.fromtimestamp(lock.stat().st_ctime, dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
                print(f"{path.name} is being trained by process {holder[0]} on {holder[1]} (lock since {since}, "
                      f"last heartbeat {_heartbeat_age(lock):.0f} s ago); waiting for it", file=sys.stderr)
                waited = True
            time.sleep(poll)
            continue
        except OSError as e:  # a read-only or full results folder: before any training
            raise storage_error(lock, e) from None
        try:
            with os.fdopen(fd, "w") as f:
                f.write(f"{os.getpid()} {socket.gethostname()} {process_identity(os.getpid())}\n")
        except OSError as e:
            lock.unlink(missing_ok=True)
            raise storage_error(lock, e) from None
        break
    stop = threading.Event()
    threading.Thread(target=_beat, args=(lock, stop), daemon=True).start()
    try:
        yield "waited" if waited else "stale" if stale else "free"
    finally:
        stop.set()
        lock.unlink(missing_ok=True)


def curve_to_csv(rows: list[dict]) -> str:
    if not rows:
        return ""
    keys = list(rows[0])
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=keys, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def write_entry(path: Path, record: dict, curve: list[dict] | str) -> dict:
    """Write the curve (rows, or CSV text as it stands) and then the record, each atomically."""
    text = curve if isinstance(curve, str) else curve_to_csv(curve)
    curve_path = path.with_suffix(".curve.csv")
    new = not path.exists()  # a rewrite keeps its curve whatever happens to the record's write
    _atomic_write(curve_path, text)
    record = {k: v for k, v in record.items() if k != RECORD_KEY}
    record = dict(record, curve_file=curve_path.name,
                  curve_sha256=hashlib.sha256(text.encode()).hexdigest())
    record[RECORD_KEY] = record_digest(record)
    try:
        _atomic_write(path, json.dumps(record, indent=1, sort_keys=False) + "\n")
    except Exception:  # a full disk at the record's write: no curve left behind without its record
        if new:
            curve_path.unlink(missing_ok=True)
        raise
    return record


def rewrite_entry(record: dict, source: Path, dest: Path | None = None) -> dict:
    """Write a changed `record` (read from `source`) with the curve that stands beside `source`,
    at `dest` (default: `source`)."""
    curve = source.with_name(record["curve_file"]).read_text()
    fresh = {k: v for k, v in record.items() if k not in ("curve_file", "curve_sha256", RECORD_KEY)}
    return write_entry(dest or source, fresh, curve)


_VALID_CONFIGS: set = set()  # config hashes already validated in this process


def read_entry(path: Path) -> dict:
    """The record at `path`, or CacheError saying what is wrong with it."""
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError, RecursionError) as e:
        raise CacheError(f"{path}: unreadable ({type(e).__name__}: {str(e)[:80]})") from None
    faults = schema_faults(record, REQUIRED, REQUIRED_METRICS)
    if faults:
        raise CacheError(f"{path}: {'; '.join(faults)}")
    if RECORD_KEY not in record:
        raise CacheError(f"{path}: no record checksum ({RECORD_KEY}); written by an older ssllib or damaged")
    if record[RECORD_KEY] != record_digest(record):
        raise CacheError(f"{path}: its contents do not match its checksum (damaged or edited)")
    try:
        cfg = Config(**record["config"])
        h = config_hash(cfg)
        if h not in _VALID_CONFIGS:  # a re-sealed edit to a value no run could have (a bad option, a negative width)
            validate(cfg)
            _VALID_CONFIGS.add(h)
    except (TypeError, ValueError, ConfigError) as e:
        raise CacheError(f"{path}: config does not match ssllib.Config ({str(e)[:120]})") from None
    if h != path.stem:
        raise CacheError(f"{path}: config hashes to {h}, not to its file name")
    if record.get("curve_file") != f"{path.stem}.curve.csv":
        raise CacheError(f"{path}: its curve file {str(record.get('curve_file'))[:60]!r} is not {path.stem}.curve.csv")
    from .decomposition import is_collapsed
    if record["metrics"]["collapsed"] != is_collapsed(record["metrics"]["m_r"]):  # the commonest edit
        raise CacheError(f"{path}: 'collapsed' says {record['metrics']['collapsed']} but m_r "
                         f"{record['metrics']['m_r']:.3f} says otherwise")
    curve_path = path.with_name(record["curve_file"])
    if not curve_path.is_file():
        raise CacheError(f"{path}: curve file {curve_path.name} missing")
    if hashlib.sha256(curve_path.read_bytes()).hexdigest() != record.get("curve_sha256"):
        raise CacheError(f"{path}: curve file {curve_path.name} does not match its checksum")
    return record


def read_curve(record: dict) -> list[dict]:
    """The per-step curve of a record, as a list of dicts of floats (a run shared from another
    chapter, `reused_from`, keeps its curve beside its original)."""
    where = record.get("reused_from", f"{record['experiment']}/").split("/")
    profile, folder = (where[0], where[1]) if len(where) == 3 else (record["profile"], where[0])
    base = results_root() / profile / folder
    with open(base / record["curve_file"]) as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


@functools.lru_cache(maxsize=1)
def git_state() -> dict:
    """Commit and dirty flag of ssllib, read once per process: the code a process runs is the code
    it imported, even if the tree changes while it trains."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True,
                              timeout=10).stdout.strip()
    try:
        sha = git("rev-parse", "HEAD") or "unknown"
        dirty = bool(git("status", "--porcelain", "--", "ssllib"))
    except (OSError, subprocess.SubprocessError):
        sha, dirty = "unknown", None
    return {"git_sha": sha, "git_dirty": dirty}


def provenance(data, info: dict, started: dt.datetime, ended: dt.datetime, git: dict) -> dict:
    """`git` is `git_state()` taken when the run started (the code that ran)."""
    import torch
    import torchvision

    return {**git, "ssllib": __version__, "torch": torch.__version__,
            "torchvision": torchvision.__version__, "python": platform.python_version(),
            "device": info["device"], "arithmetic": info.get("arithmetic"),
            "load_average": info.get("load_average"), "data_source": data.source, "data_sha256": data.sha256,
            "wall_seconds": (ended - started).total_seconds(),
            "train_seconds": info["train_seconds"], "images_per_s": info["images_per_s"],
            "started": started.isoformat(timespec="seconds"),
            "ended": ended.isoformat(timespec="seconds")}
