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


def test_a_run_submitted_and_not_finished_is_not_submitted_again_but_a_dead_one_is(tmp_path, capsys):
    """A job still running is not sent twice; one whose process is gone (kill -9 of a local job)
    is sent again with one line saying so (issue 42: it had read 'submitted before' for ever)."""
    import json
    import os
    import subprocess

    from ssllib.config import config_hash
    from ssllib.experiments import make_config
    from ssllib.submit import ledger_path, pending

    cfg = make_config("table2", "simsiam", "smoke", 0, dataset="synthetic")
    folder = tmp_path / "jobs"
    folder.mkdir()
    ledger_path(folder).write_text(json.dumps({config_hash(cfg): {"job_id": str(os.getpid()), "run": "x",
                                                                  "cluster": "local"}}))
    todo, skipped = pending(["table2"], "smoke", folder, seeds=[0], overrides={"dataset": "synthetic"})
    assert ("table2/simsiam seed 0", "submitted before, not finished") in skipped
    assert all(v != "simsiam" for _, v, *_ in todo)
    gone = subprocess.Popen(["true"])
    gone.wait()  # a PID that no longer runs: the job was killed
    ledger_path(folder).write_text(json.dumps({config_hash(cfg): {"job_id": str(gone.pid), "run": "x",
                                                                  "cluster": "local"}}))
    todo, skipped = pending(["table2"], "smoke", folder, seeds=[0], overrides={"dataset": "synthetic"},
                            variants=["simsiam"])
    assert [t[:3] for t in todo] == [("table2", "simsiam", 0)]
    said = capsys.readouterr().out
    assert said.count("\n") == 1 and f"job {gone.pid}" in said and "dead (its process is gone)" in said


def test_two_submits_at_once_send_one_job(tmp_path):
    """Issue 42: two submits at once had each found the run pending and sent it (1 try in 3); the
    ledger's lock lets one through at a time, and the second finds the first's job."""
    import json
    import subprocess
    import sys

    args = [sys.executable, "-m", "ssllib", "submit", "table2", "--profile", "smoke", "--variant", "simsiam",
            "--seed", "0", "--set", "dataset=synthetic", "--cluster", "local", "--folder", str(tmp_path / "jobs")]
    logs = [tmp_path / f"submit{i}.out" for i in range(2)]  # files: a local job keeps its parent's pipes open
    procs = [subprocess.Popen(args, stdout=open(log, "w"), stderr=subprocess.STDOUT,
                              env={**__import__("os").environ, "SSLLIB_RESULTS": str(tmp_path / "results")})
             for log in logs]
    for p in procs:
        p.wait(timeout=300)
    outs = [log.read_text() for log in logs]
    assert sum(o.count("submitted job") for o in outs) == 1, outs
    assert len(json.loads((tmp_path / "jobs" / "ledger.json").read_text())) == 1


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
