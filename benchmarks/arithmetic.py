"""Same verdicts in both arithmetics: one chapter's runs trained twice on this machine,
once in plain fp32 (`fast=off`) and once with bf16 autocast (`fast=bf16`), each in its own results
and checkpoint folder (`fast` is not part of the config hash, so the two would share a cache
entry otherwise), then every claim of the chapter judged on each set.

    .venv/bin/python benchmarks/arithmetic.py --experiment fig5_6 --profile cpu

Writes results/benchmarks/arithmetic-<cpu>.json: per claim the fp32 and the bf16 verdict, per run
the headline metrics in both, the seconds each arithmetic took, and `same_verdicts`.
tests/test_benchmarks.py runs it at the smoke profile on synthetic images.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODES = {"fp32": "off", "bf16": "bf16"}  # the arithmetic's name -> cfg.fast
METRICS = ("linear_acc", "knn_acc", "m_o", "m_r", "eta_p", "eta_z", "covariance_z")


def train(work: Path, experiment: str, profile: str, fast: str, sets: list[str]) -> float:
    """Every run of `experiment` at `profile` with cfg.fast = `fast`, in `work`; seconds taken."""
    from faults import env_for  # benchmarks/faults.py: a run's own results and checkpoint folders

    env = env_for(work)
    cmd = [sys.executable, "-m", "ssllib", "run", experiment, "--profile", profile, "--set", f"fast={fast}",
           "--no-progress"] + [a for s in sets for a in ("--set", s)]
    t0 = time.time()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[2:])} failed: {done.stderr.strip().splitlines()[-1:]}")
    return round(time.time() - t0, 1)


def judged(work: Path, experiment: str, profile: str) -> tuple[list[dict], dict]:
    """The records trained in `work`, judged: (claims, {"variant/seed": metrics})."""
    from ssllib.results import read_entry
    from ssllib.verdicts import claims_for

    os.environ["SSLLIB_RESULTS"] = str(work / "results")  # where read_curve finds the curves
    records = [read_entry(p) for p in sorted((work / "results" / profile / experiment).glob("*.json"))]
    claims = claims_for(experiment, records)
    runs = {f"{r['variant']}/{r['seed']}": {"bf16_autocast": r["train"]["fast"]["bf16_autocast"],
                                             **{k: r["metrics"][k] for k in METRICS if k in r["metrics"]}}
            for r in records}
    return claims, runs


def compare(experiment: str, profile: str, sets: list[str], work: Path) -> dict:
    claims, runs, seconds = {}, {}, {}
    for name, fast in MODES.items():
        seconds[name] = train(work / name, experiment, profile, fast, sets)
        claims[name], runs[name] = judged(work / name, experiment, profile)
    rows = [{"claim": a["claim"], "kind": a["kind"], "fp32": a["verdict"], "bf16": b["verdict"],
             "fp32 ours": a["ours"], "bf16 ours": b["ours"], "same": a["verdict"] == b["verdict"]}
            for a, b in zip(claims["fp32"], claims["bf16"], strict=True)]
    return {"experiment": experiment, "profile": profile, "overrides": sets, "seconds": seconds,
            "claims": rows, "runs": runs, "same_verdicts": all(r["same"] for r in rows)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--experiment", default="fig5_6")
    ap.add_argument("--profile", default="cpu")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="config override for both arithmetics (e.g. dataset=synthetic)")
    ap.add_argument("--out", default=None, help="folder for the JSON (default results/benchmarks)")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import torch
    from input_pipeline import write_json

    from ssllib.hardware import cpu_model, cpu_native_bf16, device_name

    with tempfile.TemporaryDirectory() as work:
        result = {"device": device_name(torch.device("cpu")), "native_bf16": cpu_native_bf16(),
                  "what": "one chapter's runs in fp32 and in bf16 autocast, judged apart",
                  **compare(args.experiment, args.profile, args.set, Path(work))}
    out = write_json(result, f"arithmetic-{cpu_model().replace(' ', '_')}.json", args.out)
    for row in result["claims"]:
        print(f"{'same' if row['same'] else 'DIFFERENT':9} fp32 {row['fp32']:16} bf16 {row['bf16']:16} {row['claim']}")
    print(f"{args.experiment} at {args.profile}: seconds {result['seconds']}; same verdicts: "
          f"{result['same_verdicts']}\nwrote {out}")
    return 0 if result["same_verdicts"] else 1


if __name__ == "__main__":
    sys.exit(main())
