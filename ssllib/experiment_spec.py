"""What an experiment is: a named set of variants (plain dicts of config overrides) with its
notebook, default seeds and per-profile scaling.  The declarations live in `ssllib.experiments`
(Zhang et al., Li et al.) and `ssllib.ablations` (Chen & He); both import this, never each other.
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


# the cpu length of most Section 3-4 chapters: 0.75 epoch, about 146 steps of 256 images
SHORT = {"cpu": dict(epochs=0.75, warmup_epochs=0.05)}
