"""The papers' reported numbers, as one view: each item's rows (`Experiment.paper`), typed once, on
the item's declaration in `ssllib.items`, and labelled there as the paper's.

Source: Zhang et al., "How does SimSiam avoid collapse without negative samples?" (ICLR 2022).
Their runs: ResNet-18, 1000 epochs, batch 256, CIFAR (Appendix A.1; the appendix says a 10-class
head, Table 5 says CIFAR-100).  `top1` is linear top-1 (%); a collapsed run is reported as 1%.
Chen & He (2021) and Li et al. (2022) likewise on their items.  Nothing here is ever measured by us.
"""
from .items import ITEMS
from .items.section4 import TABLE6  # Table 6's cosines, judged with Table 5's runs
from .report import Tables, frame

PAPER = "Zhang et al. (ICLR 2022)"



def from_items(items: dict) -> dict:
    """Item name -> the paper's rows for it, as declared on the item."""
    return {name: exp.paper for name, exp in items.items()}


REPORTED = from_items(ITEMS)
FIG8 = REPORTED["fig8"]
LI_ET_AL = REPORTED["collapse_sweep"]


def table():
    """Every number and statement of the papers the book checks, one row per item and row of it (the
    auditable list, shown on the rules page): label, collapse, linear top-1, std, m_o, m_r, text."""
    rows = []
    for name, exp in ITEMS.items():
        for key, row in exp.paper.items():
            row = row if isinstance(row, dict) else {"text": row}
            rows.append({"item (ours)": f"{exp.item} ({name})", "row": key, "label": row.get("label", ""),
                         **{k: row.get(k) for k in ("collapse", "top1", "std", "m_o", "m_r")},
                         "text": row.get("text", "")})
    rows += [{"item (ours)": "Table 6 (table5)", "row": key, "label": "cos(o_z, predictor bias)", "text": f"{cos}"}
             for key, cos in TABLE6.items()]
    every = frame(rows, "item (ours)")
    return Tables(every[["row", "collapse", "top1"]], every[["row", "label", "std", "m_o", "m_r", "text"]],
                  "labels, std, m_o, m_r and the text's statements")
