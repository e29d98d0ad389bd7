"""The accuracy rules (ssllib.stats, ssllib.accuracy, ssllib.plan): the estimates equal the
textbook ones, Holm and the equivalence tests behave as defined, the plan decides which runs count,
and a simulation measures the false-'reproduced' rate and the power of the whole rule."""
import math

import pytest

from ssllib import accuracy, report, rules, stats
from ssllib.plan import PLAN, PlannedClaim

scipy_stats = pytest.importorskip("scipy.stats")


def test_welch_is_scipys_unequal_variance_t_test():
    a, b = [52.3, 53.9, 50.2], [45.5, 51.3, 48.3, 47.0]
    d = stats.welch(a, b)
    ref = scipy_stats.ttest_ind(a, b, equal_var=False)
    assert math.isclose(d.p_two_sided(), ref.pvalue, rel_tol=1e-9)
    lo, hi = ref.confidence_interval(0.95)
    assert all(math.isclose(x, y, rel_tol=1e-9) for x, y in zip(d.interval(0.95), (lo, hi)))


def test_blocked_on_one_device_is_students_t_and_removes_a_device_offset():
    a, b = [52.3, 53.9, 50.2], [45.5, 51.3, 48.3]
    d = stats.blocked({"cpu": a}, {"cpu": b})
    assert math.isclose(d.p_two_sided(), scipy_stats.ttest_ind(a, b).pvalue, rel_tol=1e-9)
    # the GPU adds 5 points to every run; arm a ran mostly there, arm b mostly on the CPU
    noise = [0.3, -0.2, 0.1, -0.4, 0.2]
    arm_a = {"cuda": [55 + n for n in noise[:3]], "cpu": [50 + n for n in noise[3:]]}
    arm_b = {"cuda": [53 + noise[0]], "cpu": [48 + n for n in noise]}
    est = stats.blocked(arm_a, arm_b)
    pooled = stats.welch(arm_a["cuda"] + arm_a["cpu"], arm_b["cuda"] + arm_b["cpu"])
    assert abs(est.diff - 2.0) < 0.5 < abs(pooled.diff - 2.0)  # the true difference is 2


def test_holm_adjusts_step_down_and_monotone():
    assert [round(p, 6) for p in stats.holm([0.01, 0.04, 0.03])] == [0.03, 0.06, 0.06]
    assert stats.holm([0.5]) == [0.5] and stats.holm([0.9, 0.8]) == [1.0, 1.0]


def test_equivalence_is_shown_exactly_when_the_90_percent_interval_lies_inside_the_margin():
    for a, b in (([40.5, 40.9, 40.7], [40.0, 40.2, 40.4]), ([40.5, 44.9, 38.7], [40.0, 40.2, 40.4])):
        d = stats.welch(a, b)
        lo, hi = d.interval(0.90)
        assert (stats.tost_p(d, 2.0) < 0.05) == (-2.0 < lo and hi < 2.0)


def test_the_rule_keeps_false_reproduced_under_five_percent_and_has_the_power_it_quotes():
    """The rules page's simulation: no true difference in ten claims of three seeds each: the
    family-wise rate of any false 'reproduced' stays under alpha; a true difference of the size
    `detectable` quotes for those seeds is found about 80% of the time."""
    reps = 1000
    null = stats.simulate(n_claims=10, n_seeds=3, sd=2.0, effect=0.0, reps=reps, seed=1)
    assert null["family_wise_false_reproduced"] <= stats.ALPHA + 3 * math.sqrt(stats.ALPHA * (1 - stats.ALPHA) / reps)
    effect = stats.detectable(2.0, 3, level=1 - stats.ALPHA / 10)
    power = stats.simulate(n_claims=10, n_seeds=3, sd=2.0, effect=effect, reps=reps, seed=2)
    assert power["reproduced_rate"] >= stats.POWER - 3 * math.sqrt(stats.POWER * (1 - stats.POWER) / reps)
    smaller = stats.simulate(n_claims=10, n_seeds=3, sd=2.0, effect=effect / 3, reps=reps // 4, seed=3)
    assert smaller["reproduced_rate"] < power["reproduced_rate"]  # not vacuous: power grows with the effect


def run(variant, acc, seed, device="cpu (AMD EPYC)", steps=1950, profile="cpu_long", **metrics):
    return {"variant": variant, "seed": seed, "profile": profile, "config": {"dataset": "cifar10"},
            "train": {"steps": steps}, "provenance": {"device": device},
            "metrics": {"linear_acc": acc, "knn_acc": acc - 8, "m_r": 0.9, "collapsed": False, **metrics}}


def test_only_the_planned_seeds_count_and_the_rest_is_shown():
    claim = next(c for c in PLAN if c.experiment == "table3")
    records = ([run("remove_r_e", 48 + s / 4, s) for s in range(3)] + [run("baseline", 42 + s / 4, s) for s in range(3)]
               + [run("baseline", 60.0, 3)])  # a seed beyond the plan, which would reverse the claim
    row = accuracy.finish([accuracy.judge_raw(claim, report.by_variant(records), "cpu_long")])[0]
    assert row["verdict"] == rules.REPRODUCED and "3 vs 3 seeds" in row["ours"]
    assert "not counted (beyond the plan): seeds [3]" in row["ours"] and "written" in row["plan"]
    short = accuracy.judge_raw(claim, report.by_variant(records), "cpu")
    assert short["verdict"] == rules.TOO_SHORT and "cpu_long (3 seeds)" in short["reason"]
    two = [r for r in records if r["seed"] != 2]  # the plan says three: two are not enough to judge
    assert accuracy.judge_raw(claim, report.by_variant(two), "cpu_long")["verdict"] == rules.UNDECIDED


def test_a_record_without_the_claims_metric_counts_as_a_seed_not_yet_in():
    """CIFAR-100's kNN claim moved to knn20_acc (plan amendment of 2026-12-07): records written
    before it lack the metric and count as missing seeds (undecided, saying so), not as a failure
    of the whole claim; with every planned seed measured it is judged on knn20_acc alone."""
    claim = next(c for c in PLAN if c.metric == "knn20_acc")
    assert claim.dataset == "cifar100" and claim.seeds == {"cpu_long20": (0, 1, 2)}
    old = next(c for c in PLAN if c.dataset == "cifar100" and c.metric == "knn_acc")
    assert old.extra and "amendment of 2026-12-07" in old.note  # the k=200 claim, a labelled extra

    def arms(measured, knn20):
        out = [run(claim.a, 24.0, s, profile="cpu_long20", **({"knn20_acc": knn20 + s / 5} if s in measured else {}))
               for s in range(3)]
        return out + [run(b, 14.0, s, steps=0, profile="cpu_long20", knn20_acc=10.0 + s / 5)
                      for b in claim.b for s in range(3)]
    row = accuracy.judge_raw(claim, report.by_variant(arms({0}, 20.0)), "cpu_long20")
    assert row["verdict"] == rules.UNDECIDED
    assert "1 of the 3 planned seeds run with kNN k=20 accuracy measured (simsiam seed 1, simsiam seed 2" in row["reason"]
    none = accuracy.judge_raw(claim, report.by_variant(arms(set(), 20.0)), "cpu_long20")
    assert none["verdict"] == rules.UNTESTED and "not measured" in none["reason"]
    full = accuracy.finish([accuracy.judge_raw(claim, report.by_variant(arms({0, 1, 2}, 20.0)), "cpu_long20")])[0]
    assert full["ours"].startswith("kNN k=20 20.20% vs 10.20%")  # the metric it is judged on, not knn_acc


def test_welch_is_primary_and_the_device_blocked_estimate_must_agree():
    """Issue 38: Welch over every planned seed decides; where the runs mix devices the estimate
    blocked by device is shown beside it, and a verdict other than undecided needs both."""
    claim = PlannedClaim("x beats y", "x", "y", seeds={"cpu_long": (0, 1, 2, 3)}, item="Table 3", experiment="table3")
    gpu = "NVIDIA H200"
    records = ([run("x", 50.1, 0), run("x", 49.8, 1), run("x", 55.2, 2, gpu), run("x", 54.9, 3, gpu)]
               + [run("y", 48.0, 0), run("y", 48.3, 1), run("y", 53.1, 2, gpu), run("y", 52.8, 3, gpu)])
    row = accuracy.finish([accuracy.judge_raw(claim, report.by_variant(records), "cpu_long")])[0]
    assert "Welch" in row["ours"] and "4 vs 4 seeds" in row["ours"]  # no seed left out
    assert "blocked by device (2 devices)" in row["blocked"] and row["blocked"].endswith(rules.REPRODUCED)
    assert row["welch"].endswith(rules.UNDECIDED)  # the 5-point device offset inflates Welch's spread
    assert row["verdict"] == rules.UNDECIDED and "needs both" in row["reason"]
    one_device = [r for r in records if "NVIDIA" not in r["provenance"]["device"]] + \
        [dict(r, provenance={"device": "cpu"}, seed=r["seed"]) for r in records if "NVIDIA" in r["provenance"]["device"]
         and r["variant"] == "never"]
    assert accuracy.blocked_estimate(*(report.by_variant(one_device)[v] for v in ("x", "y")), "linear_acc") == (None, "")
    one_armed = [r for r in records if not (r["variant"] == "y" and "NVIDIA" in r["provenance"]["device"])]
    d, note = accuracy.blocked_estimate(*(report.by_variant(one_armed)[v] for v in ("x", "y")), "linear_acc")
    assert d.method == "blocked by device (1 device)" and "cuda in one arm only left out" in note
    assert (d.n_a, d.n_b) == (2, 2)


def test_the_family_is_the_plans_and_an_undecided_verdict_is_provisional_until_it_is_in():
    """Issue 38: Holm runs over every planned claim, the unrun ones at p = 1.  A claim reproduced
    alone reads undecided, provisional, while the rest is out; a claim reproduced with the rest at
    p = 1 stays reproduced whatever the rest turns out to be (Holm is monotone in each p)."""
    import random

    claim = next(c for c in PLAN if c.experiment == "table3")
    borderline = [run("remove_r_e", a, s) for s, a in enumerate((48.0, 50.5, 49.0))] + \
                 [run("baseline", a, s) for s, a in enumerate((45.0, 46.5, 44.5))]
    alone = accuracy.finish([accuracy.judge_raw(claim, report.by_variant(borderline), "cpu_long")])[0]
    assert alone["verdict"] == rules.REPRODUCED
    padded = accuracy.finish([accuracy.judge_raw(claim, report.by_variant(borderline), "cpu_long")], m=10)[0]
    assert padded["verdict"] == rules.UNDECIDED and "provisional (1 of 10 planned claims in)" in padded["reason"]
    clear = [run("remove_r_e", a, s) for s, a in enumerate((58.0, 58.5, 59.0))] + \
            [run("baseline", a, s) for s, a in enumerate((45.0, 45.5, 44.5))]
    first = accuracy.finish([accuracy.judge_raw(claim, report.by_variant(clear), "cpu_long")], m=10)[0]
    assert first["verdict"] == rules.REPRODUCED and "provisional" not in first["reason"]
    rng = random.Random(0)
    for _ in range(20):  # the other nine land, with any p-values
        others = [dict(accuracy.judge_raw(claim, report.by_variant(clear), "cpu_long"), _p=rng.random() ** 3)
                  for _ in range(9)]
        later = accuracy.finish([accuracy.judge_raw(claim, report.by_variant(clear), "cpu_long")] + others, m=10)[0]
        assert later["verdict"] == rules.REPRODUCED and later["p_holm"] <= first["p_holm"] + 1e-12
    # judge() pads to the plan's family at the length, whatever experiments it is given
    rows = accuracy.judge({"table3": clear}, "cpu_long")
    from ssllib.plan import family
    assert f"of {len(family('cpu_long'))} planned claims in" in rows[0]["family"]


def test_an_arm_that_has_not_learned_cannot_be_ordered():
    """Issue 38: an accuracy claim whose trained arm is under the strongest untrained control +
    LEARNS_GAP reads "not testable at this length" and names the arm; the arms the paper says do
    not work, and Table 2's own "learns features" claims, are not gated."""
    from ssllib.plan import LEARNS_GAP

    controls = [run("random_init", 36.0, s, steps=0) for s in range(3)] + [run("raw_pixels", 34.0, s, steps=0)
                                                                           for s in range(3)]
    arms = [run("mlp_authors_projector", 55 + s / 3, s) for s in range(3)] + \
           [run("one_bias", 36.0 + LEARNS_GAP - 1 + s / 3, s) for s in range(3)]
    rows = {r["claim"]: r for r in accuracy.judge({"table2": controls, "table5": arms}, "cpu_long")}
    bias = rows["a single bias is far below the MLP predictor"]
    assert bias["verdict"] == rules.TOO_SHORT and bias["unlearned"] and "one_bias" in bias["reason"]
    assert "random_init" in bias["reason"]
    learned = [dict(r, metrics=dict(r["metrics"], linear_acc=r["metrics"]["linear_acc"] + 3)) if r["variant"] == "one_bias"
               else r for r in arms]
    rows = {r["claim"]: r for r in accuracy.judge({"table2": controls, "table5": learned}, "cpu_long")}
    assert rows["a single bias is far below the MLP predictor"]["verdict"] != rules.TOO_SHORT
    fixed = next(c for c in PLAN if c.experiment == "ab_predictor")
    assert accuracy.unlearned(fixed, {"lr_constant": arms[:3], "fixed_random": arms[3:]}, ("random_init", 36.0)) == []


def test_holm_makes_a_claim_borderline_alone_undecided_in_a_family():
    claim = next(c for c in PLAN if c.experiment == "table3")
    records = [run("remove_r_e", a, s) for s, a in enumerate((48.0, 50.5, 49.0))] + \
              [run("baseline", a, s) for s, a in enumerate((45.0, 46.5, 44.5))]
    alone = accuracy.finish([accuracy.judge_raw(claim, report.by_variant(records), "cpu_long")])[0]
    assert alone["verdict"] == rules.REPRODUCED and alone["p_holm"] < 0.05
    noise = [dict(accuracy.judge_raw(claim, report.by_variant(records), "cpu_long"), _p=0.5) for _ in range(9)]
    in_family = accuracy.finish([accuracy.judge_raw(claim, report.by_variant(records), "cpu_long")] + noise)[0]
    assert in_family["verdict"] == rules.UNDECIDED and "80% power" in in_family["reason"]
    assert in_family["p_holm"] == pytest.approx(min(1.0, 10 * alone["p_holm"]))


def test_the_head_check_rejudges_a_simsiam_arm_only_against_arms_without_our_head():
    """The head check: with SimSiam's runs swapped, seed for seed, for the reference head's, a claim
    whose other arm is untrained or behind another projector is judged again; one whose other arm
    has our head too is listed, not re-judged; the head check's own claim is left out."""
    from ssllib.experiments import make_config
    from ssllib.plan import HEAD_CHECK

    def run(exp, variant, seed, acc, steps=1950):
        return {"experiment": exp, "variant": variant, "seed": seed, "profile": "cpu_long",
                "config": make_config(exp, variant, "cpu_long", seed).to_dict(), "train": {"steps": steps},
                "provenance": {"device": "cpu"}, "metrics": {"linear_acc": acc + seed / 5, "knn_acc": acc + seed / 5}}

    def arm(exp, variant, acc, **kw):
        return [run(exp, variant, s, acc, **kw) for s in (0, 1, 2)]

    family = {"table2": arm("table2", "simsiam", 53) + arm("table2", "simsiam_reference_head", 40)
              + arm("table2", "random_init", 30, steps=0),
              "table5": arm("table5", "simsiam", 53) + arm("table5", "one_bias", 39),
              "fig3": arm("fig3", "simsiam", 53) + arm("fig3", "inverse_predictor", 45)}
    t = accuracy.with_reference_head("cpu_long", family=family)
    bias = t.loc["table5: a single bias is far below the MLP predictor (SimSiam behind our head)"]
    assert bias["with our head"] == rules.REPRODUCED and bias["with the reference head"] != rules.REPRODUCED
    assert "40.20%" in bias["its runs and difference"]  # the reference head's mean, not ours
    fig3 = t.loc["fig3: SimSiam is somewhat better than with a learned inverse predictor"]
    assert fig3["with our head"] == rules.REPRODUCED and "not re-judged" in fig3["with the reference head"]
    assert not any(HEAD_CHECK in claim for claim in t.index)
    assert isinstance(accuracy.with_reference_head("cpu_long", family={"table5": family["table5"]}), str)
