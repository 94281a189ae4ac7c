"""``nnsweep-predict JOB_DIR x1 x2`` or ``--csv FILE``: the trained networks' outputs."""

import argparse
import sys
from pathlib import Path

import numpy as np

from nnsweep.job.params_npz import PARAMS_NPZ, load_networks


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="nnsweep-predict",
        description="The output of every trained replicate of a job, from its params.npz.",
        epilog="Example: nnsweep-predict outputs/runs/2026-11-27/05-55-00-123456 0.2 0.9",
    )
    parser.add_argument("job_dir", type=Path, help="a run's or a sweep job's folder")
    parser.add_argument("point", nargs="*", type=float, help="x1 x2 of one input point")
    parser.add_argument("--csv", type=Path, help="a CSV file of input points, columns x1,x2")
    parser.add_argument(
        "--epoch",
        type=int,
        help="the parameters at this snapshot epoch (0: the initial ones), not the final ones",
    )
    args = parser.parse_args(argv)
    if (args.csv is None) == (len(args.point) != 2):
        parser.error("give one point as x1 x2, or --csv FILE")
    if not (args.job_dir / PARAMS_NPZ).is_file():
        sys.exit(f"nnsweep-predict: {args.job_dir} has no {PARAMS_NPZ}; give a job's folder")
    x = np.loadtxt(args.csv, delimiter=",", skiprows=1, ndmin=2) if args.csv else [args.point]
    networks = load_networks(args.job_dir)
    try:
        params = [None if args.epoch is None else n.at(args.epoch) for n in networks]
    except ValueError as error:
        sys.exit(f"nnsweep-predict: --epoch {args.epoch}: {error}")
    x = np.asarray(x, dtype=float)
    outputs = np.column_stack(
        [n.predict(x, p)[:, 0] for n, p in zip(networks, params, strict=True)]
    )
    header = "x1,x2," + ",".join(f"replicate_{n.replicate}" for n in networks)
    np.savetxt(sys.stdout, np.column_stack([x, outputs]), delimiter=",", fmt="%.10g",
               header=header, comments="")  # fmt: skip


if __name__ == "__main__":
    main()
