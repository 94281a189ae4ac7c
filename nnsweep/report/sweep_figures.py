"""The sweep figures: which are drawn, in what order.

Per swept field (the dataset makes panels, a seed pools with the replicates): the
learning curves (:mod:`.curves`), final accuracy and epochs against its values
(:mod:`.summary`), the share still above the loss threshold against epoch
(:mod:`.time_to_threshold`) and, where jobs wrote layers.csv, the gradient reaching layer 1
(:mod:`.gradients`); for every pair of up to three swept fields, heat maps
(:mod:`.heatmaps`).
"""

import logging
from pathlib import Path

from nnsweep.report.curves import write_curves
from nnsweep.report.gradients import write_gradients
from nnsweep.report.heatmaps import write_heatmaps
from nnsweep.report.summary import write_summary
from nnsweep.report.tables import PANEL, Sweep
from nnsweep.report.time_to_threshold import write_time_to_threshold

log = logging.getLogger(__name__)

MAX_HEAT_MAP_FIELDS = 3  # heat maps for every pair of up to 3 swept fields (3 pairs)


def draw_sweep_figures(sweep: Sweep, out_dir: Path) -> list[Path]:
    """The sweep's figures: learning curves and values against each swept field; heat maps
    for each pair. Returns the paths written, in the order report.md shows them. (A job's
    own figures are nnsweep.job.figures.draw_figures'.)"""
    fields = sweep.figure_fields
    written = [write_curves(sweep, f, out_dir) for f in fields or [None]]
    summary_fields = fields or ([PANEL] if PANEL in sweep.swept else [])
    written += [write_summary(sweep, f, out_dir) for f in summary_fields]
    written += [write_time_to_threshold(sweep, f, out_dir) for f in fields]
    written += [write_gradients(sweep, f, out_dir) for f in fields or [None]]
    if len(fields) > MAX_HEAT_MAP_FIELDS:
        log.info(f"{len(fields)} swept fields: no heat maps (drawn for 2 to 3 fields)")
        fields = []
    for i, rows in enumerate(fields):
        for columns in fields[i + 1 :]:
            written += write_heatmaps(sweep, rows, columns, out_dir)
    return [p for p in written if p is not None]
