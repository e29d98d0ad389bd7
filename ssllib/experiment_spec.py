"""What an experiment is: one paper item as a named set of variants (plain dicts of config
overrides) with its notebook, book part, default seeds, per-profile scaling, how its collapse
claims are judged, the paper's numbers for it (`paper`) and its planned accuracy claims (`claims`,
`PlannedClaim`).  The declarations live in `ssllib.items`, one module per part of the book;
`ssllib.paper.REPORTED` and `ssllib.plan.PLAN` are views built from them.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

# the run plan's vocabulary (ssllib.plan): Table 2's untrained controls, the margins, the seeds
CONTROLS = ("random_init", "random_init_bn", "raw_pixels")
EQUAL_MARGIN = 2.0   # points: "about as accurate" means a true difference inside +-2
LEARNS_GAP = 5.0     # points: "SimSiam learns features" needs this margin over the strongest control
THREE = (0, 1, 2)
# the metrics an accuracy claim can be judged on, and their names in the book (ssllib.evaluate)
METRIC_NAMES = {"linear_acc": "linear", "knn_acc": "kNN", "knn20_acc": "kNN k=20"}
AFTER = ("written after its cifar10 cpu_long runs (the rules before it were rule 6's); the seeds are "
         "the three every long-length experiment had by default before any was run")


@dataclass(frozen=True)
class PlannedClaim:
    """One accuracy claim of the run plan: arm `a` against arm `b` (the strongest of several, e.g.
    Table 2's controls), with its test, gap or margin, metric, lengths and seeds, fixed before its
    runs.  Declared on its item (`Experiment.claims`), which fills in `experiment` and `item`."""
    claim: str
    a: str
    b: tuple                     # one arm or several (a str is taken as one)
    kind: str = "order"          # order | equal | at_least
    gap: float = 1.0             # order: minimum gap; equal / at_least: the margin
    metric: str = "linear_acc"   # the primary metric; kNN (METRIC_NAMES) for Table 2's secondary claim
    seeds: dict = field(default_factory=lambda: {"cpu_long": THREE})   # length -> planned seeds
    dataset: str = "cifar10"
    written: str = "2026-11-30"  # when this entry was committed (before or after its runs: `note`)
    note: str = ""               # runs that existed before this entry, or were added after looking
    # a labelled extra: judged and shown, outside the family (a comparison a plan amendment replaced)
    extra: bool = False
    # arms the paper says do not work: not held to the "has learned" bar (ssllib.accuracy.unlearned)
    may_fail: tuple = ()
    item: str = ""               # the paper's label, default its item's
    experiment: str = ""         # its item's name

    def __post_init__(self):
        if isinstance(self.b, str):
            object.__setattr__(self, "b", (self.b,))

    @property
    def key(self) -> str:
        return f"{self.experiment}: {self.claim}" + (f" [{self.dataset}]" if self.dataset != "cifar10" else "")


@dataclass
class Experiment:
    name: str
    title: str
    variants: dict
    notebook: str
    default_seeds: dict = field(default_factory=dict)  # profile -> seeds
    scale: dict = field(default_factory=dict)          # profile -> overrides for this experiment
    variant_scale: dict = field(default_factory=dict)  # profile -> variant -> overrides
    # variant -> curve columns it plots: another experiment's identical run is reused only if its
    # curve has them (runs committed before a metric existed lack it)
    needs: dict = field(default_factory=dict)
    # the variants run at a long length: those whose accuracy the paper compares, and (since
    # 2026-11-30) those whose collapse claims the short runs cannot settle (m_r can fall and recover
    # after ~146 steps: Fig. 3's inverse predictor went 0.155 -> 0.94).  Empty: no long length
    long_variants: tuple = ()
    item: str = ""              # the paper's label for it, as claims name it ("Table 4")
    section: tuple = ()         # (paper, section): its part of the book and the scorecard's grouping
    # its claims other than the run plan's accuracy orderings: "collapse" (rule 5 on every variant
    # the paper reports, against `reference`'s m_r), a figure's own judge (`ssllib.verdicts.JUDGES`),
    # or "none"
    judge: str = "collapse"
    reference: str | None = None
    # the paper's numbers for this item, typed once and labelled as the paper's: one row per
    # variant it reports ({"label", "collapse", "top1", "std", "m_o", "m_r", "text", ...}), or the
    # statements of a figure without numbers
    paper: dict = field(default_factory=dict)
    claims: tuple = ()          # its planned accuracy claims (PlannedClaim), in the plan's order

    def __post_init__(self):
        self.claims = tuple(dataclasses.replace(c, experiment=self.name, item=c.item or self.item)
                            for c in self.claims)
        # every arm the run plan judges at a long length runs there (the queue trains it, so the
        # chapter and the scorecard must read it): the declared long variants, then those arms
        judged = {v for c in self.claims if set(c.seeds) & set(LONG_PROFILES) for v in (c.a, *c.b)}
        self.long_variants = tuple(dict.fromkeys((*self.long_variants, *(v for v in self.variants if v in judged))))

    def variants_at(self, profile: str) -> list:
        return list(self.long_variants if profile in LONG_PROFILES else self.variants)

    def seeds_at(self, profile: str) -> list:
        return list(self.default_seeds.get(profile, [0, 1, 2] if profile in LONG_PROFILES else [0]))

    def lengths(self, profile: str) -> list:
        """The profiles this experiment's chapter reads at `profile`: its own and, for an
        experiment with long_variants, the profile's long lengths (one per dataset)."""
        return [profile] + (list(dict.fromkeys(LONG_BY_DATASET[profile].values()))
                            if profile in LONG_BY_DATASET and self.long_variants else [])


# the lengths at which accuracy orderings are judged, per dataset; three seeds each by default.
# CIFAR-100's is 20 epochs: at 10, SimSiam had not yet left the random encoder (ssllib/plan.py)
LONG_BY_DATASET = {"cpu": {"cifar10": "cpu_long", "cifar100": "cpu_long20"}}
LONG_OF = {p: d["cifar10"] for p, d in LONG_BY_DATASET.items()}  # a profile -> its CIFAR-10 long length
LONG_PROFILES = tuple(dict.fromkeys(v for d in LONG_BY_DATASET.values() for v in d.values()))


def long_of(profile: str, dataset: str = "cifar10") -> str:
    """The long length of `profile` on `dataset` (a profile without one is its own)."""
    return LONG_BY_DATASET.get(profile, {}).get(dataset, LONG_OF.get(profile, profile))

# the cpu length of most Section 3-4 chapters: 0.75 epoch, about 146 steps of 256 images
SHORT = {"cpu": dict(epochs=0.75, warmup_epochs=0.05)}
