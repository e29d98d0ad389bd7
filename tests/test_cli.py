"""Every bad parameter gives one clear line naming the allowed values, and exit status 2."""
import pytest

from ssllib.__main__ import main
from ssllib.config import ConfigError, profile_config


@pytest.mark.parametrize("argv, bad, allowed", [
    (["run", "tableX"], "'tableX'", "table2"),
    (["run", "table2", "--profile", "laptop"], "'laptop'", "smoke"),
    (["run", "table2", "--variant", "byol"], "'byol'", "simsiam"),
    (["run", "table2", "--set", "wdith=3"], "'wdith'", "width"),
    (["run", "table2", "--set", "loss=barlow"], "'barlow'", "naive_siamese"),
    (["run", "table2", "--set", "predictor=transformer"], "'transformer'", "mlp"),
    (["run", "table2", "--set", "width=wide"], "'wide'", "int"),
    (["run", "table2", "--set", "batch_size=0"], "0", "> 0"),
    (["run", "table2", "--set", "width"], "'width'", "key=value"),
    (["run", "table2", "--variant", "simsiam", "--set", "n_views=3"], "3", "even with loss 'simsiam'"),
    (["run", "ab_kstep", "--set", "target_every=weekly"], "'weekly'", "epoch"),
    (["show", "nope"], "'nope'", "table2"),
    (["run", "table2", "--seed", "2**70"], "'2**70'", "int"),
    (["run", "table2", "--profile", "smoke", "--seed", "-1"], "-1", ">= 0"),
    (["run", "table2", "--set", "epochs=nan"], "nan", "finite"),
    (["run", "table2", "--set", "width=100000"], "100000", "at most 512"),
    (["run", "table2", "--set", "phases=5"], "5", "list"),
    (["run", "table2", "--set", "seed=3"], "seed=3", "--seed"),
    (["config", "table4", "nope"], "'nope'", "r_e_only"),
    (["config", "table4", "both", "--set", "wdith=3"], "'wdith'", "width"),
])
def test_bad_parameter_is_one_line_and_exit_2(argv, bad, allowed, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ")
    assert bad in err and allowed in err


def test_list_and_show(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "table2" in out and "mirror_simsiam" in out and "smoke" in out
    assert main(["show", "table2", "--profile", "smoke", "--variant", "simsiam"]) == 0
    assert "not cached" in capsys.readouterr().out


def test_run_then_show_from_cache(capsys):
    args = ["table2", "--profile", "smoke", "--variant", "naive_siamese", "--set", "dataset=synthetic"]
    assert main(["run", *args, "--no-progress"]) == 0
    assert "naive_siamese seed 0" in capsys.readouterr().out
    assert main(["show", *args]) == 0
    assert '"m_r"' in capsys.readouterr().out


def test_show_names_a_damaged_entry_in_one_line_and_goes_on(capsys):
    """A damaged record in the cache is one line of `show`, not a traceback."""
    from ssllib.experiments import make_config
    from ssllib.results import entry_path

    args = ["table2", "--profile", "smoke", "--set", "dataset=synthetic"]
    assert main(["run", *args, "--variant", "naive_siamese", "--variant", "simsiam", "--no-progress"]) == 0
    path = entry_path(make_config("table2", "naive_siamese", "smoke", 0, dataset="synthetic"), "smoke")
    path.write_text("null")
    capsys.readouterr()
    assert main(["show", *args, "--variant", "naive_siamese", "--variant", "simsiam"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("naive_siamese seed 0: damaged") and "the record is a NoneType" in out[0]
    assert out[1].startswith("simsiam seed 0: {")


def test_library_raises_the_same_errors():
    with pytest.raises(ConfigError, match="allowed: cpu, cpu_long, cpu_long20, gpu, paper, smoke"):
        profile_config("huge")


def test_ctrl_c_exits_130_in_one_line_and_leaves_no_temp_file(tmp_path, monkeypatch, capsys):
    """A KeyboardInterrupt mid-write: the temp file is removed, the exit status is 128 + SIGINT."""
    from ssllib import __main__ as cli
    from ssllib.storage import atomic_write

    target = tmp_path / "record.json"

    def interrupted_write(tmp):
        tmp.write_text("half")
        raise KeyboardInterrupt

    def run_configs(*args, **kwargs):
        atomic_write(target, interrupted_write)

    monkeypatch.setattr(cli, "run_configs", run_configs)
    assert cli.main(["run", "table2", "--profile", "smoke", "--variant", "simsiam"]) == 130
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "interrupted" in err
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_notebook_parameter_is_one_line_naming_the_allowed_ones():
    """papermill -p nosuchparam 3 only warns; the chapter refuses it (its `In` cells given here)."""
    from ssllib.chapter import check_injected

    declared = '# parameters\nprofile = "cpu"   # smoke | cpu\nseeds = None\n'
    check_injected([declared, '# Parameters\nprofile = "smoke"\n'])  # a known name: fine
    check_injected([declared])                                        # nothing injected: fine
    with pytest.raises(ConfigError, match=r"unknown parameter 'seed'; allowed: profile, seeds"):
        check_injected([declared, '# Parameters\nseed = 1\nprofile = "smoke"\n'])


def test_side_by_side_trains_each_missing_run_once_in_its_own_process_with_its_share_of_threads(capsys):
    from ssllib.results import entry_path, read_entry
    from ssllib.experiments import make_config
    from ssllib.side_by_side import threads_each

    args = ["table2", "--profile", "smoke", "--variant", "naive_siamese", "--set", "dataset=synthetic",
            "--seed", "0", "--seed", "1", "--no-progress"]
    assert main(["run", *args, "--side-by-side", "2"]) == 0
    out = capsys.readouterr().out
    assert "naive_siamese seed 0" in out and "naive_siamese seed 1" in out
    for seed in (0, 1):
        cfg = make_config("table2", "naive_siamese", "smoke", seed, dataset="synthetic")
        record = read_entry(entry_path(cfg, "smoke"))  # the same key as a run trained alone
        assert f"{threads_each(2)} threads" in record["provenance"]["device"]
    assert main(["run", *args, "--side-by-side", "2"]) == 0  # both cached: nothing is started again
    again = capsys.readouterr().out
    assert "side by side" not in again and "naive_siamese seed 1" in again
    assert main(["run", *args, "--side-by-side", "0"]) == 2
    assert "--side-by-side 0" in capsys.readouterr().err


def test_config_prints_the_merged_config_the_layer_of_each_value_and_the_runs_keys(capsys):
    """`python -m ssllib config`: each value with the layer that set it (a later layer wins), and the
    cache key the run would be stored under."""
    from ssllib.config import config_hash
    from ssllib.experiments import make_config

    assert main(["config", "table4", "r_e_only", "--profile", "cpu_long", "--seed", "2", "--set", "epochs=3"]) == 0
    out = {line.split("=")[0].strip(): line for line in capsys.readouterr().out.splitlines()}
    assert out["epochs"].rstrip().endswith("(--set)") and "3.0" in out["epochs"]  # --set beats the profile
    assert out["width"].rstrip().endswith("(profile cpu_long)")
    assert out["options"].rstrip().endswith("(variant r_e_only)") and out["seed"].rstrip().endswith("(--seed)")
    assert out["base_lr"].rstrip().endswith("(Config default)")
    cfg = make_config("table4", "r_e_only", "cpu_long", 2, epochs="3")
    assert any(line.endswith(config_hash(cfg)) for line in out.values())


def test_add_metrics_adds_what_a_record_lacks_and_refuses_a_run_not_cached(capsys):
    from ssllib.experiments import make_config
    from ssllib.results import entry_path, read_entry, rewrite_entry

    args = ["table2", "--profile", "smoke", "--variant", "random_init", "--set", "dataset=synthetic"]
    assert main(["run", *args, "--no-progress"]) == 0
    path = entry_path(make_config("table2", "random_init", "smoke", 0, dataset="synthetic"), "smoke")
    first = read_entry(path)
    rewrite_entry(dict(first, metrics={k: v for k, v in first["metrics"].items() if k != "knn20_acc"}), path)
    capsys.readouterr()
    assert main(["run", *args, "--add-metrics"]) == 0
    assert "random_init seed 0: added knn20_acc" in capsys.readouterr().out
    assert read_entry(path)["metrics"]["knn20_acc"] == first["metrics"]["knn20_acc"]
    assert main(["run", *args, "--seed", "1", "--add-metrics"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no record of its own" in err
