"""The accuracy verdicts (the rules page, "Accuracy claims"): every claim of the run plan
(`ssllib.plan`) judged by the estimated difference with its confidence interval, Holm-adjusted
over the plan's family at that length and dataset: every planned claim counts, one not run (or not
testable) with p = 1, so that a verdict does not move with the order in which runs land.

- order ("a beats b by at least `gap`"): reproduced when Holm rejects "no difference" and the
  estimate lies in the paper's direction by at least `gap`; not reproduced when Holm rejects it
  in the other direction; otherwise undecided, beside the smallest effect the planned seeds could
  detect with 80% power.
- equal ("a about as accurate as b"): two one-sided tests against +-`gap`; reproduced when Holm
  rejects non-equivalence (the 90% interval inside the margin); not reproduced when the interval
  at the claim's Holm level lies wholly outside it.
- at_least ("a not worse than b by more than `gap`"): one-sided, the same way.
The primary estimate is Welch's over every planned seed; where the runs mix devices, the estimate
blocked by device is the sensitivity analysis, and a verdict other than undecided needs both to
agree.  Only the plan's seeds count; a claim whose planned seeds are not all in is undecided; an
arm that has not learned (linear accuracy under the strongest untrained control + LEARNS_GAP)
cannot be ordered: "not testable at this length".  Holm's adjusted p only falls as the rest of the
family lands (it is monotone in each p), so a reproduced or not-reproduced verdict stands; an
undecided one in an incomplete family is provisional.
"""
from __future__ import annotations

import statistics
from functools import lru_cache

from . import records as cache, stats
from .config import Config, config_hash
from .experiment_spec import METRIC_NAMES
from .experiments import make_config
from .paper import REPORTED
from .plan import CONTROLS, HEAD_CHECK, LEARNS_GAP, PLAN, PlannedClaim, at_length, family, planned
from .report import by_variant, runs_of
from .rules import (EXTRA, NOT, REPRODUCED, TOO_SHORT, UNDECIDED, UNTESTED, accuracy_equal_claim, accuracy_gap_claim,
                    claim_row)


def device_of(record: dict) -> str | None:
    """The kind of device that trained a record: "cuda" or "cpu" (augmentations are drawn on the
    training device, so the same seed on the two is a different run); None for an untrained control,
    which has no training to differ."""
    if record.get("train", {}).get("steps", 1) == 0:
        return None
    device = record.get("provenance", {}).get("device", "")
    return "cuda" if ("NVIDIA" in device or "cuda" in device.lower()) else "cpu"


def _values(records, metric):
    return [r["metrics"][metric] for r in records]


def _counted(claim: PlannedClaim, records: list, length: str | None):
    """The records the plan counts (its seeds at `length`) and those it only shows."""
    seeds = claim.seeds.get(length) if length else None
    if seeds is None:
        return list(records), []
    return ([r for r in records if r.get("seed", 0) in seeds], [r for r in records if r.get("seed", 0) not in seeds])


def _measured(claim: PlannedClaim, v: dict) -> tuple[dict, str]:
    """The claim's arms with only the records that measured its metric (a metric added after some
    runs, e.g. knn20_acc, counts like a seed not yet run), and those left out, in words."""
    out, left = {}, []
    for n in (claim.a, *claim.b):
        have = [r for r in v.get(n, []) if claim.metric in r["metrics"]]
        left += [f"{n} seed {r.get('seed', 0)}" for r in v.get(n, []) if claim.metric not in r["metrics"]]
        if have:
            out[n] = have
    return out, ", ".join(left)


def blocked_estimate(a: list, b: list, metric: str) -> tuple[stats.Difference | None, str]:
    """The sensitivity analysis beside Welch: the difference of `a` and `b` in `metric` blocked by
    device over the devices both arms ran on (pooled seed variance), with a note naming the devices
    left out because one arm never ran there; (None, "") when one device trained every run (or one
    arm is untrained), where it would only repeat Welch."""
    da, db = {device_of(r) for r in a} - {None}, {device_of(r) for r in b} - {None}
    if not da or not db or len(da | db) == 1:
        return None, ""
    cells = [{d: _values([r for r in rs if device_of(r) == d], metric) for d in ds & db & da}
             for rs, ds in ((a, da), (b, db))]
    dropped = sorted((da | db) - (da & db))
    note = f"runs on {', '.join(dropped)} in one arm only left out" if dropped else ""
    try:
        return stats.blocked(cells[0], cells[1]), note
    except ValueError as e:
        return None, f"not estimable blocked by device: {e}"


def strongest_control(table2_records: list) -> tuple[str, float] | None:
    """The strongest untrained control (Table 2's random encoders and raw pixels) by mean linear
    accuracy at the records' length and dataset: the "has learned" bar is LEARNS_GAP above it."""
    v = by_variant(table2_records)
    means = {n: statistics.fmean(_values(v[n], "linear_acc")) for n in CONTROLS if v.get(n)}
    return max(means.items(), key=lambda kv: kv[1]) if means else None


def unlearned(claim: PlannedClaim, arms: dict, control: tuple[str, float] | None) -> list[str]:
    """The trained arms of `claim` (name -> counted records) whose mean linear accuracy is under the
    "has learned" bar (the strongest untrained control + LEARNS_GAP points), in words.  Arms the
    paper says do not work (`claim.may_fail`) and Table 2's own "learns features" claims (the bar
    is their claim) are not gated."""
    if control is None or claim.b == CONTROLS:
        return []
    out = []
    for name, rs in arms.items():
        if name in claim.may_fail or not rs or all(r.get("train", {}).get("steps", 1) == 0 for r in rs):
            continue
        mean = statistics.fmean(_values(rs, "linear_acc"))
        if mean < control[1] + LEARNS_GAP:
            out.append(f"{name} ({mean:.1f}% linear, {mean - control[1]:+.1f} points over {control[0]})")
    return out


def _device_mix(records) -> str:
    counts = {}
    for r in records:
        d = device_of(r) or "untrained"
        counts[d] = counts.get(d, 0) + 1
    return "+".join(f"{n} {d}" for d, n in sorted(counts.items()))


def _p(claim: PlannedClaim, d: stats.Difference) -> float:
    return (d.p_two_sided() if claim.kind == "order" else stats.tost_p(d, claim.gap) if claim.kind == "equal"
            else d.p_greater(-claim.gap))


def judge_raw(claim: PlannedClaim, v: dict, length: str | None, control: tuple[str, float] | None = None) -> dict:
    """One planned claim on one experiment's records by variant: its row before Holm, with
    `_diff` (Welch's estimate) and `_p` (the p-value that enters the family), `_blocked` and
    `_p_blocked` (the device-blocked sensitivity analysis, or None), or a final verdict.  `control`:
    the strongest untrained control at this length (strongest_control), for the has-learned gate."""
    metric = METRIC_NAMES[claim.metric]
    paper_text, paper_diff = _paper_text(claim)
    row = claim_row(claim.item, claim.claim, paper_text, "–", UNTESTED, kind="accuracy")
    row |= {"_extra": claim.extra, "blocked": "–", "unlearned": [], "test": claim.kind, "margin": claim.gap,
            "metric": claim.metric, "paper_difference": paper_diff}
    row |= {"plan": f"{claim.kind}, {'gap' if claim.kind == 'order' else 'margin'} {claim.gap:g}, "
                    f"{metric}, seeds {list(claim.seeds.get(length, ()))} at {length}, {claim.dataset}; "
                    f"written {claim.written}" + (f"; {claim.note}" if claim.note else "")}
    if length is not None and length not in claim.seeds:
        where = ", ".join(f"{k} ({len(s)} seeds)" for k, s in claim.seeds.items())
        return row | {"verdict": TOO_SHORT, "reason": f"the plan judges this claim at {where}: encoders at this "
                      "length have not learned enough to order (the Table 2 chapter)"}
    if claim.a not in v or not any(n in v for n in claim.b):
        return row | {"verdict": UNTESTED, "reason": f"planned at {length}: not run yet"}
    v, unmeasured = _measured(claim, v)
    if claim.a not in v or not any(n in v for n in claim.b):
        return row | {"verdict": UNTESTED, "reason": f"{metric} accuracy not measured for these runs"}
    a, a_extra = _counted(claim, v[claim.a], length)
    b_name = max((n for n in claim.b if n in v),
                 key=lambda n: statistics.fmean(_values(_counted(claim, v[n], length)[0] or v[n], claim.metric)))
    b, b_extra = _counted(claim, v[b_name], length)
    row["runs"] = runs_of(a + b)
    extra = a_extra + b_extra
    shown = f"; not counted (beyond the plan): seeds {sorted({r.get('seed') for r in extra})}" if extra else ""
    planned_n = len(claim.seeds.get(length, ())) if length in claim.seeds else None
    means = f"{metric} {statistics.fmean(_values(a, claim.metric)):.2f}% vs " \
            f"{statistics.fmean(_values(b, claim.metric)):.2f}%" if a and b else f"{metric}: no planned seed run"
    row["ours"] = f"{means} ({len(a)} vs {len(b)} seeds; {_device_mix(a)} vs {_device_mix(b)}){shown}"
    if len(claim.b) > 1:
        row["reason"] = f"strongest control: {b_name}. "
    if planned_n and (len(a) < planned_n or len(b) < planned_n):
        return row | {"verdict": UNDECIDED, "reason": row.get("reason", "") +
                      f"{min(len(a), len(b))} of the {planned_n} planned seeds run" +
                      (f" with {metric} accuracy measured ({unmeasured} without it)" if unmeasured else "")}
    failed = unlearned(claim, {claim.a: a, b_name: b}, control)
    if failed:
        return row | {"verdict": TOO_SHORT, "unlearned": failed, "reason": row.get("reason", "") +
                      f"an arm has not learned at this length: {'; '.join(failed)}, under the bar of "
                      f"{LEARNS_GAP:g} points over the strongest untrained control; its order says nothing"}
    try:
        d = stats.welch(_values(a, claim.metric), _values(b, claim.metric))
    except ValueError as e:
        return row | {"verdict": UNDECIDED, "reason": row.get("reason", "") + f"not estimable: {e}"}
    blocked, note = blocked_estimate(a, b, claim.metric)
    return row | {"_diff": d, "_p": _p(claim, d), "_blocked": blocked,
                  "_p_blocked": _p(claim, blocked) if blocked else None, "_note": note,
                  "_planned_n": planned_n or min(len(a), len(b)), "_kind": claim.kind, "_gap": claim.gap}


def _paper_text(claim: PlannedClaim) -> tuple[str, float | None]:
    """The paper's numbers for the claim (ssllib.paper) and its difference, where it gives both."""
    paper = REPORTED.get(claim.experiment, {})
    tops = [paper.get(k, {}).get("top1") if isinstance(paper.get(k), dict) else None
            for k in (claim.a, claim.b[0] if len(claim.b) == 1 else "")]
    if None not in tops:
        return f"{tops[0]}% vs {tops[1]}%", round(tops[0] - tops[1], 2)
    row = paper.get(claim.a, {})
    text = row.get("text", f"{row['top1']}% linear" if "top1" in row else "–") if isinstance(row, dict) else "–"
    return text, None


def _decide(kind: str, d: stats.Difference, p_adj: float, level: float, gap: float, mde: str):
    """The verdict of one estimate given its Holm-adjusted p and its Holm level, and why."""
    undecided = f"the planned seeds detect a difference of {mde} points with 80% power"
    if kind == "order":
        if p_adj < stats.ALPHA and d.diff >= gap:
            return REPRODUCED, ""
        if p_adj < stats.ALPHA and d.diff < 0:
            return NOT, "the interval lies wholly in the other direction"
        if p_adj < stats.ALPHA:
            return UNDECIDED, f"a difference, but under the claim's minimum gap {gap:g}"
        return UNDECIDED, f"the interval holds 0 after Holm; {undecided}"
    wlo, whi = d.interval(level)
    outside = (whi < -gap) if kind == "at_least" else (wlo > gap or whi < -gap)
    if p_adj < stats.ALPHA:
        return REPRODUCED, ""
    if outside:
        return NOT, f"the interval at the claim's Holm level lies outside the margin {gap:g}"
    return UNDECIDED, f"the interval is not inside +-{gap:g} after Holm; {undecided}"


def _shown_interval(d: stats.Difference, kind: str) -> tuple[float, float, str]:
    """The interval a claim shows: 90% for "about as accurate" (two one-sided tests), else 95%;
    its ends and the text "+d [95% CI lo, hi]"."""
    lo, hi = d.interval(1 - 2 * stats.ALPHA if kind == "equal" else 1 - stats.ALPHA)
    return lo, hi, f"{d.diff:+.2f} [{'90%' if kind == 'equal' else '95%'} CI {lo:+.2f}, {hi:+.2f}]"


def _finish_family(family_rows: list[dict], m: int, label: str) -> None:
    """Holm over `family_rows` padded to the `m` planned claims with p = 1, then each verdict:
    Welch's, and where the runs mix devices the blocked estimate's in the same family; a decided
    verdict needs both."""
    ps = [r["_p"] for r in family_rows] + [1.0] * (m - len(family_rows))
    adjusted = stats.holm(ps)
    for i, r in enumerate(family_rows):
        d, kind, gap = r["_diff"], r["_kind"], r["_gap"]
        level = stats.holm_level(ps, i)
        lo, hi, interval = _shown_interval(d, kind)
        r["difference"], r["ci_low"], r["ci_high"], r["p_holm"] = d.diff, lo, hi, adjusted[i]
        r["family"] = label
        r["ours"] += f"; difference {interval}, Holm p {adjusted[i]:.3g} ({label}), {d.method}"
        mde = f"{stats.detectable(d.sd, r['_planned_n'], level=1 - stats.ALPHA / m):.1f}"
        verdict, why = _decide(kind, d, adjusted[i], level, gap, mde)
        r["welch"] = f"{interval}: {verdict}"
        if r["_blocked"] is not None:
            ps_b = list(ps)
            ps_b[i] = r["_p_blocked"]
            b = r["_blocked"]
            blocked, _ = _decide(kind, b, stats.holm(ps_b)[i], stats.holm_level(ps_b, i), gap, mde)
            r["blocked"] = f"{_shown_interval(b, kind)[2]}, {b.method}" + (f", {r['_note']}" if r["_note"] else "") \
                + f": {blocked}"
            if blocked != verdict:
                why = (f"Welch reads {verdict}, the estimate blocked by device {blocked}: a verdict needs both "
                       f"({r['blocked']})")
                verdict = UNDECIDED
        else:
            r["blocked"] = "– (one device)"
        if verdict == UNDECIDED and m > len(family_rows) and label.startswith("provisional"):
            why = f"{label}: {why}"
        r["verdict"], r["reason"] = verdict, (r.get("reason", "") + why).strip()


def finish(rows: list[dict], m: int | None = None) -> list[dict]:
    """Holm over the family: the rows that reached an estimate, padded with p = 1 up to `m`, the
    number of claims the plan has at this length and dataset (default: the rows with an estimate),
    then each verdict and its reason.  A labelled extra (a comparison a plan amendment replaced) is
    judged alone, outside the family.  An undecided verdict while some planned claims are not in
    reads "provisional (k of m planned claims in)"."""
    in_family = [r for r in rows if "_p" in r and not r.get("_extra")]
    m = max(m or 0, len(in_family))
    label = (f"family of {m}" if len(in_family) == m
             else f"provisional ({len(in_family)} of {m} planned claims in)")
    _finish_family(in_family, m, label)
    for r in rows:
        if "_p" in r and r.get("_extra"):
            _finish_family([r], 1, EXTRA)
        r["family"] = r.get("family", EXTRA if r.get("_extra") else label)
        for k in ("_diff", "_p", "_note", "_planned_n", "_kind", "_gap", "_blocked", "_p_blocked", "_extra"):
            r.pop(k, None)
    return rows


def judge(records_by_experiment: dict, length: str | None, dataset: str = "cifar10") -> list[dict]:
    """Every planned claim of the given experiments at `length`, judged together in the plan's Holm
    family there (the claims of experiments not given count as not run, p = 1)."""
    control = strongest_control(records_by_experiment.get("table2", []))
    rows = []
    for name, records in records_by_experiment.items():
        v = by_variant(records)
        rows += [dict(judge_raw(c, v, length, control), experiment=name) for c in planned(name, dataset)]
    return finish(rows, len(family(length, dataset)) if length else None)


@lru_cache(maxsize=8)
def _family_records(length: str, dataset: str) -> tuple:
    return tuple((name, tuple(cache.load(name, length, overrides={"dataset": dataset})))
                 for name in dict.fromkeys(c.experiment for c in at_length(length, dataset)))  # the plan's order


def claims(experiment: str, records: list, others: dict | None = None) -> list[dict]:
    """`experiment`'s planned claims judged on `records`, in the family of every planned claim at
    the records' length: `others` gives the other experiments' records (default: read from the
    cache; tests pass {})."""
    length = records[0].get("profile") if records else None
    dataset = records[0].get("config", {}).get("dataset", "cifar10") if records else "cifar10"
    if others is None:
        others = {k: list(v) for k, v in _family_records(length, dataset)} if at_length(length, dataset) else {}
    family = {**{k: v for k, v in others.items() if k != experiment}, experiment: records}
    return [r for r in judge(family, length, dataset) if r.pop("experiment") == experiment]


def rule6_verdict(claim: PlannedClaim, v: dict) -> str:
    """The verdict rule 6 gave before the run plan (every seed, a gap beyond max(gap, 2 x the
    larger seed std)): kept for the rules page's table of verdicts under both rules."""
    b_names = [n for n in claim.b if n in v]
    if claim.a not in v or not b_names:
        return "(not run)"
    b = max(b_names, key=lambda n: statistics.fmean(_values(v[n], claim.metric)))
    judge_old = accuracy_equal_claim if claim.kind == "equal" else accuracy_gap_claim
    return judge_old(claim.item, claim.claim, v[claim.a], v[b], "", claim.gap, key=claim.metric)["verdict"]


def both_ways(records_by_experiment: dict, length: str, dataset: str = "cifar10"):
    """Each planned claim at `length`: its verdict under rule 6 as it stood and under the plan's
    rules, the seeds counted, the interval (shown once, when the rules changed)."""
    import pandas as pd

    new = {(r["experiment"], r["claim"]): r for r in judge(records_by_experiment, length, dataset)}
    rows = []
    for name, records in records_by_experiment.items():
        v = by_variant(records)
        for c in planned(name, dataset):
            r = new[(name, c.claim)]
            interval = (f"{r['difference']:+.2f} [{r['ci_low']:+.2f}, {r['ci_high']:+.2f}]"
                        if r.get("difference") is not None else "–")
            rows.append({"claim": f"{name}: {c.claim}", "rule 6 (before)": rule6_verdict(c, v),
                         "plan rules (now)": r["verdict"], "seeds planned": len(c.seeds.get(length, ())),
                         "difference [interval]": interval})
    return pd.DataFrame(rows).set_index("claim") if rows else "no planned claim at this length"


def beyond_plan(records_by_experiment: dict, length: str, dataset: str = "cifar10"):
    """The records trained beyond the plan at `length` (shown in the chapters, not counted)."""
    out = []
    for name, records in records_by_experiment.items():
        for c in planned(name, dataset):
            names = _arm_names(c)
            seeds = c.seeds.get(length, ())
            out += [f"{name}/{r['variant']} seed {r.get('seed')}" for r in records
                    if r["variant"] in names and r.get("seed") not in seeds]
    return sorted(set(out))


def _arm_names(c: PlannedClaim) -> set:
    return {c.a, *c.b}


def with_reference_head(length: str, dataset: str = "cifar10", family: dict | None = None):
    """What the head check (`plan.HEAD_CHECK`) means for the verdicts: every planned claim at `length` with a
    plain-SimSiam arm (any variant that trains Table 2's SimSiam, found by its training key, labels
    aside) judged again with that arm's runs replaced, seed for seed, by Table 2's
    `simsiam_reference_head` runs (a seed the reference head lacks is left out), in one Holm family
    as always; beside the verdict as it stands (`family`: records by experiment, default read from
    the cache).  Only where the other arm does not carry our head (an untrained control, or a run
    behind another projector, as Table 5's simple predictors) is the swap like for like; a claim
    whose other arm was trained with our head is listed, not re-judged (both arms would need the
    reference head).  The head check's own claim is left out."""
    import pandas as pd

    family = family if family is not None else {k: list(v) for k, v in _family_records(length, dataset)}
    ref = {r["seed"]: r for r in family.get("table2", []) if r["variant"] == "simsiam_reference_head"}
    if not ref:
        return f"no reference-head run at {length} on {dataset}"

    def trains_simsiam(r):
        ours = make_config("table2", "simsiam", length, r["seed"], dataset=dataset)
        return config_hash(Config(**r["config"]), labels=False) == config_hash(ours, labels=False)

    swapped, arms = {}, {}
    for name, records in family.items():
        simsiam = [r for r in records if trains_simsiam(r)]
        arms[name] = {r["variant"] for r in simsiam}
        swapped[name] = [r for r in records if r not in simsiam] + [
            dict(ref[r["seed"]], experiment=name, variant=r["variant"]) for r in simsiam if r["seed"] in ref]
    now = {(r["experiment"], r["claim"]): r for r in judge(family, length, dataset)}
    touched = {(c.experiment, c.claim) for name in family for c in planned(name, dataset)
               if c.claim != HEAD_CHECK and _arm_names(c) & arms[name]}

    def our_head(r):  # trained behind our projector's affine final BN
        cfg = r["config"]
        return r["train"]["steps"] > 0 and cfg.get("proj_last_bn", True) and cfg.get("proj_last_bn_affine", True)

    def other_arms(name, c):  # the claim's runs that are not plain SimSiam
        v = by_variant(family[name])
        return [r for n in _arm_names(c) - arms[name] for r in v.get(n, [])]

    like_for_like = {(c.experiment, c.claim) for name in family for c in planned(name, dataset)
                     if not any(our_head(r) for r in other_arms(name, c))}
    rows = []
    for r in judge(swapped, length, dataset):
        key = (r["experiment"], r["claim"])
        if key not in touched:
            continue
        fair = key in like_for_like
        rows.append({"claim": f"{key[0]}: {key[1]}", "with our head": now[key]["verdict"],
                     "with the reference head": r["verdict"] if fair else
                     "– (the other arm has our head too: not re-judged)",
                     "its runs and difference": r["ours"] if fair else "–"})
    return pd.DataFrame(rows).set_index("claim") if rows else "no planned claim with a SimSiam arm at this length"
