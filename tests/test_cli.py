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


def test_library_raises_the_same_errors():
    with pytest.raises(ConfigError, match="allowed: cpu, cpu_long, gpu, paper, smoke"):
        profile_config("huge")
