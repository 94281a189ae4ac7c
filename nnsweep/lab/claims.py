"""The lab report's claims, each a small function from measured tables to a verdict.

A table is a :func:`nnsweep.report.setting_table` (one row per setting: replicates,
converged, diverged, medians of epochs to the threshold over the replicates that
reached it, of the final loss and accuracy). Settings are compared as the report's
answer ranks them: more replicates reaching the threshold first, then fewer epochs.
Every number in a sentence comes from the tables; a part that the data cannot decide
says so, and no sentence states what was not measured.
"""

from dataclasses import dataclass

import pandas as pd

from nnsweep.report.answer import EPOCHS, rank_key, times

AGREES, PARTLY, DISAGREES, CANNOT_TELL = "agrees", "partly", "disagrees", "cannot tell"
DATASET = "dataset.name"
CLEARLY = 1.5  # one measure this many times another is a clear difference
MIN_DECADES = 1.0  # a curve's shape is judged once its loss fell tenfold
SAME_PATH = 0.1  # epochs x lr within 10% over the rates: one path, in steps lr long


@dataclass
class Verdict:
    word: str  # agrees, partly, disagrees, cannot tell
    sentence: str

    def __str__(self) -> str:
        return f"{self.word.capitalize()}: {self.sentence}"


def combine(*words: str) -> str:
    """One word for several parts: the common word, else partly (undecided parts aside)."""
    decided = {w for w in words if w != CANNOT_TELL}
    return decided.pop() if len(decided) == 1 else CANNOT_TELL if not decided else PARTLY


def epochs_text(row: pd.Series) -> str:
    """``181,174 epochs (5/5 reached it)``, or ``none of 5 reached the threshold``."""
    if not row["converged"]:
        return f"none of {row['replicates']} reached the threshold"
    return f"{row[EPOCHS]:,.0f} epochs ({row['converged']}/{row['replicates']} reached it)"


def steady(table: pd.DataFrame, field: str) -> bool | None:
    """Whether each larger value of ``field`` did better than the one before; None when
    fewer than two values reached the threshold at all."""
    rows = table.sort_values(field)
    if (rows["converged"] > 0).sum() < 2:
        return None
    keys = [rank_key(r) for _, r in rows.iterrows()]
    return all(b < a for a, b in zip(keys, keys[1:], strict=False))


def _trend(table: pd.DataFrame, field: str) -> tuple[str, str]:
    """Agrees with "a larger value is not always better" where some dataset is unsteady."""
    found = {d: steady(part, field) for d, part in table.groupby(DATASET, sort=False)}
    told = {d: s for d, s in found.items() if s is not None}
    parts = []
    for dataset, part in table.groupby(DATASET, sort=False):
        rows = "; ".join(f"{v:g}: {epochs_text(r)}" for v, r in part.set_index(field).iterrows())
        trend = {True: "better at every step up", False: "not better at every step up"}
        parts.append(f"on {dataset}, {trend.get(found[dataset], 'too few reached it')} ({rows})")
    if not told:
        return CANNOT_TELL, "; ".join(parts)
    word = DISAGREES if all(told.values()) else AGREES if not any(told.values()) else PARTLY
    return word, "; ".join(parts)


def learning_rates(table: pd.DataFrame) -> Verdict:
    """ "A higher rate does not always converge faster; on XOR 0.1 is slightly worse than
    0.01." ``table``: per dataset and lr."""
    word, text = _trend(table, "lr")
    xor = table[table[DATASET] == "xor"].set_index("lr")
    xor_word = CANNOT_TELL
    if {0.01, 0.1} <= set(xor.index) and xor.loc[[0.01, 0.1], "converged"].all():
        ratio = xor.loc[0.1, EPOCHS] / xor.loc[0.01, EPOCHS]
        xor_word = AGREES if 1 <= ratio <= CLEARLY else PARTLY if ratio > 1 else DISAGREES
        text += f". On XOR 0.1 needs {ratio:.2f} times the epochs of 0.01"
    return Verdict(combine(word, xor_word), text + _scaling(table) + ".")


def _scaling(table: pd.DataFrame) -> str:
    """Epochs x lr over the rates where every replicate reached the threshold."""
    notes = []
    for dataset, part in table.groupby(DATASET, sort=False):
        done = part[part["converged"] == part["replicates"]]
        if len(done) < 2:
            continue
        product = done[EPOCHS] * done["lr"]
        spread = product.max() / product.min() - 1
        same = " (one path, in steps lr long)" if spread <= SAME_PATH else ""
        notes.append(
            f"on {dataset} epochs x lr is {product.min():,.0f} to {product.max():,.0f} over "
            f"{len(done)} rates, {spread:.0%} apart{same}"
        )
    return ". Where every replicate reached the threshold, " + "; ".join(notes) if notes else ""


def hidden_units(table: pd.DataFrame) -> Verdict:
    """ "More hidden units are not always better; on linear, more units gave a higher
    loss." ``table``: per dataset and hidden_units."""
    word, text = _trend(table, "hidden_units")
    linear = table[table[DATASET] == "linear"].sort_values("hidden_units")
    loss_word = CANNOT_TELL
    if len(linear) >= 2:
        few, many = linear.iloc[0], linear.iloc[-1]
        both_reached = few["converged"] == few["replicates"] and many["converged"] > 0
        if both_reached and many["converged"] == many["replicates"]:
            text += ". On linear every replicate of both ends at the loss threshold, so the "
            text += "final loss cannot tell the sizes apart"
        else:
            higher = many["final_loss_median"] > few["final_loss_median"]
            loss_word = AGREES if higher else DISAGREES
            text += (
                f". On linear the median final loss is {many['final_loss_median']:.4g} with "
                f"{many['hidden_units']} units, {few['final_loss_median']:.4g} with "
                f"{few['hidden_units']}"
            )
    return Verdict(combine(word, loss_word), text + ".")


def accuracy(table: pd.DataFrame) -> Verdict:
    """ "Linear and XOR both reach accuracy 1.0." ``table``: per dataset."""
    if table["replicates"].sum() == 0:
        return Verdict(CANNOT_TELL, "no replicate completed.")
    unfinished = table.loc[table["converged"] == 0, DATASET].tolist()
    if unfinished:  # every replicate stopped at the epoch cap: its accuracy is not final
        return Verdict(
            CANNOT_TELL,
            f"no replicate reached the loss threshold within the epoch cap on "
            f"{' or '.join(unfinished)}: training had not finished.",
        )
    perfect = table["final_accuracy_min"] == 1.0
    parts = [
        f"{r[DATASET]}: median accuracy {r['final_accuracy_median']:.3f} "
        f"[{r['final_accuracy_min']:.3f}, {r['final_accuracy_max']:.3f}] over "
        f"{r['replicates']} replicates"
        for _, r in table.iterrows()
    ]
    word = AGREES if perfect.all() else DISAGREES if not perfect.any() else PARTLY
    return Verdict(word, "; ".join(parts) + ".")


def smoothness(falls: pd.DataFrame) -> Verdict:
    """ "Linear's learning curve is smoother than XOR's." ``falls``: per dataset, the
    medians of :func:`nnsweep.lab.measures.steepest_fall`'s columns."""
    if not {"linear", "xor"} <= set(falls.index):
        return Verdict(CANNOT_TELL, "the curves of both datasets are needed.")
    linear, xor = falls.loc["linear"], falls.loc["xor"]
    if min(linear["total"], xor["total"]) < MIN_DECADES:
        return Verdict(
            CANNOT_TELL,
            f"the loss fell by {linear['total']:.2f} decades on linear and {xor['total']:.2f} "
            f"on XOR (median): too little of a curve to judge its shape.",
        )
    if max(linear["rises"], xor["rises"]) > 0:  # noise: the curve that rises less is smoother
        word = AGREES if linear["rises"] < xor["rises"] else DISAGREES
    elif xor["fall"] > CLEARLY * linear["fall"]:
        word = AGREES
    else:
        word = DISAGREES if linear["fall"] > CLEARLY * xor["fall"] else PARTLY
    sentence = (
        f"the loss rises at {linear['rises']:.1%} of the recorded epochs on linear and "
        f"{xor['rises']:.1%} on XOR; the steepest fall of log10(loss) within 1% of a run has "
        f"median {linear['fall']:.3f} on linear and {xor['fall']:.3f} on XOR, ending at "
        f"{linear['at']:.0%} and {xor['at']:.0%} of the run."
    )
    return Verdict(word, sentence)


def ranking(table: pd.DataFrame, field: str) -> str:
    """No claim to judge (the report states no number): per dataset, the values of
    ``field`` from best to worst, with their epochs."""
    parts = []
    for dataset, part in table.groupby(DATASET, sort=False):
        rows = sorted(part.iterrows(), key=lambda item: rank_key(item[1]))
        best, worst = rows[0][1], rows[-1][1]
        order = ", ".join(str(r[field]) for _, r in rows)
        text = f"on {dataset}, from fastest: {order}"
        if best["converged"] and worst["converged"] and worst[EPOCHS] > best[EPOCHS]:
            ratio = times(worst[EPOCHS] / best[EPOCHS])
            text += f" ({best[field]}: {best[EPOCHS]:,.0f} epochs, {ratio} fewer than "
            text += f"{worst[field]}'s {worst[EPOCHS]:,.0f})"
        parts.append(text)
    return "Measured (the report states no number): " + "; ".join(parts) + "."
