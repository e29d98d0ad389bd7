"""Tables and provenance built from cached records, for the notebooks and the scorecard: records
grouped by variant, mean +- std, the paper-vs-ours rows, which runs a claim rests on.  The verdict
rules that use them are `ssllib.rules`."""
from __future__ import annotations

import statistics
from collections import defaultdict

from .config import Config, config_hash


def by_variant(records) -> dict:
    out = defaultdict(list)
    for r in records:
        out[r["variant"]].append(r)
    return dict(out)


def mean_std(values):
    values = list(values)
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def fmt(values, digits=2):
    values = list(values)
    m, s = mean_std(values)
    return f"{m:.{digits}f}" + (f" ± {s:.{digits}f}" if len(values) > 1 else "")


def frame(rows: list[dict], index: str):
    """A pandas DataFrame of `rows` indexed by `index` (an empty one says so)."""
    import pandas as pd

    return pd.DataFrame(rows).set_index(index) if rows else pd.DataFrame({"": ["no cached results"]})


def fill(frame, blank: str = "–"):
    """A frame with every missing cell (NaN, None) shown as `blank`: a reader never sees NaN."""
    return frame.astype(object).where(frame.notna(), blank)


class Tables:
    """A main table and, folded under it in a dropdown, the columns that did not fit: each fits the
    text column of a 1280-px window.  `.main` and `.details` are DataFrames; a notebook shows both."""

    def __init__(self, main, details=None, summary: str = "more columns"):
        self.main, self.details, self.summary = main, details, summary

    def _repr_html_(self) -> str:
        out = fill(self.main).to_html(classes="dataframe")
        if self.details is not None and len(self.details):
            out += dropdown(self.summary, fill(self.details).to_html(classes="dataframe"))
        return out


def dropdown(summary: str, inner_html: str) -> str:
    """HTML folded away under a one-line summary (a reader opens it with a click)."""
    import html

    return f'<details class="ssllib-more"><summary>{html.escape(summary)}</summary>{inner_html}</details>'


# the paper-vs-ours columns a chapter's main table shows; the rest go under "more columns"
MAIN_COLUMNS = ("method", "paper: collapse", "paper: top-1 (%)", "ours: collapsed", "m_r", "ours: linear (%)",
                "ours: kNN (%)")


def summary_rows(records, paper: dict):
    """One row per variant: paper columns beside ours (mean ± std over seeds)."""
    rows = []
    for variant, rs in by_variant(records).items():
        p = paper.get(variant, {})
        ms = [r["metrics"] for r in rs]
        rows.append({
            "variant": variant,
            "method": p.get("label", variant.replace("_", " ")),
            "paper: collapse": {True: "yes", False: "no"}.get(p.get("collapse"), "–"),
            "paper: top-1 (%)": p.get("top1", "–"),
            "ours on": rs[0].get("config", {}).get("dataset", "–"),
            "ours: collapsed": f"{sum(bool(m['collapsed']) for m in ms)} of {n_seeds(len(ms))}",
            "ours: linear (%)": fmt(m["linear_acc"] for m in ms),
            "ours: kNN (%)": fmt(m["knn_acc"] for m in ms),
            "ours: online probe (%)": (fmt(m["online_linear_acc"] for m in ms)
                                       if all("online_linear_acc" in m for m in ms) else "–"),
            "std·√d": fmt((m["z_std_sqrt_d"] for m in ms), 3),
            "m_o": fmt((m["m_o"] for m in ms), 3),
            "m_r": fmt((m["m_r"] for m in ms), 3),
            "m_r of p = h(z)": fmt((m["p_m_r"] for m in ms), 3) if all("p_m_r" in m for m in ms) else "–",
            "seeds": len(rs),
        })
    return rows


def provenance_rows(records):
    rows = []
    for r in records:
        p, c, t = r["provenance"], r["config"], r["train"]
        rows.append({
            "variant": r["variant"], "seed": r["seed"], "profile": r["profile"],
            "dataset": p["data_source"], "encoder": f"{c['encoder']} width {c['width']}",
            "batch": c["batch_size"], "steps": t["steps"], "epochs": c["epochs"],
            "device": p["device"], "train min": round(p["train_seconds"] / 60, 1),
            "images/s": round(p["images_per_s"]) if p["images_per_s"] else "–",
            "start": t.get("start", f"resumed at step {t['resumed_at_step']}" if t.get("resumed_at_step")
                           else "–"),  # older records say only where they resumed
            "commit": p["git_sha"][:8] + ("+dirty" if p["git_dirty"] else ""),
            "when": p["ended"], "hash": r["config_hash"],
        })
    return rows


def device_label(device: str) -> str:
    """A record's device in short: 'cpu (AMD EPYC)' for 'cpu (AMD EPYC, native bf16, 2 cores, ...)'."""
    head = device.split(",")[0]
    return head + (")" if "(" in head and ")" not in head else "")


def n_seeds(n: int) -> str:
    return f"{n} seed{'s' if n > 1 else ''}"


def training_key(record: dict) -> str:
    """What a record trained, labels (experiment, variant) aside: one run shared between chapters,
    copied or trained again under another name, has one key."""
    return (config_hash(Config(**record["config"]), labels=False) if "config" in record else
            f"{record['variant']}/{record.get('seed', 0)}")


def distinct_runs(records) -> list[dict]:
    """One record per training (`training_key`): a run that several chapters share, whether copied
    (`reused_from`) or trained again under another chapter's name, counts once."""
    seen, out = set(), []
    for r in sorted(records, key=lambda r: "reused_from" in r):  # an original before its copies
        key = training_key(r) if "config" in r else id(r)
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def runs_of(records) -> list[str]:
    """The training runs a claim rests on, named by what they trained (a run shared between chapters
    under two names is one run): the scorecard counts a claim on the same runs once (rule 8)."""
    return sorted({training_key(r) for r in records})


