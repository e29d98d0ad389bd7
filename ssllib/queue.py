"""The queue: every run the plan needs and the cache lacks, in the order that settles the most
claims per CPU hour, and the command that trains its head.

    python -m ssllib queue --dry-run                 # the order, with costs and what each run serves
    python -m ssllib queue --next 4 --side-by-side 2  # train the next four, two at a time

What the plan needs (derived, never typed):
- every arm of every planned accuracy claim (`ssllib.plan`, labelled extras aside) at its length,
  dataset and planned seeds;
- on CIFAR-10 at the long length, every long variant whose collapse the paper reports
  (`ssllib.paper`), at its experiment's long seeds (rule 5 judges a variant on all of them).
A run counts as there when a record trains its config, under any experiment (the training key:
shared runs are found as the chapters find them, the item's own record first), and holds the
claim's metric (a metric the plan added later, e.g. CIFAR-100's knn20_acc: an untrained control or a
run whose final checkpoint is on this machine gets it by `run --add-metrics`, another is retrained);
it counts as going when its lock is held.

The ordering rule: each claim still missing runs gets its chance of being decided once its runs
are in, divided by the CPU hours of its missing runs (HOURS).  A collapse claim: SETTLE_COLLAPSE
(the long runs' collapse verdicts separate with their planned seeds).  An accuracy claim: the
normal-approximation power of its test at the Holm level of its family's first step (alpha / m),
with the seed spread the cache holds at that length and dataset (the median seed standard
deviation over the variants with two or more seeds) and, for the effect, the difference its
cached arms already show (the claim's gap, or 0 for "about as accurate", when an arm has none).
Claims are taken by that rate, highest first (equal rates in the book's order: Zhang et al.'s
sections before Chen & He's ablations), and their missing runs listed in that order, each once.  The chance is an estimate for ordering only; it judges nothing.
"""
from __future__ import annotations

import dataclasses
import statistics
from dataclasses import dataclass, field
from math import sqrt
from statistics import NormalDist

from . import records as cache, stats
from .config import Config, config_hash
from .experiment_spec import LONG_BY_DATASET
from .experiments import EXPERIMENTS, make_config
from .paper import REPORTED
from .plan import PLAN, family
from .results import checkpoint_path, entry_path
from .side_by_side import child_command
from .storage import lock_is_live, lock_path

# CPU hours of the two cores per run, measured on this project's CPUs (README: two cpu_long runs
# side by side give 4.43 runs an hour; a 20-epoch run costs twice that); an untrained control ~0
HOURS = {"cpu_long": 0.45, "cpu_long20": 0.9}
UNTRAINED_HOURS = 0.01
SETTLE_COLLAPSE = 0.9
LONG = LONG_BY_DATASET["cpu"]
BOOK_ORDER = list(EXPERIMENTS)  # ties: the paper's own sections, then Chen & He's, then Li et al.'s


@dataclass(frozen=True)
class Run:
    experiment: str
    variant: str
    seed: int
    length: str
    dataset: str
    # a cached record that lacks the claim's metric (one added to the plan later): "add" it (an
    # untrained control, or a final checkpoint on this machine: `run --add-metrics`) or "retrain"
    redo: str = ""

    def config(self) -> Config:
        return make_config(self.experiment, self.variant, self.length, self.seed, dataset=self.dataset)

    @property
    def hours(self) -> float:
        return UNTRAINED_HOURS if self.config().epochs == 0 or self.redo == "add" else HOURS.get(self.length, 1.0)

    def __str__(self) -> str:
        redo = "re-evaluate" if self.redo == "retrain" and self.config().epochs == 0 else self.redo
        return (f"{self.experiment}/{self.variant} seed {self.seed} at {self.length} on {self.dataset}"
                + (f" ({redo}: its record lacks the claim's metric)" if redo else ""))


@dataclass
class Need:
    """One claim's planned runs and the ones still missing."""
    claim: str
    kind: str                 # "accuracy" or "collapse"
    runs: list
    metric: str = "m_r"       # what its records must hold
    missing: list = field(default_factory=list)
    chance: float = 1.0       # of a decided verdict once its runs are in

    @property
    def hours(self) -> float:
        return sum(r.hours for r in self.missing)

    @property
    def rate(self) -> float:
        """Expected claims settled per CPU hour of its missing runs."""
        return self.chance / max(self.hours, 1e-9)


def _arms(c) -> list[str]:
    return [c.a, *c.b]


def planned_needs() -> list[Need]:
    """Every claim's planned runs at its long length (the module's docstring says which)."""
    needs = []
    for c in PLAN:
        if c.extra:
            continue
        for length, seeds in c.seeds.items():
            needs.append(Need(c.key, "accuracy", [Run(c.experiment, v, s, length, c.dataset)
                                                  for v in _arms(c) for s in seeds], c.metric))
    length = LONG["cifar10"]
    for name, exp in EXPERIMENTS.items():
        paper = REPORTED.get(name, {})
        for v in exp.long_variants:
            if isinstance(paper.get(v), dict) and "collapse" in paper[v]:
                needs.append(Need(f"{name}: {paper[v].get('label', v)} collapse", "collapse",
                                  [Run(name, v, s, length, "cifar10") for s in exp.seeds_at(length)]))
    return needs


def running(run: Run) -> bool:
    return lock_is_live(lock_path(entry_path(run.config(), run.length)))


def _spread(keys: dict, length: str, dataset: str) -> float:
    """The median seed standard deviation of linear accuracy over the cached variants with two or
    more seeds at `length` on `dataset` (2 points where none has)."""
    by = {}
    for r in keys.values():
        if r.get("profile") == length and r["config"].get("dataset", "cifar10") == dataset:
            by.setdefault((r["experiment"], r["variant"]), []).append(r["metrics"]["linear_acc"])
    sds = [statistics.stdev(v) for v in by.values() if len(v) >= 2]
    return statistics.median(sds) if sds else 2.0


def chance(c_kind: str, gap: float, diff: float | None, sd: float, n: int, m: int) -> float:
    """Normal-approximation chance that a claim of `c_kind` is decided with `n` seeds an arm, seed
    spread `sd`, true difference `diff` (None: unknown), at the Holm level alpha / m."""
    z = NormalDist().inv_cdf
    se = sd * sqrt(2 / max(n, 1)) or 1e-9
    if c_kind == "order":
        effect = abs(diff) if diff is not None else gap
        return NormalDist().cdf(effect / se - z(1 - stats.ALPHA / (2 * m)))
    d = abs(diff) if diff is not None else 0.0
    return max(0.0, 2 * NormalDist().cdf((gap - d) / se - z(1 - stats.ALPHA / m)) - 1)


def build(keys: dict | None = None, is_running=running, own=None) -> list[Need]:
    """The needs with their missing runs and chances, ordered by rate (highest first); claims
    with nothing missing left out.  `keys` (training key -> record) and `own` (an item's record
    path -> its record or None) default to the cache; `keys` given alone is the whole cache."""
    own = own or (cache.own_json if keys is None else lambda path: None)
    keys = cache.by_training_key() if keys is None else keys
    plan = {c.key: c for c in PLAN}
    out = []
    for need in planned_needs():
        have = {r: _record_of(r, keys, own) for r in need.runs}
        absent = [r if rec is None else dataclasses.replace(r, redo=_redo(r)) for r, rec in have.items()
                  if rec is None or need.metric not in rec["metrics"]]
        if not absent:
            continue
        need.missing = [r for r in absent if not is_running(r)]
        have = {r: rec for r, rec in have.items() if rec is not None and need.metric in rec["metrics"]}
        if need.kind == "collapse":
            need.chance = SETTLE_COLLAPSE
        else:
            c, run = plan[need.claim], need.runs[0]
            arms = {}
            for r, rec in have.items():
                arms.setdefault(r.variant, []).append(rec["metrics"][need.metric])
            diff = (statistics.fmean(arms[c.a]) - max(statistics.fmean(arms[b]) for b in _arms(c)[1:] if b in arms)
                    if c.a in arms and any(b in arms for b in _arms(c)[1:]) else None)
            need.chance = chance(c.kind, c.gap, diff, _spread(keys, run.length, run.dataset),
                                 len(c.seeds[run.length]), max(len(family(run.length, run.dataset)), 1))
        out.append(need)
    return sorted(out, key=lambda n: (-round(n.rate, 9), BOOK_ORDER.index(n.runs[0].experiment), n.claim))


def _record_of(run: Run, keys: dict, own) -> dict | None:
    """The record a chapter counts for `run`: its item's own, else a run of the same training key."""
    mine = own(entry_path(run.config(), run.length))
    return mine if mine is not None else keys.get(config_hash(run.config(), labels=False))


def _redo(run: Run) -> str:
    """How a run whose record lacks a metric gets it: "add" to the item's own record (an untrained
    control, or a final checkpoint here), else "retrain" under its own record."""
    cfg = run.config()
    own = entry_path(cfg, run.length).exists()
    return "add" if own and (cfg.epochs == 0 or checkpoint_path(cfg, run.length).exists()) else "retrain"


def order(needs: list[Need]) -> list[tuple[Run, list[str]]]:
    """The missing runs in the needs' order, each once, with the claims it serves."""
    serves = {}
    for need in needs:
        for r in need.missing:
            serves.setdefault(r, []).append(need.claim)
    return list(serves.items())


def rows(needs: list[Need]) -> list[tuple[Run, float, list[str]]]:
    """The missing runs in order, each with the best rate (claims settled per CPU hour) among the
    claims it serves, and those claims: what `ssllib queue --dry-run` and the run-status page show."""
    rate = {n.claim: n.rate for n in needs}
    return [(r, max(rate[c] for c in claims), claims) for r, claims in order(needs)]


def child(run: Run, device: str = "auto") -> list[str]:
    return child_command(run.experiment, run.length, run.variant, run.seed, [f"dataset={run.dataset}"],
                         None, device, run.redo == "retrain", add_metrics=run.redo == "add")
