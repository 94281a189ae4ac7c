"""The answer a sweep gives: per dataset, the best value of each swept field.

A value is better when more of its replicates reached the loss threshold, then when
they reached it in fewer epochs (median over those that did). Where no replicate of
a panel reached it, the lowest median final loss is best.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from nnsweep.report.aggregate import STATISTIC, setting_table
from nnsweep.report.tables import PANEL, Sweep
from nnsweep.report.text import format_value, short_name

EPOCHS, LOSS = f"epochs_{STATISTIC}", f"final_loss_{STATISTIC}"
CLEARLY_FEWER = 1.1  # below this ratio two settings are called about the same


@dataclass
class Best:
    """The best and the worst value of one field on one panel, and the values where
    no replicate reached the threshold."""

    panel: str
    field: str
    best: pd.Series
    worst: pd.Series
    missed: list[str]


def rank_key(row: pd.Series) -> tuple[float, float, float]:
    """The ranking rule of the report and the discussion, smaller first: a larger share of
    replicates reaching the threshold, then fewer epochs to it, then a lower final loss."""
    share = row["converged"] / max(row["replicates"], 1)
    epochs = row[EPOCHS] if row["converged"] else np.inf
    loss = row.get(LOSS, np.nan)
    return (-share, epochs, np.inf if pd.isna(loss) else loss)


def ranked(table: pd.DataFrame) -> pd.DataFrame:
    """Rows of a :func:`setting_table`, best first (:func:`rank_key`; ties keep their order)."""
    keys = [rank_key(row) for _, row in table.iterrows()]
    return table.iloc[sorted(range(len(table)), key=keys.__getitem__)]


def best_values(sweep: Sweep, field: str) -> list[Best]:
    """Per panel (dataset), the best and worst value of ``field``, other fields pooled."""
    done = sweep.done
    panels = done.groupby(PANEL, sort=False) if PANEL in sweep.swept else [("", done)]
    found = []
    for panel, rows in panels:
        table = ranked(setting_table(rows, [field]))
        if len(table) < 2:
            continue
        missed = table.loc[table["converged"] == 0, field].map(format_value).tolist()
        reached = table[table["converged"] > 0]
        worst = reached.iloc[-1] if len(reached) > 1 else table.iloc[-1]
        found.append(Best(str(panel), field, table.iloc[0], worst, missed))
    return found


def sentence(b: Best) -> str:
    """``adam: 267 epochs, 300x fewer than gd's 79,829; 5/5 replicates converged``."""
    best, worst = b.best, b.worst
    name = lambda row: format_value(row[b.field])  # noqa: E731
    converged = f"{int(best['converged'])}/{int(best['replicates'])} replicates converged"
    if best["converged"] == 0:
        return (
            f"{name(best)}: no replicate reached the threshold; lowest median final loss "
            f"{best[LOSS]:.3g}, against {worst[LOSS]:.3g} at {name(worst)}"
        )
    text = f"{name(best)}: {best[EPOCHS]:,.0f} epochs"
    ratio = worst[EPOCHS] / best[EPOCHS] if worst["converged"] > 0 else 1.0
    if ratio >= CLEARLY_FEWER:
        text += f", {times(ratio)} fewer than {name(worst)}'s {worst[EPOCHS]:,.0f}"
    elif ratio <= 1 / CLEARLY_FEWER:  # ranked behind for fewer replicates reaching it
        text += (
            f"; the {int(worst['converged'])}/{int(worst['replicates'])} of {name(worst)} "
            f"that reached it took fewer, {worst[EPOCHS]:,.0f}"
        )
    elif worst.name != best.name and worst["converged"] > 0:
        text += f", about as many as {name(worst)}'s {worst[EPOCHS]:,.0f}"
    text += f"; {converged}"
    if b.missed:
        text += f"; none reached the threshold at {', '.join(b.missed)}"
    return text


def times(ratio: float) -> str:
    """A ratio to two significant figures: ``300x``, ``2.5x``."""
    return f"{float(f'{ratio:.2g}'):,g}x"


def answer_lines(sweep: Sweep) -> list[str]:
    """One markdown line per panel and swept field."""
    lines = []
    for field in sweep.figure_fields:
        for b in best_values(sweep, field):
            where = f"{b.panel}, " if b.panel else ""
            lines.append(f"- {where}best `{short_name(field)}`: {sentence(b)}.")
    return lines
