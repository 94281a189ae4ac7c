#!/usr/bin/env python
"""Time the report on many synthetic job folders.

    python scripts/bench_report.py                 # 1,000 jobs, tables and report.md
    python scripts/bench_report.py --figures       # the comparison figures too
    python scripts/bench_report.py --jobs 200 --rows 1500

Each job folder gets a result.json and a loss.csv written by nnsweep's own
writers, as a sweep of lr x hidden_units x dataset x seed would leave them
(3 replicates of at most 150 recorded epochs each: about 400 rows per loss.csv).
Prints the seconds for writing the folders, loading them, and writing the
tables (runs.csv, curves.csv, report.md) and, with --figures, the figures.
"""

import argparse
import itertools
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from nnsweep import report
from nnsweep.engines import schedule
from nnsweep.job import csv_tables, result_json

LRS = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0]
HIDDEN_UNITS = [2, 4, 8, 16, 32]
DATASETS = ["linear", "xor"]


def config(lr: float, hidden_units: int, dataset: str, seed: int, cap: int, reps: int) -> dict:
    return {
        "dataset": {"name": dataset, **({"n": 100} if dataset == "linear" else {})},
        "activation": {"name": "sigmoid"},
        "optimizer": {"name": "gd"},
        "loss": {"name": "mse"},
        "lr": lr,
        "hidden_units": hidden_units,
        "hidden_layers": 2,
        "output_activation": "sigmoid",
        "epochs": cap,
        "loss_threshold": 0.001,
        "batch_size": None,
        "init": "normal",
        "seed": seed,
        "replicates": reps,
        "log_every": 100,
        "print_predictions": True,
        "progress": False,
    }


def write_job(job_dir: Path, cfg: dict, rows: int, rng: np.random.Generator) -> None:
    """A loss.csv of ``rows`` recorded epochs per replicate, and its result.json."""
    job_dir.mkdir(parents=True)
    cap, tables, replicates = cfg["epochs"], [], []
    for r in range(cfg["replicates"]):
        last = int(rng.integers(rows, cap + 1))
        # thinned as loss.csv's are, to about ``rows`` epochs
        epochs = schedule.recorded_epochs(last, 0, rows // 2, rows // 2)
        loss = 0.25 * np.exp(-epochs / (0.3 * last)) + rng.uniform(1e-4, 1e-2)
        accuracy = np.clip(0.5 + 2 * (0.25 - loss), 0, 1).round(2)
        tables.append(
            pd.DataFrame({"replicate": r, "epoch": epochs, "loss": loss, "accuracy": accuracy})
        )
        row = {"replicate": r, "seed": int(rng.integers(2**63)), "final_loss": loss[-1]}
        row |= {"final_accuracy": accuracy[-1], "epochs": last, "converged": last < cap}
        replicates.append(row | {"diverged": False, "seconds": 0.5})
    csv_tables.write_loss_csv(pd.concat(tables, ignore_index=True), job_dir)
    result = {"status": "complete", "version": "bench", "config": cfg, "overrides": []}
    result_json.write_result(result | {"replicates": replicates}, job_dir)


def make_sweep(folder: Path, jobs: int, rows: int, reps: int) -> None:
    rng = np.random.default_rng(0)
    seeds = range(-(-jobs // (len(LRS) * len(HIDDEN_UNITS) * len(DATASETS))))  # enough
    settings = itertools.product(seeds, LRS, HIDDEN_UNITS, DATASETS)
    for number, (seed, lr, units, dataset) in zip(range(jobs), settings, strict=False):
        cfg = config(lr, units, dataset, seed, cap=10 * rows, reps=reps)
        write_job(folder / str(number), cfg, rows, rng)


def timed(label: str, fn, *args):
    start = time.perf_counter()
    value = fn(*args)
    print(f"{label:<40s} {time.perf_counter() - start:7.2f} s")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000, help="job folders (default 1000)")
    parser.add_argument("--rows", type=int, default=150, help="loss.csv rows per replicate")
    parser.add_argument("--replicates", type=int, default=3, help="replicates per job")
    parser.add_argument("--figures", action="store_true", help="time the figures too")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "sweep"
        timed(
            f"write {args.jobs} synthetic job folders",
            make_sweep,
            folder,
            args.jobs,
            args.rows,
            args.replicates,
        )
        start = time.perf_counter()
        sweep = timed("load (runs + curves)", report.load, folder)
        out = folder / "report"
        out.mkdir()
        timed("write runs.csv + curves.csv", report.write_tables, sweep, out)
        timed(
            "write report.md",
            lambda: (out / "report.md").write_text(report.markdown_report(sweep, [])),
        )
        if args.figures:
            figures = timed("write the figures", report.draw_sweep_figures, sweep, out)
            print(f"  ({len(figures)} figures)")
        total = time.perf_counter() - start
        print(f"{len(sweep.runs)} runs rows, {len(sweep.curves)} curves rows, swept: {sweep.swept}")
        what = (
            "tables, report.md and figures" if args.figures else "tables and report.md, no figures"
        )
        print(f"load + report ({what}): {total:.2f} s")


if __name__ == "__main__":
    main()
