"""The Findings page (ssllib.findings): each claim shown on its trained-length evidence, summaries
counted from the rows, and the page's headings the module's explanations in order."""
import re
from pathlib import Path

from ssllib import findings, rules

ROOT = Path(__file__).resolve().parent.parent


def row(experiment, claim, length, verdict, dataset="cifar10", runs=3):
    return {"experiment": experiment, "item": "Table 4", "claim": claim, "length": length, "dataset": dataset,
            "verdict": verdict, "runs": [f"k{i}" for i in range(runs)]}


ROWS = [row("table4", "r_e only does not collapse", "cpu", rules.TOO_SHORT),
        row("table4", "r_e only does not collapse", "cpu_long", rules.REPRODUCED),
        row("table4", "r_e beats o_e", "cpu_long", rules.UNDECIDED, runs=6),
        row("table4", "r_e beats o_e", "cpu_long20", rules.REPRODUCED, dataset="cifar100", runs=6),
        row("table3", "baseline does not collapse", "cpu", rules.REPRODUCED, runs=1),
        row("fig8", "temperature", "cpu_long", rules.UNTESTED, runs=0)]


def test_a_claim_is_shown_at_its_trained_length_on_each_dataset_and_falls_back_to_short_runs():
    claims = {c["claim"]: c for c in findings.evidence(ROWS, {"table4", "table3"})}
    assert [r["length"] for r in claims["r_e only does not collapse"]["rows"]] == ["cpu_long"]
    assert [r["dataset"] for r in claims["r_e beats o_e"]["rows"]] == ["cifar10", "cifar100"]
    assert not claims["baseline does not collapse"]["trained"]
    assert "temperature" not in claims  # fig8 was not asked for


def test_a_labelled_extra_is_left_to_its_chapter():
    """A comparison a plan amendment replaced (its row's family: rules.EXTRA) is not evidence for its
    claim here, on either dataset, and is not counted: the chapter shows it, labelled."""
    extra = dict(ROWS[3], verdict=rules.NOT, family=rules.EXTRA)
    claims = findings.evidence([ROWS[2], extra], {"table4"})
    assert [r["dataset"] for r in claims[0]["rows"]] == ["cifar10"]
    assert findings.evidence([extra], {"table4"}) == []


def test_a_decided_verdict_on_either_dataset_counts_in_the_summary_and_disagreement_is_partly():
    claims = findings.evidence(ROWS, {"table4", "table3"})
    assert findings.best_verdict(next(c for c in claims if c["claim"] == "r_e beats o_e")) == rules.REPRODUCED
    split = findings.evidence([ROWS[3], dict(ROWS[2], verdict=rules.NOT)], {"table4"})
    assert findings.best_verdict(split[0]) == rules.PARTLY  # never the more favourable dataset
    said = findings.summary(claims)
    assert said == "Of its 3 claims: 3 reproduced (1 judged on the short runs only)."
    assert findings.summary([]) == "No claim of it is judged yet."


def test_the_table_names_dataset_length_and_runs_and_escapes_text():
    claims = findings.evidence([dict(ROWS[2], claim="a <b> claim")], {"table4"})
    table = findings.table_html(claims, lambda e: f"{e}.html")
    assert "a &lt;b&gt; claim" in table and 'href="table4.html"' in table
    assert "CIFAR-10, 10 epochs, 6 runs" in table
    assert findings.where(ROWS[4]) == "CIFAR-10, short runs (`cpu`), 1 run"


def test_totals_count_every_claim_of_the_papers_sections_once():
    total = findings.totals(ROWS)
    assert total["claims"] == 4 and total["trained"] == 3
    assert total[rules.REPRODUCED] == 3 and total[rules.UNTESTED] == 1


def test_the_findings_page_has_one_section_per_explanation_in_order():
    md = (ROOT / "notebooks" / "findings.md").read_text()
    headings = re.findall(r"^## (.*)$", md, re.M)
    assert headings[:len(findings.EXPLANATIONS)] == [e[0] for e in findings.EXPLANATIONS]
    assert md.count("show(") == len(findings.EXPLANATIONS) + 1  # the helper's definition and one call each
