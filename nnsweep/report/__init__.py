"""Reading sweeps: job folders into two tidy tables, comparison figures and report.md.

One job per module:

- :mod:`.jobs`: finding job folders and reading each one;
- :mod:`.layers`: each job's layers.csv, the gradient reaching layer 1;
- :mod:`.tables`: :func:`load`, the ``runs``, ``curves`` and ``layers`` tables and the
  swept fields;
- :mod:`.text`: how fields and values are named, and what was held fixed;
- :mod:`.aggregate`: per setting, medians and the censored epochs; the curves on one grid;
- :mod:`.survival`: epochs to the threshold as censored data (Kaplan-Meier, Wilson);
- :mod:`.paired`: two settings compared seed by seed (sign test, bootstrap, Wilcoxon, Holm);
- :mod:`.answer`: the best setting of the swept fields, and how sure (the verdict's words);
- :mod:`.early_gradients`: the layer-1 gradient per value over the same early epochs;
- :mod:`.sweep_figures` (with :mod:`.curves`, :mod:`.summary`, :mod:`.time_to_threshold`,
  :mod:`.gradients`, :mod:`.heatmaps`, :mod:`.style`): the comparison figures;
- :mod:`.markdown`: report.md; :mod:`.writer`: every file of a report.

``nnsweep-report`` is :mod:`nnsweep.cli.report`, the Hydra callback
:mod:`nnsweep.cli.callbacks`.
"""

from nnsweep.report.aggregate import (
    aligned_curves,
    curve_bands,
    heat_table,
    not_complete,
    setting_table,
    summary_table,
)
from nnsweep.report.early_gradients import early_gradients
from nnsweep.report.jobs import REPORT_DIR, NoRunsError, find_job_dirs, read_job
from nnsweep.report.markdown import markdown_report, markdown_table
from nnsweep.report.sweep_figures import draw_sweep_figures
from nnsweep.report.tables import Sweep, load, swept_fields
from nnsweep.report.text import fixed_settings, format_value, short_name
from nnsweep.report.writer import write_report, write_tables

__all__ = [
    "REPORT_DIR",
    "NoRunsError",
    "Sweep",
    "aligned_curves",
    "curve_bands",
    "draw_sweep_figures",
    "early_gradients",
    "find_job_dirs",
    "fixed_settings",
    "format_value",
    "heat_table",
    "load",
    "markdown_report",
    "markdown_table",
    "not_complete",
    "read_job",
    "setting_table",
    "short_name",
    "summary_table",
    "swept_fields",
    "write_report",
    "write_tables",
]
