"""Issue 19 (first part): untrusted and damaged checkpoints, stale temp files, durable writes, and
configs that cannot mean what they say, each ending in one clear line, never a traceback."""
import os
import subprocess
import sys

import pytest
import torch

from ssllib.config import ConfigError
from ssllib.data import DataError, load_dataset, remove_stale_temps, synthetic
from ssllib.train import Trainer


class Payload:
    """Stands for any pickled object: loading it could run code."""


def test_a_checkpoint_carrying_a_pickled_object_is_refused_and_the_run_starts_over(tiny, tmp_path, capsys):
    ckpt = tmp_path / "run.pt"
    Trainer(tiny, synthetic()).fit(ckpt, progress=False, max_steps=5)
    state = torch.load(ckpt, weights_only=True)
    torch.save(dict(state, extra=Payload()), ckpt)
    fresh = Trainer(tiny, synthetic())
    assert not fresh.load(ckpt) and fresh.step == 0
    assert "not used" in capsys.readouterr().err


@pytest.mark.parametrize("damage", ["truncated", "random bytes", "other width", "not a dict"])
def test_a_damaged_checkpoint_is_named_and_training_restarts_from_scratch(tiny, tmp_path, capsys, damage):
    ckpt = tmp_path / "run.pt"
    straight = Trainer(tiny, synthetic()).fit(progress=False)
    Trainer(tiny, synthetic()).fit(ckpt, progress=False, max_steps=5)
    if damage == "truncated":
        ckpt.write_bytes(ckpt.read_bytes()[: ckpt.stat().st_size // 2])
    elif damage == "random bytes":
        ckpt.write_bytes(os.urandom(4096))
    elif damage == "other width":  # loads, has this config's hash, but not this model's shapes
        state = torch.load(ckpt, weights_only=True)
        state["model"] = Trainer(tiny.replace(width=8), synthetic()).model.state_dict()
        torch.save(state, ckpt)
    else:
        torch.save([1, 2, 3], ckpt)
    result = Trainer(tiny, synthetic()).fit(ckpt, progress=False)
    err = capsys.readouterr().err
    assert f"checkpoint {ckpt} not used" in err and "starting over from step 0" in err and len(err.splitlines()) == 1
    assert result.info["resumed_at_step"] == 0 and result.curve == straight.curve


def test_stale_temp_files_of_killed_writers_are_removed_and_live_ones_kept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    stale, mine = tmp_path / f"a.json.tmp{dead}", tmp_path / f"b.json.tmp{os.getpid()}"
    stale.write_text("half"), mine.write_text("being written")
    assert remove_stale_temps(tmp_path) == [stale] and mine.exists() and not stale.exists()


def test_configs_that_cannot_mean_what_they_say_are_refused(tiny, tmp_path):
    with pytest.raises(ConfigError, match="bad value 1000 for batch_size: larger than the 128 training images"):
        Trainer(tiny.replace(batch_size=1000), synthetic())
    with pytest.raises(DataError, match="is not a folder"):
        load_dataset("cifar10", tmp_path / "nonexistent")


def test_a_diverging_run_is_one_line_with_exit_2(tmp_path):
    env = dict(os.environ, SSLLIB_RESULTS=str(tmp_path / "r"), SSLLIB_CHECKPOINTS=str(tmp_path / "c"))
    out = subprocess.run([sys.executable, "-m", "ssllib", "run", "table2", "--profile", "smoke", "--variant",
                          "simsiam", "--set", "dataset=synthetic", "--set", "base_lr=1e20", "--no-progress"],
                         capture_output=True, text=True, env=env)
    assert out.returncode == 2 and out.stderr.strip().splitlines() == [out.stderr.strip()]
    assert "loss nan" in out.stderr and "Traceback" not in out.stderr
    assert not list((tmp_path / "r").rglob("*.json"))  # nothing recorded
