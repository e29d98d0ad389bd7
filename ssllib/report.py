"""Tables, verdicts and provenance built from cached records, for the notebooks and the scorecard.

Verdicts are computed from the cache, never typed: each claim gets the paper's value (from
`ssllib.paper`), ours, and one of "reproduced", "partly", "not reproduced", with the reason.
"""
from __future__ import annotations

import statistics
from collections import defaultdict

from .decomposition import COLLAPSE_M_R
from .paper import REPORTED

REPRODUCED, PARTLY, NOT = "reproduced", "partly", "not reproduced"


def by_variant(records) -> dict:
    out = defaultdict(list)
    for r in records:
        out[r["variant"]].append(r)
    return dict(out)


def mean_std(values):
    values = list(values)
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def fmt(values, digits=2):
    values = list(values)
    m, s = mean_std(values)
    return f"{m:.{digits}f}" + (f" ± {s:.{digits}f}" if len(values) > 1 else "")


def summary_rows(records, paper: dict, label_of=None):
    """One row per variant: paper columns beside ours (mean ± std over seeds)."""
    rows = []
    for variant, rs in by_variant(records).items():
        p = paper.get(variant, {})
        ms = [r["metrics"] for r in rs]
        rows.append({
            "variant": variant,
            "method": p.get("label", variant.replace("_", " ")),
            "paper: collapse": {True: "yes", False: "no"}.get(p.get("collapse"), "–"),
            "paper: top-1 (%)": p.get("top1", "–"),
            "ours: collapse": "/".join("yes" if m["collapsed"] else "no" for m in ms),
            "ours: linear (%)": fmt(m["linear_acc"] for m in ms),
            "ours: kNN (%)": fmt(m["knn_acc"] for m in ms),
            "std·√d": fmt((m["z_std_sqrt_d"] for m in ms), 3),
            "m_o": fmt((m["m_o"] for m in ms), 3),
            "m_r": fmt((m["m_r"] for m in ms), 3),
            "seeds": len(rs),
        })
    return rows


def provenance_rows(records):
    rows = []
    for r in records:
        p, c, t = r["provenance"], r["config"], r["train"]
        rows.append({
            "variant": r["variant"], "seed": r["seed"], "profile": r["profile"],
            "dataset": p["data_source"], "encoder": f"{c['encoder']} width {c['width']}",
            "batch": c["batch_size"], "steps": t["steps"], "epochs": c["epochs"],
            "device": p["device"], "train min": round(p["train_seconds"] / 60, 1),
            "images/s": round(p["images_per_s"]) if p["images_per_s"] else "–",
            "commit": p["git_sha"][:8] + ("+dirty" if p["git_dirty"] else ""),
            "when": p["ended"], "hash": r["config_hash"],
        })
    return rows


def _claim(item, claim, paper, ours, verdict, reason=""):
    return {"item": item, "claim": claim, "paper": paper, "ours": ours, "verdict": verdict,
            "reason": reason}


def collapse_claim(item, label, rs, paper_collapse: bool, reference_m_r: float | None):
    """Compare a variant's collapse with the paper's.  `reference_m_r`: SimSiam's m_r, to call a
    run that is heading for collapse (m_r under half of SimSiam's, yet above the threshold) 'partly'."""
    m_r, _ = mean_std(r["metrics"]["m_r"] for r in rs)
    collapsed = all(r["metrics"]["collapsed"] for r in rs)
    ours = f"{'collapsed' if collapsed else 'not collapsed'} (m_r = {fmt([r['metrics']['m_r'] for r in rs], 3)})"
    paper = "collapses" if paper_collapse else "does not collapse"
    if collapsed == paper_collapse:
        return _claim(item, f"{label} {paper}", paper, ours, REPRODUCED)
    if paper_collapse and reference_m_r and m_r < 0.5 * reference_m_r:
        return _claim(item, f"{label} {paper}", paper, ours, PARTLY,
                      f"m_r fell below half of SimSiam's ({reference_m_r:.3f}) but not under the "
                      f"collapse threshold {COLLAPSE_M_R} within this run's length")
    return _claim(item, f"{label} {paper}", paper, ours, NOT,
                  f"collapse threshold is m_r < {COLLAPSE_M_R}")


def accuracy_gap_claim(item, claim, a_records, b_records, paper_text, min_gap=1.0):
    """Claim that `a` is more accurate than `b` (linear probe); needs a gap beyond the seed spread."""
    a_m, a_s = mean_std(r["metrics"]["linear_acc"] for r in a_records)
    b_m, b_s = mean_std(r["metrics"]["linear_acc"] for r in b_records)
    gap = a_m - b_m
    need = max(min_gap, 2 * max(a_s, b_s))
    n = min(len(a_records), len(b_records))
    ours = f"{a_m:.2f}% vs {b_m:.2f}% (gap {gap:+.2f} points, {n} seed{'s' if n > 1 else ''})"
    if gap > need:
        return _claim(item, claim, paper_text, ours, REPRODUCED)
    if gap > 0:
        return _claim(item, claim, paper_text, ours, PARTLY,
                      f"gap under {need:.1f} points (max(1, 2 x seed std)): not distinguishable here")
    return _claim(item, claim, paper_text, ours, NOT, "the ordering is reversed at this scale")


def table2_claims(records):
    paper = REPORTED["table2"]
    v = by_variant(records)
    claims = []
    ref = mean_std(r["metrics"]["m_r"] for r in v["simsiam"])[0] if "simsiam" in v else None
    for variant, p in paper.items():
        if variant in v:
            claims.append(collapse_claim("Table 2", p["label"], v[variant], p["collapse"],
                                         None if variant == "simsiam" else ref))
    if "simsiam" in v and "random_init" in v:
        claims.append(accuracy_gap_claim(
            "Table 2", "SimSiam learns features better than a random encoder (control)",
            v["simsiam"], v["random_init"], f"{paper['simsiam']['top1']}% top-1 after 1000 epochs"))
    return claims


CLAIMS = {"table2": table2_claims}


def claims_for(experiment: str, records):
    return CLAIMS[experiment](records)
