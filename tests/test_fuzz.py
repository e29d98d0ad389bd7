"""Fuzzed inputs.  Every `--set key=value` and every notebook parameter either
is accepted or ends in one line naming the bad value (exit code 2 on the command line) — never a
traceback, never a file written."""
import math
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ssllib import chapter
from ssllib.__main__ import main
from ssllib.config import Config, ConfigError
from ssllib.data import DataError

KEYS = sorted(Config.__dataclass_fields__)
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
VALUES = st.one_of(TEXT, st.integers(-10**20, 10**20).map(str), st.floats(allow_nan=True).map(str),
                   st.sampled_from(["", "0", "-1", "nan", "inf", "1e400", "[]", "{}", "None", "true", "ü",
                                    "2**70", "1,2", " 3 "]))
FUZZ = settings(max_examples=int(os.environ.get("SSLLIB_FUZZ", "150")), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


@FUZZ
@given(key=st.one_of(st.sampled_from(KEYS), TEXT), value=VALUES)
def test_every_set_is_accepted_or_one_line_with_exit_2(key, value, capsys):
    """`show` validates exactly as `run` does before training (make_config for every run)."""
    code = main(["show", "table2", "--profile", "smoke", "--variant", "simsiam", "--set", f"{key}={value}"])
    captured = capsys.readouterr()
    assert code in (0, 2)
    if code == 2:
        err = captured.err.strip()
        assert len(err.splitlines()) == 1 and err.startswith("error: "), err
        assert "Traceback" not in captured.err
    assert files_under(Path(os.environ["SSLLIB_RESULTS"])) == []


PARAMS = dict(profile=st.one_of(st.sampled_from(["smoke", "cpu", "laptop", ""]), TEXT, st.integers()),
              dataset=st.one_of(st.sampled_from(["synthetic", "cifar10", "imagenet"]), TEXT, st.none()),
              epochs=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 10**9),
                               TEXT, st.booleans()),
              device=st.one_of(st.sampled_from(["auto", "cpu", "gpu", "cuda:0"]), TEXT, st.integers()),
              seeds=st.one_of(st.none(), st.integers(), st.lists(st.integers(-3, 2**40), max_size=3), TEXT,
                              st.lists(st.booleans(), max_size=2)),
              force=st.one_of(st.booleans(), st.integers(0, 1), TEXT),
              allow_train=st.one_of(st.booleans(), st.just("False")))


@FUZZ
@given(**PARAMS)
def test_every_notebook_parameter_is_accepted_or_one_line(profile, dataset, epochs, device, seeds, force,
                                                           allow_train):
    """What papermill -p passes to a chapter: checked before anything is trained or read.  A valid
    set is run with training off (nothing cached here: no records, nothing written)."""
    try:
        chapter.check_parameters(profile, dataset, epochs, device, seeds, force, allow_train)
    except ConfigError as e:
        assert len(str(e).splitlines()) == 1 and str(e).startswith("bad parameter ")
        return
    assert profile in ("smoke", "cpu") and isinstance(allow_train, bool)
    assert epochs is None or (math.isfinite(epochs) and epochs >= 0)
    try:
        ch = chapter.run("table2", profile, dataset=dataset, epochs=epochs, device=device, seeds=seeds,
                         force=force, allow_train=False)
    except (ConfigError, DataError) as e:  # e.g. a config no experiment can mean
        assert len(str(e).splitlines()) == 1
        return
    assert ch.records == [] and files_under(Path(os.environ["SSLLIB_RESULTS"])) == []


@pytest.mark.parametrize("name, value, allowed", [
    ("epochs", "abc", "finite number"), ("seeds", 5, "list of integers"), ("profile", "laptop", "smoke"),
    ("device", "nope", "cuda"), ("seeds", [2**70], "2**31")])
def test_the_issue_s_bad_parameters_are_named(name, value, allowed):
    params = dict(profile="smoke", dataset="synthetic", epochs=None, device="auto", seeds=None, force=False,
                  allow_train=False) | {name: value}
    with pytest.raises(ConfigError, match=f"bad parameter {name}=") as e:
        chapter.check_parameters(**params)
    assert allowed in str(e.value) and repr(value) in str(e.value)


def test_an_option_of_the_wrong_type_is_refused_not_trained_with():
    """Options={"stop_gradient": "false"} (a string) trained *with* stop-gradient while the
    record said "false"; every option is now checked against the type its loss declares."""
    import pytest

    from ssllib.config import ConfigError, profile_config

    for loss, options in (("simsiam", {"stop_gradient": "false"}), ("triplet", {"keep_r_e": "no"}),
                          ("infonce", {"tau": "0.2"}), ("infonce", {"tau": True}),
                          ("simsiam_surgery", {"keep_o_e": 0})):
        with pytest.raises(ConfigError, match=r"bad option .* expected (bool|float)") as e:
            profile_config("smoke", loss=loss, options=options)
        assert "\n" not in str(e.value)
    with pytest.raises(ConfigError, match="unknown option 'nope'"):
        profile_config("smoke", loss="simsiam", options={"nope": 1})
    with pytest.raises(ConfigError, match="bad option weight='x'"):  # inside a phase too
        profile_config("smoke", phases=[["simsiam", 0.5], ["decorrelation", 0.5, {"weight": "x"}]])
    with pytest.raises(ConfigError, match=r"momentum: must be in \[0, 1\)"):
        profile_config("smoke", momentum=-5)
    assert profile_config("smoke", loss="simsiam", options={"stop_gradient": False}).options == {"stop_gradient": False}
    assert profile_config("smoke", loss="infonce", options={"tau": 1}).options == {"tau": 1}  # an int is a float


def test_the_last_tracebacks_are_one_line(tmp_path, monkeypatch):
    """A device that is not one (or CUDA where there is none), a bad
    $SSLLIB_SLOW_WRITES, evaluation sizes that measure nothing, a negative probe lr and a kNN k
    larger than its bank are each one line; a chapter with nothing cached draws an empty figure."""
    import subprocess
    import sys
    from pathlib import Path

    import pytest
    import torch

    from ssllib import plots
    from ssllib.config import ConfigError, profile_config
    from ssllib.storage import StorageError, atomic_write
    from ssllib.hardware import DeviceError, pick_device

    root = Path(__file__).resolve().parent.parent
    for device in ("nope", "cuda:99") + (() if torch.cuda.is_available() else ("cuda",)):
        with pytest.raises(DeviceError):
            pick_device(device)
        done = subprocess.run([sys.executable, "-m", "ssllib", "run", "table2", "--profile", "smoke",
                               "--variant", "simsiam", "--set", "dataset=synthetic", "--device", device],
                              capture_output=True, text=True, cwd=root, env={**__import__("os").environ,
                                                                              "PYTHONPATH": str(root)})
        assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "device" in done.stderr
    monkeypatch.setenv("SSLLIB_SLOW_WRITES", "abc")
    with pytest.raises(StorageError, match="SSLLIB_SLOW_WRITES"):
        atomic_write(tmp_path / "x", lambda p: p.write_text("x"))
    for bad, match in (({"eval_test_size": 1}, "eval_test_size"), ({"eval_train_size": 1}, "eval_train_size"),
                       ({"probe_lr": -1.0}, "probe_lr"), ({"knn_k": 500}, "larger than the kNN bank")):
        with pytest.raises(ConfigError, match=match):
            profile_config("smoke", **bad)
    assert plots.curves([]) is not None
