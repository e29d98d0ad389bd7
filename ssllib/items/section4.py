"""Zhang et al. (2022), Section 4: where the final BN sits, and the simpler predictors of Tables 5-6
(with A.8's coefficient)."""
from __future__ import annotations

from ..experiment_spec import SHORT, Experiment

SECTION = ("Zhang et al. (2022)", "Section 4: BN and simpler predictors")

ITEMS = {
    "bn_placement": Experiment(
        name="bn_placement",
        title="Section 4: where the final BN sits decides whether Naive Siamese collapses",
        variants={
            "no_bn": dict(loss="naive_siamese", predictor="none", proj_last_bn=False),
            "bn_before_l2": dict(loss="naive_siamese", predictor="none"),  # the A.1 projector
            "bn_after_l2": dict(loss="bn_mse", predictor="none", proj_last_bn=False),
        },
        section=SECTION, notebook="bn_placement.ipynb",
        item="Section 4 (BN)", judge="collapse", reference="bn_after_l2",
        scale=SHORT,
    ),
    "table5": Experiment(
        name="table5",
        title="Tables 5-6, A.8: simpler predictors on an l2-normalised encoder output (Sec. 4)",
        # the paper's MLP row is plain SimSiam (66.9%, Table 2's 66.62%): in the authors' code the
        # l2-normalisation sits in the simple predictors' forward only.  Here it is the same
        # training as Table 2's SimSiam, found by its training key; "mlp" (an MLP on an
        # l2-normalised z) is ours, not the paper's, kept as a labelled extra
        variants={"simsiam": dict(loss="simsiam", predictor="mlp"),
                  **{name: dict(loss="simsiam", predictor=pred, normalize_z=True) for name, pred in
                     (("mlp", "mlp"), ("two_fc", "fc_fc_bias"), ("one_fc", "tanh_clamped_fc"), ("one_bias", "bias"))}},
        section=SECTION, notebook="table5_simple_predictors.ipynb",
        item="Tables 5-6", judge="table5",
        scale=SHORT, long_variants=("simsiam", "mlp", "two_fc", "one_bias"),
    ),
}
