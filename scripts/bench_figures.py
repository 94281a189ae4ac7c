"""What a job's figures cost to draw, figure by figure (issue 20).

    python scripts/bench_figures.py                 # trains three jobs first (~1 min)
    python scripts/bench_figures.py --jobs DIR ...  # complete job folders, drawn again
    python scripts/bench_figures.py --out DIR       # also keep the figures, one folder a job

Without ``--jobs`` it trains three jobs in a temporary folder: the lab's main run (XOR to
loss 0.001 at epoch 546,749: log epoch axes), a 10-epoch job, and a K=3 spiral with
held-out points and 3 replicates. For each job it prints:

- each figure's CPU time, the least of ``--repeats`` draws in one warm process (matplotlib
  and the figure modules imported, the job's files read);
- what a job's own process pays: every figure drawn once in a fresh process, imports of
  the figure modules included (the least of ``--repeats`` processes).

Figures are written to a temporary folder (or ``--out``), never into the job folders.
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from nnsweep.engines.history import History
from nnsweep.job import csv_tables, figures, result_json
from nnsweep.job.build import Experiment, build
from nnsweep.job.hydra_files import HYDRA_CONFIG
from nnsweep.job.params_npz import saved_history
from nnsweep.job.schema import RunConfig

ROOT = Path(__file__).resolve().parent.parent
JOBS = {  # name: overrides of a job this script trains when no --jobs are given
    "default": [],
    "ten_epochs": ["epochs=10"],
    "spiral3": ["dataset=spiral", "dataset.classes=3", "dataset.n=300", "dataset.test_n=150",
                "output_activation=softmax", "loss=cross_entropy", "optimizer=adam",
                "epochs=10000", "loss_threshold=0.05", "replicates=3", "hidden_units=16",
                "activation=tanh"],
}  # fmt: skip


def load(job_dir: Path) -> tuple[DictConfig, Experiment, History, csv_tables.JobTables]:
    """What draw_figures takes, read from a complete job folder (as ``redraw`` reads it)."""
    # the job's saved config over the schema, which turns the figures' names into enums
    cfg = OmegaConf.merge(OmegaConf.structured(RunConfig), OmegaConf.load(job_dir / HYDRA_CONFIG))
    layers = pd.read_csv(job_dir / csv_tables.LAYERS_CSV)
    tables = csv_tables.JobTables(csv_tables.read_loss_csv(job_dir), layers)
    history = saved_history(job_dir, result_json.read_result(job_dir))
    return cfg, build(cfg), history, tables


def names(cfg: DictConfig) -> list[str]:
    """The figures the job draws: those a folder without any would miss."""
    return [f.name for f in cfg.figures if f.name in figures.missing(cfg, Path("/nonexistent"))]


def per_figure(job_dir: Path, out: Path, repeats: int) -> dict[str, float]:
    """CPU ms of each figure of ``job_dir``, the least of ``repeats`` warm draws."""
    cfg, e, history, tables = load(job_dir)
    out.mkdir(parents=True, exist_ok=True)
    figures.draw_figures(cfg, e, history, tables, out)  # imports and caches warm
    costs = {}
    for name in names(cfg):
        took = []
        for _ in range(repeats):
            start = time.process_time()
            failed = figures.draw_figures(cfg, e, history, tables, out, [name])
            took.append(time.process_time() - start)
            if failed:
                raise RuntimeError(f"{job_dir}: {failed}")
        costs[name] = 1000 * min(took)
    return costs


def once(job_dir: Path, out: Path) -> None:
    """In a fresh process: every figure drawn once, imports included; prints CPU ms."""
    cfg, e, history, tables = load(job_dir)
    out.mkdir(parents=True, exist_ok=True)
    start = time.process_time()
    failed = figures.draw_figures(cfg, e, history, tables, out)
    print(f"{1000 * (time.process_time() - start):.1f}")
    if failed:
        raise RuntimeError(f"{job_dir}: {failed}")


def fresh(job_dir: Path, out: Path, repeats: int) -> float:
    """CPU ms a job's own process pays for its figures, the least of ``repeats``."""
    cmd = [sys.executable, __file__, "--once", str(job_dir), "--out", str(out)]
    runs = [subprocess.run(cmd, check=True, capture_output=True, text=True) for _ in range(repeats)]
    return min(float(run.stdout) for run in runs)


def train(folder: Path) -> list[Path]:
    jobs = []
    for name, overrides in JOBS.items():
        job = folder / name
        cmd = [sys.executable, "-m", "nnsweep", *overrides, "print_predictions=false",
               "progress=false", f"hydra.run.dir={job}"]  # fmt: skip
        print(f"training {name}: {' '.join(overrides) or '(the default run)'}", flush=True)
        subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
        jobs.append(job)
    return jobs


def report(jobs: list[Path], out: Path, repeats: int) -> None:
    for job in jobs:
        costs = per_figure(job, out / job.name, repeats)
        cells = "  ".join(f"{name} {ms:6.1f}" for name, ms in costs.items())
        whole = fresh(job, out / job.name, repeats)
        print(f"{job.name:<12} ms CPU, warm: {cells}  | all {sum(costs.values()):6.1f}")
        print(f"{'':<12} a fresh process's figures, imports included: {whole:6.1f} ms CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", nargs="+", type=Path, help="complete job folders to draw")
    parser.add_argument("--out", type=Path, help="keep the figures here, a folder per job")
    parser.add_argument("--repeats", type=int, default=5, help="draws per figure (default 5)")
    parser.add_argument("--once", type=Path, help=argparse.SUPPRESS)  # fresh()'s child
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        out = args.out or Path(folder) / "figures"
        if args.once:
            once(args.once, out)
            return
        jobs = args.jobs or train(Path(folder) / "jobs")
        report(jobs, out, args.repeats)


if __name__ == "__main__":
    main()
