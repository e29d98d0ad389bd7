"""The registry of paper items (ssllib.items): every declaration has every part, and the modules
mirror the book's parts (_toc.yml).  Adding an item is one declaration plus its notebook; this test
names whatever else is missing."""
from pathlib import Path

import pytest
import yaml

from ssllib import items, paper, plan, verdicts
from ssllib.experiment_spec import SHORT, Experiment, PlannedClaim

ROOT = Path(__file__).resolve().parents[1]
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())


def toc_parts() -> list[list[str]]:
    return [[Path(c["file"]).name for c in part["chapters"]] for part in TOC["parts"]]


def missing_parts(name: str, exp: Experiment) -> list[str]:
    """What the item `name` lacks, one phrase each (empty: complete)."""
    stem = Path(exp.notebook).stem
    out = []
    if exp.name != name:
        out.append(f"its name field says {exp.name!r}")
    if not (ROOT / "notebooks" / f"{stem}.md").is_file():
        out.append(f"notebook notebooks/{stem}.md")
    if stem not in {c for part in toc_parts() for c in part}:
        out.append(f"a _toc.yml entry for {stem}")
    if not exp.item or len(exp.section) != 2:
        out.append("its label (item) and book part (section)")
    if not exp.paper and exp.judge != "none":
        out.append("the paper's numbers (paper=) on its declaration")
    rows = {k for k, v in exp.paper.items() if isinstance(v, dict) and "label" in v}
    if not rows <= set(exp.variants):  # a row of the paper's table must be a variant of ours
        out.append(f"variants for the paper's rows {sorted(rows - set(exp.variants))}")
    if exp.judge == "collapse":
        if exp.reference not in exp.variants:
            out.append(f"a reference variant for its collapse claims (got {exp.reference!r})")
        if not any("collapse" in row for row in exp.paper.values() if isinstance(row, dict)):
            out.append("a paper row saying whether it collapses (judge 'collapse')")
    elif exp.judge not in verdicts.JUDGES:
        out.append(f"a judge: 'collapse' or one of {sorted(verdicts.JUDGES)} (got {exp.judge!r})")
    if not set(exp.long_variants) <= set(exp.variants):
        out.append("long_variants among its variants")
    for claim in exp.claims:
        for v in (claim.a, *claim.b):
            if v not in exp.variants:
                out.append(f"variant {v!r} the run plan compares")
    page = ROOT / "notebooks" / f"{stem}.md"
    if exp.long_variants and page.is_file() and "chapter.long_length(" not in page.read_text():
        out.append("a long-length section (chapter.long_length) in its notebook")
    return out


@pytest.mark.parametrize("name", list(items.ITEMS))
def test_every_item_has_every_part(name):
    assert missing_parts(name, items.ITEMS[name]) == []


def test_the_item_modules_mirror_the_books_parts_in_order():
    """The book's parts that hold items (the findings before them and the whole picture after them
    hold none) are the item modules, in order."""
    stems = {Path(e.notebook).stem for e in items.ITEMS.values()}
    parts = [chapters for chapters in toc_parts() if set(chapters) & stems]
    assert len(parts) == len(items.MODULES)
    for module, chapters in zip(items.MODULES, parts):
        declared = list(dict.fromkeys(Path(e.notebook).stem for e in module.ITEMS.values()))
        assert declared == chapters, module.__name__
        assert {e.section for e in module.ITEMS.values()} == {module.SECTION}


def test_every_planned_claim_and_every_paper_table_belongs_to_an_item():
    assert {c.experiment for c in plan.PLAN} <= set(items.ITEMS)
    assert set(paper.REPORTED) == set(items.ITEMS)
    assert set(verdicts.CLAIMS) == set(items.ITEMS)


def test_a_toy_item_is_one_declaration_its_page_and_its_toc_line():
    """A new table is one declaration (variants, the paper's rows, its planned claims), its notebook
    and its _toc.yml line: the paper's numbers and the run plan are views that pick it up, its
    collapse claims are judged by the generic judge, and nothing else is missing."""
    toy = Experiment(name="toy", title="A toy item", item="Toy Table", section=("Toy et al.", "Section 1"),
                     variants={"simsiam": dict(loss="simsiam"), "no_predictor": dict(loss="simsiam", predictor="none")},
                     notebook="toy_table.ipynb", scale=SHORT, judge="collapse", reference="simsiam",
                     paper={"simsiam": {"label": "SimSiam", "collapse": False, "top1": 60.0},
                            "no_predictor": {"label": "no predictor", "collapse": True, "top1": 1.0}},
                     claims=(PlannedClaim("SimSiam beats no predictor", "simsiam", "no_predictor"),))
    assert missing_parts("toy", toy) == ["notebook notebooks/toy_table.md", "a _toc.yml entry for toy_table"]
    assert paper.from_items({"toy": toy}) == {"toy": toy.paper}
    [claim] = plan.from_items({"toy": toy})
    assert (claim.experiment, claim.item, claim.b) == ("toy", "Toy Table", ("no_predictor",))
    assert verdicts.judge_of(toy) is not None
    bare = Experiment(**{**toy.__dict__, "paper": {}})
    assert "the paper's numbers (paper=) on its declaration" in missing_parts("toy", bare)
    # a claim the plan judges at a long length: its arms run there, and its page shows that length
    assert Experiment(**{**toy.__dict__, "long_variants": ()}).long_variants == ("simsiam", "no_predictor")
    assert Experiment(**{**toy.__dict__, "long_variants": ("no_predictor",)}).long_variants == ("no_predictor", "simsiam")
    assert missing_parts("toy", toy) == missing_parts("toy", Experiment(**{**toy.__dict__, "long_variants": ()}))
    stopgrad = items.ITEMS["ab_stopgrad"]
    assert missing_parts("ab_stopgrad", Experiment(**{**stopgrad.__dict__, "long_variants": ("stop_gradient",)})) == [
        "a long-length section (chapter.long_length) in its notebook"]
    table2 = items.ITEMS["table2"]
    assert missing_parts("table2", Experiment(**{**table2.__dict__, "reference": "nope"})) == [
        "a reference variant for its collapse claims (got 'nope')"]
    assert missing_parts("table2", Experiment(**{**table2.__dict__, "judge": "vibes"}))[0].startswith("a judge")
