"""The lab report's claims, each a small function from the replicates of a sweep to a
verdict that carries the test that decided it.

``runs`` is a sweep's complete replicate rows (``Sweep.done``). Claims about an ordering
("a higher rate converges faster", "more units is not always better") compare settings
seed by seed (:mod:`nnsweep.report.paired`: the sign test on which reached the loss
threshold first, Holm-corrected over the comparisons a claim makes); a share of
replicates (accuracy 1.0, a stall at the report's loss) gets its Wilson interval. A
part the tests cannot decide at 95% is "cannot tell with N replicates", and where every
seed went one way, the verdict says how many replicates would decide it. Every number
in a sentence comes from the data; no sentence states what was not measured.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from nnsweep.report import setting_table
from nnsweep.report.answer import p_text, replicates_to_decide, standing, verdict
from nnsweep.report.paired import ALPHA, FINAL_LOSS, Paired, compare, corrected
from nnsweep.report.survival import wilson
from nnsweep.report.text import format_value

AGREES, PARTLY, DISAGREES, CANNOT_TELL = "agrees", "partly", "disagrees", "cannot tell"
DATASET = "dataset.name"
CLEARLY = 1.5  # one measure this many times another is a clear difference
MIN_DECADES = 1.0  # a curve's shape is judged once its loss fell tenfold
SAME_PATH = 0.1  # epochs x lr within 10% over the rates: one path, in steps lr long
MOST = 0.5  # a share whose 95% interval lies above this: most runs do it
BETTER, WORSE, UNDECIDED = "better", "worse", "undecided at 95%"


@dataclass
class Verdict:
    word: str  # agrees, partly, disagrees, cannot tell
    sentence: str
    replicates: int | None = None  # "cannot tell with N replicates"

    def __str__(self) -> str:
        word = self.word.capitalize()
        if self.word == CANNOT_TELL and self.replicates:
            word += f" with {self.replicates} replicates"
        return f"{word}: {self.sentence}"


def combine(*words: str) -> str:
    """One word for several parts: the common word, else partly (undecided parts aside)."""
    decided = {w for w in words if w != CANNOT_TELL}
    return decided.pop() if len(decided) == 1 else CANNOT_TELL if not decided else PARTLY


def replicates_of(runs: pd.DataFrame) -> int:
    """The most replicates any setting of ``runs`` had (the N of "cannot tell with N")."""
    return int(runs.groupby("job")["replicate"].count().max()) if len(runs) else 0


def epochs_text(row: pd.Series) -> str:
    """``181,174 epochs (5/5 reached it)``, or ``none of 5 reached the threshold``: the
    Kaplan-Meier median of a :func:`setting_table` row."""
    if not row["converged"]:
        return f"none of {int(row['replicates'])} reached the threshold"
    median = row["epochs_km_median"]
    epochs = f"{median:,.0f} epochs" if np.isfinite(median) else "median not reached"
    return f"{epochs} ({int(row['converged'])}/{int(row['replicates'])} reached it)"


def share_text(k: int, n: int, what: str) -> str:
    """``5 of 5 replicates at accuracy 1.0 (Wilson 95% 57%-100%)``."""
    low, high = wilson(k, n)
    return f"{k} of {n} replicates {what} (Wilson 95% {low:.0%}-{high:.0%})"


def share_word(k: int, n: int) -> str:
    """agrees when the share's interval lies above a half, disagrees when below."""
    low, high = wilson(k, n)
    return AGREES if low > MOST else DISAGREES if high < MOST else CANNOT_TELL


def outcome(c: Paired) -> str:
    """better: ``a`` ahead at 95%; worse: ``b`` ahead; else undecided."""
    if c.decided and c.a_first != c.b_first:
        return BETTER if c.a_first > c.b_first else WORSE
    return UNDECIDED


def would_settle(found: Sequence[Paired]) -> str:
    """Where every undecided comparison went one way for every seed that was not a tie,
    how many replicates would decide them all."""
    open_ = [c for c in found if outcome(c) == UNDECIDED]
    if (
        not open_
        or any(c.a_first and c.b_first for c in open_)
        or not all(c.a_first or c.b_first for c in open_)
    ):
        return ""
    n = replicates_to_decide(max(c.comparisons for c in found))
    if n <= max(c.seeds for c in open_):
        return ""
    return f". Every seed went one way where it is undecided: `replicates={n}` would decide it"


def step_text(c: Paired) -> str:
    """``0.01 to 0.1: 0.1 first for 5, 0.01 for 0 of 5 seeds (sign test p = 0.06): better``."""
    ahead = "lower final loss" if c.measure == FINAL_LOSS else "first"
    return (
        f"{c.b} to {c.a}: {c.a} {ahead} for {c.a_first}, {c.b} for {c.b_first} of {c.seeds} "
        f"seeds ({p_text(c)}): {outcome(c)}"
    )


def steps(runs: pd.DataFrame, field: str) -> list[tuple[str, Paired]]:
    """Per dataset, each value of ``field`` against the next smaller one, paired by seed,
    Holm-corrected over every step of every dataset."""
    found = []
    for dataset, part in runs.groupby(DATASET, sort=False):
        values = sorted(part[field].unique())
        for low, high in zip(values, values[1:], strict=False):
            rows = [part[part[field] == v] for v in (high, low)]
            found.append((str(dataset), compare(*rows, format_value(high), format_value(low))))
    fixed = corrected([c for _, c in found])
    return [(d, c) for (d, _), c in zip(found, fixed, strict=True)]


def _trend(runs: pd.DataFrame, field: str) -> tuple[str, str, list[tuple[str, Paired]]]:
    """ "A larger value is not always better": agrees where some step up is worse at 95%,
    disagrees where every step up is better, per dataset."""
    found = steps(runs, field)
    words, parts = [], []
    for dataset in dict.fromkeys(d for d, _ in found):
        mine = [c for d, c in found if d == dataset]
        results = {outcome(c) for c in mine}
        word = AGREES if WORSE in results else DISAGREES if results == {BETTER} else CANNOT_TELL
        trend = {AGREES: "not better at every step up", DISAGREES: "better at every step up"}
        said = trend.get(word, "undecided at some step up")
        parts.append(f"on {dataset}, {said} ({'; '.join(step_text(c) for c in mine)})")
        words.append(word)
    if not found:
        return CANNOT_TELL, "fewer than two values to compare", []
    return combine(*words), "; ".join(parts), found


def learning_rates(runs: pd.DataFrame) -> Verdict:
    """ "A higher rate does not always converge faster; on XOR 0.1 is slightly worse than
    0.01." ``runs``: the replicates, per dataset and lr."""
    word, text, found = _trend(runs, "lr")
    xor_word = CANNOT_TELL
    step = next((c for d, c in found if d == "xor" and (c.a, c.b) == ("0.1", "0.01")), None)
    if step is not None:
        slower = 1 / step.ratio  # 0.1's epochs over 0.01's, per seed (median)
        slight = bool(np.isfinite(slower) and slower <= CLEARLY)
        xor_word = {WORSE: AGREES if slight else PARTLY, BETTER: DISAGREES}.get(
            outcome(step), CANNOT_TELL
        )
        text += f". On XOR 0.1 against 0.01: {step_text(step)}"
        if np.isfinite(slower):
            text += f"; per seed 0.1 needs {slower:.2f} times the epochs of 0.01 (median)"
    found = [c for _, c in found]
    text += _scaling(setting_table(runs, [DATASET, "lr"])) + would_settle(found)
    return Verdict(combine(word, xor_word), text + ".", replicates_of(runs))


def _scaling(table: pd.DataFrame) -> str:
    """Epochs x lr over the rates where every replicate reached the threshold."""
    notes = []
    for dataset, part in table.groupby(DATASET, sort=False):
        done = part[part["converged"] == part["replicates"]]
        if len(done) < 2:
            continue
        product = done["epochs_km_median"] * done["lr"]
        spread = product.max() / product.min() - 1
        same = " (one path, in steps lr long)" if spread <= SAME_PATH else ""
        notes.append(
            f"on {dataset} epochs x lr is {product.min():,.0f} to {product.max():,.0f} over "
            f"{len(done)} rates, {spread:.0%} apart{same}"
        )
    return ". Where every replicate reached the threshold, " + "; ".join(notes) if notes else ""


def hidden_units(runs: pd.DataFrame) -> Verdict:
    """ "More hidden units are not always better; on linear, more units gave a higher
    loss." ``runs``: the replicates, per dataset and hidden_units."""
    word, text, found = _trend(runs, "hidden_units")
    found = [c for _, c in found]
    linear = runs[runs[DATASET] == "linear"]
    units = sorted(linear["hidden_units"].unique())
    loss_word = CANNOT_TELL
    if len(units) >= 2:
        few, many = (linear[linear["hidden_units"] == u] for u in (units[0], units[-1]))
        if few["converged"].all() and many["converged"].all():
            text += ". On linear every replicate of both ends reached the loss threshold, so "
            text += "the final loss cannot tell the sizes apart"
        else:
            loss_word = {WORSE: AGREES, BETTER: DISAGREES}.get(
                outcome(_loss_pairs(few, many)), CANNOT_TELL
            )
            text += f". On linear, {_loss_text(few, many, units)}"
    text += would_settle(found)
    return Verdict(combine(word, loss_word), text + ".", replicates_of(runs))


def _loss_pairs(few: pd.DataFrame, many: pd.DataFrame) -> Paired:
    """Final losses per seed, whatever reached the threshold (the claim is of the loss):
    ``a_first``, the seeds where the many units' loss is the higher (better: agrees)."""
    as_missed = {"converged": False}
    return compare(many.assign(**as_missed), few.assign(**as_missed), "many", "few")


def _loss_text(few: pd.DataFrame, many: pd.DataFrame, units: list) -> str:
    c = _loss_pairs(few, many)
    return (
        f"{units[-1]} units ended with the higher final loss for {c.b_first} of {c.seeds} "
        f"seeds, {units[0]} units for {c.a_first} ({p_text(c)}; median "
        f"{many['final_loss'].median():.4g} against {few['final_loss'].median():.4g})"
    )


def accuracy(runs: pd.DataFrame) -> Verdict:
    """ "Linear and XOR both reach accuracy 1.0." Agrees where, on every dataset, the
    share of replicates at accuracy 1.0 has its Wilson 95% interval above a half."""
    if runs.empty:
        return Verdict(CANNOT_TELL, "no replicate completed.")
    table = setting_table(runs, [DATASET])
    unfinished = table.loc[table["converged"] == 0, DATASET].tolist()
    if unfinished:  # every replicate stopped at the epoch cap: its accuracy is not final
        return Verdict(
            CANNOT_TELL,
            f"no replicate reached the loss threshold within the epoch cap on "
            f"{' or '.join(unfinished)}: training had not finished.",
            replicates_of(runs),
        )
    words, parts = [], []
    for dataset, part in runs.groupby(DATASET, sort=False):
        k, n = int((part["final_accuracy"] == 1.0).sum()), len(part)
        words.append(share_word(k, n))
        acc = part["final_accuracy"]
        parts.append(
            f"{dataset}: {share_text(k, n, 'at accuracy 1.0')}, median accuracy "
            f"{acc.median():.3f} [{acc.min():.3f}, {acc.max():.3f}]"
        )
    rule = " (agrees where that interval lies above a half: most runs reach it)"
    return Verdict(combine(*words), "; ".join(parts) + rule + ".", replicates_of(runs))


def smoothness(falls: pd.DataFrame) -> Verdict:
    """ "Linear's learning curve is smoother than XOR's." ``falls``: per replicate,
    ``dataset.name`` and :func:`nnsweep.lab.measures.steepest_fall`'s columns. The curve
    that rises less (where any rises: noise), else falls less steeply at once, is the
    smoother; the two datasets' replicates (not paired: each dataset draws its own
    replicate seeds) are compared by the Mann-Whitney U test."""
    if not {"linear", "xor"} <= set(falls[DATASET]):
        return Verdict(CANNOT_TELL, "the curves of both datasets are needed.")
    medians = falls.groupby(DATASET)[["fall", "at", "rises", "total"]].median()
    linear, xor = medians.loc["linear"], medians.loc["xor"]
    if min(linear["total"], xor["total"]) < MIN_DECADES:
        return Verdict(
            CANNOT_TELL,
            f"the loss fell by {linear['total']:.2f} decades on linear and {xor['total']:.2f} "
            f"on XOR (median): too little of a curve to judge its shape.",
        )
    measure = "rises" if max(linear["rises"], xor["rises"]) > 0 else "fall"
    by = {d: falls.loc[falls[DATASET] == d, measure].to_numpy() for d in ("linear", "xor")}
    # the datasets draw different replicate seeds: two samples, not pairs
    p = float(stats.mannwhitneyu(by["linear"], by["xor"]).pvalue)
    word = CANNOT_TELL
    if p < ALPHA:
        word = AGREES if np.median(by["linear"]) < np.median(by["xor"]) else DISAGREES
    what = "rises less often" if measure == "rises" else "has the smaller steepest fall"
    smoother = f"linear's curve {what} (Mann-Whitney U test of the {len(by['linear'])} and "
    smoother += f"{len(by['xor'])} replicates' {'rises' if measure == 'rises' else 'falls'}: "
    sentence = (
        f"the loss rises at {linear['rises']:.1%} of the recorded epochs on linear and "
        f"{xor['rises']:.1%} on XOR; the steepest fall of log10(loss) within 1% of a run has "
        f"median {linear['fall']:.3f} on linear and {xor['fall']:.3f} on XOR, ending at "
        f"{linear['at']:.0%} and {xor['at']:.0%} of the run. Whether {smoother}p = {p:.2g})"
        f": {_decided(word)}."
    )
    return Verdict(word, sentence, min(len(v) for v in by.values()))


def _decided(word: str) -> str:
    return {AGREES: "yes, at 95%", DISAGREES: "no, XOR's does, at 95%"}.get(word, "undecided")


def ranking(runs: pd.DataFrame, field: str) -> str:
    """No claim to judge (the report states no number): per dataset, the settings ranked
    by the share reaching the threshold, then the median epochs, and how sure the first
    is, seed by seed (the report's own verdict, :func:`nnsweep.report.answer.verdict`)."""
    parts = []
    for dataset, part in runs.groupby(DATASET, sort=False):
        found = standing(part, [field])
        order = ", ".join(f"{r['label']} ({_short(r)})" for _, r in found.table.iterrows())
        parts.append(
            f"on {dataset}, ranked by the share that reached the threshold, then the median "
            f"epochs: {order}. {verdict(found)[0].upper()}{verdict(found)[1:]}"
        )
    text = ". ".join([parts[0], *(p[0].upper() + p[1:] for p in parts[1:])])
    return f"Measured (the report states no number): {text}."


def _short(row: pd.Series) -> str:
    """``10/10, 16,356 epochs`` (Kaplan-Meier's median) or ``6/10, not reached``."""
    median = row["epochs_km_median"]
    epochs = f"{median:,.0f} epochs" if np.isfinite(median) else "median not reached"
    return f"{row['converged']}/{row['replicates']}, {epochs}"
