"""What an experiment is: one paper item as a named set of variants (plain dicts of config
overrides) with its notebook, book part, default seeds, per-profile scaling and how its collapse
claims are judged.  The declarations live in `ssllib.items`, one module per part of the book.
"""
from __future__ import annotations

from dataclasses import dataclass, field


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
