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
            # the A.1 projector as the authors' code has it: a final BatchNorm1d(affine=False),
            # which removes the centre with no learnable shift to put it back
            "bn_before_l2": dict(loss="naive_siamese", predictor="none", proj_last_bn_affine=False),
            "bn_after_l2": dict(loss="bn_mse", predictor="none", proj_last_bn=False),
            # ours before 2026-11-30, kept as a labelled extra: the same with an affine final BN
            "bn_before_l2_affine": dict(loss="naive_siamese", predictor="none"),
        },
        section=SECTION, notebook="bn_placement.ipynb",
        item="Section 4 (BN)", judge="collapse", reference="bn_after_l2",
        scale=SHORT, long_variants=("no_bn", "bn_before_l2", "bn_after_l2"),  # their collapse claims
    ),
    "table5": Experiment(
        name="table5",
        title="Tables 5-6, A.8: simpler predictors on an l2-normalised encoder output (Sec. 4)",
        # the paper's MLP row is plain SimSiam (66.9%, Table 2's 66.62%): in the authors' code the
        # l2-normalisation sits in the simple predictors' forward only.  Here it is the same
        # training as Table 2's SimSiam, found by its training key.  The simple predictors run as
        # the authors ran them (solo-learn fork, new_predictor.py): on an l2-normalised z from a
        # projector with no final BN and a last Linear with bias (proj_last_bn=False).  Extras,
        # not in the paper: "mlp" (an MLP on an l2-normalised z) and the simple predictors behind
        # our A.1 projector with its final BN ("*_bn_head", the book's runs before 2026-11-30)
        # The like-for-like arm (plan amendment of 2026-12-03, before its runs): SimSiam's MLP
        # predictor behind the same projector as the simple predictors (no final BN), so that
        # Table 5's orderings change the predictor alone, and Table 6's "the MLP's last bias aligns
        # with the centre" is tested where the projector does not pin the centre near 0
        variants={"simsiam": dict(loss="simsiam", predictor="mlp"),
                  "mlp_authors_projector": dict(loss="simsiam", predictor="mlp", proj_last_bn=False),
                  "mlp": dict(loss="simsiam", predictor="mlp", normalize_z=True),
                  **{name + head: dict(loss="simsiam", predictor=pred, normalize_z=True, **kw)
                     for head, kw in (("", dict(proj_last_bn=False)), ("_bn_head", {}))
                     for name, pred in (("two_fc", "fc_fc_bias"), ("one_fc", "tanh_clamped_fc"), ("one_bias", "bias"))}},
        section=SECTION, notebook="table5_simple_predictors.ipynb",
        item="Tables 5-6", judge="table5",
        scale=SHORT, long_variants=("simsiam", "mlp_authors_projector", "mlp", "two_fc", "one_bias", "one_fc",  # one_fc: its collapse claim
                                                     "two_fc_bn_head", "one_bias_bn_head"),
    ),
}
