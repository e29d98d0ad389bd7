"""The papers' reported numbers, typed once, here, and labelled as theirs.

Source: Zhang et al., "How does SimSiam avoid collapse without negative samples?" (ICLR 2022),
seed file 000.  Their runs: ResNet-18, 1000 epochs, batch 256, CIFAR (Appendix A.1; the appendix
says a 10-class head, Table 5 says CIFAR-100).  `top1` is linear top-1 (%); a collapsed run is
reported as 1%.  Nothing in this file is ever measured by us.
"""

PAPER = "Zhang et al. (ICLR 2022)"

TABLE2 = {  # Table 2: Results of various Siamese architectures
    "simsiam": {"label": "SimSiam", "collapse": False, "top1": 66.62},
    "mirror_simsiam": {"label": "Mirror SimSiam", "collapse": True, "top1": 1.0},
    "naive_siamese": {"label": "Naive Siamese", "collapse": True, "top1": 1.0},
    "symmetric_predictor": {"label": "Symmetric Predictor", "collapse": True, "top1": 1.0,
                            # Sec. 2.3: h is part of the new encoder F = h(f(.)), whose output is P
                            "collapse_of": "p"},
}

TABLE1 = {  # Table 1: Influence of explicit EOA (Appendix A.3)
    "moving_average": {"label": "Moving average (2 aug.)", "collapse": False, "std": 0.0108, "top1": 46.57},
    "same_batch_10": {"label": "Same batch (10 aug.)", "collapse": True, "std": 0.0, "top1": 1.0},
    "same_batch_25": {"label": "Same batch (25 aug.)", "collapse": True, "std": 0.0, "top1": 1.0},
}

FIG3 = {  # Figure 3 is a plot; the text (Sec. 2.3) says:
    "simsiam": {"label": "SimSiam", "collapse": False},
    "inverse_predictor": {"label": "SimSiam with inverse predictor", "collapse": False,
                          "text": "trainable, slightly inferior performance, no collapse"},
}

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

TABLE5 = {  # Table 5: linear evaluation (CIFAR-100 in the paper); the simple predictors see an
    # l2-normalised encoder output from a projector without final BN (the authors' code), the MLP
    # row is plain SimSiam (66.9, as Table 2's 66.62)
    "simsiam": {"label": "SimSiam, MLP predictor", "collapse": False, "top1": 66.9},
    "mlp_authors_projector": {"label": "MLP predictor behind the Table 5 projector (ours: the like-for-like arm)"},
    "mlp": {"label": "MLP predictor on l2-normalised z (ours, not in the paper)"},
    "two_fc": {"label": "Two FC: FC+FC+Bias", "collapse": False, "top1": 66.7},
    "one_fc": {"label": "One FC: Tanh(FC)", "collapse": False, "top1": 64.82},
    "one_bias": {"label": "One bias: Bias", "collapse": False, "top1": 49.82},
}

TABLE6 = {  # Table 6: cosine similarity between the centre vector o_z and the predictor's bias
    "one_bias": 0.99,   # (1) single learnable bias layer
    "simsiam": 0.89,    # (2) the last bias vector of SimSiam's MLP predictor
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

BN_PLACEMENT = {  # Section 4, "Two important details: BN and l2-normalization" (no table):
    "no_bn": {"label": "Naive Siamese, no final BN", "collapse": True},
    "bn_before_l2": {"label": "Naive Siamese, final BN before l2-normalisation", "collapse": True},
    "bn_after_l2": {"label": "Naive Siamese, BN after l2-normalisation, before MSE", "collapse": False},
}

# Chen & He, "Exploring Simple Siamese Representation Learning" (CVPR 2021), as summarised in seed
# 001: ImageNet, ResNet-50, 100-epoch linear top-1 (%).  Only numbers the seed states are typed.
CHEN_HE_STOPGRAD = {
    "stop_gradient": {"label": "with stop-gradient", "collapse": False, "text": "std ~ 1/sqrt(d)"},
    "no_stop_gradient": {"label": "without stop-gradient", "collapse": True,
                         "text": "collapses: loss reaches -1, std -> 0"},
}
CHEN_HE_PREDICTOR = {
    "no_predictor": {"label": "no predictor (identity)", "collapse": True},
    "fixed_random": {"label": "predictor fixed at random init", "collapse": False,
                     "text": "does not collapse but fails to converge (high loss)"},
    "lr_decayed": {"label": "predictor lr with cosine decay", "collapse": False},
    "lr_constant": {"label": "predictor lr constant (SimSiam default)", "collapse": False},
}
CHEN_HE_BATCH = {"trend": "not sensitive to batch size (64-4096, SGD, linear lr scaling)"}
CHEN_HE_BN = {
    "a_none": {"label": "(a) no BN in the heads", "collapse": False, "top1": 34.6},
    "b_hidden": {"label": "(b) BN on hidden layers", "collapse": False, "top1": 67.4},
    "c_default": {"label": "(c) + BN on the projector output", "collapse": False, "top1": 68.1},
    "d_all": {"label": "(d) + BN on the predictor output", "collapse": False,
              "text": "unstable training, oscillating loss"},
}
CHEN_HE_LOSS = {
    "cosine_sym": {"label": "cosine, symmetric (SimSiam)", "collapse": False, "top1": 68.1},
    "cross_entropy": {"label": "cross-entropy similarity", "collapse": False, "top1": 63.2},
    "asymmetric": {"label": "cosine, asymmetric", "collapse": False, "top1": 64.8},
    "asym_2x": {"label": "cosine, asymmetric, two pairs per image (asym 2x)", "collapse": False, "top1": 67.3},
}
CHEN_HE_KSTEP = {
    "k1": {"label": "1-step (SimSiam)", "collapse": False, "top1": 68.1},
    "k10": {"label": "10-step", "collapse": False, "top1": 68.7},
    "k100": {"label": "100-step", "collapse": False, "top1": 68.9},
    "k_epoch": {"label": "1-epoch", "collapse": False, "top1": 67.0},
}

LI_ET_AL = {  # Li et al. (2022) state directions, not numbers:
    "sweep": "higher AUC for small model x large data",
    "forecast": "higher AUC, lower accuracy",
}

REPORTED = {"table5": TABLE5, "table1": TABLE1, "table2": TABLE2, "table3": TABLE3, "table4": TABLE4, "fig3": FIG3,
            "fig4": FIG4, "fig5_6": FIG5_6, "fig5b": FIG5B, "fig8": FIG8, "bn_placement": BN_PLACEMENT,
            "ab_stopgrad": CHEN_HE_STOPGRAD, "ab_predictor": CHEN_HE_PREDICTOR, "ab_batch": {},
            "ab_bn": CHEN_HE_BN, "ab_loss": CHEN_HE_LOSS, "ab_kstep": CHEN_HE_KSTEP,
            "collapse_sweep": LI_ET_AL,
            # the 20-epoch runs of three of Table 2's variants
            "table2_curve": {k: TABLE2[k] for k in ("simsiam", "naive_siamese", "mirror_simsiam")}}
