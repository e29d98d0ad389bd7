"""Durable writes and the locks of writers: what the cache (`ssllib.results`), the decoded
datasets (`ssllib.data`), the checkpoints (`ssllib.train`) and the trainer (`ssllib.runner`) share.
A file is written to `<name>.tmp<pid>` and renamed, so a reader sees the old file or the new, never
a half-written one; a run is trained under `run_lock`, so two processes never train it twice.
"""
from __future__ import annotations

import datetime as dt
import errno
import os
import socket
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import torch


def fsync_and_replace(tmp: Path, path: Path) -> None:
    """Make `tmp` durable, rename it to `path`, and make the rename durable (fsync of the file
    and of its folder): after a crash or power loss `path` is the old file or the new, never empty.
    $SSLLIB_SLOW_WRITES (seconds) holds every write open before its rename: the kill-anywhere test
    uses it to land kills inside writes."""
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    if os.environ.get("SSLLIB_SLOW_WRITES"):
        import time
        try:
            time.sleep(float(os.environ["SSLLIB_SLOW_WRITES"]))
        except ValueError:
            raise StorageError(f"bad $SSLLIB_SLOW_WRITES {os.environ['SSLLIB_SLOW_WRITES']!r}: expected "
                               "seconds, e.g. 0.5 (a test hook; leave it unset)") from None
    os.replace(tmp, path)
    try:
        fd = os.open(path.parent, os.O_RDONLY)
    except OSError:  # a platform without directory file descriptors
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_stale_temps(folder: Path) -> list[Path]:
    """Delete `*.tmp<pid>` files left in `folder` by writers that were killed (their process is
    gone); a live writer's file is left alone.  Returns what was removed."""
    removed = []
    for tmp in folder.glob("*.tmp*") if folder.is_dir() else []:
        pid = tmp.name.rsplit(".tmp", 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid() and not process_alive(int(pid)):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def process_alive(pid: int) -> bool:
    """Whether process `pid` runs (a zombie, killed and not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


class StorageError(RuntimeError):
    """A write failed (disk full, read-only file system, no permission): one line, exit code 2."""


def storage_error(path: Path, e: Exception) -> StorageError:
    """The one line for a failed write of `path`: what the system said, and the space left."""
    if isinstance(e, OSError):
        reason = f"{e.strerror or e}" + (f" ({errno.errorcode[e.errno]})" if e.errno in errno.errorcode else "")
    else:  # torch.save reports a full disk as a RuntimeError ("unexpected pos ...")
        reason = f"the write failed ({str(e).strip().splitlines()[-1][:120]})"
    try:
        st = os.statvfs(path.parent if path.parent.exists() else path.parent.parent)
        reason += f"; {st.f_bavail * st.f_frsize // 1024} KiB free there"
    except OSError:
        pass
    return StorageError(f"cannot write {path}: {reason}")


def atomic_write(path: Path, write) -> None:
    """`write(tmp)` then durable rename to `path`; on any failure the temp file is removed and one
    StorageError names the file and the reason (a full disk, a read-only folder)."""
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write(tmp)
        fsync_and_replace(tmp, path)
    except BaseException as e:  # Ctrl-C included: no temp file outlives its write
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        if isinstance(e, (OSError, RuntimeError)):
            raise storage_error(path, e) from None
        raise


def atomic_torch_save(obj, path: Path) -> None:
    atomic_write(path, lambda tmp: torch.save(obj, tmp))


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
