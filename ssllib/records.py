"""Reading the result cache, never training and never writing: an item's records at a length and
dataset, a run another item already trained with the same config (a shared run), what is missing.

    records.load("table4", "cpu_long20", overrides={"dataset": "cifar100"})  # the cached runs
    found, missing = records.find(records.configs("table4", "cpu_long"), "cpu_long")

Training lives in `ssllib.runner` (the only writer of results/); the judges (`ssllib.verdicts`,
`ssllib.accuracy`) take the records this module returns and read no files themselves.

One pass over results/ serves every lookup: each record file's training key (its config hash
without the experiment and variant names) is read once per process and kept while the file's
size and modification time stay the same, so a record that lands while a notebook runs is seen.
"""
from __future__ import annotations

import json
from pathlib import Path

from .config import Config, config_hash
from .experiments import EXPERIMENTS, get_experiment, make_config
from .results import CacheError, entry_path, read_curve, read_entry, results_root

READ_ONLY = "read-only: listed as missing"  # what a damaged record is called where nothing trains


def configs(name: str, length: str, variants=None, seeds=None, overrides=None) -> list[Config]:
    """The configs of item `name`'s runs at `length`: each variant run there (or those given) x its
    seeds there (or those given), with `overrides` (e.g. {"dataset": "cifar100"}) on top."""
    exp = get_experiment(name)
    seeds = list(seeds if seeds is not None else exp.seeds_at(length))
    return [make_config(name, v, length, s, **(overrides or {})) for v in (variants or exp.variants_at(length))
            for s in seeds]


_SEEN: dict = {}  # path -> ((mtime_ns, size, inode), training key or None, the record's JSON)


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.glob("*/*/*.json") if p.parts[-3] != "benchmarks")


def _quick(path: Path):
    """(training key, parsed JSON) of a record file, from the memo while the file is unchanged;
    (None, None) for a file that is not a record of ours, or a view of a shared run."""
    try:
        st = path.stat()
    except OSError:
        return None, None
    stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
    seen = _SEEN.get(path)
    if seen is None or seen[0] != stamp:
        try:
            quick = json.loads(path.read_text())
            key = None if "reused_from" in quick else config_hash(Config(**quick["config"]), labels=False)
        except (OSError, ValueError, TypeError, KeyError, RecursionError):
            quick, key = None, None  # not a record of ours (a JSON nested past Python's limit included)
        seen = _SEEN[path] = (stamp, key, quick)
    return seen[1], seen[2]


def own_json(path: Path) -> dict | None:
    """The parsed JSON of the record file at `path` (unchecked, from the memo), or None."""
    return _quick(path)[1] if path.exists() else None


def by_training_key() -> dict:
    """The training key of every record file under results/ -> its parsed JSON (not yet checked:
    `shared_run` and `load` check what they return; the queue only counts what exists)."""
    out = {}
    for path in _files(results_root()):
        key, quick = _quick(path)
        if key is not None:
            out[key] = quick
    return out


def shared_run(cfg: Config, profile: str) -> dict | None:
    """A valid record of another item (or another length: a length is a config, so the 20-epoch
    learning curve is the 20-epoch run of its seed) that trained exactly `cfg` (labels aside),
    returned under this item's name and `profile`, `reused_from` saying where it came from
    (`<experiment>/<file>`, or `<profile>/<experiment>/<file>` from another length's folder).
    A run is looked for in `profile`'s folder first.  Nothing is written."""
    key = config_hash(cfg, labels=False)
    needs = EXPERIMENTS[cfg.experiment].needs.get(cfg.variant, ()) if cfg.experiment in EXPERIMENTS else ()
    files = _files(results_root())
    for path in [p for p in files if p.parts[-3] == profile] + [p for p in files if p.parts[-3] != profile]:
        if _quick(path)[0] != key:
            continue
        try:
            record = read_entry(path)
            if needs and not set(needs) <= set((read_curve(record) or [{}])[0]):
                continue  # committed before the metric the chapter plots existed
        except (CacheError, OSError, ValueError, KeyError):
            continue
        where = f"{record['experiment']}/{path.name}"
        return dict(record, experiment=cfg.experiment, variant=cfg.variant, config_hash=config_hash(cfg),
                    config=cfg.to_dict(), profile=profile,
                    reused_from=where if record["profile"] == profile else f"{record['profile']}/{where}")
    return None


def lookup(cfg: Config, profile: str, damaged_means: str = READ_ONLY, share: bool = True) -> tuple[dict | None, bool]:
    """(the cached record of `cfg` at `profile`, its own or (with `share`) a shared run; or None, and
    whether its own record is there but damaged).  A damaged record is named in one line, with
    `damaged_means`.  Its own record comes first: a run trained under its own name replaces a shared one."""
    path, damaged = entry_path(cfg, profile), False
    if path.exists():
        try:
            return read_entry(path), False
        except CacheError as e:
            print(f"cache entry damaged, not used ({damaged_means}): {e}")
            damaged = True
    return (shared_run(cfg, profile) if share else None), damaged


def find(cfgs: list[Config], profile: str) -> tuple[list[dict], list[str]]:
    """The cached records of the configs a caller built, and 'variant (seed s)' for each one not
    cached ('variant (seed s, damaged)' where its record is there and fails its checks)."""
    found, missing = [], []
    for cfg in cfgs:
        record, damaged = lookup(cfg, profile)
        if record is not None:
            found.append(record)
        else:
            missing.append(f"{cfg.variant} (seed {cfg.seed}{', damaged' if damaged else ''})")
    return found, missing


def load(name: str, length: str, variants=None, seeds=None, overrides=None) -> list[dict]:
    """Item `name`'s cached records at `length` (runs not cached are left out: `missing` names them)."""
    return find(configs(name, length, variants, seeds, overrides), length)[0]


def missing(name: str, length: str, seeds=None, overrides=None) -> list[str]:
    """'variant (seed s)' for each of item `name`'s runs at `length` that is not cached."""
    return find(configs(name, length, seeds=seeds, overrides=overrides), length)[1]


def everything() -> list[dict]:
    """Every valid record under results/ at every length (benchmarks and damaged files left out)."""
    out = []
    for path in _files(results_root()):
        try:
            out.append(read_entry(path))
        except CacheError:
            continue
    return out


def with_curves(records: list[dict]) -> list[dict]:
    """The records with their per-step curves read into them (`curve`), so that a judge given them
    reads no file (`results.read_curve` returns an in-memory curve as it stands)."""
    return [dict(r, curve=read_curve(r)) for r in records]
