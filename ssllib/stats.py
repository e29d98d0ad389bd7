"""The statistics behind the accuracy verdicts: a difference of means with its confidence interval
(Welch, or blocked by the training device), Holm's adjustment over a family of claims, two
one-sided tests for "about as accurate", the smallest effect the planned seeds could detect, and a
simulation that measures what these rules do on synthetic seed results.

A leaf module: numbers in, numbers out (scipy's t distribution; nothing of ssllib).
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

ALPHA = 0.05   # family-wise error rate of a false "reproduced" (Holm), and 1 - the intervals' level
POWER = 0.80   # the power at which the smallest detectable effect is quoted


@dataclass(frozen=True)
class Difference:
    """mean(a) - mean(b), its standard error and degrees of freedom, and how it was estimated."""
    diff: float
    se: float
    df: float
    n_a: int
    n_b: int
    sd: float      # the pooled (or larger Welch) seed standard deviation, for power
    method: str    # "Welch" or "blocked by device (d devices)"

    def interval(self, level: float = 1 - ALPHA) -> tuple[float, float]:
        """Two-sided interval at `level`."""
        half = _t_quantile(1 - (1 - level) / 2, self.df) * self.se
        return self.diff - half, self.diff + half

    def p_two_sided(self, null: float = 0.0) -> float:
        return 2 * _t_sf(abs(self.diff - null) / self.se, self.df)

    def p_greater(self, null: float = 0.0) -> float:
        """One-sided p of H0: diff <= null against diff > null."""
        return _t_sf((self.diff - null) / self.se, self.df)

    def p_less(self, null: float = 0.0) -> float:
        return _t_sf((null - self.diff) / self.se, self.df)


def _t_sf(x: float, df: float) -> float:
    from scipy.stats import t

    return float(t.sf(x, df)) if math.isfinite(x) else (0.0 if x > 0 else 1.0)


def _t_quantile(q: float, df: float) -> float:
    from scipy.stats import t

    return float(t.ppf(q, df))


def welch(a, b) -> Difference:
    """Welch's unequal-variance difference of means (Welch-Satterthwaite degrees of freedom);
    needs at least two values a side."""
    a, b = list(a), list(b)
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"Welch needs >= 2 values a side, got {len(a)} and {len(b)}")
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    se = math.sqrt(va + vb)
    if se == 0:
        se = 1e-12
    denom = va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1)
    df = (va + vb) ** 2 / denom if denom else len(a) + len(b) - 2.0
    sd = max(statistics.stdev(a), statistics.stdev(b))
    return Difference(statistics.fmean(a) - statistics.fmean(b), se, max(df, 1.0), len(a), len(b), sd, "Welch")


def blocked(a: dict, b: dict) -> Difference:
    """The difference of means with the training device as a blocking factor: `a` and `b` map a
    device to that arm's values on it.  Within each device the arms are compared; the device
    differences are combined with weights 1 / (1/n_a + 1/n_b) (the fixed-effect estimate of a
    two-way layout without interaction); the variance is pooled within the (arm, device) cells,
    with N - cells degrees of freedom.  Devices found in one arm only are dropped (the caller
    says so).  With one device and equal variances this is Student's two-sample t."""
    devices = sorted(set(a) & set(b))
    if not devices:
        raise ValueError("no device holds runs of both arms")
    cells = [list(a[d]) for d in devices] + [list(b[d]) for d in devices]
    df = sum(len(c) - 1 for c in cells)
    if df < 1:
        raise ValueError("the cells hold too few runs to estimate the seed spread")
    s2 = sum(sum((x - statistics.fmean(c)) ** 2 for x in c) for c in cells) / df
    weights = {d: 1 / (1 / len(a[d]) + 1 / len(b[d])) for d in devices}
    total = sum(weights.values())
    diff = sum(weights[d] * (statistics.fmean(a[d]) - statistics.fmean(b[d])) for d in devices) / total
    se = math.sqrt(s2 / total) or 1e-12
    return Difference(diff, se, float(df), sum(len(a[d]) for d in devices), sum(len(b[d]) for d in devices),
                      math.sqrt(s2), f"blocked by device ({len(devices)} device{'s' if len(devices) > 1 else ''})")


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the order given: p_(k) x (m - k + 1), made
    monotone.  Rejecting where the adjusted p < alpha keeps the family-wise error <= alpha."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted, running = [0.0] * m, 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def holm_level(p_values: list[float], i: int, alpha: float = ALPHA) -> float:
    """The confidence level of claim i's interval under Holm: 1 - alpha / (m - rank + 1), its
    rank among the family's p-values (Bonferroni for the smallest, unadjusted for the largest)."""
    rank = sorted(range(len(p_values)), key=lambda j: p_values[j]).index(i)
    return 1 - alpha / (len(p_values) - rank)


def tost_p(d: Difference, margin: float) -> float:
    """Two one-sided tests of |diff| < margin: the larger one-sided p (equivalence shown when it is
    under alpha, i.e. when the 1 - 2 alpha interval lies inside +-margin)."""
    return max(d.p_greater(-margin), d.p_less(margin))


def detectable(sd: float, n: int, level: float = 1 - ALPHA, power: float = POWER) -> float:
    """The smallest true difference that two arms of `n` seeds each, with seed std `sd`, detect
    with probability `power` in a two-sided test at `level` (normal-t approximation, df 2n - 2)."""
    if n < 2 or not sd:
        return float("inf") if n < 2 else 0.0
    df = 2 * n - 2
    return (_t_quantile(1 - (1 - level) / 2, df) + _t_quantile(power, df)) * sd * math.sqrt(2 / n)


def simulate(n_claims: int = 10, n_seeds: int = 3, sd: float = 2.0, effect: float = 0.0,
             min_gap: float = 1.0, reps: int = 2000, seed: int = 0) -> dict:
    """What the ordering rule does when the truth is known: `reps` synthetic books of `n_claims`
    ordering claims, each two arms of `n_seeds` normal seed results with std `sd` and a true
    difference `effect` (in the paper's direction), judged as the book judges them (Welch, Holm
    over the family, reproduced = adjusted p < alpha, the right direction and a gap >= min_gap).
    Returns the family-wise rate of at least one false "reproduced" (when effect <= 0, every
    "reproduced" is false), and the per-claim rate of "reproduced" (the power when effect > 0)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    any_false, reproduced = 0, 0
    for _ in range(reps):
        a = rng.normal(effect, sd, (n_claims, n_seeds))
        b = rng.normal(0.0, sd, (n_claims, n_seeds))
        diffs = [welch(a[i], b[i]) for i in range(n_claims)]
        adjusted = holm([d.p_two_sided() for d in diffs])
        hits = [p < ALPHA and d.diff > 0 and d.diff >= min_gap for d, p in zip(diffs, adjusted)]
        reproduced += sum(hits)
        any_false += effect <= 0 and any(hits)
    return {"n_claims": n_claims, "n_seeds": n_seeds, "sd": sd, "effect": effect, "min_gap": min_gap,
            "reps": reps, "family_wise_false_reproduced": any_false / reps,
            "reproduced_rate": reproduced / (reps * n_claims)}
