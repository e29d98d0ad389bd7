"""The GPU campaign end to end on a CPU (smoke profile, synthetic data): every
run of the plan writes its record into the output folder as it ends, a log says what ran, and
`merge` copies only records that pass the cache's checks."""
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = [sys.executable, str(ROOT / "scripts" / "gpu_campaign.py")]


def test_the_campaign_runs_its_plan_and_merge_takes_only_valid_records(tmp_path):
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    # a budget far above what the plan needs: the test must not depend on how fast the machine is today
    done = subprocess.run(SCRIPT + ["run", "--out", str(out), "--budget-s", "3600", "--profile", "smoke",
                                    "--dataset", "synthetic", "--device", "cpu", "--eval-s", "1",
                                    "--bench-steps", "1"], capture_output=True, text=True, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    log = json.loads((out / "campaign.json").read_text())
    assert [r["run"].split("/")[1] for r in log["runs"]] == ["simsiam", "random_init", "naive_siamese",
                                                             "mirror_simsiam", "symmetric_predictor"]
    assert log["skipped"] == [] and log["seconds_per_step"] > 0 and log["benchmark"]["returncode"] == 0
    assert sorted(p.name for p in out.iterdir()) == ["benchmarks", "campaign.json", "results.tar"]
    with tarfile.open(out / "results.tar") as tar:  # the returned folder is flat: records come packed
        tar.extractall(tmp_path / "returned")
    records = sorted((tmp_path / "returned" / "smoke" / "table2").glob("*.json"))
    assert len(records) == 5
    damaged = json.loads(records[0].read_text())
    damaged["metrics"]["linear_acc"] = 99.0
    records[0].write_text(json.dumps(damaged))
    merged = subprocess.run(SCRIPT + ["merge", str(tmp_path / "returned"), "--into", str(tmp_path / "repo")],
                            capture_output=True, text=True, env=env, cwd=ROOT)
    assert merged.returncode == 0 and "merged 4 records" in merged.stdout and "1 rejected" in merged.stdout
    assert len(list((tmp_path / "repo" / "smoke" / "table2").glob("*.json"))) == 4


# smaller than the smoke profile: `runs` passes --set on to every run (seconds, not tens of them)
TINY = [x for kv in ("train_subset=64", "batch_size=16", "eval_train_size=64", "eval_test_size=32", "knn_k=5")
        for x in ("--set", kv)]


def test_runs_trains_a_list_side_by_side_and_merge_keeps_what_results_hold(tmp_path):
    """`runs` (the issue-16 runs on a lent GPU): every run of the list ends as a record packed into
    one results.tar (the returned folder is flat), a run past the budget is stopped and said so,
    and `merge` of the tar copies new records but never replaces one already held: it shows both."""
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(SCRIPT + ["runs", "--out", str(out), "--profile", "smoke", "--dataset", "synthetic",
                                    "--device", "cpu", "--jobs", "2", "--budget-s", "3600", *TINY,
                                    "table2:simsiam:0", "table3:baseline:1"],
                          capture_output=True, text=True, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    log = json.loads((out / "campaign.json").read_text())
    assert sorted(r["run"] for r in log["finished"]) == ["table2:simsiam:0", "table3:baseline:1"]
    assert sorted(p.name for p in out.iterdir()) == ["campaign.json", "logs.tar", "results.tar"]
    repo = tmp_path / "repo"
    first = subprocess.run(SCRIPT + ["merge", str(out / "results.tar"), "--into", str(repo)],
                           capture_output=True, text=True, env=env, cwd=ROOT)
    assert "merged 2 records" in first.stdout, first.stdout + first.stderr
    held = sorted((repo / "smoke" / "table2").glob("*.json"))[0]
    before = held.read_bytes()
    again = subprocess.run(SCRIPT + ["merge", str(out / "results.tar"), "--into", str(repo),
                                     "--agreement", str(tmp_path / "agree.json")],
                           capture_output=True, text=True, env=env, cwd=ROOT)
    assert "merged 0 records" in again.stdout and "2 already held" in again.stdout
    assert held.read_bytes() == before
    rows = json.loads((tmp_path / "agree.json").read_text())["runs"]
    assert {r["run"] for r in rows} == {"table2:simsiam:0", "table3:baseline:1"}
    assert all(r["kept"]["linear_acc"] == r["returned"]["linear_acc"] for r in rows)  # the same run

    # a run of 20,000 steps (5,000 epochs of 64 images) cannot end within the 3-second budget however
    # fast the machine, so it is the one stopped
    stopped = subprocess.run(SCRIPT + ["runs", "--out", str(tmp_path / "late"), "--profile", "smoke",
                                       "--dataset", "synthetic", "--device", "cpu", "--jobs", "1",
                                       "--budget-s", "3", *TINY, "--set", "epochs=5000",
                                       "table2:simsiam:1", "table2:simsiam:2"],
                             capture_output=True, text=True, env=env, cwd=ROOT)
    log = json.loads((tmp_path / "late" / "campaign.json").read_text())
    assert [r["run"] for r in log["stopped"]] == ["table2:simsiam:1"], stopped.stderr
    assert log["not_started"] == ["table2:simsiam:2"] and log["finished"] == []


def test_a_bad_run_name_is_one_line():
    done = subprocess.run(SCRIPT + ["runs", "table3-baseline-0"], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), cwd=ROOT)
    assert done.returncode != 0
    assert done.stderr.strip() == "bad run 'table3-baseline-0': expected experiment:variant:seed, e.g. table3:baseline:0"


def test_a_run_name_that_is_a_path_is_refused_before_anything_is_written(tmp_path):
    """Issue 42: `runs "../...:x:0"` had written its log file outside its folder; every part of a
    run's name must be a registered name, so no path built from it can leave its folder."""
    for bad, says in (("../../escape:x:0", "unknown experiment '../../escape'"),
                      ("table3:../x:0", "unknown variant '../x' of table3")):
        done = subprocess.run(SCRIPT + ["runs", "--out", str(tmp_path / "out"), bad], capture_output=True,
                              text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)), cwd=tmp_path)
        assert done.returncode != 0 and says in done.stderr and done.stderr.count("\n") == 1
    assert not any(tmp_path.parent.glob("escape*")) and not (tmp_path / "out").exists()


def test_epochs_are_sized_to_fit_the_budget():
    sys.path.insert(0, str(ROOT / "scripts"))
    from gpu_campaign import plan_epochs

    # 0.05 s/step, 97 steps/epoch, 400 s for 4 runs with 20 s evaluation each: 80 s of training a run
    assert plan_epochs(0.05, 97, 400, 4, 20, cap=100) == round(80 / (0.05 * 97), 2)
    assert plan_epochs(0.05, 97, 4e6, 4, 20, cap=100) == 100  # never longer than the profile
    assert plan_epochs(10.0, 97, 40, 4, 20, cap=100) == 0.1   # never below a tenth of an epoch


def test_ssllib_trains_without_tqdm_as_on_a_bare_gpu_machine(tmp_path):
    """The lent GPU machines have torch but not necessarily tqdm (and nothing can be installed)."""
    code = ("import sys; sys.modules['tqdm'] = None\n"
            "from ssllib.config import profile_config\nfrom ssllib.data import synthetic\n"
            "from ssllib.train import Trainer\n"
            "cfg = profile_config('smoke', dataset='synthetic', train_subset=64, batch_size=16, eval_train_size=64,"
            " eval_test_size=32, knn_k=5)\n"
            "print(Trainer(cfg, synthetic()).fit(progress=True).metrics['m_r'])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0, done.stderr
    assert 0 <= float(done.stdout.strip().splitlines()[-1]) <= 1


def test_merge_writes_nothing_outside_its_folder_and_says_why(tmp_path, tiny, capsys):
    """A returned record edited and re-sealed (its digest recomputed) names its own
    profile and experiment; merge takes them only when they are registered names and every path
    lies inside --into.  A tar member with ../, or a missing tar, is one line and exit code 2."""
    import importlib.util
    import shutil

    from ssllib import runner
    from ssllib.integrity import RECORD_KEY, record_digest

    spec = importlib.util.spec_from_file_location("gpu_campaign", ROOT / "scripts" / "gpu_campaign.py")
    campaign = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(campaign)
    record = runner.run_one(tiny.replace(experiment="table2", variant="simsiam"), "smoke", progress=False)
    source = Path(os.environ["SSLLIB_RESULTS"]) / "smoke" / "table2"
    returned = tmp_path / "returned" / "smoke" / "table2"
    shutil.copytree(source, returned)
    path = returned / f"{record['config_hash']}.json"
    for field, value in (("experiment", "../../../evil"), ("profile", "/tmp"), ("curve_file", "../../x.csv")):
        forged = json.loads(path.read_text())
        forged[field] = value
        forged[RECORD_KEY] = record_digest(forged)
        path.write_text(json.dumps(forged))
        repo = tmp_path / f"repo-{field}"
        assert campaign.main(["merge", str(tmp_path / "returned"), "--into", str(repo)]) == 2
        out = capsys.readouterr().out
        assert "not merged" in out and "1 rejected" in out and not repo.exists()
        assert not (tmp_path / "evil").exists()
    assert campaign.main(["merge", str(tmp_path / "nothing.tar"), "--into", str(tmp_path / "r")]) == 2
    assert "does not exist" in capsys.readouterr().err
    evil = tmp_path / "evil.tar"
    with tarfile.open(evil, "w") as tar:
        tar.add(path, arcname="../outside.json")
    assert campaign.main(["merge", str(evil), "--into", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "cannot be unpacked safely" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "outside.json").exists()


def test_merge_replaces_a_damaged_local_copy_with_the_valid_returned_one(tmp_path, tiny, capsys):
    import importlib.util
    import shutil

    from ssllib import runner
    from ssllib.results import read_entry

    spec = importlib.util.spec_from_file_location("gpu_campaign", ROOT / "scripts" / "gpu_campaign.py")
    campaign = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(campaign)
    record = runner.run_one(tiny.replace(experiment="table2", variant="simsiam"), "smoke", progress=False)
    source = Path(os.environ["SSLLIB_RESULTS"]) / "smoke" / "table2"
    shutil.copytree(source, tmp_path / "returned" / "smoke" / "table2")
    repo = tmp_path / "repo"
    shutil.copytree(source, repo / "smoke" / "table2")
    local = repo / "smoke" / "table2" / f"{record['config_hash']}.json"
    local.write_text(local.read_text().replace('"m_r"', '"m_r_edited"', 1))  # damaged: its digest fails
    assert campaign.main(["merge", str(tmp_path / "returned"), "--into", str(repo)]) == 0
    out = capsys.readouterr().out
    assert "replacing a damaged local copy" in out and "merged 1 records" in out
    assert read_entry(local)["metrics"]["m_r"] == record["metrics"]["m_r"]
