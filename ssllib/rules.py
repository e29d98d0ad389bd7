"""The verdict rules: how a claim of the papers gets its verdict from cached records.

Each claim row carries the paper's value (from `ssllib.paper`), ours, and one of the verdicts
below, with the reason.  The rules are stated in the book (notebooks/verdict_rules.md); the
accuracy orderings are the run plan's (`ssllib.plan`), judged by `ssllib.accuracy`.
"""
from __future__ import annotations

import statistics
from collections import defaultdict

from .decomposition import COLLAPSE_M_R
from .experiment_spec import METRIC_NAMES
from .items import ITEMS
from .paper import LI_ET_AL, REPORTED
from .report import by_variant, distinct_runs, fmt, mean_std, n_seeds, runs_of
from .results import read_curve

REPRODUCED, PARTLY, NOT, UNTESTED = "reproduced", "partly", "not reproduced", "not tested"
UNDECIDED = "undecided"                        # rule 6: too few seeds, or a gap inside the seed spread
TOO_SHORT = "not testable at this length"      # rule 8: the paper's claim is about later training
EXTRA = "labelled extra, outside the family"   # the family of a comparison a plan amendment replaced

# The verdict rules, fixed from the papers' words before looking at results, applied
# alike in every chapter and stated in the book (notebooks/verdict_rules.md):
#  5. collapse is judged on the encoder output z = f(x) (Sec. 3.1 defines m_o, m_r on it), except
#     where the paper's text names p = h(z) as the analysed vector: the Symmetric Predictor, whose
#     encoder Sec. 2.3 reads as h(f(.)), and Table 4, whose Sec. 3.3 "analyzed vector is P_a".
#     Both m_r's are shown wherever p was measured.
#     A run shorter than PARTIAL_MIN_STEPS that disagrees with the paper (either way) or ends under
#     PARTIAL_M_R cannot test the claim: "not testable at this length".  A variant judged on fewer of the
#     length's planned seeds (the experiment's default seeds there) than planned is "undecided":
#     one seed that collapses, or not, does not speak for the three planned.
#  6. accuracy claims: the run plan (ssllib.plan), judged by ssllib.accuracy (intervals, Holm).
#  7. every claim the paper makes in a table gets a verdict (collapse and accuracy halves alike).
#  8. the scorecard counts collapse and accuracy claims apart, a claim resting on the same runs
#     once, and claims about later training checked on shorter runs as TOO_SHORT.
MIN_SEEDS = 2


def claim_row(item, claim, paper, ours, verdict, reason="", runs=(), kind="other"):
    """One verdict row.  `kind`: "collapse", "accuracy" or "other" (counted apart, rule 8);
    `runs`: what it rests on (runs_of)."""
    return {"item": item, "claim": claim, "paper": paper, "ours": ours, "verdict": verdict,
            "reason": reason, "kind": kind, "runs": list(runs)}


# Rule 5, second part (added after looking: Table 5's MLP at cpu_long ended at m_r ~0.26, below a
# random encoder's accuracy, and was called "does not collapse: reproduced"): a run the paper says
# does not collapse whose m_r ends under half of a healthy run's (~1) is a partial collapse.  Only
# for runs of 1000 steps or more (5 epochs of CIFAR-10 at batch 256): SimSiam's own m_r dips in its
# first few hundred steps and recovers (Table 2's curves), so a shorter run can end inside that dip
PARTIAL_M_R = 0.5
PARTIAL_MIN_STEPS = 1000


def collapse_claim(item, label, rs, paper_collapse: bool, reference_m_r: float | None, of: str = "z"):
    """Compare a variant's collapse with the paper's (rule 5).  `reference_m_r`: SimSiam's m_r, to
    call a run that is heading for collapse (m_r under half of SimSiam's, yet above the threshold)
    'partly'; a run the paper says does not collapse is 'partly' when its m_r ends under PARTIAL_M_R.
    `of`: "z" (the encoder output, default) or "p" (the predictor output, for variants whose
    encoder is h(f(.)) as the paper reads the Symmetric Predictor)."""
    key = "m_r" if of == "z" else "p_m_r"
    tag = dict(runs=runs_of(rs), kind="collapse")
    if any(key not in r["metrics"] for r in rs):
        return claim_row(item, f"{label} {'collapses' if paper_collapse else 'does not collapse'}",
                      "", f"{key} not measured for this run", UNTESTED, **tag)
    m_r, _ = mean_std(r["metrics"][key] for r in rs)
    collapsed = m_r < COLLAPSE_M_R if of == "p" else all(r["metrics"]["collapsed"] for r in rs)
    ours = (f"{'collapsed' if collapsed else 'not collapsed'} "
            f"({key} = {fmt([r['metrics'][key] for r in rs], 3)}; m_r of z = "
            f"{fmt([r['metrics']['m_r'] for r in rs], 3)})" if of == "p" else
            f"{'collapsed' if collapsed else 'not collapsed'} (m_r = {fmt([r['metrics']['m_r'] for r in rs], 3)}"
            + (f"; m_r of p = {fmt([r['metrics']['p_m_r'] for r in rs], 3)}, not judged (rule 5))"
               if all("p_m_r" in r["metrics"] for r in rs) else ")"))
    low = lowest_m_r(rs)
    if low is not None:
        ours += f"; lowest m_r over training {low:.3f}"
    paper = "collapses" if paper_collapse else "does not collapse"
    settled = all(r.get("train", {}).get("steps", 0) >= PARTIAL_MIN_STEPS for r in rs)
    agrees = collapsed == paper_collapse
    partial = agrees and not paper_collapse and m_r < PARTIAL_M_R
    if not settled and (partial or not agrees):
        # the short-run guard, in both directions: m_r can dip and recover, or fall later, within
        # the first PARTIAL_MIN_STEPS steps, so a short run that disagrees settles nothing
        steps = min(r.get("train", {}).get("steps", 0) for r in rs)
        return claim_row(item, f"{label} {paper}", paper, ours, TOO_SHORT,
                      f"{key} ended at {m_r:.3f} after {steps} steps, "
                      + ("under " + str(PARTIAL_M_R) + ", inside the early dip that SimSiam's own m_r shows"
                         if partial else "collapsed" if collapsed else "not (yet) collapsed")
                      + f": a run shorter than {PARTIAL_MIN_STEPS} steps settles neither direction (rule 5)", **tag)
    if partial:
        return claim_row(item, f"{label} {paper}", paper, ours, PARTLY,
                      f"{key} ended above the collapse threshold {COLLAPSE_M_R} but under {PARTIAL_M_R}, half "
                      "of a healthy run's (~1): a partial collapse", **tag)
    if agrees:
        return claim_row(item, f"{label} {paper}", paper, ours, REPRODUCED, **tag)
    if paper_collapse and reference_m_r and m_r < 0.5 * reference_m_r:
        return claim_row(item, f"{label} {paper}", paper, ours, PARTLY,
                      f"m_r fell below half of SimSiam's ({reference_m_r:.3f}) but not under the "
                      f"collapse threshold {COLLAPSE_M_R} within this run's length", **tag)
    return claim_row(item, f"{label} {paper}", paper, ours, NOT,
                  f"collapse threshold is m_r < {COLLAPSE_M_R}", **tag)


def lowest_m_r(rs) -> float | None:
    """The lowest m_r of z each run logged over its training, mean over the runs (a run can end
    healthy after nearly collapsing, or the reverse); None where a run has no curve to read."""
    try:
        lows = [min(row["m_r"] for row in read_curve(r)) for r in rs]
    except (KeyError, OSError, ValueError):
        return None
    return statistics.fmean(lows) if lows else None


# Rule 6 as it stood until 2026-11-30, kept only for the rules page's table of verdicts under
# both rules (ssllib.accuracy judges every accuracy claim now)
def accuracy_gap_claim(item, claim, a_records, b_records, paper_text, min_gap=1.0, key="linear_acc"):
    """Claim that `a` is more accurate than `b` (old rule 6): needs >= MIN_SEEDS seeds a side and a gap
    beyond max(min_gap, 2 x the larger seed std); otherwise undecided, whichever way it leans."""
    a_m, a_s = mean_std(r["metrics"][key] for r in a_records)
    b_m, b_s = mean_std(r["metrics"][key] for r in b_records)
    gap = a_m - b_m
    need = max(min_gap, 2 * max(a_s, b_s))
    n = min(len(a_records), len(b_records))
    what = METRIC_NAMES.get(key, key)
    ours = f"{what} {a_m:.2f}% vs {b_m:.2f}% (gap {gap:+.2f} points, {n_seeds(n)})"
    out = claim_row(item, claim, paper_text, ours, UNDECIDED, runs=runs_of(a_records + b_records), kind="accuracy")
    if n < MIN_SEEDS:
        return dict(out, reason=f"{n_seeds(n)}: the seed spread is not measured (rule 6 needs {MIN_SEEDS})")
    if gap > need:
        return dict(out, verdict=REPRODUCED)
    if gap < -need:
        return dict(out, verdict=NOT, reason=f"reversed by more than {need:.1f} points (max({min_gap:g}, 2 x seed std))")
    return dict(out, reason=f"|gap| within {need:.1f} points (max({min_gap:g}, 2 x seed std)): not distinguishable")


def accuracy_equal_claim(item, claim, a_records, b_records, paper_text, tolerance=2.0, key="linear_acc"):
    """Claim that `a` is about as accurate as `b` (old rule 6): reproduced when the gap is within
    `tolerance` points and the seed spread could have shown a larger one, not when it is beyond
    tolerance + 2 x seed std, undecided otherwise or with fewer than MIN_SEEDS seeds."""
    a_m, a_s = mean_std(r["metrics"][key] for r in a_records)
    b_m, b_s = mean_std(r["metrics"][key] for r in b_records)
    gap, noise = a_m - b_m, 2 * max(a_s, b_s)
    n = min(len(a_records), len(b_records))
    ours = f"{a_m:.2f}% vs {b_m:.2f}% (gap {gap:+.2f} points, {n_seeds(n)})"
    out = claim_row(item, claim, paper_text, ours, UNDECIDED, runs=runs_of(a_records + b_records), kind="accuracy")
    if n < MIN_SEEDS:
        return dict(out, reason=f"{n_seeds(n)}: the seed spread is not measured (rule 6 needs {MIN_SEEDS})")
    if abs(gap) <= tolerance and noise <= tolerance:
        return dict(out, verdict=REPRODUCED)
    if abs(gap) > tolerance + noise:
        return dict(out, verdict=NOT, reason=f"|gap| over {tolerance:g} + 2 x seed std ({noise:.1f})")
    return dict(out, reason=f"seed spread ({noise:.1f}) too large to tell a {tolerance:g}-point difference")


def planned_seeds(experiment: str, records) -> list[int] | None:
    """The seeds `experiment` runs by default at the length its records were read at (None when
    the records do not say their length, or the experiment is not a paper item)."""
    profiles = {r.get("profile") for r in records}
    if experiment not in ITEMS or len(profiles) != 1 or None in profiles or any("seed" not in r for r in records):
        return None
    return ITEMS[experiment].seeds_at(profiles.pop())


def waiting_for_seeds(experiment: str, records) -> str:
    """Rule 5's third part: why a verdict on `records` (one variant's) waits, or "" when every seed
    the experiment plans at their length is in."""
    planned = planned_seeds(experiment, records)
    have = sorted({r["seed"] for r in records} & set(planned)) if planned else []
    if not planned or len(have) >= len(planned):
        return ""
    return (f"{len(have)} of the {len(planned)} planned seeds ({', '.join(map(str, planned))}) run: the verdict "
            "waits for the rest (rule 5)")


def collapse_claims(experiment, item, records, reference=None):
    """One collapse claim per variant the paper reports on, against `reference`'s m_r.  A variant
    with fewer of the length's planned seeds than planned is 'undecided' (rule 5, third part)."""
    paper = REPORTED[experiment]
    v = by_variant(records)
    ref = mean_std(r["metrics"]["m_r"] for r in v[reference])[0] if reference in v else None
    out = []
    for name, p in paper.items():
        if name not in v or "collapse" not in p:
            continue
        row = collapse_claim(item, p["label"], v[name], p["collapse"], ref if name != reference else None,
                             p.get("collapse_of", "z"))
        waits = waiting_for_seeds(experiment, v[name])
        if waits and row["verdict"] != UNTESTED:
            row = dict(row, verdict=UNDECIDED, reason=waits)
        out.append(row)
    return out


def _average_ranks(v) -> list[float]:
    """Ranks from 0, tied values sharing the mean of their ranks."""
    v = list(v)
    order = sorted(range(len(v)), key=lambda i: v[i])
    r = [0.0] * len(v)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and v[order[j + 1]] == v[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2
        i = j + 1
    return r


def spearman(x, y) -> float:
    """Spearman's rank correlation, ties given their average rank (as scipy.stats.spearmanr);
    0 when either side is constant."""
    rx, ry = _average_ranks(x), _average_ranks(y)
    mx, my = statistics.fmean(rx), statistics.fmean(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    var = (sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry)) ** 0.5
    return cov / var if var else 0.0


def forecast_claim(records, healthy_only: bool = False):
    """Li et al.: the label-free spectral AUC forecasts linear accuracy (higher AUC, lower accuracy),
    tested across every trained run given.  healthy_only drops collapsed runs, which would make
    the correlation easy."""
    rs = [r for r in distinct_runs(records) if r["train"]["steps"] > 0 and "spectral_auc" in r["metrics"]
          and not (healthy_only and r["metrics"]["collapsed"])]  # a run shared by two chapters counts once
    which = "non-collapsed runs" if healthy_only else "all trained runs"
    claim = f"spectral AUC forecasts linear accuracy ({which})"
    if len(rs) < 4:
        return claim_row("Li et al.", claim, LI_ET_AL["forecast"], f"{len(rs)} runs", UNTESTED,
                      "fewer than 4 runs to correlate")
    rho = spearman([r["metrics"]["spectral_auc"] for r in rs], [r["metrics"]["linear_acc"] for r in rs])
    verdict = REPRODUCED if rho <= -0.5 else PARTLY if rho < 0 else NOT
    return claim_row("Li et al.", claim, LI_ET_AL["forecast"], f"Spearman ρ = {rho:+.2f} over "
                  f"{len(rs)} runs", verdict, "" if verdict == REPRODUCED else "ρ above -0.5")


def verdict_counts(rows: list[dict]) -> list[dict]:
    """Rule 8: verdicts counted per kind of claim (collapse / accuracy / other) and per length
    (the profile of the runs), a claim resting on the same runs as an earlier one of its kind
    counted once."""
    seen, counts = set(), defaultdict(lambda: defaultdict(int))
    for r in rows:
        key = (r.get("kind", "other"), r.get("length", ""), tuple(r.get("runs", ())))
        if r.get("runs") and key in seen:
            continue
        seen.add(key)
        counts[(r.get("length", ""), r.get("dataset", "cifar10"), r.get("kind", "other"))][r["verdict"]] += 1
    order = (REPRODUCED, PARTLY, NOT, UNDECIDED, TOO_SHORT, UNTESTED)
    return [{"length": length, "dataset": dataset, "kind": kind, **{v: c.get(v, 0) for v in order},
             "claims": sum(c.values())} for (length, dataset, kind), c in sorted(counts.items())]
