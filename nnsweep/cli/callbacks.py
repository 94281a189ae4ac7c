"""The Hydra callback that reports a sweep when it ends.

conf/config.yaml turns it on (``hydra.callbacks.report``); ``~hydra.callbacks.report``
on the command line turns it off. Hydra calls ``on_multirun_end`` only when every
job succeeded; after a failed job, run ``nnsweep-report <sweep dir>`` by hand.
"""

import logging
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from nnsweep.job import figures_behind

log = logging.getLogger(__name__)


class ReportCallback(Callback):
    """Writes ``<sweep dir>/report/`` (tables, figures, report.md) at the end of a multirun."""

    def __init__(self, figures: bool = True) -> None:
        self.figures = figures

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        log.info(f"sweep: {config.hydra.sweep.dir}/")  # where to look, before the first job

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from nnsweep.report.writer import write_report  # a single run never loads the report

        figures_behind.finish()  # the last job's figures, drawn behind it
        sweep_dir = Path(config.hydra.sweep.dir)
        write_report([sweep_dir], figures=self.figures)  # logs where it wrote
