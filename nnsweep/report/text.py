"""How the report names fields and values, and says what was held fixed."""

import textwrap
from typing import Any

import numpy as np
import pandas as pd

from nnsweep.figures.style import network_label
from nnsweep.job.schema import PRESENTATION_FIELDS
from nnsweep.report.tables import Sweep, judged_jobs

NETWORK_FIELDS = ("hidden_units", "hidden_layers")  # shown together as 2-4-4-1


def short_name(field: str) -> str:
    """``optimizer.name`` is shown as ``optimizer``; other fields keep their dotted name."""
    return field.removesuffix(".name")


def format_value(value: Any, digits: int = 6) -> str:
    """A value as the report prints it: a float to ``digits`` significant digits."""
    if isinstance(value, (float, np.floating)):
        return f"{value:.{digits}g}"
    return str(value)


def value_labels(values: Any) -> dict[Any, str]:
    """Each distinct value's label, floats with as many digits as it takes to tell them apart
    (``lr=1.0,0.9999999999`` reads 1 and 0.9999999999, not 1 and 1)."""
    distinct = list(dict.fromkeys(v for v in values if not pd.isna(v)))
    for digits in range(6, 18):
        labels = {v: format_value(v, digits) for v in distinct}
        if len(set(labels.values())) == len(distinct):
            return labels
    return {v: repr(v) for v in distinct}


def count(n: int, noun: str) -> str:
    """``1 replicate``, ``5 replicates``."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def ordered_values(values: pd.Series) -> list[Any]:
    """Distinct values: numbers ascending, anything else in the order the sweep ran them."""
    order = values.dropna().unique()  # order of first appearance
    return list(np.sort(order) if pd.api.types.is_numeric_dtype(values) else order)


def fixed_settings(sweep: Sweep) -> dict[str, Any]:
    """Config fields with one value over the complete jobs (fields of a swept group left
    out); hidden units and layers together as ``network`` when both are fixed."""
    swept_groups = {f.rpartition(".")[0] for f in sweep.swept if f.endswith(".name")}
    jobs = judged_jobs(sweep.runs)
    fixed = {}
    for column in sweep.config_columns:
        group = column.rpartition(".")[0]
        if column in sweep.swept or column in PRESENTATION_FIELDS or group in swept_groups:
            continue
        values = jobs[column].dropna().unique()
        if len(values) == 1:
            fixed[short_name(column)] = values[0]
    if all(f in fixed for f in NETWORK_FIELDS):
        # a softmax has one output per class (the sweep's one K: tables.MixedClasses)
        softmax = fixed.get("output_activation") == "softmax"
        outputs = int(fixed.get("dataset.classes", 2)) if softmax else 1
        layers = network_label(*(fixed.pop(f) for f in NETWORK_FIELDS), outputs)
        fixed = {"network": layers, **fixed}
    return fixed


def fixed_text(sweep: Sweep, width: int = 110, lead: str = "held fixed") -> str:
    settings = ", ".join(f"{k}={format_value(v)}" for k, v in fixed_settings(sweep).items())
    return textwrap.fill(f"{lead}: {settings or 'nothing'}", width)


def swept_text(sweep: Sweep) -> str:
    """``Swept: `lr` (0.1, 1); `dataset` (linear, xor).``, over the complete jobs."""
    jobs = judged_jobs(sweep.runs)
    swept = "; ".join(
        f"`{short_name(f)}` ({', '.join(value_labels(ordered_values(jobs[f])).values())})"
        for f in sweep.swept
    )
    return f"Swept: {swept or 'nothing'}."
