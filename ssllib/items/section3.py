"""Zhang et al. (2022), Section 3: z = o + r and which gradient components de-centre and de-correlate
- Figure 4, Tables 3-4, Figures 5(a), 5(c), 6, Figure 5(b) (Algorithm 5), Figure 8 (A.7)."""
from __future__ import annotations

from ..experiment_spec import AFTER, EQUAL_MARGIN, SHORT, Experiment, PlannedClaim

TEMPERATURES = (0.05, 0.1, 0.2, 0.5, 1.0)  # Figure 8's
SECTION = ("Zhang et al. (2022)", "Section 3: the vector decomposition")
LATE_SEEDS = AFTER + "; seeds 3-4 were added after looking and do not count"  # Table 4's claims

# The paper's numbers, typed once, here, and labelled as the paper's (never measured by us)
# (Zhang et al., 2022: ResNet-18, 1000 epochs, batch 256, CIFAR; `top1` is linear top-1 in %, a
# collapsed run is reported as 1%)
FIG4 = {  # Figure 4 is a plot; Conjecture 1 and the text (Sec. 3.1) say:
    "centre": {"label": "-Z_a . sg(o_z)", "text": "increases m_o, decreases m_r"},
    "residual": {"label": "-Z_a . sg(Z_a - o_z)", "text": "increases m_r, decreases m_o"},
    "random": {"label": "random gradient", "text": "relatively small influence on the trend"},
}

TABLE3 = {  # Table 3: gradient component analysis with a random negative sample
    "baseline": {"label": "Baseline -Z_a.sg(Z_b + G_e)", "collapse": False, "std": 0.020,
                 "m_o": 0.026, "m_r": 0.99, "top1": 36.21},
    "remove_r_e": {"label": "Removing r_e -Z_a.sg(Z_b + o_e)", "collapse": False, "std": 0.02005,
                   "m_o": 0.026, "m_r": 0.99, "top1": 47.41},
    "remove_o_e": {"label": "Removing o_e -Z_a.sg(Z_b + r_e)", "collapse": True, "std": 0.0,
                   "m_o": 1.0, "m_r": 0.0, "top1": 1.0},
}

TABLE4 = {  # Table 4: gradient component analysis for SimSiam.  Sec. 3.3 analyses the gradient
    # on P_a ("the analyzed vector is P_a"), so collapse is judged on p = h(z)
    "both": {"label": "o_e and r_e (SimSiam)", "collapse": False, "top1": 66.62, "collapse_of": "p"},
    "o_e_only": {"label": "o_e only", "collapse": False, "top1": 48.08, "collapse_of": "p"},
    "r_e_only": {"label": "r_e only", "collapse": False, "top1": 66.15, "collapse_of": "p"},
    "neither": {"label": "neither", "collapse": True, "top1": 1.0, "collapse_of": "p"},
}

FIG5_6 = {  # Figures 5(a), 5(c), 6 are plots; Sections 3.3-3.5 say:
    "simsiam": {"label": "SimSiam", "collapse": False, "eta_p": -0.5,
                "text": "o_e holds about -0.5 o_p (eta_p ~ -0.5, Fig. 5a); covariance falls during "
                        "training except the first epochs (Fig. 6)"},
    "mirror_simsiam": {"label": "Mirror SimSiam", "collapse": True, "eta_z": 0.2,
                       "text": "o_e holds about +0.2 o_z (eta_z ~ 0.2, Fig. 5a)"},
    "infonce": {"label": "InfoNCE", "collapse": False, "tau_peak": (0.1, 0.2),
                "text": "r_e aligns with the de-correlation gradient for a wide range of tau, most "
                        "around 0.1-0.2 (Fig. 5c); covariance falls during training (Fig. 6)"},
    "infonce_no_r_e": {"label": "InfoNCE without r_e", "collapse": False,
                       "text": "high covariance during the whole training and a significant "
                               "performance drop (Fig. 6, Sec. 3.5)"},
}

FIG5B = {  # Figure 5(b) is a plot; Section 3.4 says:
    "phases": {"label": "SimSiam, then Naive Siamese, then de-correlation loss",
               "text": "the collapsing loss drives m_r towards 0; the de-correlation loss alone then "
                       "increases m_r at a very fast rate"},
}

FIG8 = {  # Figure 8 is a plot (A.7, 200 epochs of solo-learn SimCLR); the text says:
    "trend": "a higher temperature gives a higher covariance and a lower top-1 accuracy",
}


ITEMS = {
    "fig4": Experiment(
        name="fig4",
        paper=FIG4,
        title="Figure 4: which gradient component raises m_o or m_r (Sec. 3.1, Conjecture 1)",
        variants={c: dict(loss="gradient_component", predictor="none", options={"component": c})
                  for c in ("centre", "residual", "random")},
        section=SECTION, notebook="fig4_gradient_components.ipynb",
        item="Figure 4", judge="fig4",
        scale={"cpu": dict(epochs=0.3, warmup_epochs=0.05)},  # a trend, visible within ~60 steps
    ),
    "table3": Experiment(
        name="table3",
        paper=TABLE3,
        claims=(PlannedClaim("removing r_e from the triplet improves accuracy", "remove_r_e", "baseline",
                             note=AFTER),),
        title="Table 3: the toy triplet loss and its o_e / r_e components (Sec. 3.2)",
        variants={
            "baseline": dict(loss="triplet", predictor="none"),
            "remove_r_e": dict(loss="triplet", predictor="none", options={"keep_r_e": False}),
            "remove_o_e": dict(loss="triplet", predictor="none", options={"keep_o_e": False}),
        },
        section=SECTION, notebook="table3_triplet_components.ipynb",
        item="Table 3", judge="collapse", reference="baseline",
        scale=SHORT, default_seeds={"cpu": [0, 1, 2]},  # the accuracy orderings need seed spread
        long_variants=("baseline", "remove_r_e", "remove_o_e"),  # the last for its collapse claim
    ),
    "table4": Experiment(
        name="table4",
        paper=TABLE4,
        claims=(
            PlannedClaim("r_e alone gives higher accuracy than o_e alone", "r_e_only", "o_e_only", note=LATE_SEEDS),
            PlannedClaim("keeping both beats o_e alone", "both", "o_e_only", note=LATE_SEEDS),
            PlannedClaim("r_e alone is about as accurate as both", "r_e_only", "both", kind="equal",
                         gap=EQUAL_MARGIN, note=LATE_SEEDS),
        ),
        title="Table 4: SimSiam's extra gradient split into o_e and r_e (Sec. 3.3)",
        variants={
            "both": dict(loss="simsiam"),  # P_b + o_e + r_e = Z_b: SimSiam exactly
            "o_e_only": dict(loss="simsiam_surgery", options={"keep_r_e": False}),
            "r_e_only": dict(loss="simsiam_surgery", options={"keep_o_e": False}),
            "neither": dict(loss="simsiam_surgery", options={"keep_o_e": False, "keep_r_e": False}),
        },
        section=SECTION, notebook="table4_simsiam_components.ipynb",
        item="Table 4", judge="collapse", reference="both",
        # the accuracy orderings need seed spread.  At cpu_long the seeds of o_e alone spread
        # widely (std ~3 points): two seeds left rule 6 undecided, so a third was run (now every
        # long length's default), and with three still undecided two more (seeds 3-4, on a lent
        # GPU); the chapter says so, since
        # adding seeds after looking is a choice a reader should know about
        scale=SHORT, default_seeds={"cpu": [0, 1, 2], "cpu_long": [0, 1, 2, 3, 4]},
        long_variants=("both", "o_e_only", "r_e_only", "neither"),  # the last for its collapse claim
    ),
    "fig5_6": Experiment(
        name="fig5_6",
        paper=FIG5_6,
        claims=(PlannedClaim("removing r_e from InfoNCE costs accuracy", "infonce", "infonce_no_r_e", item="Sec. 3.5",
                             note=AFTER),),
        title="Figures 5(a), 5(c), 6: de-centring (eta) and de-correlation in SimSiam and InfoNCE "
              "(Sec. 3.3-3.5)",
        variants={
            "simsiam": dict(loss="simsiam"),
            "mirror_simsiam": dict(loss="mirror_simsiam"),
            "infonce": dict(loss="infonce", predictor="none", options={"tau": 0.2}),
            "infonce_no_r_e": dict(loss="infonce", predictor="none", options={"tau": 0.2, "keep_r_e": False}),
        },
        section=SECTION, notebook="fig5_6_decentring_decorrelation.ipynb",
        item="Figures 5-6", judge="fig5_6",
        # Fig. 6: "after the first epochs" needs >= 5 epochs; Sec. 3.5: InfoNCE without r_e loses accuracy
        scale=SHORT, long_variants=("simsiam", "infonce", "infonce_no_r_e"),
        needs={"simsiam": ("eta_p", "covariance_z"), "mirror_simsiam": ("eta_z", "covariance_z")},
    ),
    "fig5b": Experiment(
        name="fig5b",
        paper=FIG5B,
        title="Figure 5(b), Algorithm 5: a de-correlation loss alone raises m_r after a collapse (Sec. 3.4)",
        # the paper: 5 epochs SimSiam, 1 epoch of the collapsing Naive Siamese loss (Eq. 1), then
        # the de-correlation loss; here the same three phases in proportion, at constant lr, the
        # de-correlation loss weighted 0.01 so its gradient is the cosine loss's size (unweighted,
        # it raised m_r from 0.09 to 0.85 in ~15 steps and then diverged)
        variants={"phases": dict(loss="simsiam", lr_schedule="constant", phases=[
            ["simsiam", 0.45], ["naive_siamese", 0.2], ["decorrelation", 0.35, {"weight": 0.01}]])},
        section=SECTION, notebook="fig5b_decorrelation_phases.ipynb",
        item="Figure 5(b)", judge="fig5b",
        scale={"cpu": dict(epochs=1.0, warmup_epochs=0.05)},
    ),
    "fig8": Experiment(
        name="fig8",
        paper=FIG8,
        # planned, not run at a long length yet: at the short length it is not testable
        claims=(PlannedClaim("a higher temperature gives a lower accuracy (τ = 0.2 beats τ = 1)", "tau_0.2", "tau_1"),),
        title="Figure 8, A.7: InfoNCE temperature vs accuracy and covariance (Sec. 3.5)",
        variants={f"tau_{t:g}": dict(loss="infonce", predictor="none", options={"tau": t}) for t in TEMPERATURES},
        section=SECTION, notebook="fig8_infonce_temperature.ipynb",
        item="Figure 8", judge="fig8",
        scale=SHORT, long_variants=tuple(f"tau_{t:g}" for t in TEMPERATURES),  # the trend, trained
    ),
}
