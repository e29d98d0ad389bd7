"""Chen & He's own SimSiam ablations (CVPR 2021), re-run on CIFAR-10 at our scale.

One experiment per ablation group, each a chapter; every variant is data on the one training loop
(loss options, predictor, head BN, batch size).  The plain SimSiam run of each group has the
same config as Table 4's "both" / Figure 5's SimSiam and is shared with them.
"""
from __future__ import annotations

from ..experiment_spec import SHORT as _CPU, EQUAL_MARGIN, LEARNS_GAP, Experiment, PlannedClaim

SECTION = ("Chen & He (2021)", "ablations")

# Chen & He, "Exploring Simple Siamese Representation Learning" (CVPR 2021): ImageNet, ResNet-50,
# 100-epoch linear top-1 (%), as the seed's summary states them; only the numbers it states are typed.
# Their Table 2 (batch size) is a trend: not sensitive to the batch size (64-4096, SGD, linear lr scaling).
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


ITEMS = {
    "ab_stopgrad": Experiment(
        name="ab_stopgrad", title="Chen & He, Fig. 2: SimSiam with and without stop-gradient",
        paper=CHEN_HE_STOPGRAD,
        variants={"stop_gradient": dict(loss="simsiam"),
                  "no_stop_gradient": dict(loss="simsiam", options={"stop_gradient": False})},
        item="Chen & He Fig. 2", judge="collapse", reference="stop_gradient", section=SECTION,
        notebook="ablation_stop_gradient.ipynb", scale=_CPU,
    ),
    "ab_predictor": Experiment(
        name="ab_predictor", title="Chen & He, Table 1: the predictor removed, fixed, or learned",
        paper=CHEN_HE_PREDICTOR,
        claims=(PlannedClaim("a predictor fixed at random init does not work (far below a learned one)",
                             "lr_constant", "fixed_random", gap=LEARNS_GAP, may_fail=("fixed_random",)),),
        variants={"no_predictor": dict(loss="simsiam", predictor="none"),
                  "fixed_random": dict(loss="simsiam", predictor_trainable=False),
                  "lr_decayed": dict(loss="simsiam", predictor_fixed_lr=False),
                  "lr_constant": dict(loss="simsiam")},
        item="Chen & He Table 1", judge="collapse", reference="lr_constant", section=SECTION,
        notebook="ablation_predictor.ipynb", scale=_CPU,
        long_variants=("lr_constant",),  # shown first at the long length; the plan's arms are added
    ),
    "ab_batch": Experiment(
        name="ab_batch", title="Chen & He, Table 2: batch size with linear learning-rate scaling",
        paper={},
        claims=(PlannedClaim("accuracy is not sensitive to the batch size (64 vs 256)", "batch_64", "batch_256",
                             kind="equal", gap=EQUAL_MARGIN),
                PlannedClaim("accuracy is not sensitive to the batch size (512 vs 256)", "batch_512", "batch_256",
                             kind="equal", gap=EQUAL_MARGIN)),
        # lr = base_lr x batch / 256 (Config); same number of epochs, so smaller batches take more steps
        variants={f"batch_{b}": dict(loss="simsiam", batch_size=b) for b in (64, 128, 256, 512)},
        # at smoke, enough images for a batch of 512 (a batch never exceeds the training set)
        item="Chen & He Table 2", judge="none", section=SECTION,
        notebook="ablation_batch_size.ipynb", scale={**_CPU, "smoke": dict(train_subset=1024)},
        default_seeds={"cpu": [0, 1, 2]},  # "not sensitive" is judged against the seed spread
    ),
    "ab_bn": Experiment(
        name="ab_bn", title="Chen & He, Table 3: batch normalisation in the MLP heads",
        paper=CHEN_HE_BN,
        claims=(PlannedClaim("BN on the hidden layers beats no BN", "b_hidden", "a_none"),),
        variants={"a_none": dict(loss="simsiam", head_bn="none"),
                  "b_hidden": dict(loss="simsiam", head_bn="hidden"),
                  "c_default": dict(loss="simsiam"),
                  "d_all": dict(loss="simsiam", head_bn="all")},
        item="Chen & He Table 3", judge="collapse", reference="c_default", section=SECTION,
        notebook="ablation_head_bn.ipynb", scale=_CPU,
    ),
    "ab_loss": Experiment(
        name="ab_loss", title="Chen & He, Table 4 and symmetrisation: similarity function and symmetry",
        paper=CHEN_HE_LOSS,
        claims=(PlannedClaim("the symmetric loss beats the asymmetric one", "cosine_sym", "asymmetric"),
                PlannedClaim("two pairs per image (asym 2x) beat one asymmetric pair", "asym_2x", "asymmetric")),
        variants={"cosine_sym": dict(loss="simsiam"),
                  "cross_entropy": dict(loss="simsiam", options={"similarity": "cross_entropy"}),
                  "asymmetric": dict(loss="simsiam", options={"symmetric": False}),
                  # "asym 2x": two pairs per image (four views), asymmetric within each pair
                  "asym_2x": dict(loss="simsiam", options={"symmetric": False}, n_views=4)},
        item="Chen & He Table 4", judge="collapse", reference="cosine_sym", section=SECTION,
        notebook="ablation_loss_form.ipynb", scale=_CPU,
    ),
    "ab_kstep": Experiment(
        name="ab_kstep", title="Chen & He, Sec. 5: k-step alternation (the EM hypothesis)",
        paper=CHEN_HE_KSTEP,
        claims=(PlannedClaim("10-step alternation is at least as accurate as SimSiam", "k10", "k1", kind="at_least"),
                PlannedClaim("100-step alternation is at least as accurate as SimSiam", "k100", "k1",
                             kind="at_least")),
        # eta (the stop-gradient target) comes from a copy of the encoder refreshed every k steps;
        # k = 1 is SimSiam.  "1-epoch" refreshes once per epoch, so at cpu it trains 2 epochs
        # (one refresh, at step 195) where the others train 0.75: its accuracy is not comparable.
        variants={**{f"k{k}": dict(loss="simsiam", target_every=k) if k > 1 else dict(loss="simsiam")
                     for k in (1, 10, 100)},
                  "k_epoch": dict(loss="simsiam", target_every="epoch")},
        item="Chen & He Sec. 5", judge="collapse", reference="k1", section=SECTION,
        notebook="ablation_kstep.ipynb", scale=_CPU, variant_scale={"cpu": {"k_epoch": dict(epochs=2.0)}},
    ),
}
