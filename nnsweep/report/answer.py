"""The answer a sweep gives, and how sure it is: per dataset, the best setting of the
swept fields, tested seed by seed against every other.

A setting is one distinct config: jobs that differ in any swept field (the seed aside,
pooled with the replicates) are separate settings, never replicates of one. Settings are
ranked by :func:`rank_key` (a larger share reaching the loss threshold, then fewer
epochs, then a lower final loss); the first is then compared with each other setting,
paired by seed (:mod:`.paired`, Holm-corrected). :func:`verdict` turns that into the
one sentence the report, the web page and the discussion use:

- every comparison decided at 95%: the winner;
- the best first for every seed that was not a tie, but not decided: the likely winner,
  with the replicates that would decide it if every seed again went its way;
- another setting first for some seeds: cannot tell.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nnsweep.report.aggregate import STATISTIC, setting_table
from nnsweep.report.paired import ALPHA, FINAL_LOSS, Paired, against
from nnsweep.report.tables import PANEL, Sweep
from nnsweep.report.text import count, short_name, value_labels

EPOCHS, LOSS = f"epochs_{STATISTIC}", f"final_loss_{STATISTIC}"
KM, KM_LOW, KM_HIGH = "epochs_km_median", "epochs_km_low", "epochs_km_high"
WINNER, LIKELY, CANNOT_TELL = "winner", "likely winner", "cannot tell"


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


@dataclass
class Standing:
    """One panel's settings: their table, best first, with a ``label`` column; the best's
    paired comparisons with each other setting; and the verdict's word."""

    table: pd.DataFrame
    comparisons: list[Paired]
    word: str

    @property
    def best(self) -> pd.Series:
        return self.table.iloc[0]


def labelled(runs: pd.DataFrame, keys: Sequence[str]) -> pd.Series:
    """Each replicate row's setting as text: ``adam``, or ``lr=1, hidden_units=16``."""
    names = {k: value_labels(runs[k].unique()) for k in keys}
    if len(keys) == 1:
        return runs[keys[0]].map(names[keys[0]]).astype(str)
    parts = [f"{short_name(k)}=" + runs[k].map(names[k]).astype(str) for k in keys]
    return pd.concat(parts, axis=1).agg(", ".join, axis=1)


def standing(runs: pd.DataFrame, keys: Sequence[str]) -> Standing:
    """The settings of ``runs`` (complete replicate rows) by ``keys``, ranked, the best
    tested against each other one."""
    runs = runs.assign(label=labelled(runs, keys))
    table = ranked(setting_table(runs, [*keys, "label"]))
    settings = {name: rows for name, rows in runs.groupby("label", sort=False)}
    comparisons = against(str(table.iloc[0]["label"]), settings) if len(table) > 1 else []
    return Standing(table, comparisons, word_of(comparisons))


def word_of(comparisons: Sequence[Paired]) -> str:
    """winner, likely winner or cannot tell, from the best's paired comparisons."""
    ahead = [c for c in comparisons if c.a_first > c.b_first]
    if comparisons and len(ahead) == len(comparisons) and all(c.decided for c in ahead):
        return WINNER
    if comparisons and all(c.b_first == 0 and c.a_first > 0 for c in comparisons):
        return LIKELY
    return CANNOT_TELL


def replicates_to_decide(comparisons: int) -> int:
    """The fewest replicates for which n of n seeds going one way is decided at 95% in
    each of ``comparisons`` Holm-corrected comparisons: 2 * 0.5**n * comparisons < 0.05."""
    return math.floor(1 + math.log2(comparisons / ALPHA)) + 1


def p_text(c: Paired) -> str:
    """``sign test p = 0.06``, ``Wilcoxon signed-rank test p = 0.06, Holm-corrected``."""
    corrected = ", Holm-corrected" if c.comparisons > 1 else ""
    return f"{c.test} p = {c.p_used:.2g}{corrected}"


def first_text(c: Paired) -> str:
    """``reaches the threshold first for 5 of 5 seeds``, or of the final loss."""
    if c.measure == FINAL_LOSS:
        return f"ends with the lower final loss for {c.a_first} of {c.seeds} seeds"
    return f"reaches the threshold first for {c.a_first} of {c.seeds} seeds"


def verdict(s: Standing) -> str:
    """The lead sentence: who is first, the test that says how sure, and what would settle
    it. Never a winner the tests do not support, never "cannot tell" when they do."""
    best, found = str(s.best["label"]), s.comparisons
    if not found:
        return f"{best} is the only setting"
    if s.word == WINNER:
        return f"{_head(best, found)}: the winner at 95%"
    if s.word == LIKELY:
        n = int(max(c.seeds for c in found))
        return (
            f"{_head(best, found)}: the likely winner, but {count(n, 'replicate')} cannot make it "
            f"certain at 95%; `replicates={replicates_to_decide(len(found))}` would, if every "
            "seed again went its way"
        )
    return "cannot tell: " + _undecided(best, found)


def _head(best: str, found: Sequence[Paired]) -> str:
    """``adam reaches the threshold first for 5 of 5 seeds (sign test p = 0.06)``, or with
    several others each one's count and the largest corrected p-value."""
    if len(found) == 1:
        return f"{best} {first_text(found[0])} ({p_text(found[0])})"
    counts = ", ".join(f"{c.b} {c.a_first} to {c.b_first}" for c in found)
    tests = " and ".join(dict.fromkeys(c.test for c in found))
    weakest = max(c.p_used for c in found)
    return (
        f"{best} is ahead of every other setting seed by seed ({counts}; {tests}, "
        f"Holm-corrected over {len(found)} comparisons: p = {weakest:.2g} at most)"
    )


def _undecided(best: str, found: Sequence[Paired]) -> str:
    """Which settings the best cannot be told from, and how the seeds split."""
    open_ = [c for c in found if not (c.a_first > c.b_first and c.decided)]
    parts = []
    for c in open_:
        if c.a_first and c.b_first:
            parts.append(f"{best} and {c.b} are each first for some seeds ({c.a_first} and "
                         f"{c.b_first}; {p_text(c)})")  # fmt: skip
        elif not (c.a_first or c.b_first):
            how = (
                "the same final loss"
                if c.measure == FINAL_LOSS
                else ("the same epoch to the threshold, or not known to reach it first")
            )
            parts.append(f"{best} and {c.b} tie for all {c.seeds} seeds ({how})")
        else:
            leader, other, n = (best, c.b, c.a_first) if c.a_first else (c.b, best, c.b_first)
            tied = f", {c.ties} tied" if c.ties else ""
            parts.append(f"{leader} is first against {other} for {n} of {c.seeds} seeds{tied}, "
                         f"not decided at 95% ({p_text(c)})")  # fmt: skip
    decided = [c.b for c in found if c not in open_]
    if decided:
        parts.append(f"{best} is first against {', '.join(decided)} at 95%")
    return "; ".join(parts)


def epochs_text(row: pd.Series) -> str:
    """``median 267 epochs [219, open), 3/3 converged (Wilson 95% 44%-100%)``: the
    Kaplan-Meier median of the censored epochs and the share that converged."""
    share = f"{int(row['converged'])}/{int(row['replicates'])} converged"
    share += f" (Wilson 95% {row['converged_share_low']:.0%}-{row['converged_share_high']:.0%})"
    if not np.isfinite(row[KM]):
        return f"median not reached, {share}"
    if not np.isfinite(row[KM_LOW]):  # one replicate: Kaplan-Meier gives no interval
        return f"median {row[KM]:,.0f} epochs (no interval), {share}"
    high = "open)" if not np.isfinite(row[KM_HIGH]) else f"{row[KM_HIGH]:,.0f}]"
    return f"median {row[KM]:,.0f} epochs [{row[KM_LOW]:,.0f}, {high}, {share}"


def numbers(s: Standing) -> str:
    """The best's and the last-ranked's epochs, the per-seed ratio where both reached the
    threshold for every seed, and the settings where none did."""
    best, worst = s.best, s.table.iloc[-1]
    text = f"{best['label']}: {epochs_text(best)}"
    if len(s.table) > 1:
        text += f"; {worst['label']}: {epochs_text(worst)}"
        against_worst = next(c for c in s.comparisons if c.b == worst["label"])
        if np.isfinite(against_worst.ratio_low):
            text += (
                f"; per seed {worst['label']} took {times(against_worst.ratio)} "
                f"[{times(against_worst.ratio_low)}, {times(against_worst.ratio_high)}] the "
                f"epochs of {best['label']} (median, bootstrap 95%)"
            )
        elif np.isfinite(against_worst.ratio):  # one seed: its ratio, no interval
            text += (
                f"; {worst['label']} took {times(against_worst.ratio)} the epochs of "
                f"{best['label']} (one seed: no interval)"
            )
    missed = s.table.loc[s.table["converged"] == 0, "label"].tolist()
    if missed and s.table["converged"].any():
        text += f"; none reached the threshold at {', '.join(map(str, missed))}"
    return text


def times(ratio: float) -> str:
    """A ratio to two significant figures: ``300x``, ``2.5x``."""
    return f"{float(f'{ratio:.2g}'):,g}x"


def panels(sweep: Sweep) -> list[tuple[str, pd.DataFrame]]:
    """The complete replicates per dataset (one panel when the dataset was not swept)."""
    done = sweep.done
    if PANEL in sweep.swept:
        return [(str(p), rows) for p, rows in done.groupby(PANEL, sort=False)]
    return [("", done)]


def answer_lines(sweep: Sweep) -> list[str]:
    """One markdown line per dataset: the best setting of the swept fields, how sure, and
    its numbers. The one place the verdict texts are made (report.md, the web page)."""
    keys = sweep.figure_fields
    if not keys:
        return []
    fields = ", ".join(f"`{short_name(k)}`" for k in keys)
    lines = []
    for panel, rows in panels(sweep):
        found = standing(rows, keys)
        if len(found.table) < 2:
            continue
        where = f"{panel}, " if panel else ""
        lines.append(f"- {where}best {fields}: {verdict(found)}. {numbers(found)}.")
    return lines
