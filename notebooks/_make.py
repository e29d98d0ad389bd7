"""Writes the chapter notebooks from one spec each, so every chapter has the same skeleton:
claim -> `parameters` cell -> run-or-load -> paper-vs-ours table -> figure -> computed verdicts
-> provenance.  Edit the text here and run `python notebooks/_make.py`; the .ipynb files are
what papermill, the book and readers use.
"""
from pathlib import Path

import nbformat as nbf

HERE = Path(__file__).resolve().parent

PARAMS = '''# parameters
profile = "cpu"        # smoke | cpu | gpu | paper (see ssllib/config.py)
dataset = "cifar10"    # cifar10 (offline JPEG copy or download) | cifar100 (download)
epochs = None          # None: the profile's length for this experiment
device = "auto"        # auto | cpu | cuda
seeds = None           # None: the experiment's default seeds at this profile (usually [0])
force = False          # retrain even when cached
allow_train = True     # False: fail instead of training on a cache miss (the book build)'''

RUN = '''import pandas as pd
from myst_nb import glue

from ssllib import experiments, plots, report, verdicts
from ssllib.paper import REPORTED

overrides = {{"dataset": dataset}} | ({{"epochs": float(epochs)}} if epochs is not None else {{}})
records = experiments.run_experiment("{name}", profile, seeds=seeds, overrides=overrides, force=force,
                                     allow_train=allow_train, device=device, progress=False,
                                     allow_missing=not allow_train)
by_variant = report.by_variant(records)
missing = experiments.missing_runs("{name}", profile, seeds, overrides)
if missing:
    print(f"Not run yet at profile {{profile}} (left out below): {{', '.join(missing)}}")
for r in records[:1]:
    trained = max(records, key=lambda r: r["train"]["steps"])
    cfg = trained["config"]
    print(f"{{len(records)}} runs, profile {{profile}}: ResNet-18 width {{cfg['width']}}, batch {{cfg['batch_size']}}, "
          f"up to {{trained['train']['steps']}} steps, {{trained['provenance']['data_source']}}")'''

TABLE = '''report.frame(report.summary_rows(records, REPORTED["{name}"]), "method").drop(columns="variant", errors="ignore")'''

VERDICTS = '''claims = verdicts.claims_for("{name}", records)
by = report.by_variant(records)
for v in experiments.get_experiment("{name}").variants:
    for key in ("m_r", "m_o", "linear_acc", "z_std_sqrt_d", "bias_centre_cos", "a8_measured_coef",
                "a8_predicted_coef", "eta_p", "eta_z", "covariance_z"):
        have = [r["metrics"][key] for r in by.get(v, []) if key in r["metrics"]]
        value = report.mean_std(have)[0] if have else None
        glue(f"{name}_{{v}}_{{key}}", "(not run)" if value is None else f"{{value:.3f}}", display=False)
pd.set_option("display.max_colwidth", None)  # verdicts and their reasons in full
report.frame(claims, "claim")'''

PROVENANCE = 'report.frame(report.provenance_rows(records), "variant")'

COMMON_TABLE_NOTE = """Our runs are far shorter than the paper's 1000 epochs (see the provenance table at the end),
so absolute accuracies are not comparable; collapse and orderings are what we judge. `linear` is a
linear probe on frozen backbone features, `kNN` a 200-nearest-neighbour classifier, both on CIFAR-10
test images (chance: 10%). A collapsed run counts as collapsed when $m_r < 0.1$."""

SPECS = {
    "table2_siamese_variants": dict(
        name="table2", title="Table 2 and Figure 7: which Siamese architectures collapse?",
        intro="""**The paper's claim** (Zhang et al. 2022, Section 2.3 and Appendix A.4, Algorithms 1-3): of four
Siamese architectures trained with the same cosine loss, only SimSiam (predictor on the gradient
path, stop-gradient on the target, Eq. 2) avoids collapse. Mirror SimSiam (the paths reversed,
Algorithm 2), Naive Siamese (no predictor, no stop-gradient, Eq. 1) and the Symmetric Predictor
(predictor on both paths, Algorithm 3) all collapse: every image gets the same output, the
normalised output's standard deviation goes to 0, $m_o \\to 1$ and $m_r \\to 0$ (Section 3.1).

The four variants differ only in the loss (`ssllib.losses`); everything else is the same code
path. Three control rows take no training step and are evaluated with the same probes: `random_init`
(a random encoder as initialised), `random_init_bn` (the same weights, BN statistics calibrated on
training images) and `raw_pixels`, so the accuracies have a floor to be read against.""",
        figure="""## Figure 7: collapse over training

**Expected** (Appendix A.4, Fig. 7): SimSiam's standard deviation and $m_r$ stay high; the other
three fall towards 0 while $m_o$ rises towards 1. The dashed line is the healthy level of the
standard deviation, $1/\\sqrt{d}$ (plotted multiplied by $\\sqrt{d}$).

The Symmetric Predictor's loss acts on $P = h(z)$: Section 2.3 reads $h(f(\\cdot))$ as its encoder,
so its collapse is judged on $p$ (column "m_r of p" above, measured at the end of training) while
these curves show $z$, which can keep a residual after $P$ has become constant.""",
        keys=("z_std_sqrt_d", "m_o", "m_r"),
        extra=[("""## Is SimSiam's early dip its own, or the warm-up's?

At the `cpu` profile the warm-up is a tenth of an epoch (20 steps of 292) and SimSiam's $m_r$ dips
early before recovering (the figure above). Appendix A.1 warms up for 10 epochs, so the dip could
be an artefact of reaching the peak learning rate within 20 steps. `simsiam_slow_warmup` is the
same run with 0.75 epoch (146 steps) of warm-up: if the dip were the schedule's, it would be gone.""",
                '''from ssllib.results import read_curve

dips = {}
for v in ("simsiam", "simsiam_slow_warmup"):
    for r in by_variant.get(v, [])[:1]:
        curve = read_curve(r)
        low = min(curve, key=lambda row: row["m_r"])
        dips[v] = {"variant": v, "warm-up steps": r["train"]["warmup_steps"], "lowest m_r": round(low["m_r"], 3),
                   "at step": int(low["step"]), "final m_r": round(r["metrics"]["m_r"], 3)}
        glue(f"table2_dip_{v}", f"{low['m_r']:.3f} at step {int(low['step'])}", display=False)
for v in ("simsiam", "simsiam_slow_warmup"):
    if v not in dips:
        glue(f"table2_dip_{v}", "(not run)", display=False)
report.frame(list(dips.values()), "variant")'''),
               ("""## At the long length: has SimSiam learned more than the controls?

The short runs above show collapse; they are too short for accuracy (a random encoder's features
are a strong baseline). The `cpu_long` profile trains the same width-16 model for 10 epochs of
all 50,000 images, with an absolute 2-epoch warm-up (the paper's A.1 warms up for 10 of 1000
epochs; a warm-up scaled to our length would be a few steps), and measures kNN and linear accuracy
every 2 epochs on the same fixed 10,000/10,000 split. The 20-epoch SimSiam run (`table2_curve`)
shows how far the curve goes. Three controls take no training step: the random encoder as
initialised (its BN layers still hold mean 0 / variance 1 at evaluation), the same weights with BN
statistics calibrated on 10,000 training images, and the raw normalised pixels. The claim
"SimSiam learns features" is judged against the strongest of them, by at least 5 points, over two
seeds (the verdict rules).""", '''long_profile = "cpu_long" if profile == "cpu" else profile
trains_here = allow_train and long_profile == profile
long_records = experiments.run_experiment("table2", long_profile, allow_train=trains_here, progress=False,
                                          allow_missing=True, device=device)
curve_records = experiments.run_experiment("table2_curve", long_profile, allow_train=trains_here,
                                           progress=False, allow_missing=True, variants=["simsiam"], device=device)
not_yet = experiments.missing_runs("table2", long_profile) + [
    f"table2_curve {m}" for m in experiments.missing_runs("table2_curve", long_profile)]
if not_yet:
    print(f"Not run yet at {long_profile} (left out below): {', '.join(not_yet)}")
long_claims = verdicts.claims_for("table2", long_records)
learns = {("knn" if "kNN" in c["claim"] else "linear"): f"{c['ours']}: {c['verdict']}"
          for c in long_claims if c["claim"].startswith("SimSiam learns features")}
for k in ("knn", "linear"):
    glue(f"table2_long_{k}", learns.get(k, "(not run at this length)"), display=False)
pd.set_option("display.max_colwidth", None)
fig = plots.learning_curves(long_records + curve_records)
display(report.frame(report.summary_rows(long_records, REPORTED["table2"]), "method").drop(columns="variant", errors="ignore"))
report.frame(long_claims, "claim").drop(columns=["runs"], errors="ignore")''')],
        summary="""At the end of training SimSiam's residual ratio is $m_r$ = {glue:text}`table2_simsiam_m_r`,
against {glue:text}`table2_naive_siamese_m_r` for Naive Siamese,
{glue:text}`table2_mirror_simsiam_m_r` for Mirror SimSiam and
{glue:text}`table2_symmetric_predictor_m_r` for the Symmetric Predictor. The linear probe reaches
{glue:text}`table2_simsiam_linear_acc`% on SimSiam's features and
{glue:text}`table2_random_init_linear_acc`% on a random encoder's as initialised,
{glue:text}`table2_random_init_bn_linear_acc`% with calibrated BN statistics and
{glue:text}`table2_raw_pixels_linear_acc`% on raw pixels. At the long length, SimSiam against the
strongest control: kNN {glue:text}`table2_long_knn`; linear {glue:text}`table2_long_linear`.
SimSiam's lowest $m_r$ with the 20-step warm-up: {glue:text}`table2_dip_simsiam`; with the
146-step warm-up: {glue:text}`table2_dip_simsiam_slow_warmup`.

**Reading the controls.** A randomly initialised ResNet, and even the raw pixels, give features on
which a linear probe does well on CIFAR-10; self-supervised training has to move past the
strongest of them, which these short runs are not long enough to show (the long-length section
above judges it). Collapse, on the other hand, is decided within these steps."""),
    "table1_explicit_eoa": dict(
        name="table1", title="Table 1: does an explicit expectation over augmentations prevent collapse?",
        intro="""**The paper's claim** (Section 2.2, Appendix A.3): Chen & He's *moving-average* target without a
predictor ($\\eta_x \\leftarrow m\\,\\eta_x + (1-m)\\,F(T'(x))$, one stored target per image) does not
collapse, but explicitly averaging $N = 10$ or $25$ augmentations of the same image in one
batch, and pulling $z_1$ to the detached mean of the others, collapses. So the moving average
should not be read as an expectation over augmentations (EOA).

**Scale.** A moving average only acts when images come back, so at the `cpu` profile these runs
use a fixed 5,000-image subset of the CIFAR-10 training set for several epochs (about 150 steps);
the same-batch runs put $512/N$ images of $N$ views each in a batch so that a step costs about what
a two-view step costs.""",
        figure="""## Collapse indicators over training

**Expected:** the moving-average run keeps a non-zero standard deviation; both same-batch runs
collapse (std and $m_r$ to 0, $m_o$ to 1).""",
        keys=("z_std_sqrt_d", "m_o", "m_r"),
        summary="""Final $m_r$: moving average {glue:text}`table1_moving_average_m_r`, same batch with 10
augmentations {glue:text}`table1_same_batch_10_m_r`, with 25 {glue:text}`table1_same_batch_25_m_r`."""),
    "fig3_inverse_predictor": dict(
        name="fig3", title="Figure 3: SimSiam with a trainable inverse predictor",
        intro="""**The paper's claim** (Section 2.3, Appendix A.5, Algorithm 4): reading SimSiam as Fig. 2(c), where
the target $z_b$ is the output of an inverse predictor $h^{-1}(p_b)$, a *learned* $h^{-1}$ (same
architecture as $h$) trains without collapse and is only slightly worse than SimSiam. Since
$h^{-1}$ cannot restore one random augmentation from an expectation, this is evidence against
reading the predictor as an expectation over augmentations.""",
        figure="""## Figure 3: accuracy and collapse indicators over training

**Expected:** both curves rise without collapse; the inverse-predictor run sits slightly below
SimSiam. (Our online probe accuracy is measured on training batches during training.)""",
        keys=("probe_acc", "z_std_sqrt_d", "m_r"),
        summary="""Final linear probe: SimSiam {glue:text}`fig3_simsiam_linear_acc`%, with inverse predictor
{glue:text}`fig3_inverse_predictor_linear_acc`%; final $m_r$ {glue:text}`fig3_simsiam_m_r` and
{glue:text}`fig3_inverse_predictor_m_r`."""),
    "fig4_gradient_components": dict(
        name="fig4", title="Figure 4: the centre and residual gradient components (Conjecture 1)",
        intro="""**The paper's claim** (Section 3.1, Conjecture 1): writing $Z_a = o_z + r_a$, a gradient along the
centre $o_z$ increases $m_o$ and decreases $m_r$; a gradient along the residual $r_a$ does the
opposite; a random gradient has a relatively small influence. Tested with the losses
$-Z_a\\cdot\\mathrm{sg}(o_z)$, $-Z_a\\cdot\\mathrm{sg}(Z_a - o_z)$ and $-Z_a\\cdot\\mathrm{sg}(u)$ with $u$ a
fresh random unit vector (`ssllib.gradients.GradientComponentLoss`), no predictor.""",
        figure="""## Figure 4: $m_o$ and $m_r$ over training

**Expected:** with the centre component $m_o$ rises and $m_r$ falls; with the residual component
$m_r$ rises and $m_o$ falls; the random component changes little.""",
        keys=("m_o", "m_r", "z_std_sqrt_d"),
        summary="""Final $m_o$ / $m_r$: centre {glue:text}`fig4_centre_m_o` / {glue:text}`fig4_centre_m_r`,
residual {glue:text}`fig4_residual_m_o` / {glue:text}`fig4_residual_m_r`, random
{glue:text}`fig4_random_m_o` / {glue:text}`fig4_random_m_r`."""),
    "table3_triplet_components": dict(
        name="table3", title="Table 3: which part of a negative sample's gradient prevents collapse?",
        intro="""**The paper's claim** (Section 3.2): with the toy triplet loss $-Z_a\\cdot\\mathrm{sg}(Z_b - Z_n)$
(random negative $Z_n$ from the batch, no clipping), the extra gradient $G_e = -Z_n$ splits into
$o_e = -o_z$ (de-centering) and $r_e$. Keeping only $o_e$ does not collapse and is *more* accurate
than the full triplet; keeping only $r_e$ collapses. So the centre part, not
the residual, is what repels collapse here.""",
        figure="""## Collapse indicators over training

**Expected:** the full triplet and "removing $r_e$" stay healthy; "removing $o_e$" collapses.""",
        keys=("z_std_sqrt_d", "m_o", "m_r"),
        summary="""Final $m_r$: baseline {glue:text}`table3_baseline_m_r`, removing $r_e$
{glue:text}`table3_remove_r_e_m_r`, removing $o_e$ {glue:text}`table3_remove_o_e_m_r`; linear probe
{glue:text}`table3_baseline_linear_acc`%, {glue:text}`table3_remove_r_e_linear_acc`% and
{glue:text}`table3_remove_o_e_linear_acc`%.

**Reading it.** The collapse verdicts are the paper's point here (the verdict table says in how
many seeds they hold). The paper's accuracy gap between the full triplet and "removing $r_e$" comes from its full-length
runs (1000 epochs unless stated, A.1); ours stop after a fraction of an epoch, when neither run has
left the early, fast phase, so the verdict compares the gap with twice the seed spread before
calling it."""),
    "table4_simsiam_components": dict(
        name="table4", title="Table 4: SimSiam's extra gradient, o_e and r_e",
        intro="""**The paper's claim** (Section 3.3, Eq. 4): SimSiam's negative gradient on $P_a$ is
$Z_b = P_b + G_e$. Splitting $G_e$ into its centre $o_e = o_z - o_p$ and residual $r_e$, and
training with the target $P_b + [o_e] + [r_e]$ (`ssllib.gradients.SimSiamSurgeryLoss`): keeping both
is SimSiam, $o_e$ alone and $r_e$ alone each avoid collapse ($r_e$ alone nearly as accurate as
both, $o_e$ alone clearly less), and neither collapses.""",
        figure="""## Collapse indicators over training

**Expected:** all but "neither" stay healthy; "neither" collapses. Section 3.3 analyses the
gradient on $P_a$, so collapse is judged on $p = h(z)$ (column "m_r of p" above, measured at the
end of training); these curves show $z$. With the target $\\mathrm{sg}(P_b)$ alone, "neither" is
the Symmetric Predictor of Table 2 again.""",
        keys=("z_std_sqrt_d", "m_o", "m_r"),
        summary="""Final $m_r$: both {glue:text}`table4_both_m_r`, $o_e$ only {glue:text}`table4_o_e_only_m_r`,
$r_e$ only {glue:text}`table4_r_e_only_m_r`, neither {glue:text}`table4_neither_m_r`; linear probe
{glue:text}`table4_both_linear_acc`%, {glue:text}`table4_o_e_only_linear_acc`%,
{glue:text}`table4_r_e_only_linear_acc`% and {glue:text}`table4_neither_linear_acc`%.

**Reading it.** Whether $o_e$ alone or $r_e$ alone is more accurate is decided by the verdict
table above, over the seeds listed in the provenance table. Our runs are a fraction of an epoch.
$r_e$ acts by de-correlation (Sec. 3.3), and the paper's Figure 6 shows SimSiam's covariance
falling only after the first few epochs; our runs end inside that window (the Figure 6 chapter
judges whether ours fall), while de-centring by $o_e$ acts from the first step. The paper's ordering
($r_e$ alone close to SimSiam, $o_e$ alone far behind) is measured after full-length training
(1000 epochs unless stated, A.1) and may need that length to appear; at this length it is a
hypothesis we cannot test. The ± in the table gives each variant's spread over seeds."""),
    "table5_simple_predictors": dict(
        name="table5", title="Tables 5 and 6, Appendix A.8: a bias is enough of a predictor",
        intro="""**The paper's claims** (Section 4, Appendix A.8): with the encoder output l2-normalised
(`normalize_z=True`), simple predictors suffice: two FC layers without BN/ReLU, one FC layer with
Tanh-constrained weights and even a single bias, $p = Z + b$, all avoid collapse (the paper's
Table 5 is on CIFAR-100, ours on CIFAR-10). Table 6: the learned bias points along the centre
$o_z$, for a single bias and for the MLP's last bias. A.8 derives that the bias converges to $b = \\frac{1-m}{m}\\,o_z$ with
$m = \\mathrm{cossim}(Z_a, Z_b)/\\|p_a\\|$: the bias does the de-centering.""",
        figure="""## Collapse indicators over training

**Expected:** no predictor variant collapses.""",
        keys=("z_std_sqrt_d", "m_o", "m_r"),
        summary="""Table 6, measured at the end of training on a fixed batch: cosine between the bias and
$o_z$ is {glue:text}`table5_one_bias_bias_centre_cos` for the single bias and
{glue:text}`table5_mlp_bias_centre_cos` for the MLP's last bias. A.8: the bias's coefficient along
$o_z$ is {glue:text}`table5_one_bias_a8_measured_coef`, against
{glue:text}`table5_one_bias_a8_predicted_coef` predicted by Eq. 12."""),
}


def chapter(stem: str, spec: dict) -> nbf.NotebookNode:
    md, code = nbf.v4.new_markdown_cell, nbf.v4.new_code_cell
    name = spec["name"]
    rerun = (f"To regenerate with other settings: `papermill notebooks/{stem}.ipynb out.ipynb -p profile "
             f"smoke -p seeds \"[0, 1]\" --cwd notebooks`, or `python -m ssllib run {name} --profile cpu "
             f"--seed 1`.")
    hidden = {"tags": ["hide-input"]}
    nb = nbf.v4.new_notebook()
    nb.cells = [
        md(f"# {spec['title']}\n\n{spec['intro']}\n\n{rerun}"),
        code(PARAMS, metadata={"tags": ["parameters"]}),
        code(RUN.format(name=name), metadata=hidden),
        md("## The paper's numbers beside ours\n\n" + COMMON_TABLE_NOTE),
        code(TABLE.format(name=name), metadata=hidden),
        md(spec["figure"]),
        code(f"fig = plots.curves(records, keys={spec['keys']!r})", metadata=hidden),
        *[cell for text, src in spec.get("extra", []) for cell in (md(text), code(src, metadata=hidden))],
        md("## Verdicts, computed from the cached results"),
        code(VERDICTS.format(name=name), metadata=hidden),
        md(spec["summary"]),
        md("## Provenance of every number on this page"),
        code(PROVENANCE, metadata=hidden),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def scorecard() -> nbf.NotebookNode:
    md, code = nbf.v4.new_markdown_cell, nbf.v4.new_code_cell
    nb = nbf.v4.new_notebook()
    nb.cells = [
        md("""# Scorecard: every claim, the paper's value, ours, a verdict

Built from the cached results of every experiment at the chosen profile (default `cpu`, the
committed runs). Each verdict is computed by `ssllib.report` from the result records; the
paper's values come from `ssllib.paper`, where they are typed once. Experiments without cached
results at this profile are listed as missing rather than guessed."""),
        code('# parameters\nprofile = "cpu"\nallow_train = False', metadata={"tags": ["parameters"]}),
        code('''import pandas as pd

from ssllib import experiments, report, verdicts

pd.set_option("display.max_colwidth", None)
pd.set_option("display.max_rows", None)  # every claim, never "..." rows
rows, missing, everything = [], [], []
lengths = [profile] + (["cpu_long"] if profile == "cpu" else [])  # the short runs and the long length
for length in lengths:
    for name in experiments.EXPERIMENTS:
        try:
            records = experiments.run_experiment(name, length, allow_train=allow_train and length == profile,
                                                 progress=False, allow_missing=not allow_train or length != profile)
        except experiments.CacheError as e:
            missing.append({"experiment": name, "length": length, "not run": str(e)})
            continue
        if length != profile and not records:
            continue  # only the accuracy chapters are run at the long length
        gaps = experiments.missing_runs(name, length)
        if gaps:
            missing.append({"experiment": name, "length": length, "not run": ", ".join(gaps)})
        rows += [dict(c, length=length) for c in verdicts.claims_for(name, records)]
        everything += records if length == profile else []
rows += [dict(c, length=profile) for c in (report.forecast_claim(everything),
                                           report.forecast_claim(everything, healthy_only=True))]
card = pd.DataFrame(rows)
pd.DataFrame(report.verdict_counts(rows)).set_index(["length", "kind"])''', metadata={"tags": ["hide-input"]}),
        md("""Counts per length and kind of claim (rule 8 of the verdict rules: collapse and accuracy claims
apart, a claim resting on the same runs counted once; `cpu_long` is the long length of the accuracy
chapters). Every claim follows, with the length and the runs it rests on."""),
        code('''card.drop(columns=["runs"]).set_index(["length", "item", "claim"]) if len(card) else card''',
             metadata={"tags": ["hide-input"]}),
        code('pd.DataFrame(missing) if missing else print("every experiment has cached results at this profile")',
             metadata={"tags": ["hide-input"]}),
        md("""## What every result cost, and on what

One row per trained run behind this scorecard (a run shared by two chapters appears once): the
device, the training time, the throughput, and the fast-path features it used (`ssllib.train.fast_features`)."""),
        code('''runs = [r for r in everything if r["train"]["steps"] > 0 and "reused_from" not in r]
cost = pd.DataFrame([{"run": f"{r['experiment']}/{r['variant']}", "seed": r["seed"],
                      "device": r["provenance"]["device"], "steps": r["train"]["steps"],
                      "train min": round(r["provenance"]["train_seconds"] / 60, 1),
                      "images/s": round(r["provenance"]["images_per_s"] or 0),
                      "fast path": ", ".join(k for k, on in r["train"].get("fast", {}).items() if on) or "off"}
                     for r in runs])
print(f"{len(runs)} trained runs, {cost['train min'].sum() / 60 if len(cost) else 0:.1f} hours of training in all")
cost.set_index("run") if len(cost) else cost''', metadata={"tags": ["hide-input"]}),
        md("""## Benchmarks: ours against the conventional way, measured in the same run

Written by the scripts in `benchmarks/` (see the README), one JSON per device under
`results/benchmarks/`. A figure that was not measured (no GPU lent) is shown as missing with the
reason, never estimated."""),
        code('''import json

from ssllib.results import results_root

bench = [json.loads(p.read_text()) for p in sorted((results_root() / "benchmarks").glob("*.json"))]
pd.DataFrame(bench).set_index("device").T if bench else print("no benchmark results committed")''',
             metadata={"tags": ["hide-input"]}),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


COLLAPSE_INTRO = """# Li et al.: a label-free collapse metric, and partial collapse

**The claims** (Li et al., ECCV 2022, seed 002): non-contrastive methods such as SimSiam collapse
*partially* (a few directions carry most of the variance) rather than all at once; a metric
computed **without labels** from the spectrum of the backbone features forecasts linear-probe
accuracy; and SimSiam collapses partially when the model is small for the dataset.

**The metric**, as their public code computes it (`ssllib.evaluate.spectral_auc`): take backbone
features (before the projector, not normalised) of the test images, centre them, take the singular
values $S_1 \\ge S_2 \\ge \\dots$, form $\\mathrm{explvar}_k = \\sum_{i \\le k} S_i / \\sum_i S_i$ and report
$\\mathrm{AUC} = \\mathrm{mean}_k\\,\\mathrm{explvar}_k$: about 0.5 when the variance is spread evenly, 1 when it
lies in one direction. The effective rank $\\exp(H(S/\\sum S))$ is shown beside it. Both are stored
in every result record of this book, so they are tested here on all of the book's runs."""

COLLAPSE_GATHER = '''import matplotlib.pyplot as plt
import pandas as pd

from ssllib import experiments, report, verdicts
from ssllib.results import CacheError

records = []
for name in experiments.EXPERIMENTS:
    if name == "collapse_sweep":
        continue
    try:
        records += experiments.run_experiment(name, profile, allow_train=False, progress=False,
                                              allow_missing=True)
    except CacheError as e:
        print(f"{name}: {e}")
trained = [r for r in records if r["train"]["steps"] > 0]
runs = pd.DataFrame([{"run": f"{r['experiment']}/{r['variant']}", "spectral AUC": r["metrics"]["spectral_auc"],
                      "effective rank": r["metrics"]["effective_rank"], "linear (%)": r["metrics"]["linear_acc"],
                      "m_r": r["metrics"]["m_r"], "collapsed": r["metrics"]["collapsed"]} for r in trained])
fig, ax = plt.subplots(figsize=(5, 3.6))
for collapsed, part in runs.groupby("collapsed") if len(runs) else []:
    ax.scatter(part["spectral AUC"], part["linear (%)"], label="collapsed" if collapsed else "not collapsed")
ax.set_xlabel("spectral AUC (no labels)"); ax.set_ylabel("linear probe (%)"); ax.legend(); ax.grid(alpha=0.3)
pd.DataFrame([report.forecast_claim(trained), report.forecast_claim(trained, healthy_only=True)]).set_index("claim")'''

COLLAPSE_SPECTRA = '''ordered = sorted(trained, key=lambda r: r["metrics"]["spectral_auc"])
picks = {"lowest AUC": ordered[0], "median AUC": ordered[len(ordered) // 2], "highest AUC": ordered[-1]} if ordered else {}
fig, ax = plt.subplots(figsize=(5.5, 3.6))
for label, r in picks.items():
    s = r["spectrum"]
    ax.semilogy(range(1, len(s) + 1), [max(x, 1e-12) for x in s],
                label=f"{label}: {r['experiment']}/{r['variant']} (AUC {r['metrics']['spectral_auc']:.3f}, "
                      f"m_r {r['metrics']['m_r']:.2f})")
ax.set_xlabel("component"); ax.set_ylabel("singular value"); ax.legend(fontsize=7); ax.grid(alpha=0.3)
runs.sort_values("spectral AUC").set_index("run").round(3) if len(runs) else "no trained runs"'''

COLLAPSE_SWEEP = '''try:
    sweep = experiments.run_experiment("collapse_sweep", profile, seeds=seeds, allow_train=allow_train,
                                       overrides={"dataset": dataset}, device=device, progress=False)
except CacheError as e:
    sweep = []
    print(f"The sweep has not been run at profile {profile!r} yet: {e}")
if sweep:
    grid = pd.DataFrame([{"width": r["config"]["width"], "images": r["config"]["train_subset"],
                          "AUC": r["metrics"]["spectral_auc"], "linear": r["metrics"]["linear_acc"]} for r in sweep])
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, key in zip(axes, ("AUC", "linear")):
        table = grid.pivot_table(index="width", columns="images", values=key)
        im = ax.imshow(table.values, cmap="viridis")
        ax.set_xticks(range(len(table.columns)), table.columns); ax.set_yticks(range(len(table.index)), table.index)
        ax.set_xlabel("training images"); ax.set_ylabel("encoder width"); ax.set_title(key)
        for (i, j), val in pd.DataFrame(table.values).stack().items():
            ax.text(j, i, f"{val:.2f}" if key == "AUC" else f"{val:.1f}", ha="center", va="center", color="w")
    display(report.frame(verdicts.claims_for("collapse_sweep", sweep), "claim"))
    display(report.frame(report.provenance_rows(sweep), "variant"))'''


def collapse_chapter() -> nbf.NotebookNode:
    md, code = nbf.v4.new_markdown_cell, nbf.v4.new_code_cell
    hidden = {"tags": ["hide-input"]}
    nb = nbf.v4.new_notebook()
    nb.cells = [
        md(COLLAPSE_INTRO),
        code(PARAMS, metadata={"tags": ["parameters"]}),
        md("## Does the AUC forecast accuracy across this book's runs?\n\nEvery trained run of every "
           "chapter at this profile, one point each. **Expected:** higher AUC, lower accuracy."),
        code(COLLAPSE_GATHER, metadata=hidden),
        md("## Eigen-spectra: a healthy, a partially and a fully collapsed run\n\nThe runs with the "
           "lowest, the median and the highest AUC, with their singular values in decreasing order."),
        code(COLLAPSE_SPECTRA, metadata=hidden),
        md("## Model size vs dataset size\n\nSimSiam at three encoder widths x three training-set "
           "sizes, each for the same number of steps (`collapse_sweep` in `ssllib.experiments`). "
           "**Expected:** the small encoder on the full dataset has the highest AUC."),
        code(COLLAPSE_SWEEP, metadata=hidden),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def write(nb: nbf.NotebookNode, stem: str) -> None:
    for i, cell in enumerate(nb.cells):  # stable cell ids: regenerating changes no unchanged cell
        cell.id = f"cell-{i:02d}"
    nbf.write(nb, HERE / f"{stem}.ipynb")


if __name__ == "__main__":
    from _specs_more import SPECS_MORE

    for stem, spec in {**SPECS, **SPECS_MORE}.items():
        write(chapter(stem, spec), stem)
        print(f"wrote notebooks/{stem}.ipynb")
    write(collapse_chapter(), "collapse_metric")
    write(scorecard(), "scorecard")
    print("wrote notebooks/scorecard.ipynb")
