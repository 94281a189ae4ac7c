"""``nnsweep-report DIR...`` (and ``scripts/report.py``): write the report of any folders.

Hydra's callback reports a sweep when it ends, but only if every job succeeded;
this does the same by hand, on one sweep, several (with ``--out``), a single
run, or a folder holding many of them.
"""

import argparse
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from nnsweep.report.jobs import NoRunsError
from nnsweep.report.tables import MixedClasses
from nnsweep.report.writer import write_report

log = logging.getLogger(__name__)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="nnsweep-report",
        description=(
            "Read nnsweep job folders and write runs.csv (one row per job and replicate), "
            "curves.csv (one row per recorded epoch), comparison figures and report.md."
        ),
        epilog="Example: nnsweep-report outputs/multirun/2026-11-27/05-55-00-123456",
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
    """Write the report; return 0, or 1 with one line when a folder holds no nnsweep runs
    or the report cannot be written (2, argparse's, for a command-line usage error)."""
    args = parser().parse_args(argv)
    if len(args.dirs) > 1 and args.out is None:
        parser().error("several folders given: say where the report goes with --out")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    try:
        if args.out is not None:
            check_writable(args.out)
        write_report(args.dirs, args.out, figures=not args.no_figures)
    except (NoRunsError, MixedClasses) as error:
        log.error(f"nnsweep-report: {error}")
        return 1
    except OSError as error:  # a folder that cannot be created or written, a full disk
        log.error(f"nnsweep-report: cannot write the report: {error}")
        return 1
    return 0


def check_writable(out: Path) -> None:
    """Raise OSError, before any work, if ``out`` cannot become a folder written to."""
    existing = next(p for p in [out, *out.parents] if p.exists())
    if not existing.is_dir():
        raise NotADirectoryError(f"--out {out}: {existing} is a file; give a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise PermissionError(f"--out {out}: {existing} is not writable")


if __name__ == "__main__":
    raise SystemExit(main())
