"""Where conf/config.yaml's ``hydra.callbacks.report._target_`` finds the report callback
(:mod:`nnsweep.report.callback`)."""

from nnsweep.report.callback import ReportCallback

__all__ = ["ReportCallback"]
