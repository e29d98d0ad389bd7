"""Untrusted and damaged checkpoints, stale temp files, durable writes, and
configs that cannot mean what they say, each ending in one clear line, never a traceback."""
import os
import subprocess
import sys

import pytest
import torch

from ssllib.config import ConfigError
from ssllib.data import DataError, load_dataset, synthetic
from ssllib.storage import remove_stale_temps
from ssllib.integrity import DIGEST_KEY, sealed
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


@pytest.mark.parametrize("damage", ["truncated", "random bytes", "other width", "not a dict", "edited weight",
                                    "no checksum"])
def test_a_damaged_checkpoint_is_named_and_training_restarts_from_scratch(tiny, tmp_path, capsys, damage):
    ckpt = tmp_path / "run.pt"
    straight = Trainer(tiny, synthetic()).fit(progress=False)
    Trainer(tiny, synthetic()).fit(ckpt, progress=False, max_steps=5)
    if damage == "truncated":
        ckpt.write_bytes(ckpt.read_bytes()[: ckpt.stat().st_size // 2])
    elif damage == "random bytes":
        ckpt.write_bytes(os.urandom(4096))
    elif damage == "other width":  # loads, sealed, this config's hash, but not this model's shapes
        state = torch.load(ckpt, weights_only=True)
        state["model"] = Trainer(tiny.replace(width=8), synthetic()).model.state_dict()
        torch.save(sealed(state), ckpt)
    elif damage in ("edited weight", "no checksum"):  # loads and fits: only the checksum can tell
        state = torch.load(ckpt, weights_only=True)
        if damage == "no checksum":
            del state[DIGEST_KEY]
        else:
            weight = next(iter(state["model"].values()))
            weight[(0,) * weight.dim()] += 1e-3
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


@pytest.mark.parametrize("damage", ["100 images", "edited label", "not sealed"])
def test_a_damaged_decoded_data_cache_is_named_and_decoded_again(tmp_path, monkeypatch, capsys, damage):
    """The decoded CIFAR-10 cache is checked (checksum, 50,000 + 10,000 images) before use;
    a cache of 100 images, an edited label or an unsealed file is reported and the archive decoded
    again.  The archive is a stand-in (its sha256 check is patched), decoding a sentinel."""
    from ssllib import data

    class Decoded(Exception):
        pass

    monkeypatch.setenv("SSLLIB_CACHE", str(tmp_path / "cache"))
    (tmp_path / data.ARCHIVE).write_bytes(b"stand-in")
    monkeypatch.setattr(data, "sha256_file", lambda path: data.ARCHIVE_SHA256)
    monkeypatch.setattr(data, "_decode_archive", lambda archive, n=10: (_ for _ in ()).throw(Decoded()))
    n = 100 if damage == "100 images" else 50000
    t = {"train_x": torch.zeros(n, 3, 2, 2, dtype=torch.uint8), "train_y": torch.zeros(n, dtype=torch.int64),
         "test_x": torch.zeros(10000, 3, 2, 2, dtype=torch.uint8), "test_y": torch.zeros(10000, dtype=torch.int64)}
    state = sealed(t)
    if damage == "edited label":
        state["train_y"][7] = 3
    if damage == "not sealed":
        del state[DIGEST_KEY]
    cached = data.cache_dir() / f"cifar10-jpeg-{data.ARCHIVE_SHA256[:12]}.pt"
    cached.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, cached)
    with pytest.raises(Decoded):
        data.load_offline_cifar10(tmp_path)
    err = capsys.readouterr().err
    assert f"decoded data cache {cached} not used" in err and "decoding" in err and len(err.splitlines()) == 1
    # the same file, intact and complete, is used without decoding
    torch.save(sealed(dict(t, train_x=torch.zeros(50000, 3, 2, 2, dtype=torch.uint8),
                           train_y=torch.zeros(50000, dtype=torch.int64))), cached)
    assert len(data.load_offline_cifar10(tmp_path).train_y) == 50000


def test_a_lock_whose_pid_now_belongs_to_another_process_is_stale(tmp_path, capsys):
    """After a reboot or a container restart the PID in a lock file can belong to an
    unrelated live process; the lock records the holder's boot and start time, so such a lock is
    taken over instead of being waited for forever."""
    import socket
    import subprocess

    from ssllib import storage as results

    other = subprocess.Popen(["sleep", "30"])
    try:
        host = socket.gethostname()
        real = results.process_identity(other.pid)
        assert real and results._holder_runs((other.pid, host, real))  # the holder itself: it runs
        assert not results._holder_runs((other.pid, host, real.split(":")[0] + ":1"))  # a PID reused
        entry = tmp_path / "x.json"
        results.lock_path(entry).write_text(f"{other.pid} {host} {real.split(':')[0]}:1\n")
        with results.run_lock(entry, poll=0.01) as how:
            assert how == "stale"
        assert "a reused PID" in capsys.readouterr().err
        assert not results.lock_path(entry).exists()
    finally:
        other.kill()


def test_a_lock_whose_holder_cannot_be_alive_is_stale_and_a_live_one_keeps_its_heartbeat(tmp_path, capsys):
    """Issue 42: a lock of another host (a dead Slurm node, a renamed container) or in the old
    'PID host' form with no heartbeat for STALE_AFTER_S, one naming PID 0, or an unreadable one is
    taken over instead of waited for forever; a live holder's heartbeat keeps its lock fresh."""
    import os
    import socket
    import threading
    import time

    from ssllib import storage as results

    old = time.time() - 3 * 24 * 3600
    cases = {"other_host": "12345 node-17 x:1\n", "old_form": f"{os.getppid()} {socket.gethostname()}\n",
             "pid_zero": f"0 {socket.gethostname()} x:1\n", "garbage": "not a lock\n"}
    for name, text in cases.items():
        entry = tmp_path / f"{name}.json"
        lock = results.lock_path(entry)
        lock.write_text(text)
        os.utime(lock, (old, old))
        with results.run_lock(entry, poll=0.01) as how:
            assert how == "stale", name
    assert capsys.readouterr().err.count("taking over the stale lock") == len(cases)
    fresh = tmp_path / "fresh.json"
    results.lock_path(fresh).write_text("12345 node-17 x:1\n")  # another host, heartbeat just now
    assert results.lock_is_live(results.lock_path(fresh))

    held, release = threading.Event(), threading.Event()
    entry = tmp_path / "held.json"
    beat = results.HEARTBEAT_S
    results.HEARTBEAT_S = 0.05
    try:
        def hold():
            with results.run_lock(entry):
                held.set()
                release.wait(5)
        t = threading.Thread(target=hold)
        t.start()
        held.wait(5)
        lock = results.lock_path(entry)
        os.utime(lock, (old, old))
        time.sleep(0.3)
        assert time.time() - lock.stat().st_mtime < 5  # the holder touched it again
        release.set()
        t.join()
    finally:
        results.HEARTBEAT_S = beat


def test_empty_folder_variables_count_as_unset(monkeypatch, tmp_path):
    """Issue 42: SSLLIB_RESULTS= and SSLLIB_CHECKPOINTS= (empty) had put records and checkpoints
    into the working directory; an empty value now means the default, as SSLLIB_CACHE's does."""
    from ssllib import results

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SSLLIB_RESULTS", "")
    monkeypatch.setenv("SSLLIB_CHECKPOINTS", "")
    monkeypatch.setenv("SSLLIB_CACHE", str(tmp_path / "cache"))
    assert results.results_root() == results.REPO_ROOT / "results"
    assert results.checkpoints_root() == tmp_path / "cache" / "checkpoints"


def test_a_bad_phase_option_and_a_deeply_nested_json_are_one_line_each(tmp_path, monkeypatch, capsys):
    """Issue 42: `tau 0` inside `phases` was a traceback at the phase's first step; a JSON nested
    past Python's recursion limit in a results folder made every cache-miss run end in
    RecursionError.  Both are one line now (the second skipped where records are searched)."""
    from ssllib import results
    from ssllib.__main__ import main
    from ssllib.experiments import make_config
    from ssllib.records import shared_run

    assert main(["run", "fig5b", "--profile", "smoke", "--set", "dataset=synthetic", "--set",
                 'phases=[["simsiam",0.5],["infonce",0.5,{"tau":0}]]']) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad tau 0" in err and "'infonce'" in err
    monkeypatch.setenv("SSLLIB_RESULTS", str(tmp_path))
    deep = tmp_path / "smoke" / "table2" / "deep.json"
    deep.parent.mkdir(parents=True)
    deep.write_text("[" * 100_000 + "]" * 100_000)
    cfg = make_config("table2", "simsiam", "smoke", 0, dataset="synthetic")
    assert shared_run(cfg, "smoke") is None
    import pytest
    with pytest.raises(results.CacheError, match="RecursionError"):
        results.read_entry(deep)


def test_a_damaged_record_in_read_only_mode_is_named_damaged_and_listed_missing(tmp_path, monkeypatch, capsys):
    """Issue 42: the book's read-only mode had said 'recomputing' for a damaged record, recomputed
    nothing and did not list it as missing."""
    from ssllib import experiments, records
    from ssllib.results import entry_path

    monkeypatch.setenv("SSLLIB_RESULTS", str(tmp_path))
    cfg = experiments.make_config("table2", "simsiam", "smoke", 0, dataset="synthetic")
    path = entry_path(cfg, "smoke")
    path.parent.mkdir(parents=True)
    path.write_text('{"experiment": "table2"')  # cut off mid-write by hand
    got = records.load("table2", "smoke", seeds=[0], variants=["simsiam"], overrides={"dataset": "synthetic"})
    assert got == []
    out = capsys.readouterr().out
    assert "damaged" in out and "recomputing" not in out and "listed as missing" in out
    missing = records.missing("table2", "smoke", seeds=[0], overrides={"dataset": "synthetic"})
    assert "simsiam (seed 0, damaged)" in missing
