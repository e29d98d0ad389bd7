"""Issue 20, part 3: the GPU campaign end to end on a CPU (smoke profile, synthetic data): every
run of the plan writes its record into the output folder as it ends, a log says what ran, and
`merge` copies only records that pass the cache's checks."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = [sys.executable, str(ROOT / "scripts" / "gpu_campaign.py")]


def test_the_campaign_runs_its_plan_and_merge_takes_only_valid_records(tmp_path):
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(SCRIPT + ["run", "--out", str(out), "--budget-s", "120", "--profile", "smoke",
                                    "--dataset", "synthetic", "--device", "cpu", "--eval-s", "1",
                                    "--bench-steps", "1"], capture_output=True, text=True, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    log = json.loads((out / "campaign.json").read_text())
    assert [r["run"].split("/")[1] for r in log["runs"]] == ["simsiam", "random_init", "naive_siamese",
                                                             "mirror_simsiam", "symmetric_predictor"]
    assert log["skipped"] == [] and log["seconds_per_step"] > 0 and log["benchmark"]["returncode"] == 0
    records = sorted((out / "results" / "smoke" / "table2").glob("*.json"))
    assert len(records) == 5 and (out / "benchmarks").is_dir()
    damaged = json.loads(records[0].read_text())
    damaged["metrics"]["linear_acc"] = 99.0
    records[0].write_text(json.dumps(damaged))
    merged = subprocess.run(SCRIPT + ["merge", str(out / "results"), "--into", str(tmp_path / "repo")],
                            capture_output=True, text=True, env=env, cwd=ROOT)
    assert merged.returncode == 0 and "merged 4 records" in merged.stdout and "1 rejected" in merged.stdout
    assert len(list((tmp_path / "repo" / "smoke" / "table2").glob("*.json"))) == 4


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
