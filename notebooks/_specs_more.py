"""Chapter specs for Sections 3.3-3.5 and 4 (Figures 5, 6, 8 and the BN experiment), in the
skeleton of `_make.py`; `extra` cells (markdown, code) follow the standard figure."""

TAU_SERIES = '''def by_tau(rs, key_of):
    return {{r["config"]["options"]["tau"]: r["metrics"][key_of(r)] for r in rs if key_of(r) in r["metrics"]}}
'''

FIG5C_CODE = TAU_SERIES.format() + '''from ssllib.gradients import FIG5C_TAUS
series = {}
for r in records:
    for part in ("r_e", "o_e"):
        have = {t: r["metrics"][f"decor_cos_{part}_tau{t:g}"] for t in FIG5C_TAUS
                if f"decor_cos_{part}_tau{t:g}" in r["metrics"]}
        if have and (part == "r_e" or r["variant"] == "infonce"):
            series[f"{r['variant'].replace('_', ' ')}: {part}"] = have
fig = plots.against_tau(series, "mean cosine with −∇ decorrelation loss", "Figure 5(c)")'''

FIG8_CODE = TAU_SERIES.format() + '''import matplotlib.pyplot as plt
fig_acc = plots.against_tau({"linear probe": by_tau(records, lambda r: "linear_acc"),
                             "kNN": by_tau(records, lambda r: "knn_acc")}, "top-1 (%)", "Figure 8(a): accuracy")
fig_cov = plots.against_tau({"covariance of z": by_tau(records, lambda r: "covariance_z")},
                            "Algorithm 5 covariance", "Figure 8(b): covariance")'''

SPECS_MORE = {
    "fig5_6_decentring_decorrelation": dict(
        name="fig5_6", title="Figures 5(a), 5(c) and 6: de-centring and de-correlation in SimSiam and InfoNCE",
        intro="""**The paper's claims** (Sections 3.3-3.5, Appendix A.7).
(a) SimSiam's extra gradient $G_e = Z_b - P_b$ has centre $o_e = o_z - o_p$; the zero of
$\\cos(o_e - \\eta_p o_p,\\ o_p)$ is at $\\eta_p \\approx -0.5$: $o_e$ holds a *negative* $o_p$,
which de-centres $P$. For Mirror SimSiam ($o_e = o_p - o_z$) the zero of
$\\cos(o_e - \\eta_z o_z,\\ o_z)$ is at $\\eta_z \\approx +0.2$: it centres, and collapses.
(c) InfoNCE's negative gradient on $Z_a$ is $Z_b - \\sum_i \\lambda_i Z_i$ (Eq. 6), so
$o_e = -o_z$ and $r_e = -\\sum_i \\lambda_i r_i$; $r_e$ points along the gradient of the
de-correlation loss (Algorithm 5) for a wide range of temperatures, most at $\\tau \\approx 0.1$-$0.2$.
Figure 6: SimSiam and InfoNCE both lower the covariance after the first epochs; InfoNCE with
$r_e$ removed keeps a high covariance and loses accuracy.

**How we measure.** $\\eta$ has a closed form, $\\eta_p = o_e\\cdot o_p/\\|o_p\\|^2$
(`ssllib.decomposition.centre_products`), logged every few steps; the paper's sweep over $\\eta$ is
drawn from the same three numbers. Figure 5(c)'s cosines are computed on each trained model's
outputs for one fixed batch (`ssllib.gradients.decorrelation_alignment`). Our InfoNCE
(`ssllib.gradients.InfoNCEComponentLoss`) contrasts each view with the other view's batch
(cross-view negatives) and is multiplied by $\\tau$, so the temperature only changes the weights
$\\lambda_i$; "without $r_e$" replaces the anchor's target by $Z_b - o_z$. Covariance is Algorithm 5
on the projector output $z$ (its per-dimension scale is kept by the projector's final BN).""",
        figure="""## Figure 6: covariance, $m_r$ and $m_o$ over training

**Expected:** SimSiam's and InfoNCE's covariance fall after the first steps; InfoNCE without $r_e$
stays higher. Mirror SimSiam collapses ($m_r \\to 0$).""",
        keys=("covariance_z", "m_r", "m_o"),
        extra=[("""## Figure 5(a): how much $o_p$ (or $o_z$) is in $o_e$

**Expected:** the SimSiam curve crosses zero at a negative $\\eta_p$ (paper: about $-0.5$), the
Mirror SimSiam curve at a positive $\\eta_z$ (paper: about $0.2$).""", "fig = plots.eta_sweep(records)"),
               ("""## Figure 5(c): InfoNCE's $r_e$ against the de-correlation gradient

Mean over the anchors of one batch of the cosine between $r_e$ (and, for the InfoNCE run, $o_e$)
and $-\\partial L_{\\mathrm{decor}}/\\partial Z_a$, for each $\\tau$ on the final model of every run.
**Expected:** high for a wide range of $\\tau$, highest around 0.1-0.2.""", FIG5C_CODE)],
        summary="""At the end of training $\\eta_p$ = {glue:text}`fig5_6_simsiam_eta_p` for SimSiam and
$\\eta_z$ = {glue:text}`fig5_6_mirror_simsiam_eta_z` for Mirror SimSiam (paper: $-0.5$ and $0.2$).
Final covariance of $z$: SimSiam {glue:text}`fig5_6_simsiam_covariance_z`, InfoNCE
{glue:text}`fig5_6_infonce_covariance_z`, InfoNCE without $r_e$
{glue:text}`fig5_6_infonce_no_r_e_covariance_z`; linear probe {glue:text}`fig5_6_infonce_linear_acc`%
with $r_e$ and {glue:text}`fig5_6_infonce_no_r_e_linear_acc`% without."""),
    "fig5b_decorrelation_phases": dict(
        name="fig5b", title="Figure 5(b) and Algorithm 5: de-correlation alone brings the residual back",
        intro="""**The paper's claim** (Section 3.4, Conjecture 2, Appendix A.6): train SimSiam normally (5 epochs),
then with the collapsing Naive Siamese loss (Eq. 1, 1 epoch) until $m_r$ is close to 0, then with
*only* the de-correlation loss of Algorithm 5 (the squared off-diagonal covariance of the encoder
output): $m_r$ rises again, at a very fast rate. So de-correlation alone counters collapse.

**Scale.** One run of one epoch at the `cpu` profile, split 45% / 20% / 35% between the three
losses (`phases` in the config, switched inside the one training loop), at a constant learning
rate after warm-up so that the last phase is not starved by the cosine decay.""",
        figure="""## Figure 5(b): $m_r$ and covariance through the three phases

Dotted lines mark the phase boundaries. **Expected:** $m_r$ falls in the second phase and rises
quickly in the third.""",
        keys=("m_r", "covariance_z", "z_std_sqrt_d"),
        summary="""The verdicts read $m_r$ at the last logged step of each phase."""),
    "fig8_infonce_temperature": dict(
        name="fig8", title="Figure 8: InfoNCE's temperature, de-correlation and accuracy",
        intro="""**The paper's claim** (Appendix A.7, Fig. 8): a high temperature makes InfoNCE's weights
$\\lambda_i$ on the negatives more uniform, which weakens the de-correlation effect of $r_e$: the
covariance is higher and the accuracy lower (the paper: 200 epochs of solo-learn SimCLR).

**Ours:** the InfoNCE of the previous chapter (cross-view negatives, loss multiplied by $\\tau$ so
that only the weights change with $\\tau$) at five temperatures; the $\\tau = 0.2$ run is shared with
that chapter.""",
        figure="""## Collapse indicators and covariance over training""",
        keys=("covariance_z", "m_r", "z_std_sqrt_d"),
        extra=[("""## Figure 8: accuracy and covariance against the temperature

**Expected:** accuracy falls and covariance rises as $\\tau$ grows.""", FIG8_CODE)],
        summary="""The verdicts are Spearman rank correlations between $\\tau$ and each quantity over the
temperatures run."""),
    "bn_placement": dict(
        name="bn_placement", title="Section 4: where the final BN sits decides collapse",
        intro="""**The paper's claim** (Section 4, "Two important details"): BN alone, in a Naive Siamese
(no predictor, no stop-gradient), prevents collapse only when it is applied immediately before
the MSE loss, i.e. *after* the l2-normalisation of the cosine loss: BN removes the mean (de-centring),
and l2-normalisation after it creates a new mean. We compare three placements of the last BN:
none (the projector ends in an FC layer), before the l2-normalisation (the A.1 projector, as in
Table 2) and after it (`ssllib.losses.BNAfterNormMSELoss`, a parameter-free BN then MSE).
The paper gives no table for this; its claim is about collapse.""",
        figure="""## Collapse indicators over training

**Expected:** "no BN" and "BN before l2" collapse; "BN after l2" does not.""",
        keys=("z_std_sqrt_d", "m_o", "m_r"),
        summary="""Final $m_r$: no BN {glue:text}`bn_placement_no_bn_m_r`, BN before l2
{glue:text}`bn_placement_bn_before_l2_m_r`, BN after l2 {glue:text}`bn_placement_bn_after_l2_m_r`;
linear probe on the backbone {glue:text}`bn_placement_no_bn_linear_acc`%,
{glue:text}`bn_placement_bn_before_l2_linear_acc`% and {glue:text}`bn_placement_bn_after_l2_linear_acc`%.

**Reading it.** $m_r$ is measured on the l2-normalised projector output $Z$, the vector the
paper's decomposition is about. With BN after the l2-normalisation the loss sees $\mathrm{BN}(Z)$,
which has unit variance per dimension by construction, so the loss itself can never see a
constant; whether $Z$ (and the backbone) keeps its spread is the question the verdict answers.
Our runs are short (their steps are in the provenance table below); the paper does not say how
long its runs were."""),
}

CHEN_HE_NOTE = """Chen & He's numbers are ImageNet linear top-1 with a ResNet-50 (as summarised in seed 001);
ours are CIFAR-10 with a narrow ResNet-18 trained for a fraction of an epoch, so only collapse and
orderings can be compared. The plain SimSiam run is the same run as in Table 4 and Figure 5."""

SPECS_MORE |= {
    "ablation_stop_gradient": dict(
        name="ab_stopgrad", title="Chen & He, Figure 2: stop-gradient is what prevents collapse",
        intro="""**Their claim** (Chen & He 2021, Sec. 4.1; seed 001): with the same architecture, removing the
stop-gradient makes SimSiam collapse at once: the loss reaches its minimum $-1$ and the standard
deviation of the l2-normalised output goes to 0, while with it the standard deviation stays near
$1/\\sqrt{d}$. Here the stop-gradient is the option `stop_gradient` of the SimSiam loss.

""" + CHEN_HE_NOTE,
        figure="""## Their Figure 2: loss and the output's standard deviation over training

The dashed line is the healthy level $1/\\sqrt{d}$ (the curve is multiplied by $\\sqrt{d}$).""",
        keys=("loss", "z_std_sqrt_d", "probe_acc"),
        summary="""Final $m_r$: with stop-gradient {glue:text}`ab_stopgrad_stop_gradient_m_r`, without
{glue:text}`ab_stopgrad_no_stop_gradient_m_r`."""),
    "ablation_predictor": dict(
        name="ab_predictor", title="Chen & He, Table 1: the predictor",
        intro="""**Their claim** (Sec. 4.2): without a predictor (identity) SimSiam collapses; a predictor fixed
at its random initialisation does not collapse but does not converge either; a learned predictor
works, with a constant learning rate as well as (or better than) a decayed one.

""" + CHEN_HE_NOTE,
        figure="""## Collapse indicators and loss over training""",
        keys=("loss", "z_std_sqrt_d", "m_r"),
        summary="""Final linear probe: constant lr {glue:text}`ab_predictor_lr_constant_linear_acc`%,
decayed {glue:text}`ab_predictor_lr_decayed_linear_acc`%, fixed random
{glue:text}`ab_predictor_fixed_random_linear_acc`%, no predictor
{glue:text}`ab_predictor_no_predictor_linear_acc`%."""),
    "ablation_batch_size": dict(
        name="ab_batch", title="Chen & He, Table 2: batch size",
        intro="""**Their claim** (Sec. 4.3): SimSiam works over a wide range of batch sizes (64 to 4096) with
plain SGD and the learning rate scaled linearly with the batch, unlike SimCLR and SwAV. We run
the same number of epochs at batch 64, 128, 256 and 512 (so the smaller batches take more steps).

""" + CHEN_HE_NOTE,
        figure="""## Collapse indicators over training""",
        keys=("z_std_sqrt_d", "m_r", "probe_acc"),
        summary="""Final linear probe: batch 64 {glue:text}`ab_batch_batch_64_linear_acc`%, 128
{glue:text}`ab_batch_batch_128_linear_acc`%, 256 {glue:text}`ab_batch_batch_256_linear_acc`%, 512
{glue:text}`ab_batch_batch_512_linear_acc`%.

**Reading it.** The same number of epochs means four times as many SGD steps at batch 64 as at
256 (the provenance table lists them). Chen & He train 100 epochs, long enough for every batch
size to converge; our runs stop well before that, so a batch size that takes more steps has
simply trained more. A spread at this length says how far each run got, not how the batch size
would matter at convergence."""),
    "ablation_head_bn": dict(
        name="ab_bn", title="Chen & He, Table 3: batch normalisation in the MLP heads",
        intro="""**Their claim** (Sec. 4.4): (a) no BN anywhere in the projector and predictor: no collapse but
poor accuracy; (b) BN on the hidden layers; (c) also on the projector's output (SimSiam's
default), the most accurate; (d) also on the predictor's output: unstable. BN helps optimisation
but is not what prevents collapse (`head_bn` in the config). Their accuracies are in the table
below (typed once, in `ssllib.paper`).

""" + CHEN_HE_NOTE,
        figure="""## Collapse indicators and loss over training""",
        keys=("loss", "z_std_sqrt_d", "m_r"),
        summary="""Final linear probe: (a) {glue:text}`ab_bn_a_none_linear_acc`%, (b)
{glue:text}`ab_bn_b_hidden_linear_acc`%, (c) {glue:text}`ab_bn_c_default_linear_acc`%, (d)
{glue:text}`ab_bn_d_all_linear_acc`%."""),
    "ablation_loss_form": dict(
        name="ab_loss", title="Chen & He, Table 4 and symmetrisation: the similarity and the symmetry",
        intro="""**Their claims** (Sec. 4.5-4.6): replacing the cosine by a cross-entropy similarity,
$D(p, z) = -\\mathrm{softmax}(z)\\cdot\\log\\mathrm{softmax}(p)$, still avoids collapse, a few points
below the cosine; an asymmetric loss (only $D(p_a, z_b)$) also avoids collapse and is less
accurate, and sampling two pairs per image ("asym 2x": as many prediction terms per image as the
symmetric loss) recovers most of the gap (their accuracies: the table below, from `ssllib.paper`). Neither the similarity nor the symmetry is what prevents
collapse. Our "asym 2x" draws four views per image and pairs them (0, 1), (2, 3), so its steps
cost about twice as much.

""" + CHEN_HE_NOTE,
        figure="""## Collapse indicators over training""",
        keys=("z_std_sqrt_d", "m_r", "probe_acc"),
        summary="""Final linear probe: cosine symmetric {glue:text}`ab_loss_cosine_sym_linear_acc`%,
cross-entropy {glue:text}`ab_loss_cross_entropy_linear_acc`%, asymmetric
{glue:text}`ab_loss_asymmetric_linear_acc`%, asymmetric with two pairs per image
{glue:text}`ab_loss_asym_2x_linear_acc`%."""),
}

SPECS_MORE["ablation_kstep"] = dict(
    name="ab_kstep", title="Chen & He, Section 5: k-step alternation and the EM hypothesis",
    intro="""**Their claim** (Sec. 5; seed 001): SimSiam behaves like alternating optimisation of
$\\min_{\\theta,\\eta} E\\|F_\\theta(T(x)) - \\eta_x\\|^2$. If the targets $\\eta$ are computed by the
encoder as it was $k$ steps ago and kept for $k$ SGD steps, training still works and is even a
little better for 10 and 100 steps (their accuracies: the table below, from `ssllib.paper`). Their
second proof of concept, a moving-average target without predictor (which fails without either), is
our Table 1's `moving_average` run (see that chapter), which Zhang et al. re-read in Section 2.2.

**Ours:** `target_every = k` keeps a copy of the encoder, refreshed every $k$ steps, to compute
the stop-gradient side on the current views (`ssllib.train.Trainer`); $k = 1$ is SimSiam exactly
(a test checks it). `target_every = "epoch"` is their 1-epoch variant; a refresh once per epoch
needs more than one epoch, so at `cpu` that run trains 2 epochs (one refresh, at step 195) while
the others train 0.75: compare its collapse, not its accuracy, with the other rows (the provenance
table gives every run's steps).

""" + CHEN_HE_NOTE,
    figure="""## Collapse indicators over training""",
    keys=("loss", "z_std_sqrt_d", "m_r"),
    summary="""Final linear probe: $k$ = 1 {glue:text}`ab_kstep_k1_linear_acc`%, 10
{glue:text}`ab_kstep_k10_linear_acc`%, 100 {glue:text}`ab_kstep_k100_linear_acc`%; once per epoch
(2 epochs) {glue:text}`ab_kstep_k_epoch_linear_acc`%.

**Reading it.** In a run this short a large $k$ means that the targets come from a young
encoder for most of the run: with $k = 100$ they come from the randomly initialised encoder for
the first 100 steps. Whether SimSiam beats the random-encoder controls at this length is judged in
the Table 2 chapter; where it does not, "more accurate than SimSiam" here can also mean "closer to
a random encoder". The collapse verdicts do not have this caveat.""")
