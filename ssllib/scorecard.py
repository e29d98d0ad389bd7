"""Book-wide views over every experiment's cached results: the scorecard of claims (rule 8 of
the verdict rules), what each run cost, the benchmarks, and the runs Li et al.'s metric is tested
on.  Used by `notebooks/scorecard.md` and `notebooks/collapse_metric.md`."""
from __future__ import annotations

import html
import json
from pathlib import Path

from . import experiments, records as cache, report, rules, runner, verdicts
from .experiment_spec import LONG_BY_DATASET, LONG_OF, LONG_PROFILES, long_of
from .plots import forest as draw
from .results import results_root

DATASETS = ("cifar10", "cifar100")  # the long length is judged on each

def gather(profile: str = "cpu", allow_train: bool = False):
    """Every claim of every experiment at `profile` (and its long length), with the length it was
    judged at; the runs not cached; and the records of `profile` itself.
    Returns (claim rows, missing rows, records)."""
    import pandas as pd

    pd.set_option("display.max_colwidth", None)  # every table of the page in full
    pd.set_option("display.max_rows", None)
    rows, missing, everything, long_trained = [], [], [], []
    lengths = [(profile, "cifar10")] + ([(long_of(profile, d), d) for d in DATASETS] if profile in LONG_BY_DATASET else [])
    for length, dataset in lengths:
        at_length, over = {}, {"dataset": dataset}
        for name, exp in experiments.EXPERIMENTS.items():
            if length not in exp.lengths(profile):
                continue  # only the experiments with long_variants are run at the long length
            cfgs = cache.configs(name, length, overrides=over)
            if allow_train and length == profile:
                at_length[name], gaps = runner.run_configs(cfgs, length, progress=False), []
            else:
                at_length[name], gaps = cache.find(cfgs, length)
            if gaps and (dataset == "cifar10" or at_length[name]):
                missing.append({"experiment": name, "length": length, "dataset": dataset, "not run": ", ".join(gaps)})
            if dataset == "cifar10":  # Li et al.'s forecast: the CIFAR-10 runs of each length
                (everything if length == profile else long_trained).extend(at_length[name])
        for name, records in at_length.items():  # accuracy claims: one Holm family per length and dataset
            if records or dataset == "cifar10":
                rows += [dict(c, length=length, experiment=name, dataset=dataset)
                         for c in verdicts.claims_for(name, records, others=at_length)]
    rows += forecast_rows({profile: everything, LONG_OF.get(profile): long_trained})
    return rows, missing, everything


def forecast_rows(by_length: dict) -> list[dict]:
    """Li et al.'s forecast (all trained runs, and the non-collapsed ones) judged at each length on
    that length's runs alone; a length with no runs (but the first) is left out."""
    first = next(iter(by_length))
    return [dict(c, length=length, experiment="collapse_sweep", dataset="cifar10")
            for length, records in by_length.items() if length == first or (length and records)
            for c in (rules.forecast_claim(records), rules.forecast_claim(records, healthy_only=True))]


def forest(rows, dataset: str = "cifar10"):
    """The forest plot of every accuracy claim at the long length on `dataset` (ssllib.plots.forest)."""
    chosen = [r for r in rows if r["length"] in LONG_PROFILES and r["kind"] == "accuracy"
              and r.get("dataset", "cifar10") == dataset]
    lengths = ", ".join(sorted({r["length"] for r in chosen})) or "the long length"
    return draw(chosen, title=f"{lengths}, {dataset}: every accuracy claim (one Holm family)")


def accuracy_table(rows, dataset: str = "cifar10"):
    """Every accuracy claim at the long length on `dataset`: Welch's estimate (the primary) and the
    one blocked by training device (the sensitivity analysis, where the runs mix devices) side by
    side, each with the verdict it alone would give, the family it was judged in, and the verdict."""
    import pandas as pd

    chosen = [r for r in rows if r["length"] in LONG_PROFILES and r["kind"] == "accuracy"
              and r.get("dataset", "cifar10") == dataset]
    out = [{"claim": f"{r['experiment']}: {r['claim']}", "Welch (primary)": r.get("welch") or "–",
            "blocked by device": r.get("blocked") or "–", "family": r.get("family", "–"),
            "verdict": r["verdict"]} for r in chosen]
    return pd.DataFrame(out).set_index("claim") if out else f"no accuracy claim at the long length on {dataset}"


def counts(rows):
    import pandas as pd

    return pd.DataFrame(rules.verdict_counts(rows)).set_index(["length", "dataset", "kind"])


# where a claim comes from, in the book's order: the paper and its section, by experiment
SECTIONS = {name: exp.section for name, exp in experiments.EXPERIMENTS.items()}
VERDICT_ANCHOR = "verdicts-computed-from-the-cached-results"
SORT_SCRIPT = """<script>
document.querySelectorAll('table.scorecard th').forEach((th, col) => th.addEventListener('click', () => {
  const body = th.closest('table').tBodies[0];
  const up = th.dataset.order !== 'up'; th.dataset.order = up ? 'up' : 'down';
  Array.from(body.rows).sort((a, b) => a.cells[col].innerText.localeCompare(b.cells[col].innerText,
      undefined, {numeric: true}) * (up ? 1 : -1)).forEach(r => body.appendChild(r));
}));
</script>"""


def chapter_link(experiment: str) -> str:
    """The chapter page (and its verdict table) of an experiment, relative to another chapter."""
    stem = Path(experiments.get_experiment(experiment).notebook).stem
    anchor = "" if experiment == "collapse_sweep" else f"#{VERDICT_ANCHOR}"
    return f"{stem}.html{anchor}"


def card_html(rows) -> str:
    """Every claim as one HTML table, grouped by paper and section in the book's order, each
    linking to its chapter's verdict table; a click on a column header sorts by it (a few lines
    of script, no library, nothing loaded from elsewhere)."""
    order = {name: i for i, name in enumerate(SECTIONS)}
    head = ("item (paper, section)", "claim", "length, dataset", "paper's value", "ours", "verdict", "reason")
    out = ['<table class="scorecard dataframe"><thead><tr>'
           + "".join(f'<th title="click to sort">{h}</th>' for h in head) + "</tr></thead><tbody>"]
    for r in sorted(rows, key=lambda r: (order.get(r["experiment"], 99), r["length"], r.get("dataset", ""))):
        paper, section = SECTIONS.get(r["experiment"], ("", ""))
        item = (f'<a href="{chapter_link(r["experiment"])}">{html.escape(r["item"])}</a>'
                f'<br><small>{html.escape(paper)}, {html.escape(section)}</small>')
        cells = [item, html.escape(r["claim"]), html.escape(f"{r['length']}, {r.get('dataset', 'cifar10')}")] + [
            html.escape(str(r.get(k, "") or "–")) for k in ("paper", "ours", "verdict", "reason")]
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return "".join(out) + "</tbody></table>" + SORT_SCRIPT


def short_vs_long(rows, kind: str = "accuracy"):
    """Every claim of `kind` judged at a long length beside the same claim at the short length:
    what training for longer changed.  One row per experiment and claim."""
    import pandas as pd

    long_lengths = set(LONG_PROFILES)
    short = {(r["experiment"], r["claim"]): r for r in rows if r["length"] not in long_lengths}
    out = []
    for r in rows:  # the short runs are CIFAR-10's: the same dataset's long verdict beside them
        if r["length"] in long_lengths and r["kind"] == kind and r.get("dataset", "cifar10") == "cifar10":
            before = short.get((r["experiment"], r["claim"]), {})
            out.append({"experiment": r["experiment"], "claim": r["claim"],
                        "short": before.get("verdict", "(no verdict)"), "long": r["verdict"],
                        "long length": r["length"], "ours at the long length": r["ours"]})
    return pd.DataFrame(out).set_index(["experiment", "claim"]) if out else "no claim judged at a long length yet"


def verdict_totals(rows):
    """How many claims got each verdict, per paper, length and dataset (all claims, restatements
    included): one row each, the verdicts as columns."""
    import pandas as pd

    order = (rules.REPRODUCED, rules.PARTLY, rules.NOT, rules.UNDECIDED, rules.TOO_SHORT, rules.UNTESTED)
    groups: dict[str, dict] = {}
    for r in rows:
        key = f"{SECTIONS.get(r['experiment'], ('?',))[0]}, {r['length']}, {r.get('dataset', 'cifar10')}"
        groups.setdefault(key, dict.fromkeys(order, 0))[r["verdict"]] += 1
    out = [{"paper, length, dataset": k, **v, "all": sum(v.values())} for k, v in groups.items()]
    return pd.DataFrame(out).set_index("paper, length, dataset")


def costs(records):
    """What the runs cost: per length, dataset and device, how many trained runs (a run shared by two
    chapters once) and their hours; under it, folded, one row per run with its throughput and the
    fast-path features it used (ssllib.train.fast_features)."""
    import pandas as pd

    runs = [r for r in report.distinct_runs(records) if r["train"]["steps"] > 0 and "reused_from" not in r]
    if not runs:
        return "no trained run cached"
    cost = pd.DataFrame([{"run": f"{r['experiment']}/{r['variant']} seed {r['seed']}", "length": r["profile"],
                          "dataset": r["config"].get("dataset", "cifar10"),
                          "device": r["provenance"]["device"].split(",")[0].split(" (")[0],
                          "train min": round(r["provenance"]["train_seconds"] / 60, 1),
                          "images/s": round(r["provenance"]["images_per_s"] or 0),
                          "fast path": ", ".join(k for k, on in r["train"].get("fast", {}).items() if on) or "off"}
                         for r in runs])
    print(f"{len(runs)} trained runs, {cost['train min'].sum() / 60:.1f} hours of training in all")
    total = cost.groupby(["length", "dataset", "device"]).agg(runs=("run", "size"), hours=("train min", "sum"),
                                                              **{"median images/s": ("images/s", "median")})
    cost["fast path"] = cost["fast path"].str.replace("_", " ")
    total["hours"] = (total["hours"] / 60).round(1)
    return report.Tables(total, report.fill(cost.set_index("run")), f"every run ({len(runs)}): minutes, "
                                                                     "throughput, fast path")


def _benchmark_files(prefix: str | None):
    """The JSON files under results/benchmarks/ whose name starts with `prefix` (None: every file
    no other section shows)."""
    own = ("faults-", "arithmetic-", "device_agreement-")
    return [json.loads(p.read_text()) for p in sorted((results_root() / "benchmarks").glob("*.json"))
            if (p.name.startswith(prefix) if prefix else not p.name.startswith(own))]


def _by_device(prefix: str | None, none: str):
    """Those files, one row per device and measurement (a column per device would not fit the page)."""
    import pandas as pd

    rows = _benchmark_files(prefix)
    if not rows:
        return none
    long = [{"device": f"{r['device']} [{i + 1}]" if sum(x["device"] == r["device"] for x in rows) > 1 else r["device"],
             "measurement": k, "value": json.dumps(v) if isinstance(v, (dict, list)) else v}
            for i, r in enumerate(rows) for k, v in r.items() if k != "device"]
    return report.fill(pd.DataFrame(long).set_index(["device", "measurement"]))


def benchmarks():
    """Every benchmark's JSON, one column per device."""
    return _by_device(None, "no benchmark results committed")


def faults():
    """benchmarks/faults.py's measurements: kills, how many inside a write, whether the
    resumed run's record is bit-identical to an uninterrupted one, files left over."""
    return _by_device("faults-", "no fault measurements committed")


def arithmetic():
    """benchmarks/arithmetic.py's comparison: one chapter trained in fp32 and in bf16
    autocast, every claim judged on each; one row per claim and device."""
    import pandas as pd

    files = _benchmark_files("arithmetic-")
    if not files:
        return "no fp32 / bf16 comparison committed"
    for r in files:
        print(f"{r['device']}: {r['experiment']} at profile {r['profile']}, {len(r['runs']['fp32'])} runs "
              f"in each arithmetic ({r['seconds']['fp32'] / 60:.1f} min fp32, {r['seconds']['bf16'] / 60:.1f} "
              f"min bf16); same verdicts: {'yes' if r['same_verdicts'] else 'no'}")
    return report.fill(pd.DataFrame([{"device": r["device"], **{k: c[k] for k in ("claim", "fp32", "bf16", "fp32 ours",
                                                                                  "bf16 ours")}}
                                     for r in files for c in r["claims"]]).set_index(["device", "claim"]))


def device_agreement():
    """The same configs (same config hash) trained on two devices: the record results/ holds and the
    one a lent GPU returned (scripts/gpu_campaign.py merge --agreement), beside the seed spread of
    that variant at that length, which is what a difference between devices should be read against."""
    import pandas as pd

    rows, everything = [], cache.everything()
    for f in _benchmark_files("device_agreement-"):
        for run in f["runs"]:
            experiment, variant, seed = run["run"].split(":")
            accs = [r["metrics"]["linear_acc"] for r in everything if (r["profile"], r["experiment"], r["variant"])
                    == (f["profile"], experiment, variant)]
            kept, returned = run["kept"], run["returned"]
            rows.append({"run": f"{experiment} {variant} seed {seed} ({f['profile']})",
                         "here": f"{kept['linear_acc']:.1f} / {kept['knn_acc']:.1f} on {kept['device']}",
                         "returned": f"{returned['linear_acc']:.1f} / {returned['knn_acc']:.1f} on {returned['device']}",
                         "linear difference": round(returned["linear_acc"] - kept["linear_acc"], 2),
                         "seed std of linear": (f"{report.mean_std(accs)[1]:.2f} ({report.n_seeds(len(accs))})"
                                                if len(accs) > 1 else "–")})
    return pd.DataFrame(rows).set_index("run") if rows else "no device comparison committed"


def trained_runs(profile: str):
    """Every trained run of every chapter at `profile` except the sweep (Li et al.'s forecast is
    tested on them), a config that several chapters share once, and their one-row-per-run frame."""
    import pandas as pd

    pd.set_option("display.max_rows", None)  # every run, never "..." rows
    records = []
    for name in experiments.EXPERIMENTS:
        if name == "collapse_sweep":
            continue
        records += cache.load(name, profile)
    trained = [r for r in report.distinct_runs(records) if r["train"]["steps"] > 0]  # a run counts once
    frame = pd.DataFrame([{"run": f"{r['experiment']}/{r['variant']}", "spectral AUC": r["metrics"]["spectral_auc"],
                           "effective rank": r["metrics"]["effective_rank"], "linear (%)": r["metrics"]["linear_acc"],
                           "m_r": r["metrics"]["m_r"], "collapsed": r["metrics"]["collapsed"]} for r in trained])
    return trained, frame


def not_run(missing):
    """The runs the scorecard could not read, per experiment and length (or a line saying none)."""
    if not missing:
        print("every experiment has cached results at this profile")
        return None
    return report.frame(missing, "experiment")
