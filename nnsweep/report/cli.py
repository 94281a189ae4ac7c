"""``nnsweep-report DIR...`` (and ``scripts/report.py``): write the report of any folders.

Hydra's callback reports a sweep when it ends, but only if every job succeeded;
this does the same by hand, on one sweep, several (with ``--out``), a single
run, or a folder holding many of them.
"""

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path

from nnsweep.report.jobs import NoRunsError
from nnsweep.report.writer import write_report

log = logging.getLogger(__name__)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="nnsweep-report",
        description=(
            "Read nnsweep job folders and write runs.csv (one row per job and replicate), "
            "curves.csv (one row per recorded epoch), comparison figures and report.md."
        ),
        epilog="Example: nnsweep-report outputs/multirun/2026-11-27/05-55-00",
    )
    p.add_argument(
        "dirs",
        nargs="+",
        type=Path,
        metavar="DIR",
        help="a sweep folder, a single run's folder, or any folder holding them",
    )
    p.add_argument(
        "-o",
        "--out",
        type=Path,
        help="where to write (default: DIR/report; required with several DIRs)",
    )
    p.add_argument("--no-figures", action="store_true", help="write the tables and report.md only")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Write the report; return 0, or 1 when a folder holds no runs."""
    args = parser().parse_args(argv)
    if len(args.dirs) > 1 and args.out is None:
        parser().error("several folders given: say where the report goes with --out")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    try:
        write_report(args.dirs, args.out, figures=not args.no_figures)
    except NoRunsError as error:
        log.error(f"nnsweep-report: {error}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
