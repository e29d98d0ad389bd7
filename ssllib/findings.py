"""The book's answer up front (the Findings page, `notebooks/findings.md`): for each explanation the
paper gives, what our runs say about each of its claims, from the scorecard's rows.

Every word here that states a result is computed from the rows `scorecard.gather` judges from the
cache; the headings and the one-line summaries of the paper's explanations are the paper's, not
ours.  A claim is shown at its trained length (`cpu_long` on CIFAR-10, `cpu_long20` on CIFAR-100)
wherever it was judged there, on each dataset it was judged on; only a claim with no trained-length
row falls back to the short runs, and says so.
"""
from __future__ import annotations

import html

from . import rules
from .config import PROFILES
from .experiment_spec import LONG_PROFILES

# the paper's explanations in its order, each with the experiments (chapters) that test it; the
# second field is the paper's explanation in one sentence (its words, not a result of ours)
EXPLANATIONS = (
    ("Chen & He's explanation is flawed (Section 2)",
     "approximating the expectation over augmentations explicitly (Table 1) is not what prevents "
     "collapse, and SimSiam with an inverse predictor (Figure 3) still does not collapse", ("table1", "fig3")),
    ("Only the asymmetric SimSiam avoids collapse (Section 2, Table 2)",
     "Naive Siamese, Mirror SimSiam and a Symmetric Predictor collapse; SimSiam does not",
     ("table2", "table2_curve")),
    ("Collapse is the centre taking over (Section 3.1, Figure 4)",
     "with Z = o_z + r, collapse is m_o -> 1; the gradient's centre part drives it",
     ("fig4",)),
    ("De-centring and de-correlation each prevent collapse (Sections 3.2-3.3, Tables 3-4)",
     "the extra gradient's centre part o_e de-centres, its residual part r_e de-correlates, and "
     "either alone prevents collapse, r_e giving the better accuracy", ("table3", "table4")),
    ("InfoNCE works the same way (Sections 3.4-3.5, Figures 5, 6 and 8)",
     "InfoNCE's negatives de-centre and de-correlate like SimSiam's predictor; the covariance falls "
     "after the first epochs; a higher temperature leaves a higher covariance", ("fig5_6", "fig5b", "fig8")),
    ("BN and simpler predictors (Section 4, Tables 5-6)",
     "BN prevents collapse only right before the loss; a single bias predictor learns the centre "
     "and suffices", ("bn_placement", "table5")),
    ("Chen & He (2021): SimSiam's own ablations",
     "the stop-gradient and the predictor are essential; batch size, BN in the heads, the similarity "
     "and symmetrisation are not what prevents collapse; SimSiam behaves like k-step alternation",
     ("ab_stopgrad", "ab_predictor", "ab_batch", "ab_bn", "ab_loss", "ab_kstep")),
    ("Li et al. (2022): collapse measured without labels",
     "the spectral AUC of the backbone features forecasts linear accuracy",
     ("collapse_sweep",)),
)
DATASET = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100"}
DECIDED = (rules.REPRODUCED, rules.PARTLY, rules.NOT)


def length_words(profile: str) -> str:
    """A length as a reader reads it: '10 epochs' for the trained lengths, 'short runs' otherwise."""
    if profile in LONG_PROFILES:
        return f"{PROFILES[profile]['epochs']:g} epochs"
    return f"short runs (`{profile}`)"


def evidence(rows, experiments) -> list[dict]:
    """One entry per claim of `experiments` (in the order the scorecard has them): the claim, its
    chapter, and the rows it is judged on - every trained-length row, or the short ones if none.
    A labelled extra (a comparison a plan amendment replaced) is shown in its chapter, not here."""
    claims: dict[tuple, list] = {}
    for r in rows:
        if r["experiment"] in experiments and r.get("family") != rules.EXTRA:
            claims.setdefault((r["experiment"], r["item"], r["claim"]), []).append(r)
    out = []
    for (experiment, item, claim), rs in claims.items():
        trained = [r for r in rs if r["length"] in LONG_PROFILES]
        out.append({"experiment": experiment, "item": item, "claim": claim, "trained": bool(trained),
                    "rows": sorted(trained or rs, key=lambda r: r.get("dataset", "cifar10"))})
    return out


def best_verdict(claim: dict) -> str:
    """The verdict a claim counts with in a summary: the decided one if the datasets that decided it
    agree, "partly" where they disagree (never the more favourable of the two), else the first
    row's undecided or untestable verdict."""
    decided = {r["verdict"] for r in claim["rows"] if r["verdict"] in DECIDED}
    if len(decided) > 1:
        return rules.PARTLY
    return decided.pop() if decided else claim["rows"][0]["verdict"]


def where(row) -> str:
    runs = len(row.get("runs") or [])
    on = f", {runs} run{'s' if runs != 1 else ''}" if runs else ""
    return f"{DATASET.get(row.get('dataset', 'cifar10'), row.get('dataset'))}, {length_words(row['length'])}{on}"


def summary(claims: list[dict]) -> str:
    """'Of its 5 claims: 3 reproduced, 1 undecided, 1 not testable at this length (2 only on the
    short runs).'"""
    if not claims:
        return "No claim of it is judged yet."
    counts: dict[str, int] = {}
    for c in claims:
        v = best_verdict(c)
        counts[v] = counts.get(v, 0) + 1
    order = (rules.REPRODUCED, rules.PARTLY, rules.NOT, rules.UNDECIDED, rules.TOO_SHORT, rules.UNTESTED)
    parts = ", ".join(f"{counts[v]} {v}" for v in sorted(counts, key=lambda v: order.index(v) if v in order else 99))
    short = sum(not c["trained"] for c in claims)
    tail = f" ({short} judged on the short runs only)" if short else ""
    return f"Of its {len(claims)} claims: {parts}{tail}."


def table_html(claims: list[dict], link) -> str:
    """The claims of one explanation as a two-column HTML table that fits the text column: the
    claim (linked to its chapter) and, per dataset and length, our verdict with the runs."""
    out = ['<table class="findings dataframe"><thead><tr><th>claim</th><th>our verdict (dataset, length, runs)'
           '</th></tr></thead><tbody>']
    for c in claims:
        name = f'<a href="{link(c["experiment"])}">{html.escape(c["item"])}</a>: {html.escape(c["claim"])}'
        verdicts = "<br>".join(f"<b>{html.escape(r['verdict'])}</b> ({html.escape(where(r))})" for r in c["rows"])
        out.append(f"<tr><td>{name}</td><td>{verdicts}</td></tr>")
    return "".join(out) + "</tbody></table>"


def sections(rows, link) -> list[tuple[str, str, str, str]]:
    """(heading, the paper's explanation, our summary, the claims' table) for every explanation."""
    out = []
    for heading, explanation, experiments in EXPLANATIONS:
        claims = evidence(rows, experiments)
        out.append((heading, explanation, summary(claims), table_html(claims, link) if claims else ""))
    return out


def totals(rows) -> dict:
    """Counts over every claim of the paper's sections (the ablations and Li et al. apart) by its
    best verdict, and how many were judged at a trained length: glued into the page's first lines."""
    experiments = {e for _, _, exps in EXPLANATIONS[:6] for e in exps}
    claims = evidence(rows, experiments)
    counts = {v: sum(best_verdict(c) == v for c in claims) for v in
              (rules.REPRODUCED, rules.PARTLY, rules.NOT, rules.UNDECIDED, rules.TOO_SHORT, rules.UNTESTED)}
    return {"claims": len(claims), "trained": sum(c["trained"] for c in claims), **counts}
