"""The benchmark scripts run end to end (plumbing only: tiny sizes, synthetic data, CPU) and write
their JSON where told; without CUDA they say the GPU figures were not measured instead of guessing."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(script, out, *args):
    device = [] if script in ("cpu_step.py", "step_profile.py") else ["--device", "cpu"]
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *device,
                    "--dataset", "synthetic", "--out", str(out), *args], check=True, capture_output=True)
    (path,) = out.glob("*.json")
    return json.loads(path.read_text())


def test_input_pipeline_benchmark_writes_ratios(tmp_path):
    r = run("input_pipeline.py", tmp_path, "--batches", "1", "--steps", "1", "--repeats", "1")
    assert r["baseline_torchvision_pil_dataloader_images_per_s"] > 0
    assert r["speedup_vs_baseline"] == r["ours_batched_tensor_images_per_s"] / r[
        "baseline_torchvision_pil_dataloader_images_per_s"]
    assert 0 < r["augmentation_share_of_step"] < 1
    assert r["gpu_epoch_seconds"] is None and r["gpu_note"].startswith("not measured")


def test_gpu_epoch_benchmark_runs_on_cpu_and_says_not_measured(tmp_path):
    r = run("gpu_epoch.py", tmp_path, "--profile", "smoke", "--steps", "1", "--warmup", "1",
            "--baseline-steps", "1")
    assert r["ours_epoch_seconds"] > 0 and r["baseline_epoch_seconds"] > 0
    assert "flop_floor_epoch_seconds" not in r and r["gpu_note"].startswith("not measured")


def test_cpu_step_benchmark_compares_fp32_and_bf16_in_one_run(tmp_path):
    r = run("cpu_step.py", tmp_path, "--profile", "smoke", "--steps", "1", "--repeats", "1",
            "--matmul-n", "64", "--allow-busy", "--wait-s", "0")  # a busy CI machine: marked, not refused
    assert r["bf16_speedup"] == r["fp32_seconds_per_step"] / r["bf16_seconds_per_step"]
    assert r["step_gflop"] > 0 and 0 < r["fp32_fraction_of_matmul"] and r["cpu_model"]
    assert r["matmul_n"] == 64 and isinstance(r["idle"], bool) and "busy_fraction" in r["machine_before"]


def test_a_benchmark_counts_the_machine_quiet_only_below_both_bounds():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from idle import MAX_BUSY, MAX_LOAD_PER_CORE, quiet

    assert quiet({"load_per_core": MAX_LOAD_PER_CORE, "busy_fraction": MAX_BUSY})
    assert not quiet({"load_per_core": 2 * MAX_LOAD_PER_CORE, "busy_fraction": 0.0})  # a job just stopped
    assert not quiet({"load_per_core": 0.0, "busy_fraction": 0.9})                      # one runs now
    assert quiet({"load_per_core": None, "busy_fraction": None})                       # not Linux: unknown


def test_arithmetic_benchmark_trains_each_arithmetic_apart_and_compares_verdicts(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "arithmetic.py"), "--experiment", "fig4",
                    "--profile", "smoke", "--set", "dataset=synthetic", "--out", str(tmp_path)],
                   capture_output=True)  # exit 1 only says the verdicts differ; the JSON says which
    (path,) = tmp_path.glob("arithmetic-*.json")
    r = json.loads(path.read_text())
    fp32, bf16 = r["runs"]["fp32"], r["runs"]["bf16"]
    assert set(fp32) == set(bf16) == {"centre/0", "residual/0", "random/0"}
    assert not any(run["bf16_autocast"] for run in fp32.values())  # each arm really ran its arithmetic
    assert all(run["bf16_autocast"] for run in bf16.values())
    assert fp32 != bf16  # two trainings, not one cache entry read twice
    assert r["claims"] and all(c["same"] == (c["fp32"] == c["bf16"]) for c in r["claims"])
    assert r["same_verdicts"] == all(c["same"] for c in r["claims"])


def test_step_profile_names_the_parts_of_the_step_and_compares_levers_per_run(tmp_path):
    r = run("step_profile.py", tmp_path, "--profile", "smoke", "--steps", "1", "--repeats", "1",
            "--levers", "bf16,off", "--allow-busy", "--wait-s", "0")
    assert {"augment", "forward", "loss", "backward", "optimizer"} <= set(r["parts_share"])
    assert abs(sum(r["op_kinds_share"].values()) - 1) < 1e-6 and any("conv" in k for k in r["op_kinds_share"])
    bf16, off = r["levers"]["bf16"], r["levers"]["off"]
    assert abs(off["seeds_per_hour_ratio"] - bf16["run_minutes"] / off["run_minutes"]) < 1e-9  # the same ratio
    from ssllib.config import profile_config
    from ssllib.train import schedule

    smoke = profile_config("smoke")
    assert r["steps_per_run"] == schedule(smoke, smoke.train_subset)[1] and r["evaluations_per_run"] == 1
    assert isinstance(r["idle"], bool)


def test_side_by_side_benchmark_gives_each_process_its_threads_and_counts_seeds_per_hour(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "side_by_side.py"), "--profile", "smoke",
                    "--dataset", "synthetic", "--steps", "1", "--repeats", "1", "--layouts", "2x1",
                    "--allow-busy", "--wait-s", "0", "--out", str(tmp_path)], check=True, capture_output=True)
    (path,) = tmp_path.glob("side_by_side-*.json")
    r = json.loads(path.read_text())
    two = r["layouts"]["2x1"]  # one layout keeps the test short: two processes, one thread each
    assert [p["threads_seen"] for p in two["per_process"]] == [1, 1]
    assert [p["index"] for p in two["per_process"]] == [0, 1]
    run_s = r["steps_per_run"] * two["seconds_per_step"] + r["evaluations_per_run"] * two["evaluation_seconds"]
    assert abs(two["seeds_per_hour"] - 2 * 3600 / run_s) < 1e-6  # P seeds per run time
    assert two["seconds_per_step"] == max(p["seconds_per_step"] for p in two["per_process"])  # the slowest counts
    assert two["seeds_per_hour_ratio"] == 1.0 and r["baseline"] == "2x1" and r["seeds_per_hour 2x1"] > 0
    bad = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "side_by_side.py"), "--layouts", "2by1"],
                         capture_output=True, text=True)
    assert bad.returncode != 0 and "'2by1'" in bad.stderr and "PxT" in bad.stderr


def _state(pid):
    return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]


def test_pausing_training_stops_only_this_checkouts_runs_and_is_undone_on_every_exit(tmp_path):
    """Issue 42: --pause-training had SIGSTOPped every `ssllib run` on the machine and left them
    stopped for ever when the benchmark was killed.  Now it stops this checkout's runs only, resumes
    them when the benchmark gets SIGTERM, and after a SIGKILL the next benchmark resumes them."""
    import signal
    import time

    fake = [sys.executable, "-c", "import time; time.sleep(60)", "ssllib run", "fake"]
    ours = subprocess.Popen(fake, cwd=ROOT)
    theirs = subprocess.Popen(fake, cwd=tmp_path)  # another checkout's run
    env = dict(os.environ, SSLLIB_CACHE=str(tmp_path / "cache"), PYTHONPATH=str(ROOT / "benchmarks"))
    hold = ("from idle import quiet_machine; import time\n"
            "with quiet_machine(pause_training=True, wait_s=0) as s:\n"
            "    print(s['paused_training_pids'], flush=True); time.sleep(60)\n")
    try:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            bench = subprocess.Popen([sys.executable, "-c", hold], env=env, stdout=subprocess.PIPE, text=True)
            paused = bench.stdout.readline()
            assert str(ours.pid) in paused and str(theirs.pid) not in paused
            assert _state(ours.pid) == "T" and _state(theirs.pid) != "T"
            bench.send_signal(sig)
            bench.wait(30)
            if sig == signal.SIGKILL:  # nothing could run in the benchmark: the next one undoes it
                assert _state(ours.pid) == "T"
                subprocess.run([sys.executable, "-c", "from idle import quiet_machine\n"
                                "with quiet_machine(wait_s=0): pass"], env=env, check=True, capture_output=True)
            deadline = time.time() + 10
            while _state(ours.pid) == "T" and time.time() < deadline:
                time.sleep(0.1)
            assert _state(ours.pid) != "T", sig
        assert not (tmp_path / "cache" / "paused-training.json").exists()
    finally:
        for p in (ours, theirs):
            p.kill()
