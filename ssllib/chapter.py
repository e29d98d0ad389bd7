"""The skeleton every chapter notebook shares, one call per section.

A chapter (`notebooks/<name>.md`, a MyST text notebook paired with the `.ipynb` that papermill
runs) is its prose, a `parameters` cell and a handful of these calls:

    ch = chapter.run("table2", profile, dataset=dataset, epochs=epochs, device=device,
                     seeds=seeds, force=force, allow_train=allow_train)   # train or load
    chapter.paper_table(ch)          # the paper's numbers beside ours
    chapter.curves(ch, keys)         # the figure: metrics over training
    chapter.verdicts(ch)             # computed claims; every variant's final metrics glued
    chapter.long_length(ch)          # the accuracy claims at the long length
    chapter.provenance(ch)           # where every number on the page came from

Numbers reach the prose only through myst-nb's `glue` (names `<experiment>_<variant>_<metric>`).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from . import experiments, findings, plots, records as cache, report, rules, runner
from .experiment_spec import long_of
from .integrity import RECORD_KEY
from .notebook_params import check_injected, check_parameters  # noqa: F401 (chapter.check_injected)
from .paper import REPORTED
from .plan import HEAD_CHECK, planned
from .results import read_curve
from .verdicts import claims_for, overtakes

# the metrics glued for every variant (`glue_metrics`): an accuracy to one decimal, the rest to three,
# or "(not run)"
GLUED = ("m_r", "m_o", "linear_acc", "knn_acc", "z_std_sqrt_d", "bias_centre_cos", "a8_measured_coef",
         "a8_predicted_coef", "eta_p", "eta_z", "covariance_z")


@dataclass
class Chapter:
    """One experiment's records at one profile, and how they were asked for."""
    name: str
    profile: str
    records: list
    may_train: bool = False  # the notebook's allow_train: whether its sections may train what is missing
    device: str = "auto"
    missing: list = field(default_factory=list)
    dataset: str = "cifar10"

    @property
    def by_variant(self) -> dict:
        return report.by_variant(self.records)


def glue(name: str, text: str) -> None:
    """myst-nb's glue where it is installed (the book); a no-op elsewhere (a bare GPU machine)."""
    try:
        from myst_nb import glue as nb_glue
    except ImportError:
        return
    nb_glue(name, text, display=False)


def run(name: str, profile: str = "cpu", *, dataset="cifar10", epochs=None, device="auto", seeds=None,
        force=False, allow_train=True) -> Chapter:
    """Train (or load from the cache) every run of experiment `name` and say what was run."""
    check_injected()
    check_parameters(profile, dataset, epochs, device, seeds, force, allow_train)
    overrides = {"dataset": dataset} | ({"epochs": float(epochs)} if epochs is not None else {})
    cfgs = cache.configs(name, profile, seeds=seeds, overrides=overrides)
    if allow_train:
        records, missing = runner.run_configs(cfgs, profile, force=force, device=device, progress=False), []
    else:
        records, missing = cache.find(cfgs, profile)
    if missing:
        print(f"Not run yet at profile {profile} (left out below): {', '.join(missing)}")
    if records:
        trained = max(records, key=lambda r: r["train"]["steps"])
        cfg = trained["config"]
        print(f"{len(records)} runs, profile {profile}: ResNet-18 width {cfg['width']}, batch "
              f"{cfg['batch_size']}, up to {trained['train']['steps']} steps, "
              f"{trained['provenance']['data_source']}")
    return Chapter(name, profile, records, allow_train, device, missing, dataset)


def paper_table(ch: Chapter):
    """The paper's numbers (ssllib.paper) beside ours, one row per variant, mean ± std over seeds:
    the main columns (collapse, m_r, accuracies, and the linear probe's margin over Table 2's random
    encoder at the same length and dataset - m_r near 1 is what an untrained network also scores
    behind the final BN, so only the margin says the encoder learned; 0 for an untrained one by
    construction), and under them, folded, the rest: m_o, the lowest m_r over training, m_r of p,
    std·√d, the online probe and the dataset (`report.Tables`)."""
    rows = report.summary_rows(ch.records, REPORTED.get(ch.name, {}))
    control = cache.load("table2", ch.profile, variants=["random_init"], overrides={"dataset": ch.dataset})
    random_linear = report.mean_std(r["metrics"]["linear_acc"] for r in control)[0] if control else None
    out = []
    for row in rows:
        rs = ch.by_variant[row["variant"]]
        low = rules.lowest_m_r(rs)
        margin = (report.mean_std(r["metrics"]["linear_acc"] for r in rs)[0] - random_linear
                  if random_linear is not None else None)
        out.append(row | {"lowest m_r (training)": f"{low:.3f}" if low is not None else "–",
                          "linear − random encoder (points)": f"{margin:+.1f}" if margin is not None else "–"})
    if not out:
        return report.frame([], "method")
    main = list(report.MAIN_COLUMNS) + ["linear − random encoder (points)"]
    rest = ["method", "m_o", "lowest m_r (training)", "m_r of p = h(z)", "std·√d", "ours: online probe (%)", "ours on"]
    return report.Tables(report.frame([{k: r[k] for k in main} for r in out], "method"),
                         report.frame([{k: r[k] for k in rest} for r in out], "method"),
                         "more columns: m_o, lowest m_r over training, m_r of p, std·√d, online probe, dataset")


def curves(ch: Chapter, keys=("z_std_sqrt_d", "m_o", "m_r")):
    return plots.curves(ch.records, keys=keys)


# (experiment, profile, dataset, the records' contents) -> their claims: a chapter judges each set of
# records once, however many times it reads them (the opening verdicts and the long-length section
# each load the same records: a read costs ~0.1 s, a judgement up to ~2 s)
_JUDGED: dict = {}


def _content(record: dict) -> tuple:
    """What a record is, not which object: its checksum (a shared run's is its source's), and the
    name it is shown under."""
    return record.get(RECORD_KEY), record.get("reused_from"), record.get("experiment"), record.get("variant")


def verdicts_of(ch: Chapter) -> list[dict]:
    """Every claim of the chapter's experiment judged on its records (computed once per set of
    records: the opening verdict and the section that shows them read the same rows)."""
    if not all(RECORD_KEY in r for r in ch.records):  # records made in memory (tests): no identity
        return claims_for(ch.name, ch.records)
    key = (ch.name, ch.profile, ch.dataset, tuple(_content(r) for r in ch.records))
    if key not in _JUDGED:
        _JUDGED[key] = claims_for(ch.name, ch.records)
    return _JUDGED[key]


def glue_md(name: str, text: str) -> None:
    """Markdown glued for a `{glue:md}` directive (a no-op where myst-nb is not installed)."""
    try:
        from IPython.display import Markdown
        from myst_nb import glue as nb_glue
    except ImportError:
        return
    nb_glue(name, Markdown(text), display=False)


def lead(ch: Chapter) -> None:
    """The chapter's answer first: each of its claims with our verdict at the trained length on
    every dataset that judged it, the short runs only where none did (`ssllib.findings`), as a
    Markdown list glued as `<experiment>_lead` for the chapter's opening lines."""
    rows = [dict(c, length=ch.profile, dataset=ch.dataset, experiment=ch.name) for c in verdicts_of(ch)] if ch.records else []
    for length in experiments.get_experiment(ch.name).lengths(ch.profile)[1:]:
        for dataset in (d for d in ("cifar10", "cifar100") if long_of(ch.profile, d) == length):
            records = cache.load(ch.name, length, overrides={"dataset": dataset})
            if records:
                judged = verdicts_of(Chapter(ch.name, length, records, dataset=dataset))
                rows += [dict(c, length=length, dataset=dataset, experiment=ch.name) for c in judged]
    claims = findings.evidence(rows, {ch.name})
    text = "\n".join(f"- {c['claim']}: " + "; ".join(f"**{r['verdict']}** ({findings.where(r)})" for r in c["rows"])
                     for c in claims) or "- no claim judged yet: its runs are not cached"
    glue_md(f"{ch.name}_lead", text)


def glue_metrics(ch: Chapter, prefix: str | None = None) -> None:
    """Glue each variant's final metrics (mean over seeds) as `<prefix>_<variant>_<metric>`: an
    accuracy (in %) to one decimal, as the tables show it; the collapse indicators to three."""
    prefix = prefix or ch.name
    by = ch.by_variant
    for v in experiments.get_experiment(ch.name).variants:
        for key in GLUED:
            have = [r["metrics"][key] for r in by.get(v, []) if key in r["metrics"]]
            places = 1 if key.endswith("_acc") else 3
            glue(f"{prefix}_{v}_{key}", f"{report.mean_std(have)[0]:.{places}f}" if have else "(not run)")


def glue_paper(ch: Chapter) -> None:
    """The paper's numbers for this chapter (typed once, on the item's declaration; `ssllib.paper`) glued as
    `paper_<experiment>_<variant>_<key>`, so that the prose quotes them without retyping them."""
    for variant, row in REPORTED.get(ch.name, {}).items():
        for key, value in (row.items() if isinstance(row, dict) else ()):  # some entries are notes
            numbers = value if isinstance(value, tuple) else (value,)  # a tuple is a range: "0.1-0.2"
            if all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in numbers):
                glue(f"paper_{ch.name}_{variant}_{key}", "-".join(f"{x:g}" for x in numbers))


# the numbers behind an accuracy verdict, which the table shows in words and the forest plot draws
PLOTTED = ("runs", "difference", "ci_low", "ci_high", "p_holm", "test", "margin", "paper_difference")


def claims_frame(claims: list[dict]):
    """The claims as a reader reads them (claim, the paper's value, ours, verdict, reason) and, folded
    under them, the accuracy claims' statistics: Welch's estimate, the estimate blocked by device,
    the Holm family and the plan entry (`report.Tables`)."""
    if not claims:
        return report.frame([], "claim")
    main = report.frame([{k: c.get(k, "–") for k in ("claim", "paper", "ours", "verdict", "reason")}
                         for c in claims], "claim")
    accuracy = [c for c in claims if c.get("kind") == "accuracy"]
    details = report.frame([{"claim": c["claim"], "Welch (primary)": c.get("welch") or "–",
                             "blocked by device": c.get("blocked") or "–", "family": c.get("family", "–"),
                             "plan": c.get("plan", "–")} for c in accuracy], "claim") if accuracy else None
    return report.Tables(main, details, "the accuracy claims' statistics: Welch, blocked by device, Holm family, plan")


def verdicts(ch: Chapter):
    """The computed verdict of every claim of this chapter (ssllib.verdicts), reasons in full; the
    chapter's own and the paper's numbers glued for the prose."""
    import pandas as pd

    glue_metrics(ch)
    glue_paper(ch)
    pd.set_option("display.max_colwidth", None)
    return claims_frame(verdicts_of(ch))


def provenance(ch: Chapter):
    """Where every number on the page came from, folded: what each run trained (length, data,
    model) and where and when (device, time, commit, config hash), one row per run each."""
    from IPython.display import HTML

    rows = report.provenance_rows(ch.records)
    if not rows:
        return report.frame([], "variant")
    what = ("variant", "seed", "profile", "dataset", "encoder", "batch", "steps", "epochs", "start")
    where = ("variant", "seed", "device", "train min", "commit", "when", "hash")
    short = [r | {"when": str(r["when"])[:16].replace("T", " ")} for r in rows]  # to the minute
    tables = "".join(report.fill(report.frame([{k: r[k] for k in keys} for r in short], "variant")).to_html(
        classes="dataframe") for keys in (what, where))
    devices = sorted({report.device_label(r["device"]) for r in rows})
    return HTML(report.dropdown(f"{len(rows)} runs: profiles {', '.join(sorted({r['profile'] for r in rows}))}; "
                                f"devices {'; '.join(devices)} (what each trained, where and when)", tables))


def lowest_m_r(ch: Chapter, variants):
    """Where each variant's m_r of z was lowest over training (the early dip); glued as
    `<experiment>_dip_<variant>`."""
    rows = []
    for v in variants:
        for r in ch.by_variant.get(v, [])[:1]:
            low = min(read_curve(r), key=lambda row: row["m_r"])
            rows.append({"variant": v, "warm-up steps": r["train"]["warmup_steps"],
                         "lowest m_r": round(low["m_r"], 3), "at step": int(low["step"]),
                         "final m_r": round(r["metrics"]["m_r"], 3)})
            glue(f"{ch.name}_dip_{v}", f"{low['m_r']:.3f} at step {int(low['step'])}")
        if v not in {row["variant"] for row in rows}:
            glue(f"{ch.name}_dip_{v}", "(not run)")
    return report.frame(rows, "variant")


DATASET_NAMES = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100 (the paper's dataset)", "synthetic": "synthetic"}


def long_length(ch: Chapter, curve_experiment: str | None = None) -> Chapter:
    """The accuracy claims at the long length: this experiment's long-length runs
    (`long_variants`), their learning curves and collapse indicators over the whole horizon, the
    paper-vs-ours table, the verdicts and their forest plot; first on the chapter's dataset, then on
    the other CIFAR wherever it has runs or planned claims.  Trains only when the chapter itself
    runs at the long length and may train; otherwise shows what is cached and names what is not.
    Glues `<experiment>_long_<variant>_<metric>` (`<experiment>_c100_long_...` for CIFAR-100 in a
    CIFAR-10 chapter) and, for Table 2, where SimSiam overtakes the controls."""
    from IPython.display import Markdown, display

    first = _long_section(ch, ch.dataset, curve_experiment, prefix=f"{ch.name}_long")
    for other in [d for d in ("cifar10", "cifar100") if d != ch.dataset]:
        profile = long_of(ch.profile, other)
        cached = cache.load(ch.name, profile, overrides={"dataset": other})
        tag = "c100" if other == "cifar100" else "c10"
        if cached or planned(ch.name, other):
            display(Markdown(f"**The same at `{profile}` on {DATASET_NAMES[other]}**"))
            _long_section(dataclasses.replace(ch, may_train=False), other, curve_experiment,
                          prefix=f"{ch.name}_{tag}_long")
        else:
            _glue_long(Chapter(ch.name, profile, [], dataset=other), f"{ch.name}_{tag}_long", [], [])
    return first


def head_check(long_ch: Chapter):
    """The head check, read out: the planned claim that our projector's affine final BN does not
    change SimSiam's accuracy against the reference head's affine-free one (`plan.HEAD_CHECK`), and
    what its verdict means for the records trained with our head.  Glues `table2_head_check`."""
    from IPython.display import Markdown

    row = next((c for c in verdicts_of(long_ch) if c["claim"] == HEAD_CHECK), None) if long_ch.records else None
    if row is None:
        text = f"not run at {long_ch.profile} on {long_ch.dataset}: the records trained with our head are unchecked"
    else:
        margin = f"±{row['margin']:g} points" if row.get("margin") is not None else "the plan's margin"
        reading = {
            rules.REPRODUCED: f"the records trained with our head stand: its affine final BN moves SimSiam's "
                              f"accuracy by less than {margin}",
            rules.NOT: f"our head changes SimSiam's accuracy by more than {margin}: the records trained with it "
                       "are not the reference SimSiam's",
            rules.UNDECIDED: "neither shown to stand nor to fall: " + row.get("reason", ""),
        }.get(row["verdict"], row.get("reason", "") or "not judged")
        ours = f"{row['ours']}: " if row["ours"] != "–" else ""
        text = f"{ours}**{row['verdict']}** - {reading}"
    glue("table2_head_check", text)
    return Markdown(f"Head check at `{long_ch.profile}` on {DATASET_NAMES.get(long_ch.dataset, long_ch.dataset)} "
                    f"(our head vs the reference head): {text}.")


def claims_of(name: str, profile: str, dataset: str = "cifar10", item: str | None = None):
    """Another experiment's claims (only `item`'s, if given), judged on its cached runs: a chapter
    showing the claims of runs it shares."""
    records = cache.load(name, profile, overrides={"dataset": dataset})
    claims = [c for c in claims_for(name, records) if item is None or c["item"] == item] if records else []
    return claims_frame(claims) if claims else f"no {name} run at {profile} on {dataset}"


def replaced_length(ch: Chapter, profile: str, dataset: str, variants=None, beside: tuple = ()):
    """The cached runs of a length the run plan replaced (shown, never counted): one row per run,
    its item, final accuracies, collapse indicators, lowest m_r over training and m_o at step 0;
    `beside` = ((item, profile, variants, seeds), ...) adds those runs (of the length that replaced
    it, say), for comparison.  Glues `<experiment>_<profile>_<dataset>_<variant>` (linear / kNN,
    mean over the runs)."""
    records = cache.load(ch.name, profile, variants=variants, overrides={"dataset": dataset})
    extra = [r for item, length, vs, seeds in beside
             for r in cache.find(cache.configs(item, length, vs, seeds, {"dataset": dataset}), length)[0]
             if "reused_from" not in r]  # each run once, under the item that trained it
    def first(r, key):
        curve = read_curve(r)
        return round(curve[0][key], 3) if curve and key in curve[0] else "–"

    def lowest(r):
        low = rules.lowest_m_r([r])
        return round(low, 3) if low is not None else "–"

    rows = [{"item": r["experiment"], "variant": r["variant"], "seed": r["seed"], "epochs": r["config"]["epochs"],
             "linear %": round(r["metrics"]["linear_acc"], 1), "kNN %": round(r["metrics"]["knn_acc"], 1),
             "m_o": round(r["metrics"]["m_o"], 3), "m_r": round(r["metrics"]["m_r"], 3),
             "lowest m_r (training)": lowest(r), "m_o at step 0": first(r, "m_o")} for r in records + extra]
    for v in variants or experiments.get_experiment(ch.name).variants_at(profile):
        have = [r for r in records if r["variant"] == v]
        glue(f"{ch.name}_{profile}_{dataset}_{v}", " / ".join(
            f"{report.mean_std([r['metrics'][m] for r in have])[0]:.1f}%" for m in ("linear_acc", "knn_acc"))
            + f" (linear / kNN, {report.n_seeds(len(have))})" if have else "(not run)")
    return report.frame(rows, "variant") if rows else f"no {profile} run on {dataset} cached"


def _glue_long(long_ch: Chapter, prefix: str, records, claims: list[dict]) -> None:
    glue_metrics(long_ch, prefix=prefix)
    counts = [len(long_ch.by_variant[v]) for v in experiments.get_experiment(long_ch.name).variants_at(long_ch.profile)
              if long_ch.by_variant.get(v)]
    glue(f"{prefix}_seeds", report.n_seeds(min(counts)) if counts else "no seeds yet")
    def said(c):  # "kNN 12.86% vs 12.96% (3 vs 3 seeds): undecided", or why there is no estimate
        head = c["ours"].split(";")[0] if c["ours"] != "–" else c.get("reason") or "–"
        return head + ")" * (head.count("(") - head.count(")")) + f": {c['verdict']}"
    learns = {c["metric"].removesuffix("_acc"): said(c) for c in claims
              if c["claim"].startswith("SimSiam learns features") and "metric" in c}
    for k in ("knn", "knn20", "linear"):
        glue(f"{prefix}_{k}", learns.get(k, "(not run at this length)"))
    for k in ("knn", "linear"):  # the learning curves measure these two
        glue(f"{prefix}_overtakes_{k}", overtakes(records, f"{k}_acc"))


def _long_section(ch: Chapter, dataset: str, curve_experiment, prefix: str) -> Chapter:
    import pandas as pd
    from IPython.display import display

    pd.set_option("display.max_colwidth", None)
    profile = long_of(ch.profile, dataset)  # a profile without a long length is its own
    trains = ch.may_train and profile == ch.profile
    over = {"dataset": dataset}
    def get(name):
        cfgs = cache.configs(name, profile, overrides=over)
        return (runner.run_configs(cfgs, profile, device=ch.device, progress=False), []) if trains else cache.find(cfgs, profile)

    records, not_yet = get(ch.name)
    extra, extra_missing = get(curve_experiment) if curve_experiment else ([], [])
    long_ch = Chapter(ch.name, profile, records, trains, ch.device, dataset=dataset)
    not_yet += [f"{curve_experiment} {m}" for m in extra_missing]
    if not_yet:
        print(f"Not run yet at {profile} on {dataset} (left out below): {', '.join(not_yet)}")
    claims = verdicts_of(long_ch) if records else []  # judged once, glued and shown
    _glue_long(long_ch, prefix, records, claims)
    if any(r.get("learning_curve") for r in records + extra):
        import matplotlib.pyplot as plt

        for fig in (plots.learning_curves(records + extra),
                    plots.curves(records + extra, title=f"{profile}: the collapse indicators over the whole "
                                                        "horizon (mean over seeds)")):
            display(fig)
            plt.close(fig)
    if records:
        display(paper_table(long_ch))
        display(claims_frame(claims))
        accuracy_rows = [dict(c, experiment=ch.name) for c in claims if c.get("difference") is not None]
        if accuracy_rows:
            import matplotlib.pyplot as plt

            fig = plots.forest(accuracy_rows, title=f"{profile}, {DATASET_NAMES.get(dataset, dataset)}: this "
                                                    "chapter's accuracy claims (the scorecard shows every chapter's)")
            display(fig)
            plt.close(fig)
    return long_ch
