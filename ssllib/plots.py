"""Figures for the notebooks: metrics over training, one line per variant (mean over seeds)."""
from __future__ import annotations

from collections import defaultdict

from .decomposition import eta_cosine
from .gradients import FIG5C_TAUS
from .results import read_curve

LABELS = {"z_std_sqrt_d": "std of l2-normalised z × √d", "m_o": "m_o = ‖o‖/‖z‖",
          "m_r": "m_r = ‖r‖/‖z‖", "covariance": "covariance of Z (Alg. 5)", "loss": "loss",
          "covariance_z": "covariance of z (Alg. 5)", "eta_p": "η_p (SimSiam)", "eta_z": "η_z (Mirror)",
          "probe_acc": "online probe, train batch (%)"}


def curves(records, keys=("z_std_sqrt_d", "m_o", "m_r"), skip=("random_init",), healthy_std=True,
           title=None):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(keys), figsize=(4.2 * len(keys), 3.4), squeeze=False)
    series = defaultdict(list)
    lengths = len({r["config"]["epochs"] for r in records}) > 1  # runs of two lengths: say which is which
    for r in records:
        curve = read_curve(r) if r["variant"] not in skip else []
        if curve:  # untrained controls (0 steps) have no curve
            series[r["variant"] + (f" ({r['config']['epochs']:g} ep.)" if lengths else "")].append(curve)
    if not series:  # nothing cached (allow_train False) or only untrained controls: say so
        for ax in axes[0]:
            ax.text(0.5, 0.5, "no trained run cached at this profile", ha="center", va="center")
            ax.set_axis_off()
        return fig
    for ax, key in zip(axes[0], keys):
        for variant, runs in series.items():
            steps = [row["step"] for row in min(runs, key=len)]
            mean = [sum(run[i][key] for run in runs) / len(runs) for i in range(len(steps))]
            ax.plot(steps, mean, label=variant.replace("_", " "))
        for run in runs[:1] if "phase" in runs[0][0] else []:  # Figure 5(b): shade the phases
            bounds = [row["step"] for a, row in zip(run, run[1:]) if row["phase"] != a["phase"]]
            for x in bounds:
                ax.axvline(x, color="k", lw=0.8, ls=":")
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


def eta_sweep(records):
    """Figure 5(a): cos(o_e - eta o_ref, o_ref) against eta at the end of training (left; the zero
    crossing is eta_p for SimSiam, eta_z for Mirror SimSiam) and eta over training (right)."""
    import matplotlib.pyplot as plt
    import numpy as np

    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4))
    eta = np.linspace(-2, 2, 201)
    for r in records:
        curve = read_curve(r)
        if "o_zp" not in curve[-1]:
            continue
        mirror = r["config"]["loss"] == "mirror_simsiam"
        key = "eta_z" if mirror else "eta_p"
        last = curve[-1]
        label = f"{r['variant'].replace('_', ' ')} ({key})"
        left.plot(eta, eta_cosine(eta, last["o_z_sq"], last["o_p_sq"], last["o_zp"], mirror=mirror), label=label)
        right.plot([row["step"] for row in curve], [row[key] for row in curve], label=label)
    left.axhline(0, color="grey", lw=0.8)
    left.set_xlabel("η"); left.set_title("cos(o_e − η·o_ref, o_ref), end of training", fontsize=10)
    right.set_xlabel("training step"); right.set_title("zero crossing η over training", fontsize=10)
    for ax in (left, right):
        ax.grid(alpha=0.3); ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def against_tau(rows: dict, ylabel: str, title: str):
    """One line per series of {series: {tau: value}} against the temperature (Figs. 5c and 8)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.6, 3.4))
    for label, points in rows.items():
        taus = sorted(points)
        ax.plot(taus, [points[t] for t in taus], marker="o", label=label)
    ax.set_xscale("log"); ax.set_xlabel("temperature τ"); ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10); ax.grid(alpha=0.3); ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def learning_curves(records, controls=("random_init", "random_init_bn", "raw_pixels")):
    """kNN and linear accuracy over epochs (the runs' `learning_curve`, mean over seeds),
    the untrained controls as horizontal lines, and m_r of z over the same epochs."""
    import matplotlib.pyplot as plt

    keys = (("knn_acc", "kNN accuracy (%)"), ("linear_acc", "linear probe (%)"), ("m_r", "m_r of z"))
    fig, axes = plt.subplots(1, 3, figsize=(12.6, 3.4))
    series = defaultdict(list)
    for r in records:
        if r["variant"] not in controls and r.get("learning_curve"):
            series[f"{r['variant']} ({r['config']['epochs']:g} ep.)".replace("_", " ")].append(r["learning_curve"])
    for ax, (key, title) in zip(axes, keys):
        for label, runs in series.items():
            n = min(len(run) for run in runs)
            points = [(runs[0][i]["epoch"], sum(run[i].get(key, float("nan")) for run in runs) / len(runs))
                      for i in range(n)]
            ax.plot(*zip(*points), marker="o", ms=3, label=label)
        for i, name in enumerate(c for c in controls if key != "m_r"):
            rs = [r for r in records if r["variant"] == name]
            if rs:
                ax.axhline(sum(r["metrics"][key] for r in rs) / len(rs), color=f"C{7 + i % 3}", ls="--", lw=1,
                           label=f"control: {name.replace('_', ' ')}")
        ax.set_xlabel("epoch"); ax.set_title(title, fontsize=10); ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def _by_tau(records, key_of):
    return {r["config"]["options"]["tau"]: r["metrics"][key_of(r)] for r in records
            if key_of(r) in r["metrics"]}


def decorrelation_alignment(records):
    """Figure 5(c): per temperature, the mean cosine between InfoNCE's r_e (and o_e) and the
    negative gradient of the de-correlation loss, on each final model (gradients.FIG5C_TAUS)."""
    series = {}
    for r in records:
        for part in ("r_e", "o_e"):
            have = {t: r["metrics"][f"decor_cos_{part}_tau{t:g}"] for t in FIG5C_TAUS
                    if f"decor_cos_{part}_tau{t:g}" in r["metrics"]}
            if have and (part == "r_e" or r["variant"] == "infonce"):
                series[f"{r['variant'].replace('_', ' ')}: {part}"] = have
    return against_tau(series, "mean cosine with −∇ decorrelation loss", "Figure 5(c)")


def temperature_sweep(records):
    """Figure 8: accuracy (a) and covariance of z (b) against InfoNCE's temperature."""
    accuracy = against_tau({"linear probe": _by_tau(records, lambda r: "linear_acc"),
                            "kNN": _by_tau(records, lambda r: "knn_acc")}, "top-1 (%)", "Figure 8(a): accuracy")
    covariance = against_tau({"covariance of z": _by_tau(records, lambda r: "covariance_z")},
                             "Algorithm 5 covariance", "Figure 8(b): covariance")
    return accuracy, covariance


def auc_vs_accuracy(runs):
    """Li et al.: the label-free spectral AUC against linear accuracy, one point per run
    (`runs`: the DataFrame of scorecard.trained_runs_frame)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.6))
    for collapsed, part in runs.groupby("collapsed") if len(runs) else []:
        ax.scatter(part["spectral AUC"], part["linear (%)"], label="collapsed" if collapsed else "not collapsed")
    ax.set_xlabel("spectral AUC (no labels)"); ax.set_ylabel("linear probe (%)"); ax.legend(); ax.grid(alpha=0.3)
    return fig


def spectra(records):
    """Singular values of the runs with the lowest, the median and the highest spectral AUC."""
    import matplotlib.pyplot as plt

    ordered = sorted(records, key=lambda r: r["metrics"]["spectral_auc"])
    picks = ({"lowest AUC": ordered[0], "median AUC": ordered[len(ordered) // 2], "highest AUC": ordered[-1]}
             if ordered else {})
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for label, r in picks.items():
        s = r["spectrum"]
        ax.semilogy(range(1, len(s) + 1), [max(x, 1e-12) for x in s],
                    label=f"{label}: {r['experiment']}/{r['variant']} (AUC {r['metrics']['spectral_auc']:.3f}, "
                          f"m_r {r['metrics']['m_r']:.2f})")
    ax.set_xlabel("component"); ax.set_ylabel("singular value"); ax.legend(fontsize=7); ax.grid(alpha=0.3)
    return fig


def sweep_grid(records):
    """Li et al.'s model-size x dataset-size sweep: AUC and linear accuracy as two heat maps."""
    import matplotlib.pyplot as plt
    import pandas as pd

    grid = pd.DataFrame([{"width": r["config"]["width"], "images": r["config"]["train_subset"],
                          "AUC": r["metrics"]["spectral_auc"], "linear": r["metrics"]["linear_acc"]}
                         for r in records])
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, key in zip(axes, ("AUC", "linear")):
        table = grid.pivot_table(index="width", columns="images", values=key)
        ax.imshow(table.values, cmap="viridis")
        ax.set_xticks(range(len(table.columns)), table.columns); ax.set_yticks(range(len(table.index)), table.index)
        ax.set_xlabel("training images"); ax.set_ylabel("encoder width"); ax.set_title(key)
        for (i, j), val in pd.DataFrame(table.values).stack().items():
            ax.text(j, i, f"{val:.2f}" if key == "AUC" else f"{val:.1f}", ha="center", va="center", color="w")
    return fig


VERDICT_COLOURS = {"reproduced": "tab:green", "not reproduced": "tab:red", "undecided": "tab:orange"}


def forest(rows, title="Accuracy claims: our difference (a − b) with its interval"):
    """One row per accuracy claim that reached an estimate: our difference of means with its
    interval (95%; 90% for 'about as accurate'), zero and the claim's minimum gap or margin
    marked, the paper's difference (×) where it gives both numbers, coloured by verdict."""
    import matplotlib.pyplot as plt

    rows = [r for r in rows if r.get("difference") is not None]
    fig, ax = plt.subplots(figsize=(9, 0.7 * len(rows) + 1.4))
    if not rows:
        ax.text(0.5, 0.5, "no accuracy claim has an estimate at this length yet", ha="center", va="center")
        ax.set_axis_off()
        plt.close(fig)
        return fig
    for y, r in enumerate(reversed(rows)):
        colour = VERDICT_COLOURS.get(r["verdict"], "grey")
        ax.plot([r["ci_low"], r["ci_high"]], [y, y], color=colour, lw=2.5)
        ax.plot(r["difference"], y, "o", color=colour)
        gap = r["margin"]
        marks = [-gap, gap] if r["test"] == "equal" else [-gap] if r["test"] == "at_least" else [gap]
        for x in marks:
            ax.plot([x, x], [y - 0.3, y + 0.3], color="k", lw=1)
        if r.get("paper_difference") is not None:
            ax.plot(r["paper_difference"], y, "x", color="k", ms=7)
    ax.axvline(0, color="grey", lw=1, ls="--")
    import textwrap

    labels = ["\n".join(textwrap.wrap(f"{r.get('experiment', '')}: {r['claim']}", 44)) for r in reversed(rows)]
    ax.set_yticks(range(len(rows)), labels, fontsize=8)
    ax.set_xlabel("difference in accuracy, points (| = minimum gap or margin, × = the paper's)")
    handles = [plt.Line2D([], [], color=c, lw=2.5, label=v) for v, c in VERDICT_COLOURS.items()]
    ax.legend(handles=handles, fontsize=8, loc="lower right")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    plt.close(fig)  # shown once, as the value returned
    return fig


def power_curves(effects, power: dict, detectable: dict, sd: float):
    """The rules page's simulation: the share of claims called reproduced against the true
    difference, one line per number of seeds, with the difference `stats.detectable` quotes."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    for i, (n, rates) in enumerate(power.items()):
        ax.plot(effects, rates, marker="o", color=f"C{i}", label=f"{n} seeds a side")
        ax.axvline(detectable[n], color=f"C{i}", ls=":", lw=1)
    ax.axhline(0.8, color="grey", ls="--", lw=1, label="80% power")
    ax.set_xlabel(f"true difference (points; seed std {sd:g})")
    ax.set_ylabel("share called reproduced")
    ax.set_title("Power of the order rule in a family of 10 claims (dotted: the quoted detectable difference)",
                 fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    plt.close(fig)  # shown once, as the value returned
    return fig
