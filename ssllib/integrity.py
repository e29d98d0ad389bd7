"""Checksums of what the cache keeps between runs: a result record, a checkpoint, the
decoded data.  Each is stored inside the thing it protects, computed over everything else in it,
so a truncated, bit-flipped or hand-edited file is recognised and never read back as valid.

These detect damage, not forgery: a checksum is recomputable by anyone who edits the file.
"""
from __future__ import annotations

import hashlib
import json
import math

import torch

DIGEST_KEY = "sha256"  # the key under which a checkpoint or the data cache keeps its digest


def one_line(e: Exception, limit: int = 160) -> str:
    """The first line of an error's message (its type where it has none): what a damaged file's
    report says went wrong."""
    text = str(e).strip()
    return text.splitlines()[0][:limit] if text else type(e).__name__


def _feed(h, obj) -> None:
    """Feed a nested structure of tensors, numbers, strings, None, lists/tuples and dicts into `h`
    in a fixed order (dict keys sorted), tagging each item with its type."""
    if isinstance(obj, torch.Tensor):
        t = obj.detach().cpu().contiguous()
        h.update(f"T{t.dtype}{tuple(t.shape)}".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    elif isinstance(obj, dict):
        h.update(f"D{len(obj)}".encode())
        for k in sorted(obj, key=str):
            h.update(f"K{k!r}".encode())
            _feed(h, obj[k])
    elif isinstance(obj, (list, tuple)):
        h.update(f"L{len(obj)}".encode())
        for item in obj:
            _feed(h, item)
    else:
        h.update(f"V{type(obj).__name__}:{obj!r}".encode())


def state_digest(state: dict) -> str:
    """sha256 of a checkpoint-like dict, its own DIGEST_KEY left out."""
    h = hashlib.sha256()
    _feed(h, {k: v for k, v in state.items() if k != DIGEST_KEY})
    return h.hexdigest()


def sealed(state: dict) -> dict:
    """`state` with its digest added (what is saved)."""
    return dict(state, **{DIGEST_KEY: state_digest(state)})


def check_sealed(state, what: str = "file") -> dict:
    """`state` if its stored digest matches its contents; ValueError naming the fault otherwise."""
    if not isinstance(state, dict):
        raise ValueError(f"the {what} is a {type(state).__name__}, not a dict")
    if DIGEST_KEY not in state:
        raise ValueError(f"the {what} has no checksum (written by an older ssllib, or damaged)")
    if state[DIGEST_KEY] != state_digest(state):
        raise ValueError(f"the {what}'s contents do not match its checksum (damaged or edited)")
    return state


# ---- result records --------------------------------------------------------------------------
RECORD_KEY = "record_sha256"


def record_digest(record: dict) -> str:
    """sha256 of a result record's canonical JSON (keys sorted), its own RECORD_KEY left out."""
    body = {k: v for k, v in record.items() if k != RECORD_KEY}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def schema_faults(record, required: tuple, required_metrics: tuple) -> list[str]:
    """What is wrong with the shape of a record: missing keys, wrong types, a metric that is not a
    finite number (NaN, inf, a string).  Empty when the record is well formed."""
    if not isinstance(record, dict):
        return [f"the record is a {type(record).__name__}, not a JSON object"]
    faults = [f"missing {k}" for k in required if k not in record]
    for key in ("config", "metrics", "provenance", "train"):
        if key in record and not isinstance(record[key], dict):
            faults.append(f"{key} is a {type(record[key]).__name__}, not an object")
    metrics = record.get("metrics") if isinstance(record.get("metrics"), dict) else {}
    for k in required_metrics:
        if k not in metrics:
            faults.append(f"missing metrics.{k}")
        elif k == "collapsed":
            if not isinstance(metrics[k], bool):
                faults.append(f"metrics.collapsed is {metrics[k]!r}, not true/false")
        elif isinstance(metrics[k], bool) or not isinstance(metrics[k], (int, float)) or not math.isfinite(metrics[k]):
            faults.append(f"metrics.{k} is {metrics[k]!r}, not a finite number")
    # the rest of what the chapters read: every other metric a number (a forged string or list
    # would crash a table), the provenance the pages print as text, the step count as a count
    for k, v in metrics.items():
        if k not in required_metrics and (isinstance(v, bool) or not isinstance(v, (int, float))
                                          or (isinstance(v, float) and not math.isfinite(v))):
            faults.append(f"metrics.{k} is {str(v)[:40]!r}, not a finite number")
    provenance = record.get("provenance") if isinstance(record.get("provenance"), dict) else {}
    for k in ("device", "git_sha", "ended", "data_source"):
        if k in provenance and not isinstance(provenance[k], str):
            faults.append(f"provenance.{k} is {str(provenance[k])[:40]!r}, not text")
    train = record.get("train") if isinstance(record.get("train"), dict) else {}
    steps = train.get("steps", 0)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        faults.append(f"train.steps is {str(steps)[:40]!r}, not a count of steps")
    return faults
