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


def execute(profile: str, allow_train: bool, only=None) -> None:
    import papermill as pm

    GENERATED.mkdir(parents=True, exist_ok=True)
    # the scorecard reads every experiment's results: it runs last
    for nb in sorted(NOTEBOOKS.glob("*.ipynb"), key=lambda p: (p.stem == "scorecard", p.stem)):
        if only and nb.stem not in only:
            continue
        t0 = time.time()
        pm.execute_notebook(str(nb), str(GENERATED / nb.name), cwd=str(NOTEBOOKS),
                            parameters={"profile": profile, "allow_train": allow_train},
                            kernel_name="python3", progress_bar=False)
        hide_injected_parameters(GENERATED / nb.name)
        print(f"executed {nb.name} ({time.time() - t0:.0f} s)")


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
    execute(args.profile, args.allow_train, args.only)
    if args.no_html:
        return 0
    jb = Path(sys.executable).with_name("jupyter-book")
    return subprocess.call([str(jb), "build", str(ROOT), "--keep-going"])


if __name__ == "__main__":
    sys.exit(main())
