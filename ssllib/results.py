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
import subprocess
from pathlib import Path

from . import __version__
from .config import Config, ConfigError, config_hash, validate
from .data import REPO_ROOT, cache_dir
from .decomposition import is_collapsed
from .integrity import RECORD_KEY, record_digest, schema_faults
from .storage import atomic_write

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
    record = {k: v for k, v in record.items() if k not in (RECORD_KEY, "curve")}  # an in-memory curve stays out
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
    """The per-step curve of a record, as a list of dicts of floats: the one it carries in memory
    (`records.with_curves`, or a test's record), else its file (a run shared from another chapter,
    `reused_from`, keeps its curve beside its original)."""
    if "curve" in record:
        return record["curve"]
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
