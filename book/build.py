"""Build the book: execute every notebook with papermill, then `jupyter-book build`.

    python book/build.py [--profile cpu] [--allow-train] [--only table2_siamese_variants]

Notebooks run against the cached results of the profile (committed for `cpu`); a cache miss is
an error unless --allow-train.  Executed copies go to book/_generated/ (Jupyter Book 1 skips
its own `_build` folder), and Jupyter Book only renders them (execute_notebooks: off), so a
change in ssllib can never be hidden behind Jupyter Book's execution cache.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
GENERATED = ROOT / "book" / "_generated"


def execute(profile: str, allow_train: bool, only=None) -> list[dict]:
    """Run every notebook; returns one status row each (when, how long)."""
    import datetime as dt

    import papermill as pm

    GENERATED.mkdir(parents=True, exist_ok=True)
    status = []
    # the scorecard reads every experiment's results: it runs last
    for nb in sorted(NOTEBOOKS.glob("*.ipynb"), key=lambda p: (p.stem == "scorecard", p.stem)):
        if only and nb.stem not in only:
            continue
        t0, started = time.time(), dt.datetime.now(dt.timezone.utc)
        pm.execute_notebook(str(nb), str(GENERATED / nb.name), cwd=str(NOTEBOOKS),
                            parameters={"profile": profile, "allow_train": allow_train},
                            kernel_name="python3", progress_bar=False)
        hide_injected_parameters(GENERATED / nb.name)
        status.append({"notebook": nb.stem, "executed": started.strftime("%Y-%m-%d %H:%M UTC"),
                       "seconds": round(time.time() - t0, 1)})
        print(f"executed {nb.name} ({time.time() - t0:.0f} s)")
    return status


def write_status(status: list[dict], profile: str) -> None:
    """The run-status page: each notebook, when it was executed and for how long, and
    the cached runs its chapter reads: how many, at which lengths, on which hardware, trained when
    and at which commits."""
    from ssllib import experiments, records as cache, report

    lines = ["# Run status", "",
             f"Written by `book/build.py` when this book was built (profile `{profile}`). Each chapter "
             "reads cached results only (`ssllib.records`, which never trains); the runs column counts the records it read "
             "at each length, and the last columns say on what and when they were trained.", "",
             "| notebook | executed (seconds) | runs read | hardware | trained (UTC) | commits |",
             "|---|---|---|---|---|---|"]
    for row in status:
        records = []
        for name, exp in experiments.EXPERIMENTS.items():
            if Path(exp.notebook).stem != row["notebook"]:
                continue
            for length in exp.lengths(profile):
                records += cache.load(name, length)
        counts = {}
        for r in records:
            counts[r["profile"]] = counts.get(r["profile"], 0) + 1
        devices = sorted({report.device_label(r["provenance"]["device"]) for r in records})
        ended = sorted(r["provenance"]["ended"][:16].replace("T", " ") for r in records)
        shas = sorted({r["provenance"]["git_sha"][:8] for r in records})
        lines.append(" | ".join(["", row["notebook"].replace("_", " "), f"{row['executed']} ({row['seconds']:g})",
                                 ", ".join(f"{n} at {p}" for p, n in counts.items()) or "all (scorecard)",
                                 "; ".join(devices) or "–", f"{ended[0]} – {ended[-1]}" if ended else "–",
                                 ", ".join(shas) or "–", ""]).strip())
    lines += queue_lines()
    (GENERATED / "status.md").write_text("\n".join(lines) + "\n")


def queue_lines() -> list[str]:
    """The queue (ssllib.queue) on the run-status page: every planned run still missing, in the
    order that settles the most claims per CPU hour, with its cost and the claims it serves."""
    from ssllib import queue

    rows = queue.rows(queue.build())
    lines = ["", "## The queue: what is missing, what it costs, what it would settle", "",
             f"{len(rows)} planned runs are not in the cache ({sum(r.hours for r, *_ in rows):.1f} CPU hours of "
             f"this project's 2-core machine); `python -m ssllib queue --next N --side-by-side 2` trains the next "
             "N, `--dry-run` prints this list. The order is `ssllib/queue.py`'s rule: the chance that a claim is "
             "decided once its runs are in, per CPU hour of its missing runs (equal rates in the book's order).", "",
             "| # | run | CPU hours | claims settled per CPU hour | serves |", "|---|---|---|---|---|"]
    lines += [f"| {i} | {r} | {r.hours:.2f} | {rate:.2f} | {'; '.join(claims)} |"
              for i, (r, rate, claims) in enumerate(rows, 1)]
    return lines


def hide_injected_parameters(path: Path) -> None:
    """The page shows the notebook's own `parameters` cell once: papermill's injected copy below
    it is removed from the rendered page (Jupyter Book's `remove-cell` tag)."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
    nbformat.write(nb, path)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="cpu")
    ap.add_argument("--allow-train", action="store_true")
    ap.add_argument("--only", action="append", help="notebook stem; repeatable")
    ap.add_argument("--no-html", action="store_true", help="execute only")
    args = ap.parse_args()
    status = execute(args.profile, args.allow_train, args.only)
    write_status(status, args.profile)
    if args.no_html:
        return 0
    jb = Path(sys.executable).with_name("jupyter-book")
    # -W: a Sphinx warning (an unresolved glue value or reference, a missing page) fails the build
    return subprocess.call([str(jb), "build", str(ROOT), "-W", "--keep-going"])


if __name__ == "__main__":
    sys.exit(main())
