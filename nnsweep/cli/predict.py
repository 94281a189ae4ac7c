"""``nnsweep-predict JOB_DIR x1 x2`` or ``--csv FILE``: the trained networks' outputs: one
column per replicate, or for a softmax each class's probability and the predicted class."""

import argparse
import math
import sys
from pathlib import Path

import numpy as np

from nnsweep.job.params_npz import PARAMS_NPZ, UnreadableNetworks, load_networks

EPILOG = """examples:
  nnsweep-predict outputs/runs/2026-11-27/05-55-00-123456 0.2 0.9
  nnsweep-predict JOB_DIR -- -0.5 0.3      (-- before a point that starts with -)
  nnsweep-predict JOB_DIR --csv points.csv (a header line x1,x2, then x1,x2 per line)"""


class BadPoints(ValueError):
    """Input points that are not two finite numbers each: the message says where."""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="nnsweep-predict",
        description="The output of every trained replicate of a job, from its params.npz: "
        "for a softmax, each class's probability and the most probable class.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("job_dir", type=Path, help="a run's or a sweep job's folder")
    p.add_argument("point", nargs="*", help="x1 x2 of one input point")
    p.add_argument("--csv", type=Path, help="a CSV file of input points: header x1,x2, then rows")
    p.add_argument(
        "--epoch",
        type=int,
        help="the parameters at this snapshot epoch (0: the initial ones), not the final ones",
    )
    return p


def main(argv: list[str] | None = None) -> None:
    p = parser()
    args = p.parse_intermixed_args(argv)  # the point may come after --epoch N
    if (args.csv is None) == (len(args.point) != 2):
        p.error("give one point as x1 x2, or --csv FILE")
    if not (args.job_dir / PARAMS_NPZ).is_file():
        sys.exit(f"nnsweep-predict: {args.job_dir} has no {PARAMS_NPZ}; give a job's folder")
    try:
        x = read_csv(args.csv) if args.csv else np.array([numbers(args.point, "the point")])
        networks = load_networks(args.job_dir)
        params = [None if args.epoch is None else n.at(args.epoch) for n in networks]
    except (BadPoints, UnreadableNetworks, OSError) as error:
        sys.exit(f"nnsweep-predict: {error}")
    except ValueError as error:  # an epoch that is not a snapshot
        sys.exit(f"nnsweep-predict: --epoch {args.epoch}: {error}")
    columns, names = [x], ["x1", "x2"]
    for network, p in zip(networks, params, strict=True):
        output, r = network.predict(x, p), network.replicate
        if network.net.softmax:  # each class's probability, then the most probable class
            columns += [output, network.predicted_class(x, p)[:, None]]
            names += [f"replicate_{r}_p{k}" for k in range(output.shape[1])]
            names.append(f"replicate_{r}_class")
        else:
            columns.append(output)
            names.append(f"replicate_{r}")
    np.savetxt(sys.stdout, np.column_stack(columns), delimiter=",", fmt="%.10g",
               header=",".join(names), comments="")  # fmt: skip


def numbers(fields: list[str], where: str) -> list[float]:
    """Two finite numbers, or BadPoints saying ``where`` and what was found."""
    try:
        values = [float(f) for f in fields]
    except ValueError:
        values = []
    if len(values) != 2 or not all(math.isfinite(v) for v in values):
        raise BadPoints(f"{where}: {','.join(fields)!r} is not two finite numbers x1,x2")
    return values


def read_csv(path: Path) -> np.ndarray:
    """The points of a CSV file: a header line (x1,x2), then one point per line."""
    if path.is_dir():
        raise BadPoints(f"{path} is a folder; give a CSV file")
    lines = [(i, line.strip()) for i, line in enumerate(path.read_text().splitlines(), 1)]
    lines = [(i, line) for i, line in lines if line]
    if lines and _is_point(lines[0][1]):
        raise BadPoints(f"{path}: line 1 is a point; the first line must be a header, x1,x2")
    if lines and len(lines[0][1].split(",")) != 2:
        raise BadPoints(f"{path}: line 1, {lines[0][1]!r}, is not a header of two columns, x1,x2")
    points = [numbers(line.split(","), f"{path}, line {i}") for i, line in lines[1:]]
    if not points:
        raise BadPoints(f"{path}: no points (a header line x1,x2, then one point per line)")
    return np.array(points)


def _is_point(line: str) -> bool:
    try:
        numbers(line.split(","), "")
    except BadPoints:
        return False
    return True


if __name__ == "__main__":
    main()
