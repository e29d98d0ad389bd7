"""Zhang et al. (2022), Section 3: z = o + r and which gradient components de-centre and de-correlate
- Figure 4, Tables 3-4, Figures 5(a), 5(c), 6, Figure 5(b) (Algorithm 5), Figure 8 (A.7)."""
from __future__ import annotations

from ..experiment_spec import SHORT, Experiment

TEMPERATURES = (0.05, 0.1, 0.2, 0.5, 1.0)  # Figure 8's
SECTION = ("Zhang et al. (2022)", "Section 3: the vector decomposition")

ITEMS = {
    "fig4": Experiment(
        name="fig4",
        title="Figure 4: which gradient component raises m_o or m_r (Sec. 3.1, Conjecture 1)",
        variants={c: dict(loss="gradient_component", predictor="none", options={"component": c})
                  for c in ("centre", "residual", "random")},
        section=SECTION, notebook="fig4_gradient_components.ipynb",
        item="Figure 4", judge="fig4",
        scale={"cpu": dict(epochs=0.3, warmup_epochs=0.05)},  # a trend, visible within ~60 steps
    ),
    "table3": Experiment(
        name="table3",
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
        title="Figure 8, A.7: InfoNCE temperature vs accuracy and covariance (Sec. 3.5)",
        variants={f"tau_{t:g}": dict(loss="infonce", predictor="none", options={"tau": t}) for t in TEMPERATURES},
        section=SECTION, notebook="fig8_infonce_temperature.ipynb",
        item="Figure 8", judge="fig8",
        scale=SHORT, long_variants=tuple(f"tau_{t:g}" for t in TEMPERATURES),  # the trend, trained
    ),
}
