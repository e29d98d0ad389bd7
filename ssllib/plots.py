"""Figures for the notebooks: metrics over training, one line per variant (mean over seeds)."""
from __future__ import annotations

from collections import defaultdict

from .results import read_curve

LABELS = {"z_std_sqrt_d": "std of l2-normalised z × √d", "m_o": "m_o = ‖o‖/‖z‖",
          "m_r": "m_r = ‖r‖/‖z‖", "covariance": "covariance (Alg. 5)", "loss": "loss",
          "probe_acc": "online probe, train batch (%)"}


def curves(records, keys=("z_std_sqrt_d", "m_o", "m_r"), skip=("random_init",), healthy_std=True,
           title=None):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(keys), figsize=(4.2 * len(keys), 3.4), squeeze=False)
    series = defaultdict(list)
    for r in records:
        if r["variant"] not in skip:
            series[r["variant"]].append(read_curve(r))
    for ax, key in zip(axes[0], keys):
        for variant, runs in series.items():
            steps = [row["step"] for row in runs[0]]
            mean = [sum(run[i][key] for run in runs) / len(runs) for i in range(len(steps))]
            ax.plot(steps, mean, label=variant.replace("_", " "))
        if key == "z_std_sqrt_d" and healthy_std:
            ax.axhline(1.0, color="grey", ls="--", lw=1, label="healthy: 1/√d")
        ax.set_xlabel("training step")
        ax.set_title(LABELS.get(key, key), fontsize=10)
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig
