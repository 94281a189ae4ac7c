"""What experiment=spirals finds, computed from its runs: which hidden widths separate the
3-arm spiral's arms, for each activation.

A width "separates the arms" when every replicate classifies at least SEPARATED of the
held-out points right (the arms meet at the centre, where a few points of different
arms coincide: no network gets all of them). The figures the README shows are copied
to docs/images/.

    python scripts/spirals.py                       # runs the experiment (~2 minutes)
    python scripts/spirals.py --sweep DIR           # reads a finished experiment=spirals
"""

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

from nnsweep import read_sweep
from nnsweep.report.jobs import NoRunsError

SEPARATED = 0.95  # held-out accuracy every replicate reaches
IMAGES = Path(__file__).resolve().parents[1] / "docs" / "images"


def finding(runs: pd.DataFrame) -> list[str]:
    """One line per activation: the narrowest width from which every replicate of every
    wider setting too separates the arms, and how many replicates do at each width."""
    done = runs[runs["status"] == "complete"]
    lines = []
    for activation, rows in done.groupby("activation.name", sort=False):
        share = rows.groupby("hidden_units")["final_test_accuracy"].agg(
            lambda a: (a >= SEPARATED).mean()
        )
        counts = rows.groupby("hidden_units")["final_test_accuracy"].agg(
            lambda a: f"{(a >= SEPARATED).sum()}/{len(a)}"
        )
        wide_enough = [w for w in share.index if (share.loc[w:] == 1).all()]
        verdict = (
            f"{wide_enough[0]} or more units separate the arms"
            if wide_enough
            else f"no width up to {share.index.max()} separates the arms"
        )
        per_width = ", ".join(f"{w}: {c}" for w, c in counts.items())
        lines.append(f"- {activation}: {verdict} (replicates at held-out accuracy "
                     f">= {SEPARATED:.0%}, by width: {per_width})")  # fmt: skip
    return lines


def run_experiment(folder: Path) -> None:
    command = [sys.executable, "-m", "nnsweep", "experiment=spirals",
               f"hydra.sweep.dir={folder}", "rerun=true"]  # fmt: skip
    subprocess.run(command, check=True)


def copy_figures(folder: Path, runs: pd.DataFrame) -> None:
    """The report's activation x width heatmap and the widest tanh job's boundary."""
    IMAGES.mkdir(parents=True, exist_ok=True)
    heatmap = folder / "report" / "heatmap_final_loss_activation_hidden_units.png"
    shutil.copy(heatmap, IMAGES / "spirals_heatmap.png")
    tanh = runs[(runs["activation.name"] == "tanh") & (runs["status"] == "complete")]
    job = Path(tanh.loc[tanh["hidden_units"].idxmax(), "job_dir"])
    shutil.copy(job / "boundary.gif", IMAGES / "spirals_boundary.gif")
    shutil.copy(job / "decision_boundary.png", IMAGES / "spirals_decision_boundary.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", type=Path, help="a finished experiment=spirals folder")
    parser.add_argument("--work", type=Path, default=Path("outputs/spirals"),
                        help="where to run the experiment (without --sweep)")  # fmt: skip
    args = parser.parse_args()
    folder = args.sweep or args.work
    if args.sweep is None:
        run_experiment(folder)
    try:
        runs = read_sweep(folder).runs
    except NoRunsError as error:
        sys.exit(f"spirals.py: {error}")
    if "final_test_accuracy" not in runs or "activation.name" not in runs.attrs["swept"]:
        sys.exit(
            f"spirals.py: {folder} is not an experiment=spirals sweep (no held-out accuracy, "
            "or activation not swept); run python -m nnsweep experiment=spirals"
        )
    print("\n".join(finding(runs)))
    copy_figures(folder, runs)


if __name__ == "__main__":
    main()
