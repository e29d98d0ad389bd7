"""Zhang et al. (2022), Section 2: revisiting SimSiam's explanation - Table 1 (explicit expectation
over augmentations, A.3), Table 2 / Figure 7 (which Siamese architectures collapse, A.4) with its
20-epoch learning curve, Figure 3 (a learned inverse predictor, A.5)."""
from __future__ import annotations

from ..config import PROFILES
from ..experiment_spec import AFTER, CONTROLS, EQUAL_MARGIN, LEARNS_GAP, SHORT, Experiment, PlannedClaim


def _at_long_length(batch: int) -> dict:
    """Table 1's N-view variant at the long length, with its batch of 512/N images (about a 2-view
    step's cost): cpu_long's epochs, warm-up and evaluation spacing scaled by batch / cpu_long's
    batch, so that it takes as many steps (and warm-up steps, and steps between evaluations) as a
    cpu_long run, up to the rounding of a partial epoch; SimSiam's learning rate (base_lr x
    batch / 256 = 0.5, as at the cpu length)."""
    long = PROFILES["cpu_long"]
    f = batch / long["batch_size"]
    return dict(batch_size=batch, epochs=long["epochs"] * f, warmup_epochs=long["warmup_epochs"] * f,
                eval_every=long["eval_every"] * f, base_lr=0.5 * 256 / batch)


SECTION = ("Zhang et al. (2022)", "Section 2: SimSiam's explanation revisited")
HEAD_CHECK = "our head's affine final BN does not change SimSiam's accuracy (the reference head's is affine-free)"

# The paper's numbers, typed once, here, and labelled as the paper's (never measured by us)
# (Zhang et al., 2022: ResNet-18, 1000 epochs, batch 256, CIFAR; `top1` is linear top-1 in %, a
# collapsed run is reported as 1%)
TABLE1 = {  # Table 1: Influence of explicit EOA (Appendix A.3)
    "moving_average": {"label": "Moving average (2 aug.)", "collapse": False, "std": 0.0108, "top1": 46.57},
    "same_batch_10": {"label": "Same batch (10 aug.)", "collapse": True, "std": 0.0, "top1": 1.0},
    "same_batch_25": {"label": "Same batch (25 aug.)", "collapse": True, "std": 0.0, "top1": 1.0},
}

TABLE2 = {  # Table 2: Results of various Siamese architectures
    "simsiam": {"label": "SimSiam", "collapse": False, "top1": 66.62},
    "mirror_simsiam": {"label": "Mirror SimSiam", "collapse": True, "top1": 1.0},
    "naive_siamese": {"label": "Naive Siamese", "collapse": True, "top1": 1.0},
    "symmetric_predictor": {"label": "Symmetric Predictor", "collapse": True, "top1": 1.0,
                            # Sec. 2.3: h is part of the new encoder F = h(f(.)), whose output is P
                            "collapse_of": "p"},
}

FIG3 = {  # Figure 3 is a plot; the text (Sec. 2.3) says:
    "simsiam": {"label": "SimSiam", "collapse": False},
    "inverse_predictor": {"label": "SimSiam with inverse predictor", "collapse": False,
                          "text": "trainable, slightly inferior performance, no collapse"},
}
TABLE2_CURVE = {k: TABLE2[k] for k in ("simsiam", "naive_siamese", "mirror_simsiam")}  # its 20-epoch runs


ITEMS = {
    "table1": Experiment(
        name="table1",
        paper=TABLE1,
        title="Table 1: explicit expectation over augmentations (Sec. 2.2, A.3)",
        variants={
            "moving_average": dict(loss="moving_average", predictor="none", options={"momentum": 0.8}),
            "same_batch_10": dict(loss="same_batch", predictor="none", n_views=10),
            "same_batch_25": dict(loss="same_batch", predictor="none", n_views=25),
        },
        section=SECTION, notebook="table1_explicit_eoa.ipynb",
        item="Table 1", judge="collapse", reference="moving_average",
        # a moving average needs images seen again: a fixed class-balanced 5,000-image subset,
        # ~7.5 epochs, ~146 steps, a 10-step warm-up.  With N views a batch holds 512/N images, so a
        # step costs about what a 2-view step costs (A.3 states no batch size); the learning rate
        # stays SimSiam's 0.5 (base_lr x batch / 256 with base_lr raised to match) and the warm-up
        # stays ~10 steps, so that "collapses or not" is judged at SimSiam's step size
        scale={"cpu": dict(train_subset=5000, epochs=7.5, warmup_epochs=0.5)},
        variant_scale={"cpu": {"same_batch_10": dict(batch_size=52, epochs=1.5, warmup_epochs=0.1,
                                                     base_lr=round(0.5 * 256 / 52, 6)),
                               "same_batch_25": dict(batch_size=20, epochs=0.6, warmup_epochs=0.04,
                                                     base_lr=0.5 * 256 / 20)},
                       # the long length: about as many steps as a cpu_long run, which the moving
                       # average runs as it is (every image seen once an epoch)
                       "cpu_long": {"same_batch_10": _at_long_length(52), "same_batch_25": _at_long_length(20)}},
        long_variants=("moving_average", "same_batch_10", "same_batch_25"),  # their collapse claims
    ),
    "table2": Experiment(
        name="table2",
        paper=TABLE2,
        claims=(
            PlannedClaim("SimSiam learns features: linear probe beats the strongest control", "simsiam", CONTROLS,
                         gap=LEARNS_GAP, note=AFTER),
            PlannedClaim("SimSiam learns features: kNN beats the strongest control", "simsiam", CONTROLS,
                         gap=LEARNS_GAP, metric="knn_acc", note=AFTER),
            PlannedClaim(HEAD_CHECK, "simsiam", "simsiam_reference_head", kind="equal", gap=EQUAL_MARGIN,
                         note="planned before its runs: whether today's records stand"),
        ),
        title="Table 2 / Figure 7: Siamese architectures with and without collapse (Sec. 2.3, A.4)",
        variants={
            "simsiam": dict(loss="simsiam", predictor="mlp"),
            "mirror_simsiam": dict(loss="mirror_simsiam", predictor="mlp"),
            "naive_siamese": dict(loss="naive_siamese", predictor="none"),
            "symmetric_predictor": dict(loss="symmetric_predictor", predictor="mlp"),
            # controls: the same evaluation with no training step: a random encoder as
            # initialised (its BN layers still hold mean 0 / variance 1 at evaluation), the same
            # weights with BN statistics calibrated on 10,000 training images, and raw pixels
            "random_init": dict(loss="simsiam", predictor="mlp", epochs=0.0, warmup_epochs=0.0),
            "random_init_bn": dict(loss="simsiam", predictor="mlp", epochs=0.0, warmup_epochs=0.0,
                                   bn_calibration=10000),
            "raw_pixels": dict(loss="simsiam", predictor="mlp", encoder="pixels", epochs=0.0,
                               warmup_epochs=0.0),
            # is SimSiam's early dip of m_r its own or the compressed warm-up's? The
            # same run with half of it (0.75 epoch) spent warming up
            "simsiam_slow_warmup": dict(loss="simsiam", predictor="mlp", warmup_epochs=0.75),
            # the reference head (Chen & He, solo-learn): the projector's final BN without a
            # learnable shift.  Beside SimSiam at the long length it decides whether our affine
            # final BN changes what the book's records show (run plan: "about as accurate")
            "simsiam_reference_head": dict(loss="simsiam", predictor="mlp", proj_last_bn_affine=False),
        },
        section=SECTION, notebook="table2_siamese_variants.ipynb",
        item="Table 2", judge="collapse", reference="simsiam",
        long_variants=("simsiam", "random_init", "random_init_bn", "raw_pixels", "simsiam_reference_head",
                       "symmetric_predictor"),  # the last for its collapse claim
    ),
    "table2_curve": Experiment(
        name="table2_curve",
        paper=TABLE2_CURVE,
        title="Table 2's SimSiam over 20 epochs: the learning curve that decides the long length",
        variants={"simsiam": dict(loss="simsiam", predictor="mlp"),
                  "naive_siamese": dict(loss="naive_siamese", predictor="none"),
                  "mirror_simsiam": dict(loss="mirror_simsiam", predictor="mlp")},
        section=SECTION, notebook="table2_siamese_variants.ipynb",
        item="Table 2 (20 epochs)", judge="table2_curve", reference="simsiam",
        scale={"cpu_long": dict(epochs=20.0)}, default_seeds={"cpu_long": [0], "cpu_long20": [0]},
        long_variants=("simsiam", "naive_siamese", "mirror_simsiam"),
    ),
    "fig3": Experiment(
        name="fig3",
        paper=FIG3,
        claims=(PlannedClaim("SimSiam is somewhat better than with a learned inverse predictor", "simsiam",
                             "inverse_predictor", note=AFTER + "; its minimum gap was 0 under rule 6, now the "
                             "1 point of every other 'beats' claim"),),
        title="Figure 3: SimSiam with a trainable inverse predictor (Sec. 2.3, A.5, Alg. 4)",
        variants={"simsiam": dict(loss="simsiam"),
                  "inverse_predictor": dict(loss="inverse_predictor")},
        section=SECTION, notebook="fig3_inverse_predictor.ipynb",
        item="Figure 3", judge="collapse", reference="simsiam",
        scale=SHORT, long_variants=("simsiam", "inverse_predictor"),
    ),
}
