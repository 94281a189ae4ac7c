"""Benchmark: one 12-job sweep with Hydra's default (serial) launcher and with the joblib
launcher on every core, in the same run; prints both wall times and their ratio.

    python scripts/bench_launchers.py [--jobs 12] [--epochs 20000]

Each job is a real nnsweep job (XOR, 2-4-4-1 sigmoid, its own seed, every file and
figure written); the per-sweep report is off so that only the jobs are timed.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def time_sweep(out: Path, jobs: int, epochs: int, *launcher: str) -> float:
    seeds = ",".join(str(s) for s in range(jobs))
    cmd = [sys.executable, "-m", "nnsweep", "-m", f"seed={seeds}", f"epochs={epochs}", "lr=0.05"]
    cmd += ["~hydra.callbacks.report", f"hydra.sweep.dir={out}", *launcher]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=12, help="jobs in the sweep (default 12)")
    parser.add_argument("--epochs", type=int, default=20000, help="epochs per job (default 20000)")
    args = parser.parse_args()
    cores = os.cpu_count()
    with tempfile.TemporaryDirectory() as tmp:
        serial = time_sweep(Path(tmp) / "basic", args.jobs, args.epochs)
        parallel = time_sweep(Path(tmp) / "joblib", args.jobs, args.epochs, "hydra/launcher=joblib")
    print(f"{args.jobs} jobs x {args.epochs} epochs, {cores} cores")
    print(f"default launcher (serial):  {serial:7.2f} s")
    print(f"joblib launcher (n_jobs=-1): {parallel:7.2f} s")
    print(f"speed-up: {serial / parallel:.2f}x")


if __name__ == "__main__":
    main()
