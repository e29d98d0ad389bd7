"""The papers' reported numbers, typed once, here, and labelled as theirs.

Source: Zhang et al., "How does SimSiam avoid collapse without negative samples?" (ICLR 2022),
seed file 000.  Their runs: ResNet-18, 1000 epochs, batch 256, CIFAR (Appendix A.1; the appendix
says a 10-class head, Table 5 says CIFAR-100).  `top1` is linear top-1 (%); a collapsed run is
reported as 1%.  Nothing in this file is ever measured by us.
"""

PAPER = "Zhang et al. (ICLR 2022)"

TABLE2 = {  # Table 2: Results of various Siamese architectures
    "simsiam": {"label": "SimSiam", "collapse": False, "top1": 66.62},
    "mirror_simsiam": {"label": "Mirror SimSiam", "collapse": True, "top1": 1.0},
    "naive_siamese": {"label": "Naive Siamese", "collapse": True, "top1": 1.0},
    "symmetric_predictor": {"label": "Symmetric Predictor", "collapse": True, "top1": 1.0},
}

REPORTED = {"table2": TABLE2}
