"""Missing runs as jobs through submitit's local executor; the results land in
the cache, and a second submit submits nothing."""
from ssllib.__main__ import main


def test_two_smoke_jobs_run_through_submitit_and_a_second_submit_sends_nothing(tmp_path, capsys):
    args = ["submit", "table2", "--profile", "smoke", "--variant", "simsiam", "--seed", "0", "--seed", "1",
            "--set", "dataset=synthetic", "--cluster", "local", "--folder", str(tmp_path / "jobs")]
    assert main(args + ["--wait"]) == 0
    out = capsys.readouterr().out
    assert "2 submitted, 0 not" in out and out.count("submitted job") == 2
    assert main(["show", "table2", "--profile", "smoke", "--variant", "simsiam", "--seed", "0", "--seed", "1",
                 "--set", "dataset=synthetic"]) == 0
    shown = capsys.readouterr().out.splitlines()
    assert len(shown) == 2 and all('"m_r"' in line for line in shown)  # both results are in the cache
    assert main(args) == 0
    again = capsys.readouterr().out
    assert "0 submitted, 2 not" in again and again.count("(cached)") == 2


def test_a_run_submitted_and_not_finished_is_not_submitted_again(tmp_path):
    import json

    from ssllib.config import config_hash
    from ssllib.experiments import make_config
    from ssllib.submit import ledger_path, pending

    cfg = make_config("table2", "simsiam", "smoke", 0, dataset="synthetic")
    folder = tmp_path / "jobs"
    folder.mkdir()
    ledger_path(folder).write_text(json.dumps({config_hash(cfg): {"job_id": "12345", "run": "x"}}))
    todo, skipped = pending(["table2"], "smoke", folder, seeds=[0], overrides={"dataset": "synthetic"})
    assert ("table2/simsiam seed 0", "submitted before, not finished") in skipped
    assert all(v != "simsiam" for _, v, *_ in todo)


def test_a_bad_cluster_or_an_unwritable_folder_is_one_line(tmp_path, capsys):
    base = ["submit", "table2", "--profile", "smoke", "--variant", "simsiam", "--set", "dataset=synthetic"]
    assert main(base + ["--cluster", "nope", "--folder", str(tmp_path / "jobs")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "'nope'" in err and "slurm, local, debug" in err
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert main(base + ["--cluster", "local", "--folder", str(blocker / "jobs")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "submit folder" in err and str(blocker) in err


def test_a_damaged_ledger_is_moved_aside_once_and_a_new_one_started(tmp_path, capsys):
    from ssllib.submit import ledger_path, read_ledger

    folder = tmp_path / "jobs"
    folder.mkdir()
    for damage in ("{not json", '["a list"]', '{"abc": 3}'):
        ledger_path(folder).write_text(damage)
        assert read_ledger(folder) == {}
        out = capsys.readouterr().out
        assert len(out.strip().splitlines()) == 1 and "damaged submit ledger" in out
        assert (folder / "ledger.json.damaged").read_text() == damage and not ledger_path(folder).exists()
        assert read_ledger(folder) == {} and capsys.readouterr().out == ""  # said once, not on every submit
