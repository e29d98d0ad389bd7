"""Per-chapter verdicts: the claims each experiment tests, computed from its cached records.

The generic judges (collapse, rank correlation) live in `ssllib.rules`; this module says which of
them each table or figure of the papers needs, and adds the figure-specific ones.  Every accuracy
claim is an entry of the run plan (`ssllib.plan`), judged by `ssllib.accuracy`.
"""
from __future__ import annotations

from . import accuracy
from .decomposition import COLLAPSE_M_R
from .items import ITEMS
from .paper import FIG8, LI_ET_AL, REPORTED, TABLE6
from .plan import CONTROLS, LEARNS_GAP
from .report import by_variant, mean_std, n_seeds, runs_of
from .results import read_curve
from .rules import (EXTRA, NOT, PARTIAL_M_R, PARTLY, REPRODUCED, TOO_SHORT, UNDECIDED, UNTESTED, claim_row,
                    collapse_claims, lowest_m_r, spearman, waiting_for_seeds)


M_R_CEILING = 0.95  # m_r of an untrained network behind the final BN is ~0.99: a run starting there cannot raise it
FIRST_EPOCHS = 5  # Fig. 6 "except the first few epochs": a run shorter than this cannot show the fall


def trend(record, key):
    """Change of a logged metric from the first to the last logged step."""
    curve = read_curve(record)
    return curve[-1][key] - curve[0][key]


def fig4_claims(records):
    v, p = by_variant(records), REPORTED["fig4"]
    claims = []
    def d(name, key):
        return mean_std(trend(r, key) for r in v[name])[0]
    for name, up, down in (("centre", "m_o", "m_r"), ("residual", "m_r", "m_o")):
        if name in v:
            ours = f"Δ{up} = {d(name, up):+.3f}, Δ{down} = {d(name, down):+.3f}"
            ok_up, ok_down = d(name, up) > 0, d(name, down) < 0
            verdict = REPRODUCED if ok_up and ok_down else PARTLY if ok_up or ok_down else NOT
            claims.append(claim_row("Figure 4", f"{p[name]['label']} {p[name]['text']}", p[name]["text"],
                                 ours, verdict, "" if verdict == REPRODUCED else "one of the two trends differs"))
    residual_start = mean_std(read_curve(r)[0]["m_r"] for r in v["residual"])[0] if "residual" in v else None
    if {"random", "centre", "residual"} <= set(v) and residual_start >= M_R_CEILING:
        claims.append(claim_row("Figure 4", "a random gradient has a relatively small influence", p["random"]["text"],
                                f"the residual run starts at m_r {residual_start:.3f}", UNTESTED,
                                f"m_r starts at its ceiling (>= {M_R_CEILING}): the residual component cannot "
                                "raise it, so a comparison of the sizes of change says nothing"))
    elif {"random", "centre", "residual"} <= set(v):
        rnd = max(abs(d("random", "m_o")), abs(d("random", "m_r")))
        other = min(max(abs(d(n, "m_o")), abs(d(n, "m_r"))) for n in ("centre", "residual"))
        claims.append(claim_row("Figure 4", "a random gradient has a relatively small influence",
                             p["random"]["text"], f"largest |Δ| {rnd:.3f} vs {other:.3f} for o/r",
                             REPRODUCED if rnd < other else NOT,
                             "" if rnd < other else "the random component moved m_o or m_r more than the "
                             "weaker of the centre / residual components"))
    return claims


def sweep_claims(records):
    """Li et al.: small models on large data collapse partially (higher AUC)."""
    v = {r["variant"]: r["metrics"]["spectral_auc"] for r in records}
    small, large = "w4_n50000", "w16_n50000"
    out = []
    if small in v and large in v and "w4_n5000" in v:
        ok = v[small] > v[large] and v[small] > v["w4_n5000"]
        half = v[small] > v[large] or v[small] > v["w4_n5000"]
        out.append(claim_row("Li et al.", "a small encoder on the full dataset collapses partially",
                          LI_ET_AL["sweep"],
                          f"AUC {v[small]:.3f} vs {v[large]:.3f} (wide) and {v['w4_n5000']:.3f} (small data)",
                          REPRODUCED if ok else PARTLY if half else NOT))
    return out


# Table 6's predictors and the runs that test each: the MLP's last bias on the like-for-like arm
# (behind the same projector as the simple predictors, plan amendment of 2026-12-03), SimSiam behind
# our head beside it as a labelled extra
TABLE6_RUNS = {"one_bias": (("one_bias", "", False),),   # (variant, label, labelled extra)
               "simsiam": (("mlp_authors_projector", " (behind the Table 5 projector)", False),
                           ("simsiam", " (SimSiam behind our head: extra)", True))}


def centre_dominated(rs) -> str:
    """Why runs cannot test a bias-centre claim (Table 6, A.8), or "": a run that dipped under the
    collapse threshold during training, or ended centre-dominated (m_o > m_r): there every output
    is mostly the centre, so a bias along it says nothing about how the predictor avoids collapse."""
    why = []
    for r in rs:
        low = lowest_m_r([r])
        if low is not None and low < COLLAPSE_M_R:
            why.append(f"seed {r.get('seed')} dipped to m_r {low:.3f}")
        elif r["metrics"].get("m_o", 0) > r["metrics"]["m_r"]:
            why.append(f"seed {r.get('seed')} ended centre-dominated (m_o {r['metrics']['m_o']:.2f} > "
                       f"m_r {r['metrics']['m_r']:.2f})")
    return "; ".join(why)


def table5_claims(records):
    """Table 5's collapse claims, Table 6's bias-centre similarity, A.8's coefficient; the last two
    only on runs that neither dipped under the collapse threshold nor ended centre-dominated."""
    v = by_variant(records)
    out = collapse_claims("table5", "Table 5", records, reference="simsiam")
    for name, paper_cos in TABLE6.items():
        for variant, tag, extra in TABLE6_RUNS[name]:
            rs = [r for r in v.get(variant, []) if "bias_centre_cos" in r["metrics"]]
            if not rs:
                continue
            cos = mean_std(r["metrics"]["bias_centre_cos"] for r in rs)[0]
            partial = any(r["metrics"]["m_r"] < PARTIAL_M_R for r in rs)
            dominated, waits = centre_dominated(rs), waiting_for_seeds("table5", rs)
            if any(r["metrics"]["collapsed"] for r in rs):
                verdict, why = TOO_SHORT, "the run collapsed: every output is the centre, so alignment says nothing"
            elif partial:
                verdict, why = TOO_SHORT, (f"a run ended with m_r under {PARTIAL_M_R} (a partial collapse, rule 5): "
                                           "its bias cannot test the claim")
            elif dominated:
                verdict, why = TOO_SHORT, f"{dominated}: the bias cannot test the claim"
            elif waits:
                verdict, why = UNDECIDED, waits
            else:
                verdict = REPRODUCED if cos >= 0.8 else PARTLY if cos >= 0.5 else NOT
                why = "" if cos >= 0.8 else "reproduced needs cosine >= 0.8"
            row = claim_row("Table 6", f"the {REPORTED['table5'][name]['label']} predictor's bias "
                            f"points along the centre o_z{tag}", f"cosine {paper_cos}", f"cosine {cos:.3f}",
                            verdict, why, runs=runs_of(rs))
            out.append(dict(row, family=EXTRA) if extra else row)
    rs = [r for r in v.get("one_bias", []) if "a8_measured_coef" in r["metrics"]]
    if rs:
        pred = mean_std(r["metrics"]["a8_predicted_coef"] for r in rs)[0]
        meas = mean_std(r["metrics"]["a8_measured_coef"] for r in rs)[0]
        rel = abs(meas - pred) / abs(pred) if pred else float("inf")
        dominated = centre_dominated(rs)
        verdict = TOO_SHORT if dominated else REPRODUCED if rel < 0.25 else PARTLY if rel < 0.5 else NOT
        out.append(claim_row("A.8", "the bias converges to ((1-m)/m) o_z", "b = ((1-m)/m) o_z (Eq. 12)",
                          f"coefficient measured {meas:.3f}, predicted {pred:.3f}", verdict,
                          f"{dominated}: the bias cannot test the claim" if dominated
                          else "" if rel < 0.25 else f"relative difference {rel:.0%}", runs=runs_of(rs)))
    return out


def _final(rs, key):
    return mean_std(r["metrics"][key] for r in rs)[0]


def _curve_drop(record, key="covariance_z"):
    """(peak, final) of a logged metric: Fig. 6 reads 'falls during training except the first epochs'."""
    values = [row[key] for row in read_curve(record)]
    return max(values), values[-1]


def fig5a_claims(records, runs: str = ""):
    """Fig. 5(a): the sign (and half the size) of eta in SimSiam (eta_p < 0: o_e de-centres) and in
    Mirror SimSiam (eta_z > 0: it centres).  `runs` names other runs than the chapter's own."""
    v, p, out = by_variant(records), REPORTED["fig5_6"], []
    for name, key, sign, word in (("simsiam", "eta_p", -1, "negative o_p: de-centring"),
                                  ("mirror_simsiam", "eta_z", 1, "positive o_z: centring")):
        rs = [r for r in v.get(name, []) if key in r["metrics"]]
        if rs:
            eta, paper = _final(rs, key), p[name][key]
            verdict = (REPRODUCED if eta * sign >= abs(paper) / 2 else PARTLY if eta * sign > 0 else NOT)
            out.append(claim_row("Figure 5(a)", f"{p[name]['label']}'s o_e holds a {word}{runs}", f"{key} ≈ {paper}",
                                 f"{key} = {eta:+.3f}", verdict,
                                 {REPRODUCED: "", PARTLY: f"the sign agrees, the size is under half the paper's {paper}",
                                  NOT: "the sign is the opposite"}[verdict]))
    return out


def table2_curve_claims(records):
    """The 20-epoch runs of Table 2's variants: their collapse claims, and Fig. 5(a)'s two signs of
    eta judged on runs 27x longer than Figure 5's own (both runs log eta_p and eta_z)."""
    return (collapse_claims("table2_curve", "Table 2 (20 epochs)", records, "simsiam")
            + fig5a_claims(records, runs=" (Table 2's 20-epoch runs)"))


def fig5_6_claims(records):
    """Fig. 5(a)'s signs of eta, Fig. 5(c)'s alignment, Fig. 6's covariance, Sec. 3.5's accuracy."""
    v, p = by_variant(records), REPORTED["fig5_6"]
    out = collapse_claims("fig5_6", "Figure 5/6", records, reference="simsiam") + fig5a_claims(records)
    rs = [r for r in v.get("infonce", []) if "decor_cos_r_e_tau0.2" in r["metrics"]]
    if rs:
        taus = sorted(float(k.split("tau")[1]) for k in rs[0]["metrics"] if k.startswith("decor_cos_r_e_tau"))
        cos = {t: _final(rs, f"decor_cos_r_e_tau{t:g}") for t in taus}
        best = max(cos, key=cos.get)
        ours = ", ".join(f"τ={t:g}: {c:.2f}" for t, c in cos.items())
        lo = min(cos.values())
        out.append(claim_row("Figure 5(c)", "InfoNCE's r_e points along the de-correlation gradient for a "
                          "wide range of τ", "high for a wide range of τ", ours,
                          REPRODUCED if lo > 0.5 else PARTLY if lo > 0 else NOT,
                          "" if lo > 0.5 else "reproduced needs cosine > 0.5 at every τ"))
        peak = p["infonce"]["tau_peak"]
        around = "-".join(f"{t:g}" for t in peak)
        out.append(claim_row("Figure 5(c)", f"the alignment is highest around τ = {around}", f"highest at τ ≈ {around}",
                          f"highest at τ = {best:g}", REPRODUCED if min(peak) <= best <= max(peak) else NOT))
    for name in ("simsiam", "infonce"):
        if name in v and "covariance_z" in v[name][0]["metrics"]:
            peak, final = (mean_std(x)[0] for x in zip(*(_curve_drop(r) for r in v[name])))
            epochs = min(r["config"]["epochs"] for r in v[name])
            ok = final < 0.8 * peak
            # the guard both ways: a run shorter than the paper's "first epochs" can show neither the
            # fall nor its absence
            verdict = TOO_SHORT if epochs < FIRST_EPOCHS else REPRODUCED if ok else NOT
            out.append(claim_row("Figure 6", f"{p[name]['label']} decreases the covariance after the first epochs",
                              "falls during training except the first epochs",
                              f"peak {peak:.2f}, final {final:.2f} ({epochs:g} epochs)", verdict,
                              f"the paper's fall comes after the first epochs and this run is shorter than "
                              f"{FIRST_EPOCHS} (rule 8)" if epochs < FIRST_EPOCHS
                              else "" if ok else "reproduced needs final < 0.8 x peak",
                              runs=runs_of(v[name]), kind="other"))
    if "infonce" in v and "infonce_no_r_e" in v:
        full, cut = _final(v["infonce"], "covariance_z"), _final(v["infonce_no_r_e"], "covariance_z")
        out.append(claim_row("Figure 6", "removing r_e from InfoNCE leaves a higher covariance",
                          "high covariance during the whole training", f"final {cut:.2f} vs {full:.2f} with r_e",
                          REPRODUCED if cut > full else NOT))
    return out


def phase_ends_m_r(record):
    """m_r at the last logged step of each phase of a phased run (Fig. 5b)."""
    ends = {}
    for row in read_curve(record):
        ends[int(row["phase"])] = row["m_r"]
    return [ends[k] for k in sorted(ends)]


def fig5b_claims(records):
    out, p = [], REPORTED["fig5b"]["phases"]
    for r in records:
        simsiam, collapsed, decorrelated = phase_ends_m_r(r)
        out.append(claim_row("Figure 5(b)", "the collapsing loss drives m_r down", "m_r close to 0",
                          f"m_r {simsiam:.3f} -> {collapsed:.3f}",
                          REPRODUCED if collapsed < COLLAPSE_M_R else PARTLY if collapsed < simsiam / 2 else NOT,
                          "" if collapsed < COLLAPSE_M_R else f"not under the collapse threshold {COLLAPSE_M_R}"))
        out.append(claim_row("Figure 5(b)", "the de-correlation loss alone raises m_r again", p["text"],
                          f"m_r {collapsed:.3f} -> {decorrelated:.3f}",
                          REPRODUCED if decorrelated > max(2 * collapsed, collapsed + 0.1) else
                          PARTLY if decorrelated > collapsed else NOT,
                          "" if decorrelated > max(2 * collapsed, collapsed + 0.1) else
                          "reproduced needs m_r to at least double and rise by 0.1"))
    return out


FIG8_MIN_TEMPERATURES = 3  # a trend over temperatures needs at least three of them


def fig8_claims(records):
    """A.7 / Fig. 8: temperature against covariance (up), as Spearman's rank correlation of each
    temperature's mean over seeds (three or more distinct temperatures; seeds of one temperature
    are not a trend); its accuracy half ("higher temperature, lower accuracy") is an ordering of
    the run plan, judged like every other."""
    rs = [r for r in records if "tau" in r["config"]["options"] and "covariance_z" in r["metrics"]]
    if not rs:
        return []
    by_tau = {}
    for r in rs:
        by_tau.setdefault(r["config"]["options"]["tau"], []).append(r["metrics"]["covariance_z"])
    what = "a higher temperature gives a higher covariance"
    if len(by_tau) < FIG8_MIN_TEMPERATURES:
        return [claim_row("Figure 8", what, FIG8["trend"], f"{len(rs)} runs at τ = "
                          f"{', '.join(f'{t:g}' for t in sorted(by_tau))}", UNTESTED,
                          f"a trend needs {FIG8_MIN_TEMPERATURES} or more distinct temperatures", runs=runs_of(rs))]
    taus = sorted(by_tau)
    rho = spearman(taus, [mean_std(by_tau[t])[0] for t in taus])
    return [claim_row("Figure 8", what, FIG8["trend"],
                      f"Spearman ρ(τ, covariance_z) = {rho:+.2f} over {len(taus)} τ ({len(rs)} runs)",
                      REPRODUCED if rho >= 0.5 else PARTLY if rho > 0 else NOT,
                      "" if rho >= 0.5 else "reproduced needs ρ >= 0.5 with the paper's sign", runs=runs_of(rs))]


def overtakes(records, key="knn_acc", min_gap=LEARNS_GAP) -> str:
    """Where SimSiam's learning curve (mean over seeds, at each evaluated epoch) first clears the
    strongest control by `min_gap` points, in words; or that it did not within the run."""
    v = by_variant(records)
    controls = {c: mean_std(r["metrics"][key] for r in v[c])[0] for c in CONTROLS if c in v}
    curves = [r["learning_curve"] for r in v.get("simsiam", []) if r.get("learning_curve")]
    if not controls or not curves:
        return "(not run at this length)"
    best = max(controls, key=controls.get)
    for i in range(min(len(c) for c in curves)):
        mean = sum(c[i][key] for c in curves) / len(curves)
        if mean >= controls[best] + min_gap:
            return (f"epoch {curves[0][i]['epoch']:g} ({mean:.1f}% vs {controls[best]:.1f}% for {best}, "
                    f"{n_seeds(len(curves))})")
    last = min(len(c) for c in curves) - 1
    return f"not within the {curves[0][last]['epoch']:g} epochs run"


def none(records):
    return []


# a figure's own judge, named by its declaration's `judge` (ssllib.items)
JUDGES = {"table2_curve": table2_curve_claims, "fig4": fig4_claims, "sweep": sweep_claims, "table5": table5_claims, "fig5_6": fig5_6_claims,
          "fig5b": fig5b_claims, "fig8": fig8_claims, "none": none}


def judge_of(exp):
    """The claims of one item that are not accuracy orderings (those are the run plan's): rule 5 on
    every variant the paper reports, against `exp.reference`'s m_r, or the item's own judge."""
    if exp.judge == "collapse":
        return lambda records: collapse_claims(exp.name, exp.item, records, exp.reference)
    return JUDGES[exp.judge]


CLAIMS = {name: judge_of(exp) for name, exp in ITEMS.items()}


def claims_for(experiment: str, records, others: dict | None = None):
    """The claims one experiment tests, with verdicts computed from `records`: its collapse and
    figure claims, then its planned accuracy claims (judged in the family of every planned claim at
    the records' length; `others`: the other experiments' records, default read from the cache)."""
    return CLAIMS[experiment](records) + (accuracy.claims(experiment, records, others) if records else [])
