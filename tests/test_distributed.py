"""One run on 2 processes (torchrun, gloo on CPU) means what it means on one.

Tolerances, and why.  After one step from the same state, every parameter of the 2-process run
equals the 1-process run's up to float arithmetic (measured ~4e-7 on an AMD EPYC, ~1e-4 on an Intel
Xeon, where BN's arithmetic alone moves a one-process run as much: the bound is that floor).  After
that the two drift apart faster than reduction order alone would suggest, because at SimSiam's
initialisation the gradient through the BN layers is ill-conditioned: a 1e-7 change of the
parameters changes the next gradient by ~1e-2.  The same drift appears in one process when only
BN's arithmetic changes (torch's fused BN against GlobalBatchNorm's), so the multi-step test
measures that floor in the same run and asserts the 2-process drift stays within 3x of it."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.processes
ROOT = Path(__file__).resolve().parent.parent
STEP = str(ROOT / "tests" / "helpers" / "ddp_step.py")
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port"]


def env(**extra):
    return dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", **extra)


def state(tmp_path, name, steps, loss, processes, global_bn=True):
    out = tmp_path / f"{name}.pt"
    cmd = ([*TORCHRUN, str(29500 + os.getpid() % 400 + len(name)), STEP] if processes == 2
           else [sys.executable, STEP])
    extra = {"SSLLIB_GLOBAL_BN": "1"} if global_bn and processes == 1 else {}
    done = subprocess.run(cmd + [str(out), str(steps), loss], env=env(**extra), cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return torch.load(out)


def drift(a, b):
    return max((a[k].float() - b[k].float()).abs().max().item() for k in a if a[k].is_floating_point())


@pytest.mark.parametrize("loss", ["simsiam", "naive_siamese"])
def test_one_step_on_two_processes_equals_one_process(tmp_path, loss):
    """Equal up to float arithmetic, measured here: on some CPUs (an AMD EPYC) one step differs by
    ~4e-7, on others (an Intel Xeon with AMX) by ~1e-4, and there a one-process run whose BN
    arithmetic alone changes differs from it as much.  The bound is that floor, measured in the same
    run (3x, and never under 1e-5), not a number fitted to one machine."""
    one, two = state(tmp_path, "one", 1, loss, 1), state(tmp_path, "two", 1, loss, 2)
    floor = drift(one, state(tmp_path, "native", 1, loss, 1, global_bn=False))
    print(f"one step: 2 processes vs 1 {drift(one, two):.2e}; BN arithmetic alone {floor:.2e}")
    assert drift(one, two) <= max(1e-5, 3 * floor)


def test_several_steps_drift_no_more_than_float_arithmetic_does_in_one_process(tmp_path):
    steps = 4
    one = state(tmp_path, "one", steps, "simsiam", 1)
    native = state(tmp_path, "native", steps, "simsiam", 1, global_bn=False)
    two = state(tmp_path, "two", steps, "simsiam", 2)
    floor = drift(one, native)
    print(f"after {steps} steps: 2 processes vs 1 {drift(one, two):.2e}; BN arithmetic alone {floor:.2e}")
    assert drift(one, two) <= 3 * floor


RUN = ["-m", "ssllib", "run", "table2", "--profile", "smoke", "--variant", "simsiam", "--set", "dataset=synthetic",
       "--set", "fast=off", "--set", "epochs=3", "--no-progress"]


def kill_all_with(marker: str) -> None:
    """SIGKILL every process whose environment mentions `marker` (torchrun's workers run in their
    own sessions, so killing the launcher's group would leave them)."""
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and marker.encode() in (proc / "environ").read_bytes():
                os.kill(int(proc.name), signal.SIGKILL)
        except (OSError, PermissionError):
            pass


def test_a_killed_two_process_run_resumes_to_the_same_result(tmp_path):
    import json

    def launch(folder, port):
        return subprocess.Popen([*TORCHRUN, str(port), *RUN], cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True,
                                env=env(SSLLIB_RESULTS=str(folder / "r"), SSLLIB_CHECKPOINTS=str(folder / "c")))

    straight = launch(tmp_path / "straight", 29931)
    assert straight.wait(timeout=300) == 0, straight.stderr.read()[-2000:]
    killed = launch(tmp_path / "killed", 29932)
    deadline = time.time() + 120
    while not list((tmp_path / "killed" / "c").rglob("*.pt")) and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    kill_all_with(str(tmp_path / "killed"))  # the launcher and both workers: a machine gone
    killed.wait()
    again = launch(tmp_path / "killed", 29933)
    assert again.wait(timeout=300) == 0, again.stderr.read()[-2000:]

    def record(folder):
        (path,) = (folder / "r" / "smoke" / "table2").glob("*.json")
        return json.loads(path.read_text())

    a, b = record(tmp_path / "straight"), record(tmp_path / "killed")
    assert a["train"]["processes"] == 2 and b["train"]["resumed_at_step"] > 0
    assert a["metrics"] == b["metrics"] and a["spectrum"] == b["spectrum"]
