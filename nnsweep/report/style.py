"""What the sweep figures share: file names, the titles' context, colours, line styles."""

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps

from nnsweep.report.tables import PANEL, Sweep, judged_jobs
from nnsweep.report.text import count, fixed_text, short_name

LINE_STYLES = ("-", "--", ":", "-.")  # curves that coincide stay apart by their dashes


def shown_by(field: str | None) -> str:
    """What a figure's title says it draws lines of: ``by lr``, or ``of every run``."""
    return f"by {short_name(field)}" if field else "of every run"


def panels_width(panels: int) -> float:
    """A sweep figure's width in inches for ``panels`` columns (one per dataset)."""
    return max(9.0, 1.0 + 5.2 * panels)


def figure_path(out_dir: Path, kind: str, *fields: str) -> Path:
    """``curves_lr.png``, ``heatmap_final_loss_lr_hidden_units.png``: the one place figure
    names are made."""
    parts = [re.sub(r"[^\w.-]", "_", short_name(f)) for f in fields]
    return Path(out_dir) / ("_".join([kind, *parts]) + ".png")


def pooled(sweep: Sweep, shown: Sequence[str | None]) -> list[str]:
    """Swept fields a figure showing ``shown`` pools (the dataset has its panels)."""
    return [short_name(f) for f in sweep.swept if f not in shown and f != PANEL]


def context(sweep: Sweep, *shown: str | None) -> str:
    """The title's second part: what was held fixed, and swept fields pooled in the figure."""
    text = fixed_text(sweep)
    if pooled(sweep, shown):
        text += "\npooled over: " + ", ".join(pooled(sweep, shown))
    return text


def pooled_over(sweep: Sweep, *shown: str | None) -> str:
    """What a median or band is taken over: ``3 replicates and every lr, seed``."""
    jobs = judged_jobs(sweep.runs)
    replicates = jobs["replicates"] if "replicates" in jobs else pd.Series([1])
    counts = replicates.dropna().unique()
    what = count(int(counts[0]), "replicate") if len(counts) == 1 else "the replicates"
    if pooled(sweep, shown):
        what += " and every " + ", ".join(pooled(sweep, shown))
    return what


def is_numeric(sweep: Sweep, field: str | None) -> bool:
    """Ordered numbers (lr, hidden_units) rather than names (optimizer, activation)."""
    return field is not None and pd.api.types.is_numeric_dtype(sweep.jobs[field])


def ordered(values: pd.Series) -> list:
    present = set(values)
    order = values.cat.categories if hasattr(values, "cat") else values.unique()
    return [v for v in order if v in present]


def series_colours(series: pd.Series, sequential: bool = False) -> dict[str, tuple]:
    """One colour per series, in its order: tab10 for up to ten names, else (and for
    ordered numbers, ``sequential``) from dark to light along viridis."""
    names = ordered(series)
    if sequential or len(names) > 10:
        steps = np.linspace(0, 0.85, len(names))  # not viridis' last yellows: pale on white
        return {name: colormaps["viridis"](s) for name, s in zip(names, steps, strict=True)}
    return {name: colormaps["tab10"](i) for i, name in enumerate(names)}


def series_styles(series: pd.Series, sequential: bool = False) -> tuple[dict, dict]:
    """Each series' colour (:func:`series_colours`) and line style, in its order."""
    colours = series_colours(series, sequential)
    styles = {s: LINE_STYLES[i % len(LINE_STYLES)] for i, s in enumerate(colours)}
    return colours, styles
