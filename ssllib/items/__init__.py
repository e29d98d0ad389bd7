"""Every paper item the book reproduces, one declaration each, grouped as the book is (`_toc.yml`):

    section2.py  Zhang et al., Section 2     section4.py  Zhang et al., Section 4
    section3.py  Zhang et al., Section 3     chen_he.py   Chen & He's ablations
                                             li_et_al.py  Li et al.'s label-free metric

A declaration (`ssllib.experiment_spec.Experiment`) holds all of an item: its variants, seeds and
scale per length, its notebook, its book part (`section`), its label, how its collapse claims are
judged (`judge`, `reference`), the paper's numbers for it (`paper`, typed once, beside it) and its
planned accuracy claims (`claims`, each with the date it was written, fixed before its runs).
`ssllib.paper.REPORTED` and `ssllib.plan.PLAN` are views over the declarations; the rules page shows
both as tables.  Adding an item is one declaration here, its notebook and its `_toc.yml` line;
`tests/test_items.py` names any part that is missing.
"""
from __future__ import annotations

from . import chen_he, li_et_al, section2, section3, section4

MODULES = (section2, section3, section4, chen_he, li_et_al)  # the book's order
ITEMS = {name: exp for module in MODULES for name, exp in module.ITEMS.items()}
