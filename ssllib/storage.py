"""Durable writes and the liveness of a writer: what the cache (`ssllib.results`), the decoded
datasets (`ssllib.data`) and the checkpoints (`ssllib.train`) share.  A file is written to
`<name>.tmp<pid>` and renamed, so a reader sees the old file or the new, never a half-written one.
"""
from __future__ import annotations

import errno
import os
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
