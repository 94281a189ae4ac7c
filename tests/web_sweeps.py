"""The sweeps whose report.html the web tests read: a real one (three jobs, a small epoch
cap, each job's figures drawn) and a synthetic one of 200 jobs (tests/synthetic.py),
some of which failed, stopped at the cap or wrote layers.csv."""

import itertools
import subprocess
import sys
from pathlib import Path

import numpy as np
from synthetic import config, write_job

from nnsweep import report

LRS = [0.5, 2.0, 10.0, 30.0, 100.0]  # as text, 10 and 100 sort before 2: numbers must not
HIDDEN_UNITS = [2, 4, 16, 32]
DATASETS = ["linear", "xor"]
SEEDS = range(5)
CAP = 300
FAILED = {7, 77, 150}  # jobs that failed: a row with no numbers, which sorts last


def real_sweep(folder: Path) -> Path:
    """``optimizer=gd,momentum,adam`` on XOR, 2 replicates, 3,000 epochs at most: adam
    converges, the others stop at the cap. Hydra's callback writes the report."""
    args = ["optimizer=gd,momentum,adam", "epochs=3000", "replicates=2"]
    done = subprocess.run(
        [sys.executable, "-m", "nnsweep", "-m", *args, f"hydra.sweep.dir={folder}"],
        cwd=folder.parent,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return folder / report.REPORT_DIR / "report.html"


def synthetic_sweep(folder: Path) -> Path:
    """200 jobs: lr x hidden_units x dataset x seed, 2 replicates each stopping at a random
    epoch (some at the cap: not converged), three failed, a quarter with layers.csv."""
    rng = np.random.default_rng(0)
    settings = itertools.product(SEEDS, LRS, HIDDEN_UNITS, DATASETS)
    for job, (seed, lr, units, dataset) in enumerate(settings):
        cfg = config(dataset=dataset, lr=lr, hidden_units=units, seed=seed, epochs=CAP)
        cfg["replicates"] = 2
        epochs = [min(int(e), CAP) for e in rng.integers(40, 1.4 * CAP, size=2)]  # some: cap
        status = "failed" if job in FAILED else "complete"
        gradient = (0.1 * lr, 0.2) if job % 4 == 0 else None
        write_job(folder / str(job), cfg, epochs, status=status, gradient=gradient)
    report.write_report(folder, figures=False)
    return folder / report.REPORT_DIR / "report.html"
