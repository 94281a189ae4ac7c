"""report.md: the answer first, then the table of every setting, what did not complete,
the gradient reaching layer 1 (where jobs wrote layers.csv), the figures, and every
replicate."""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nnsweep import __version__
from nnsweep.report.aggregate import STATISTIC, not_complete, summary_table
from nnsweep.report.answer import answer_lines, epochs_text
from nnsweep.report.early_gradients import WINDOW_POINTS, gradient_lines
from nnsweep.report.tables import Sweep
from nnsweep.report.text import count, fixed_text, short_name, swept_text, value_labels

MAX_RUNS_IN_MARKDOWN = 200  # report.md lists every replicate up to this; runs.csv always
WHOLE_FROM = 1000  # a column reaching this is written in whole numbers with commas
# setting_table's columns by the names report.md's table once gave them (report.html's
# runs table takes them per job); "epochs to threshold" is over the replicates that reached it
SUMMARY_COLUMNS = {
    "replicates": "replicates",
    "converged": "converged",
    "diverged": "diverged",
    f"epochs_{STATISTIC}": "epochs to threshold",
    f"final_loss_{STATISTIC}": "final loss",
    "final_loss_min": "loss min",
    "final_loss_max": "loss max",
    f"final_accuracy_{STATISTIC}": "accuracy",
    "final_accuracy_min": "accuracy min",
}
# report.md's table beside the share converged and the censored median epochs
SETTING_COLUMNS = {
    "diverged": "diverged",
    f"final_loss_{STATISTIC}": "final loss",
    "final_loss_min": "loss min",
    "final_loss_max": "loss max",
    f"final_accuracy_{STATISTIC}": "accuracy",
    "final_accuracy_min": "accuracy min",
}
HELD_OUT_COLUMNS = {  # beside the training accuracy, where the jobs held out test points
    f"final_test_accuracy_{STATISTIC}": "held-out accuracy",
    "final_test_accuracy_min": "held-out min",
}
TIME_TO_THRESHOLD = (
    "`time_to_threshold_<field>.png` shows what the learning curves do not: the share of "
    "replicates still above the loss threshold against epoch (Kaplan-Meier, with its 95% "
    "band), so when each replicate reached it and how many never did (a tick at the cap, "
    "with their count), where a median curve shows only the middle replicate's loss."
)
GRADIENTS_LEAD = (
    "From each job's layers.csv: the norm of the loss gradient of layer 1's weights (the "
    "first hidden layer, reached by the gradient last) and the mean |f'(z)| of its units, "
    "the factor its activation puts on every gradient passing back through it. Values are "
    "compared over the same epochs, from 1 to the shortest run, where every replicate "
    "compared was still training: each replicate's median over {points} log-spaced epochs "
    "of them (each decade weighs alike, so the early epochs weigh most), then the median "
    "over the replicates; the figure shows where the values cross."
)


NOTHING_COMPLETE = (
    "No job of this sweep completed, so there is nothing to compare; each job's status says why."
)


def markdown_report(sweep: Sweep, figures: Sequence[Path]) -> str:
    """report.md: the answer, the summary table, jobs that did not complete, figures."""
    parts = [_header(sweep), "## The answer", _answer(sweep), "## Every setting", _summary(sweep)]
    failed = not_complete(sweep)
    if not failed.empty:
        parts += ["## Jobs that did not complete", markdown_table(failed)]
    gradient_figures = [p for p in figures if p.name.startswith("gradients_")]
    lines = gradient_lines(sweep)
    if lines or gradient_figures:
        lead = GRADIENTS_LEAD.format(points=WINDOW_POINTS)
        parts += ["## The gradient reaching layer 1", "\n".join([lead, "", *lines])]
        parts += [_images(gradient_figures)] if gradient_figures else []
    others = [p for p in figures if p not in gradient_figures]
    if others:
        parts += ["## Figures", _images(others)]
    if any(p.name.startswith("time_to_threshold_") for p in others):
        parts[-1] = f"{TIME_TO_THRESHOLD}\n\n{parts[-1]}"
    parts += ["## Every replicate", _runs(sweep)]
    return "\n\n".join(parts) + "\n"


def _images(paths: Sequence[Path]) -> str:
    return "\n\n".join(f"![{p.stem}]({p.name})" for p in paths)


def _header(sweep: Sweep) -> str:
    counts = sweep.jobs["status"].value_counts()
    status = ", ".join(f"{n} {s}" for s, n in counts.items())
    lines = [
        "# nnsweep report",
        f"Read from: {', '.join(f'`{s}`' for s in sweep.sources)} (nnsweep {__version__}).",
        f"{count(len(sweep.jobs), 'job')} ({status}); "
        f"{count(int(sweep.runs['replicate'].count()), 'replicate')}.",
        swept_text(sweep),
        f"{fixed_text(sweep, width=10_000, lead='Held fixed')}.",
    ]
    return "\n\n".join(lines)


def _answer(sweep: Sweep) -> str:
    if sweep.done.empty:
        return NOTHING_COMPLETE
    lead = (
        "Epochs to the threshold are censored: a replicate that stopped at the epoch cap (or "
        "diverged) would have taken more than the cap, so each setting's median is the "
        "Kaplan-Meier estimate, with its 95% interval (open where no finite end is "
        "bounded), and the share that converged has its Wilson 95% interval. Replicate r of "
        "every setting starts from the same seed, so the best setting is compared with each "
        "other seed by seed: the sign test on which reached the threshold first (the "
        "Wilcoxon signed-rank test on log final loss where neither reached it), "
        "Holm-corrected for the number of comparisons. Final loss and accuracy are "
        f"{STATISTIC}s over the replicates."
    )
    return "\n".join([lead, "", *answer_text(sweep)])


def answer_text(sweep: Sweep) -> list[str]:
    """The answer's lines, report.md's and report.html's: the tested answer, or where only
    the dataset was swept each setting's outcome, or that no job completed."""
    if sweep.done.empty:
        return [NOTHING_COMPLETE]
    return answer_lines(sweep) or _setting_lines(summary_table(sweep))


def _setting_lines(table: pd.DataFrame) -> list[str]:
    """Where no field but the dataset was swept: each setting's outcome in one line."""
    keys = table.columns[: list(table.columns).index("replicates")]
    return [
        f"- {', '.join(str(row[k]) for k in keys)}: {epochs_text(row)}; final accuracy "
        f"{row[f'final_accuracy_{STATISTIC}']:.3g}."
        for _, row in table.iterrows()
    ]


def interval(low: float, high: float) -> str:
    """``[219, 296]``, ``[219, open)``; empty when nothing reached the threshold or with
    one replicate (Kaplan-Meier gives no interval)."""
    if not np.isfinite(low):
        return ""
    return f"[{low:,.0f}, " + (f"{high:,.0f}]" if np.isfinite(high) else "open)")


def settings_shown(table: pd.DataFrame) -> pd.DataFrame:
    """A :func:`summary_table` as report.md shows it: each value with the digits that tell
    it apart, the share converged with its interval, the censored median epochs."""
    keys = list(table.columns[: list(table.columns).index("replicates")])
    shown = pd.DataFrame({short_name(k): table[k].map(value_labels(table[k])) for k in keys})
    shown["converged"] = [
        f"{r.converged}/{r.replicates} ({r.converged_share_low:.0%}-{r.converged_share_high:.0%})"
        for r in table.itertuples()
    ]
    median = table["epochs_km_median"]
    shown["median epochs to threshold"] = [
        f"{m:,.0f}" if np.isfinite(m) else "not reached" for m in median
    ]
    shown["95% interval"] = [
        interval(lo, hi)
        for lo, hi in zip(table["epochs_km_low"], table["epochs_km_high"], strict=True)
    ]
    names = SETTING_COLUMNS | (HELD_OUT_COLUMNS if HELD_OUT_COLUMNS.keys() <= set(table) else {})
    return pd.concat([shown, table[list(names)].rename(columns=names)], axis=1)


def _summary(sweep: Sweep) -> str:
    shown = settings_shown(summary_table(sweep))
    held_out = " and on the held-out test points" if "held-out accuracy" in shown else ""
    return (
        "Per setting of the swept fields, over its complete replicates: how many reached "
        "the loss threshold (converged, with the Wilson 95% interval of that share) or "
        "diverged; the Kaplan-Meier median epochs to the threshold, censored at the cap, "
        "with its 95% interval (not reached: fewer than half converged); the final loss "
        f"({STATISTIC}, min, max) and the final accuracy ({STATISTIC}, min) on the training "
        f"points{held_out}. `settings.csv` holds these per setting, with the {STATISTIC}, min "
        "and max epochs of the replicates that converged.\n\n" + markdown_table(shown)
    )


def _runs(sweep: Sweep) -> str:
    text = (
        "`runs.csv`: one row per job and replicate. `curves.csv`: one row per recorded epoch. "
        'Read them with `pd.read_csv("runs.csv")`.'
    )
    if len(sweep.runs) > MAX_RUNS_IN_MARKDOWN:
        return text + f" ({len(sweep.runs)} rows: too many to list here.)"
    held_out = [c for c in ["final_test_accuracy"] if c in sweep.runs]
    columns = ["job", "replicate", *sweep.swept, "final_loss", "final_accuracy", *held_out]
    columns += ["epochs_run"]
    columns += ["converged", "diverged", "status"]
    runs = sweep.runs[columns].copy()
    for field in sweep.swept:  # values that print alike get the digits that tell them apart
        runs[field] = runs[field].map(value_labels(runs[field]))
    return text + "\n\n" + markdown_table(runs)


def markdown_table(frame: pd.DataFrame) -> str:
    """A GitHub markdown table; numbers right-aligned, one format per column: whole
    numbers with commas where the column reaches 1,000, else 4 significant digits."""
    numeric = [_is_number(frame[c]) for c in frame.columns]
    header = "| " + " | ".join(_cell(c, None) for c in frame.columns) + " |"
    rule = "|" + "|".join("---:" if n else "---" for n in numeric) + "|"
    formats = [_format_of(frame[c]) if n else None for c, n in zip(frame, numeric, strict=True)]
    rows = [
        "| " + " | ".join(_cell(v, f) for v, f in zip(row, formats, strict=True)) + " |"
        for row in frame.itertuples(index=False)
    ]
    return "\n".join([header, rule, *rows])


def _is_number(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def _format_of(column: pd.Series) -> str:
    large = column.astype("float64").abs().max() >= WHOLE_FROM
    return ",.0f" if large or pd.api.types.is_integer_dtype(column) else ".4g"


def _cell(value: Any, fmt: str | None) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    if fmt is not None and isinstance(value, (int, float, np.integer, np.floating)):
        return format(value, fmt)
    return str(value).replace("|", "\\|").replace("\n", " ")
