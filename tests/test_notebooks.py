"""CI executes every notebook through papermill at the smoke profile (plumbing, not science)."""
import os
from pathlib import Path

import pytest

pm = pytest.importorskip("papermill")
from ssllib.data import find_data_dir  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# the pages that read every experiment's results run after the experiments
READERS = ("findings", "scorecard", "engineering")
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"), key=lambda p: p.stem in READERS)


def declared(path) -> set:
    """The names a notebook's parameters cell declares (papermill may pass only those)."""
    import re

    import nbformat

    cell = next(c for c in nbformat.read(path, as_version=4).cells if "parameters" in c.metadata.get("tags", []))
    return set(re.findall(r"^([A-Za-z_]\w*)\s*=", cell.source, re.M))


def test_every_experiment_notebook_has_a_parameters_cell():
    import nbformat

    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, path.name
        assert "profile" in tagged[0].source


@pytest.mark.notebooks
def test_notebooks_execute_at_smoke_profile(tmp_path):
    """Experiment notebooks train at smoke size into a temporary cache; the scorecard (last)
    then finds those results and computes verdicts from them."""
    dataset = "cifar10" if find_data_dir() else "synthetic"
    for path in NOTEBOOKS:
        params = {"profile": "smoke"}
        if path.stem not in READERS:
            params |= {k: v for k, v in {"dataset": dataset, "allow_train": True}.items() if k in declared(path)}
        out = tmp_path / path.name
        pm.execute_notebook(str(path), str(out), parameters=params, cwd=str(path.parent),
                            kernel_name="python3", progress_bar=False)
        assert out.stat().st_size > 0
    assert any((Path(os.environ["SSLLIB_RESULTS"]) / "smoke").rglob("*.json"))


def test_every_chapter_opens_with_its_verdict_and_its_trained_length_evidence():
    """A chapter's first lines after the claim glue its verdicts (`chapter.lead`), and a chapter with
    a trained length shows that section before the short runs' tables."""
    for path in sorted((ROOT / "notebooks").glob("*.md")):
        text = path.read_text()
        if "ch = chapter.run(" not in text:
            continue
        first_heading = text.index("\n## ")
        assert "_lead\n:format: myst" in text[:first_heading] and "chapter.lead(ch)" in text, path.name
        if "chapter.long_length(" in text:
            assert text.index("chapter.long_length(") < text.index("chapter.paper_table(ch)"), path.name


def cells_of(nb) -> list[tuple]:
    """What a reader sees of a notebook: each cell's kind, source and tags."""
    return [(c.cell_type, c.source.strip(), sorted(c.metadata.get("tags", []))) for c in nb.cells]


def pair_differences(md: Path, ipynb: Path) -> list[str]:
    """Where a text notebook and its .ipynb disagree (empty: in sync)."""
    import jupytext
    import nbformat

    text, paired = cells_of(jupytext.read(md)), cells_of(nbformat.read(ipynb, as_version=4))
    out = [f"{md.name} has {len(text)} cells, {ipynb.name} {len(paired)}"] if len(text) != len(paired) else []
    return out + [f"cell {i}: {a[1][:60]!r} vs {b[1][:60]!r}" for i, (a, b) in enumerate(zip(text, paired)) if a != b]


def test_every_chapter_is_a_text_notebook_in_sync_with_its_ipynb():
    """Notebooks/<name>.md is the source a reader edits; the paired .ipynb (what papermill
    runs) must say the same, cell for cell, and carry no outputs (executed copies go to
    book/_generated).  `make notebooks` re-syncs a pair."""
    import nbformat

    texts = sorted((ROOT / "notebooks").glob("*.md"))
    assert {p.stem for p in texts} == {p.stem for p in NOTEBOOKS}
    for md in texts:
        assert pair_differences(md, md.with_suffix(".ipynb")) == [], f"run `make notebooks`: {md.name}"
        nb = nbformat.read(md.with_suffix(".ipynb"), as_version=4)
        assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), md.name


def test_an_edit_on_one_side_of_a_pair_is_caught(tmp_path):
    """The sync check above is not vacuous: one changed word in the text notebook is found."""
    import shutil

    md = ROOT / "notebooks" / "table4_simsiam_components.md"
    shutil.copy(md, tmp_path / md.name)
    shutil.copy(md.with_suffix(".ipynb"), tmp_path / md.with_suffix(".ipynb").name)
    copy = tmp_path / md.name
    assert pair_differences(copy, copy.with_suffix(".ipynb")) == []
    copy.write_text(copy.read_text().replace("chapter.paper_table(ch)", "chapter.paper_table(ch)  # edited"))
    assert len(pair_differences(copy, copy.with_suffix(".ipynb"))) == 1


def test_every_experiment_has_its_notebook_in_the_book():
    from ssllib.experiments import EXPERIMENTS

    toc = (ROOT / "_toc.yml").read_text()
    for exp in EXPERIMENTS.values():
        assert (ROOT / "notebooks" / exp.notebook).is_file(), exp.notebook
        assert f"book/_generated/{Path(exp.notebook).stem}" in toc, exp.notebook



@pytest.mark.skipif(find_data_dir(archive="cifar100.tar.xz") is None, reason="offline CIFAR-100 archive not present")
def test_a_chapter_runs_offline_on_cifar100():
    """`-p dataset cifar100` needs no network: a chapter's run-or-load (what its notebook calls)
    finds the offline copy, trains at smoke size on 100 classes, and the records say which copy."""
    from ssllib import chapter

    ch = chapter.run("table4", "smoke", dataset="cifar100", seeds=[0])
    assert ch.records and all(r["config"]["dataset"] == "cifar100" for r in ch.records)
    assert all("CIFAR-100, offline JPEG-q75 copy" in r["provenance"]["data_source"] for r in ch.records)
    assert ch.dataset == "cifar100" and chapter.paper_table(ch).details["ours on"].eq("cifar100").all()
