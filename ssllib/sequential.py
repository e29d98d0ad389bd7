"""A pre-registered sequential plan for the accuracy claims that are close: looks at 3, 5 and 8
seeds an arm, each allowed a fixed share of alpha (an alpha-spending schedule written before any
look), so that adding seeds is valid because the plan said so in advance.

How a claim's evidence is combined over its looks. At look k the claim has Welch's p-value p_k on
the seeds so far, and the plan gives that look the share w_k of alpha (the shares sum to 1). Its
sequential p-value after looks 1..k is

    p_seq = min(1, min_j<=k p_j / w_j)

and it is a valid p-value whatever the correlation between looks (union bound:
P(p_seq <= a) <= sum_j P(p_j <= a w_j) = a sum_j w_j <= a), and whether or not the claim stopped
early (stopping only drops terms from the minimum). Holm over the family then takes the sequential
p-values as it takes plain ones (`stats.holm`); since Holm is monotone, a claim decided at an
early look would also be decided on the full sequence, so the family-wise error stays <= alpha.

The share is small early (0.1 at 3 seeds), as O'Brien and Fleming's boundaries are: a claim
decided at the first look must be clear.  `simulate` measures the family-wise error and the
expected seeds per decided claim on synthetic seeds (tests/test_sequential.py).
"""
from __future__ import annotations

from .stats import ALPHA, holm, welch

LOOKS = (3, 5, 8)           # seeds an arm at each look, fixed before any look
SPEND = (0.1, 0.3, 0.6)     # the share of alpha each look may spend; sums to 1


def check_schedule(looks=LOOKS, spend=SPEND) -> None:
    """A schedule is looks increasing from 2 seeds up and shares in (0, 1] summing to at most 1."""
    if len(looks) != len(spend) or not looks:
        raise ValueError(f"looks {looks} and spend {spend} must be non-empty and of one length")
    if looks[0] < 2 or any(b <= a for a, b in zip(looks, looks[1:])):
        raise ValueError(f"looks {looks} must increase from at least 2 seeds")
    if any(not 0 < w <= 1 for w in spend) or sum(spend) > 1 + 1e-12:
        raise ValueError(f"spend {spend}: each share in (0, 1], the sum at most 1")


def sequential_p(p_at_looks, spend=SPEND) -> float:
    """A claim's sequential p-value after the looks done so far (`p_at_looks[k]`: Welch's p at look
    k): min over looks of p_k / w_k, capped at 1."""
    if len(p_at_looks) > len(spend):
        raise ValueError(f"{len(p_at_looks)} looks, but the schedule has {len(spend)}")
    return min([1.0] + [p / w for p, w in zip(p_at_looks, spend)])


def simulate(n_claims: int = 10, sd: float = 2.0, effect: float = 0.0, min_gap: float = 1.0,
             looks=LOOKS, spend=SPEND, reps: int = 1000, seed: int = 0) -> dict:
    """`reps` synthetic families of `n_claims` ordering claims (two arms, normal seed results with
    std `sd`, true difference `effect`) run through the schedule: at each look every undecided
    claim gets the seeds of that look, its sequential p-value is updated, Holm is taken over the
    family, and a claim with adjusted p < alpha, the paper's direction and a gap >= min_gap is
    decided (reproduced) and gets no more seeds.  Returns the family-wise rate of a false
    "reproduced" (every "reproduced" is false when effect <= 0), the per-claim rate of
    "reproduced", and the seeds an arm spent per claim and per decided claim."""
    import numpy as np

    check_schedule(looks, spend)
    rng = np.random.default_rng(seed)
    any_false = reproduced = 0
    seeds_all = seeds_decided = 0.0
    for _ in range(reps):
        a = rng.normal(effect, sd, (n_claims, looks[-1]))
        b = rng.normal(0.0, sd, (n_claims, looks[-1]))
        ps = [[] for _ in range(n_claims)]
        decided = [False] * n_claims
        used = [looks[-1]] * n_claims
        for k, n in enumerate(looks):
            diffs = {}
            for i in range(n_claims):
                if not decided[i]:
                    diffs[i] = welch(a[i, :n], b[i, :n])
                    ps[i].append(diffs[i].p_two_sided())
            adjusted = holm([sequential_p(p, spend) for p in ps])
            for i, d in diffs.items():
                if adjusted[i] < ALPHA and d.diff >= max(min_gap, 0.0) and d.diff > 0:
                    decided[i], used[i] = True, n
        hits = sum(decided)
        reproduced += hits
        any_false += effect <= 0 and hits > 0
        seeds_all += sum(used)
        seeds_decided += sum(u for u, d in zip(used, decided) if d)
    return {"n_claims": n_claims, "sd": sd, "effect": effect, "min_gap": min_gap, "looks": tuple(looks),
            "spend": tuple(spend), "reps": reps, "family_wise_false_reproduced": any_false / reps,
            "reproduced_rate": reproduced / (reps * n_claims),
            "seeds_per_claim": seeds_all / (reps * n_claims),
            "seeds_per_decided_claim": seeds_decided / reproduced if reproduced else None}
