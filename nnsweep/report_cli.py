"""Where the ``nnsweep-report`` console script finds its entry point
(:mod:`nnsweep.report.cli`)."""

from nnsweep.report.cli import main, parser

__all__ = ["main", "parser"]
