"""Verdicts are computed from records: collapse and accuracy-gap rules, and run sharing."""
from ssllib import experiments, records, report, rules, runner
from ssllib.verdicts import claims_for
from ssllib.config import config_hash
from ssllib.results import entry_path


def rec(variant, m_r, acc, collapsed=None, **extra):
    return {"variant": variant, "train": {"steps": 1950},  # past rule 5's short-run guard
            "metrics": {"m_r": m_r, "linear_acc": acc, **extra,
                        "collapsed": m_r < 0.1 if collapsed is None else collapsed}}


def test_collapse_verdicts():
    def long(variant, m_r, acc):
        return dict(rec(variant, m_r, acc), train={"steps": 1950})
    sim = [long("simsiam", 0.5, 40)]
    assert rules.collapse_claim("T", "X", [long("x", 0.05, 10)], True, 0.5)["verdict"] == rules.REPRODUCED
    assert rules.collapse_claim("T", "X", [long("x", 0.2, 10)], True, 0.5)["verdict"] == rules.PARTLY
    assert rules.collapse_claim("T", "X", [long("x", 0.4, 10)], True, 0.5)["verdict"] == rules.NOT
    assert rules.collapse_claim("T", "X", sim, False, None)["verdict"] == rules.REPRODUCED


def test_the_short_run_guard_applies_in_both_directions():
    """Issue 38: a run under 1000 steps that disagrees with the paper settles nothing, whether the
    paper says it collapses (it may collapse later) or that it does not (it may recover); one that
    agrees (and is not in the partial zone) stands."""
    def short(m_r):
        return dict(rec("x", m_r, 30), train={"steps": 146})
    for paper_collapse, m_r in ((True, 0.9), (True, 0.2), (False, 0.05), (False, 0.3)):
        row = rules.collapse_claim("T", "X", [short(m_r)], paper_collapse, 0.9)
        assert row["verdict"] == rules.TOO_SHORT and "146 steps" in row["reason"], (paper_collapse, m_r)
    assert rules.collapse_claim("T", "X", [short(0.05)], True, 0.9)["verdict"] == rules.REPRODUCED
    assert rules.collapse_claim("T", "X", [short(0.9)], False, None)["verdict"] == rules.REPRODUCED


def test_fig8_needs_three_temperatures_and_ranks_ties_alike():
    """Issue 38: seeds of one temperature are not a trend (they read +0.50 before, ties broken by
    order); Spearman gives tied values their average rank, as scipy does."""
    from ssllib import verdicts

    def run(tau, cov, seed=0):
        return {"variant": f"tau_{tau:g}", "seed": seed, "config": {"options": {"tau": tau}},
                "metrics": {"covariance_z": cov, "m_r": 0.9, "linear_acc": 40, "collapsed": False}}
    one_tau = [run(0.2, c, s) for s, c in enumerate((3.0, 1.0, 2.0))]
    assert verdicts.fig8_claims(one_tau)[0]["verdict"] == rules.UNTESTED
    two = one_tau + [run(1.0, 5.0)]
    assert verdicts.fig8_claims(two)[0]["verdict"] == rules.UNTESTED
    three = two + [run(0.05, 0.5)]
    row = verdicts.fig8_claims(three)[0]
    assert row["verdict"] == rules.REPRODUCED and "over 3 τ" in row["ours"]
    scipy_stats = __import__("pytest").importorskip("scipy.stats")
    x, y = [1, 2, 2, 3, 3, 3], [4.0, 1.0, 5.0, 2.0, 2.0, 6.0]
    assert abs(rules.spearman(x, y) - scipy_stats.spearmanr(x, y).statistic) < 1e-12
    assert rules.spearman([1, 1, 1], [1, 2, 3]) == 0.0


def test_rule5_a_long_run_ending_under_half_a_healthy_m_r_is_a_partial_collapse():
    """Rule 5's second part: the paper says 'does not collapse', m_r ends above 0.1 but under 0.5:
    partly, once the run is long enough (>= 1000 steps) to be past SimSiam's own early dip."""
    def run(m_r, steps):
        return dict(rec("mlp", m_r, 30), train={"steps": steps})

    long_low = rules.collapse_claim("T", "MLP", [run(0.2, 1950), run(0.3, 1950)], False, None)
    assert long_low["verdict"] == rules.PARTLY and "partial collapse" in long_low["reason"]
    early = rules.collapse_claim("T", "MLP", [run(0.2, 300)], False, None)  # inside SimSiam's early dip
    assert early["verdict"] == rules.TOO_SHORT and "300 steps" in early["reason"]
    assert rules.collapse_claim("T", "MLP", [run(0.9, 1950)], False, None)["verdict"] == rules.REPRODUCED
    assert rules.collapse_claim("T", "MLP", [run(0.05, 1950)], False, None)["verdict"] == rules.NOT


def test_rule6_accuracy_orderings_need_seeds_and_a_gap_beyond_their_spread():
    a = [rec("a", 0.5, 40), rec("a", 0.5, 44)]
    b = [rec("b", 0.5, 39), rec("b", 0.5, 41)]
    c = rules.accuracy_gap_claim("T", "a > b", a, b, "paper")
    assert c["verdict"] == rules.UNDECIDED and "2 seeds" in c["ours"]  # gap 2 < 2 x std 2.83
    assert c["kind"] == "accuracy"
    one = rules.accuracy_gap_claim("T", "a > b", [rec("a", .5, 90)], [rec("b", .5, 10)], "p")
    assert one["verdict"] == rules.UNDECIDED and "not measured" in one["reason"]  # one seed: never decided
    far = [rec("a", 0.5, 60), rec("a", 0.5, 61)]
    assert rules.accuracy_gap_claim("T", "a > b", far, b, "p")["verdict"] == rules.REPRODUCED
    assert rules.accuracy_gap_claim("T", "b > a", b, far, "p")["verdict"] == rules.NOT
    assert rules.accuracy_gap_claim("T", "b > a", b, a, "p")["verdict"] == rules.UNDECIDED  # reversed, in noise
    same = [rec("c", 0.5, 40.5), rec("c", 0.5, 40.9)]
    near = [rec("d", 0.5, 40), rec("d", 0.5, 40.2)]
    assert rules.accuracy_equal_claim("T", "c = d", same, near, "p")["verdict"] == rules.REPRODUCED
    assert rules.accuracy_equal_claim("T", "c = d", far, near, "p")["verdict"] == rules.NOT
    assert rules.accuracy_equal_claim("T", "c = d", a, near, "p")["verdict"] == rules.UNDECIDED


def test_rule5_collapse_is_judged_on_z_unless_the_paper_names_p():
    healthy_z_collapsed_p = [dict(rec("inverse_predictor", 0.5, 30, p_m_r=0.01), train={"steps": 1950})]
    c = rules.collapse_claim("Figure 3", "X", healthy_z_collapsed_p, False, None)
    assert c["verdict"] == rules.REPRODUCED and "m_r of p = 0.010" in c["ours"] and c["kind"] == "collapse"
    on_p = rules.collapse_claim("Table 4", "X", healthy_z_collapsed_p, False, None, of="p")
    assert on_p["verdict"] == rules.NOT


def test_rule8_counts_kinds_apart_and_a_claim_on_the_same_runs_once():
    sim = [rec("simsiam", 0.5, 40)]
    rows = [rules.collapse_claim("Table 2", "SimSiam", sim, False, None),
            rules.collapse_claim("Figure 3", "SimSiam", sim, False, None),  # the same run again
            rules.accuracy_gap_claim("T", "a > b", sim, [rec("b", 0.5, 30)], "p")]
    counts = {row["kind"]: row for row in rules.verdict_counts(rows)}
    assert counts["collapse"]["claims"] == 1 and counts["collapse"][rules.REPRODUCED] == 1
    assert counts["accuracy"][rules.UNDECIDED] == 1


def test_learns_features_is_judged_against_the_strongest_control():
    def two(variant, knn, lin):
        return [rec(variant, 0.9, lin, knn_acc=knn), rec(variant, 0.9, lin + 0.5, knn_acc=knn + 0.5)]
    records = (two("simsiam", 45, 55) + two("random_init", 28, 37) + two("random_init_bn", 26, 27)
               + two("raw_pixels", 35, 34.6))
    claims = {c["claim"]: c for c in claims_for("table2", records)}
    knn = claims["SimSiam learns features: kNN beats the strongest control"]
    lin = claims["SimSiam learns features: linear probe beats the strongest control"]
    assert knn["verdict"] == lin["verdict"] == rules.REPRODUCED
    assert "raw_pixels" in knn["reason"] and "random_init:" not in knn["reason"] and "random_init." in lin["reason"]
    records = two("simsiam", 38, 39) + two("raw_pixels", 35, 34.6)  # 3 points: not enough
    assert {c["verdict"] for c in claims_for("table2", records) if "learns" in c["claim"]} == {rules.UNDECIDED}


def test_a_collapse_claim_waits_for_every_planned_seed_of_its_length():
    from ssllib.items import ITEMS

    def at(profile, seed, m_r):
        return dict(rec("neither", m_r, 10, p_m_r=m_r), profile=profile, seed=seed)  # Table 4 judges p

    planned = ITEMS["table4"].seeds_at("cpu_long")
    assert len(planned) > 1
    one = [c for c in claims_for("table4", [at("cpu_long", 0, 0.01)]) if c["claim"].endswith("collapses")]
    assert [c["verdict"] for c in one] == [rules.UNDECIDED]
    assert f"1 of the {len(planned)} planned seeds" in one[0]["reason"]
    every = [at("cpu_long", s, 0.01) for s in planned]
    assert {c["verdict"] for c in claims_for("table4", every) if c["claim"].endswith("collapses")} == {rules.REPRODUCED}
    # an unplanned seed does not stand in for a planned one
    extra = [at("cpu_long", s, 0.01) for s in planned[:-1]] + [at("cpu_long", 99, 0.01)]
    assert {c["verdict"] for c in claims_for("table4", extra) if c["claim"].endswith("collapses")} == {rules.UNDECIDED}


def test_table6_does_not_pass_on_a_collapsed_run():
    """A collapsed run cannot test where the bias points (issue 38: it read 'not reproduced', as if
    it had tested the claim and failed it)."""
    collapsed = [rec("one_bias", 0.01, 10, bias_centre_cos=0.99)]
    c = [c for c in claims_for("table5", collapsed) if c["item"] == "Table 6"][0]
    assert c["verdict"] == rules.TOO_SHORT and "collapsed" in c["reason"]


def test_table2_claims_cover_every_paper_row_and_the_control():
    records = [rec("simsiam", 0.5, 45), rec("naive_siamese", 0.02, 12), rec("random_init", 0.9, 37),
               rec("mirror_simsiam", 0.2, 20), rec("symmetric_predictor", 0.45, 30, p_m_r=0.01)]
    verdicts = {c["claim"]: c["verdict"] for c in claims_for("table2", records)}
    assert verdicts["Naive Siamese collapses"] == rules.REPRODUCED
    assert verdicts["Mirror SimSiam collapses"] == rules.PARTLY
    # judged on P = h(f(x)), the new encoder of Sec. 2.3, while z keeps its residual
    assert verdicts["Symmetric Predictor collapses"] == rules.REPRODUCED
    records[-1] = rec("symmetric_predictor", 0.45, 30, p_m_r=0.45)
    verdicts = {c["claim"]: c["verdict"] for c in claims_for("table2", records)}
    assert verdicts["Symmetric Predictor collapses"] == rules.NOT
    records[-1] = rec("symmetric_predictor", 0.45, 30)
    verdicts = {c["claim"]: c["verdict"] for c in claims_for("table2", records)}
    assert verdicts["Symmetric Predictor collapses"] == rules.UNTESTED
    assert verdicts["SimSiam does not collapse"] == rules.REPRODUCED
    assert verdicts["SimSiam learns features: linear probe beats the strongest control"] == rules.UNDECIDED  # 1 seed


def test_experiment_scale_layers_in_order():
    cfg = experiments.make_config("table1", "same_batch_10", "cpu", seed=3, width=8)
    assert (cfg.train_subset, cfg.batch_size, cfg.epochs, cfg.n_views, cfg.width, cfg.seed) == \
        (5000, 52, 1.5, 10, 8, 3)
    assert experiments.make_config("table1", "same_batch_10", "paper").batch_size == 256


def test_same_training_is_shared_between_experiments(tiny):
    a = tiny.replace(experiment="table4", variant="both")
    b = tiny.replace(experiment="fig3", variant="simsiam")
    assert config_hash(a) != config_hash(b) and config_hash(a, labels=False) == config_hash(b, labels=False)
    first = runner.run_one(a, "smoke", progress=False)
    shared = records.lookup(b, "smoke")[0]
    assert shared["reused_from"].startswith("table4/") and shared["variant"] == "simsiam"
    assert shared["metrics"] == first["metrics"]
    assert runner.run_one(b, "smoke", progress=False) == shared  # found again, nothing trained or written
    assert not entry_path(b, "smoke").exists()


def test_a_length_is_a_config_so_another_profiles_identical_run_is_found_with_its_curve(tiny):
    """CIFAR-100's 20-epoch length (`cpu_long20`) reuses the 20-epoch learning curve trained under
    `cpu_long`: found by the training key in another profile's folder, returned under the asked
    profile, its curve read from where it lies."""
    from ssllib.results import read_curve

    first = runner.run_one(tiny.replace(experiment="table2_curve", variant="simsiam"), "smoke", progress=False)
    shared = records.shared_run(tiny.replace(experiment="table2", variant="simsiam"), "cpu_long20")
    assert shared["reused_from"] == f"smoke/table2_curve/{first['config_hash']}.json"
    assert shared["profile"] == "cpu_long20" and shared["metrics"] == first["metrics"]
    assert read_curve(shared) == read_curve(first)


def test_book_build_leaves_out_missing_runs_and_names_them():
    over = {"dataset": "synthetic"}
    runner.run_experiment("table2", "smoke", variants=["naive_siamese"], overrides=over, progress=False)
    got = records.load("table2", "smoke", overrides=over)
    assert [r["variant"] for r in got] == ["naive_siamese"]
    gaps = records.missing("table2", "smoke", overrides=over)
    assert gaps == ["simsiam (seed 0)", "mirror_simsiam (seed 0)", "symmetric_predictor (seed 0)",
                    "random_init (seed 0)", "random_init_bn (seed 0)", "raw_pixels (seed 0)",
                    "simsiam_slow_warmup (seed 0)", "simsiam_reference_head (seed 0)"]
    assert records.load("table2", "smoke", overrides=over) == got  # reading trained nothing


def test_table6_and_a8_verdicts():
    records = [rec("mlp_authors_projector", 0.5, 40, bias_centre_cos=0.9),
               rec("simsiam", 0.5, 40, bias_centre_cos=0.3),
               rec("one_bias", 0.6, 30, bias_centre_cos=0.6, a8_predicted_coef=2.0, a8_measured_coef=2.2)]
    verdicts = {c["item"] + ": " + c["claim"]: c["verdict"] for c in claims_for("table5", records)}
    mlp = "Table 6: the SimSiam, MLP predictor predictor's bias points along the centre o_z"
    assert verdicts[mlp + " (behind the Table 5 projector)"] == rules.REPRODUCED  # the like-for-like arm
    assert verdicts[mlp + " (SimSiam behind our head: extra)"] == rules.NOT
    assert verdicts["Table 6: the One bias: Bias predictor's bias points along the centre o_z"] == rules.PARTLY
    assert verdicts["A.8: the bias converges to ((1-m)/m) o_z"] == rules.REPRODUCED
    assert verdicts["Table 5: One bias: Bias does not collapse"] == rules.REPRODUCED
    records[2]["metrics"]["m_o"] = 0.9  # centre-dominated: every output mostly the centre (issue 38)
    got = {c["item"]: c for c in claims_for("table5", records) if "centre" in c["claim"] or c["item"] == "A.8"
           and "One bias" not in c["claim"]}
    bias = [c for c in claims_for("table5", records) if "One bias" in c["claim"] and c["item"] == "Table 6"][0]
    assert bias["verdict"] == rules.TOO_SHORT and "centre-dominated" in bias["reason"]
    assert got["A.8"]["verdict"] == rules.TOO_SHORT and "centre-dominated" in got["A.8"]["reason"]
    records[2]["metrics"]["m_r"] = 0.4  # a partial collapse cannot test where the bias points
    c = [c for c in claims_for("table5", records) if "One bias" in c["claim"] and c["item"] == "Table 6"][0]
    assert c["verdict"] == rules.TOO_SHORT and "partial collapse" in c["reason"]


def test_rule7_the_accuracy_halves_of_each_table_have_verdicts():
    def seeds(variant, acc, **m):
        return [rec(variant, 0.5, acc, **m), rec(variant, 0.5, acc + 0.4, **m)]
    table4 = seeds("both", 50, p_m_r=0.5) + seeds("o_e_only", 40, p_m_r=0.5) + seeds("r_e_only", 49.5, p_m_r=0.5)
    got = {c["claim"]: c["verdict"] for c in claims_for("table4", table4)}
    assert got["keeping both beats o_e alone"] == rules.REPRODUCED
    assert got["r_e alone is about as accurate as both"] == rules.REPRODUCED
    assert got["r_e alone gives higher accuracy than o_e alone"] == rules.REPRODUCED
    table5 = seeds("mlp_authors_projector", 50) + seeds("one_bias", 30) + seeds("two_fc", 49)
    got = {c["claim"]: c["verdict"] for c in claims_for("table5", table5)}
    assert got["a single bias is far below the MLP predictor"] == rules.REPRODUCED
    assert got["two FC layers are about as accurate as the MLP predictor"] == rules.REPRODUCED
    fixed = seeds("lr_constant", 50) + seeds("fixed_random", 48)  # does not collapse, and is not far below
    got = {c["claim"]: c["verdict"] for c in claims_for("ab_predictor", fixed)}
    assert got["a predictor fixed at random init does not work (far below a learned one)"] == rules.UNDECIDED


def test_short_vs_long_pairs_each_long_accuracy_claim_with_its_short_verdict():
    """The scorecard's 'what the long runs changed' puts an accuracy claim judged at
    cpu_long beside the same claim (same experiment, same words) at cpu; collapse claims and a
    claim with no short verdict are handled, not dropped silently."""
    from ssllib.scorecard import short_vs_long

    def row(exp, claim, length, verdict, kind="accuracy"):
        return {"experiment": exp, "claim": claim, "length": length, "verdict": verdict, "kind": kind, "ours": "x"}

    rows = [row("table4", "a > b", "cpu", "not reproduced"), row("table4", "a > b", "cpu_long", "reproduced"),
            row("table3", "a > b", "cpu", "undecided"),  # same words, other experiment: not paired
            row("table5", "c > d", "cpu_long", "undecided"),
            row("table4", "x collapses", "cpu_long", "reproduced", kind="collapse")]
    t = short_vs_long(rows)
    assert list(t.index) == [("table4", "a > b"), ("table5", "c > d")]
    assert t.loc[("table4", "a > b"), "short"] == "not reproduced" and t.loc[("table4", "a > b"), "long"] == "reproduced"
    assert t.loc[("table5", "c > d"), "short"] == "(no verdict)"
    assert isinstance(short_vs_long(rows[:1]), str)  # nothing at a long length: one line says so


def test_overtakes_finds_the_first_epoch_simsiam_clears_the_strongest_control():
    """Read off the learning curve (mean over seeds), against the best control's mean."""
    from ssllib.verdicts import overtakes

    def sim(knns):
        r = rec("simsiam", 0.9, 50, knn_acc=knns[-1])
        return dict(r, learning_curve=[{"epoch": 2.0 * i, "knn_acc": k} for i, k in enumerate(knns)])

    controls = [rec("random_init", 0.9, 37, knn_acc=29.0), rec("raw_pixels", 0.9, 35, knn_acc=35.0)]
    runs = [sim([29, 36, 40, 44]), sim([29, 34, 41, 46])]  # means 29, 35, 40.5, 45: +5 over pixels at epoch 4
    assert overtakes(controls + runs).startswith("epoch 4 (40.5% vs 35.0% for raw_pixels, 2 seeds)")
    assert overtakes(controls + [sim([29, 33, 38, 39])]) == "not within the 6 epochs run"
    assert overtakes(runs) == "(not run at this length)"  # no control: nothing to overtake


def test_the_papers_numbers_are_glued_from_ssllib_paper_for_every_chapter(monkeypatch):
    """Prose quotes the paper through glue (`paper_<experiment>_<variant>_<key>`), never retyped;
    every experiment's entry in ssllib.paper can be glued (some entries are notes, not rows)."""
    from ssllib import chapter
    from ssllib.paper import REPORTED

    glued = {}
    monkeypatch.setattr(chapter, "glue", lambda name, text: glued.__setitem__(name, text))
    for name in REPORTED:
        chapter.glue_paper(chapter.Chapter(name, "cpu", []))
    assert glued["paper_fig5_6_simsiam_eta_p"] == f"{REPORTED['fig5_6']['simsiam']['eta_p']:g}"
    assert glued["paper_fig5_6_infonce_tau_peak"] == "-".join(f"{t:g}" for t in REPORTED["fig5_6"]["infonce"]["tau_peak"])
    assert not any(k.endswith(("_label", "_collapse", "_text")) for k in glued)  # words and flags stay out


def test_li_et_al_forecast_is_judged_per_length_on_that_lengths_runs():
    """The scorecard judges the AUC forecast at each length on that length's trained runs only."""
    from ssllib.scorecard import forecast_rows

    def run(auc, acc, steps=100):
        return {"variant": "v", "train": {"steps": steps},
                "metrics": {"spectral_auc": auc, "linear_acc": acc, "m_r": 0.9, "collapsed": False}}

    falling = [run(0.80 + i / 100, 60 - i) for i in range(5)]       # higher AUC, lower accuracy
    rising = [run(0.80 + i / 100, 40 + i) for i in range(5)]
    rows = forecast_rows({"cpu": rising, "cpu_long": falling})
    verdicts = {(r["length"], r["claim"]): r["verdict"] for r in rows}
    assert verdicts[("cpu", "spectral AUC forecasts linear accuracy (all trained runs)")] == rules.NOT
    assert verdicts[("cpu_long", "spectral AUC forecasts linear accuracy (all trained runs)")] == rules.REPRODUCED
    assert [r["length"] for r in forecast_rows({"smoke": rising, None: []})] == ["smoke", "smoke"]
    assert [r["length"] for r in forecast_rows({"cpu": rising, "cpu_long": []})] == ["cpu", "cpu"]


def test_a_run_trained_again_under_another_chapters_name_counts_once():
    """Three chapters' SimSiam seed 2 trained side by side on a GPU are three originals of one
    training: Li et al.'s forecast and the run lists count it once, as they do a reuse copy."""
    from dataclasses import replace

    from ssllib.config import profile_config

    base = profile_config("smoke")

    def run(experiment, variant, auc, acc, **extra):
        cfg = replace(base, experiment=experiment, variant=variant, seed=2)
        return {"config": cfg.to_dict(), "variant": variant, "train": {"steps": 10}, **extra,
                "metrics": {"spectral_auc": auc, "linear_acc": acc, "m_r": 0.9, "collapsed": False}}

    same = [run("table2", "simsiam", 0.8, 50), run("table4", "both", 0.8, 50), run("fig3", "simsiam", 0.8, 50),
            run("fig5_6", "simsiam", 0.8, 50, reused_from="table2/x.json")]
    other = run("table2", "simsiam", 0.9, 40)
    other["config"]["base_lr"] = 0.1  # another training
    assert len(report.distinct_runs(same + [other])) == 2
    assert "reused_from" not in report.distinct_runs(list(reversed(same)))[0]  # the original is kept
    assert rules.forecast_claim(same + [other])["ours"] == "2 runs"  # too few to correlate, counted once each


def test_the_head_check_says_whether_the_records_trained_with_our_head_stand(monkeypatch):
    """The head check: the planned 'our head does not change SimSiam's accuracy' claim, read out in the
    Table 2 chapter as what its verdict means for the records trained with our head."""
    from ssllib import chapter

    glued = {}
    monkeypatch.setattr(chapter, "glue", glued.__setitem__)

    def seeds(variant, acc):
        return [rec(variant, 0.9, acc), rec(variant, 0.9, acc + 0.4)]

    def check(records):
        shown = chapter.head_check(chapter.Chapter("table2", "cpu_long", records)).data
        assert glued["table2_head_check"] in shown
        return glued["table2_head_check"]

    same = check(seeds("simsiam", 50) + seeds("simsiam_reference_head", 50.2))
    assert f"**{rules.REPRODUCED}**" in same and "stand" in same
    far = check(seeds("simsiam", 50) + seeds("simsiam_reference_head", 40))
    assert f"**{rules.NOT}**" in far and "not the reference SimSiam's" in far
    assert "not run" in check(seeds("simsiam", 50)) and "not run" in check([])


def test_glued_metrics_are_the_mean_over_seeds_accuracy_to_one_decimal_collapse_to_three(monkeypatch):
    """The prose quotes a variant's metrics through glue: the mean over its seeds, an accuracy (%) to
    one decimal as the tables show it, a collapse indicator to three; a variant not run says so."""
    from ssllib import chapter

    glued = {}
    monkeypatch.setattr(chapter, "glue", glued.__setitem__)
    records = [rec("both", 0.9, 22.94, knn_acc=12.84), rec("both", 0.8, 23.0, knn_acc=12.9)]
    chapter.glue_metrics(chapter.Chapter("table4", "cpu_long", records), prefix="t4")
    assert glued["t4_both_linear_acc"] == "23.0" and glued["t4_both_m_r"] == "0.850"
    assert glued["t4_both_knn_acc"] == "12.9"
    assert glued["t4_o_e_only_linear_acc"] == "(not run)"


def test_a_table_never_shows_nan_or_none_and_folds_its_details():
    """report.Tables: missing cells read '–', the details sit in a <details> dropdown, and a table with
    no details has no dropdown."""
    from ssllib import report

    main = report.frame([{"method": "SimSiam", "m_r": None, "linear (%)": float("nan")}], "method")
    details = report.frame([{"method": "SimSiam", "m_o": None}], "method")
    shown = report.Tables(main, details, "more columns")._repr_html_()
    assert "NaN" not in shown and "None" not in shown and shown.count("–") == 3
    assert shown.index("<details") > shown.index("</table>") and "<summary>more columns</summary>" in shown
    assert "<details" not in report.Tables(main)._repr_html_()


def test_the_paper_table_keeps_its_main_columns_and_folds_the_rest():
    """summary_rows' collapse column counts the collapsed seeds in words ('1 of 2 seeds')."""
    from ssllib import report

    def rec(seed, collapsed):
        return {"variant": "simsiam", "seed": seed, "config": {"dataset": "cifar10"},
                "metrics": {"collapsed": collapsed, "linear_acc": 50.0, "knn_acc": 40.0, "z_std_sqrt_d": 0.9,
                            "m_o": 0.1, "m_r": 0.99}}

    row = report.summary_rows([rec(0, False), rec(1, True)], {})[0]
    assert row["ours: collapsed"] == "1 of 2 seeds"
    assert set(report.MAIN_COLUMNS) <= set(row)
