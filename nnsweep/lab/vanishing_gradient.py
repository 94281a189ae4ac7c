"""Section 5's activations: why sigmoid learns slowest, judged from the gradient that
reaches layer 1.

The report shows the activations' learning curves and gives no reason. Its derivatives,
written from a layer's output y, suggest one: sigmoid's y(1 - y) is at most 0.25, tanh's
1 - y^2 at most 1, relu's 0 or 1, and back-propagation multiplies the gradient by them
at every layer it passes on its way to layer 1. If that is why sigmoid is slow, then
against every activation it is slower than, sigmoid's layer-1 gradient norm and mean
|f'| are the smaller ones over the same early epochs.
"""

import pandas as pd

from nnsweep.lab.claims import (
    AGREES,
    BETTER,
    CANNOT_TELL,
    CLEARLY,
    DATASET,
    DISAGREES,
    PARTLY,
    Verdict,
    combine,
    epochs_text,
    outcome,
    replicates_of,
)
from nnsweep.report import setting_table
from nnsweep.report.aggregate import STATISTIC
from nnsweep.report.answer import p_text, times
from nnsweep.report.paired import Paired, compare, corrected

ACTIVATION = "activation.name"
SIGMOID = "sigmoid"
MEASURES = [f"grad_norm_{STATISTIC}", f"mean_abs_derivative_{STATISTIC}"]
NOT_SLOWER = "not slower"  # a pair that says nothing of why sigmoid is slow
OUTCOMES = {
    AGREES: "against {names}, first to the threshold for more seeds than sigmoid at 95%, "
    "both are {clearly:g}x or more sigmoid's",
    PARTLY: "against {names}, first to the threshold for more seeds than sigmoid at 95%, "
    "both are larger than sigmoid's, but one by less than {clearly:g}x",
    DISAGREES: "against {names}, first to the threshold for more seeds than sigmoid at 95%, "
    "the gradient norm is no larger than sigmoid's",
    NOT_SLOWER: "{names} not counted: not shown faster than sigmoid seed by seed at 95%",
}


def faster_than_sigmoid(runs: pd.DataFrame) -> dict[str, Paired]:
    """Each other activation of one dataset against sigmoid, paired by seed, Holm-corrected:
    ``a_first`` the seeds where it reached the threshold before sigmoid."""
    sigmoid = runs[runs[ACTIVATION] == SIGMOID]
    others = [a for a in dict.fromkeys(runs[ACTIVATION]) if a != SIGMOID]
    if sigmoid.empty:
        return {}
    found = corrected([compare(runs[runs[ACTIVATION] == a], sigmoid, a, SIGMOID) for a in others])
    return dict(zip(others, found, strict=True))


def pair_word(gradient: float, derivative: float) -> str:
    """Another activation's gradient norm and mean |f'| as multiples of sigmoid's: agrees
    when both are clearly larger, disagrees when the gradient norm is not larger."""
    if gradient >= CLEARLY and derivative >= CLEARLY:
        return AGREES
    return DISAGREES if gradient <= 1 else PARTLY


def sigmoid_gradient(runs: pd.DataFrame, early: pd.DataFrame) -> Verdict:
    """ "Sigmoid learns slowest because its small derivative shrinks the gradient reaching
    layer 1." ``runs``: the replicates per dataset and activation; ``early``:
    :func:`nnsweep.report.early_gradients.early_gradients`, the same keys. Only the
    activations shown faster than sigmoid seed by seed (sign test, Holm) count."""
    if early.empty or not (early[ACTIVATION] == SIGMOID).any():
        return Verdict(
            CANNOT_TELL,
            "no gradient per layer was recorded for sigmoid (its jobs have no layers.csv: "
            "they ran before nnsweep recorded one).",
        )
    words, parts = [], []
    for dataset, part in early.groupby(DATASET, sort=False):
        mine = runs[runs[DATASET] == dataset]
        speeds = faster_than_sigmoid(mine)
        pairs = _pairs(part.set_index(ACTIVATION), speeds)
        words += [w for w in pairs["word"] if w != NOT_SLOWER]
        table = setting_table(mine, [ACTIVATION]).set_index(ACTIVATION)
        parts.append(_sentences(dataset, part.set_index(ACTIVATION), pairs, table, speeds))
    text = " ".join(parts)
    word = combine(*words) if words else CANNOT_TELL
    return Verdict(word, text[0].lower() + text[1:], replicates_of(runs))


def _pairs(early: pd.DataFrame, speeds: dict[str, Paired]) -> pd.DataFrame:
    """Per other activation: its gradient norm and mean |f'| as multiples of sigmoid's, and
    the pair's word (``not slower`` where sigmoid was not shown slower than it)."""
    if SIGMOID not in early.index:
        return pd.DataFrame(columns=[*MEASURES, "word"])
    ratios = early.drop(index=SIGMOID)[MEASURES] / early.loc[SIGMOID, MEASURES]
    ratios = ratios.astype("float64").dropna()  # a measure missing on either side: no pair
    words = [
        pair_word(*r) if name in speeds and outcome(speeds[name]) == BETTER else NOT_SLOWER
        for name, r in ratios.iterrows()
    ]
    return ratios.assign(word=words)


def _sentences(
    dataset: str,
    early: pd.DataFrame,
    pairs: pd.DataFrame,
    table: pd.DataFrame,
    speeds: dict[str, Paired],
) -> str:
    """What was measured on one dataset, and what it says of each pair."""
    if pairs.empty:
        return f"On {dataset}, sigmoid has no other activation's gradients to compare with."
    base = early.loc[SIGMOID]
    gradient, derivative = (base[m] for m in MEASURES)
    multiples = ", ".join(f"{n} {times(g)} and {times(d)}" for n, (g, d, _) in pairs.iterrows())
    reached = ", ".join(f"{n} {_speed(table, n)}" for n in [SIGMOID, *pairs.index])
    seeds = "; ".join(
        f"{n} first for {c.a_first}, sigmoid for {c.b_first} of {c.seeds} ({p_text(c)})"
        for n, c in speeds.items()
        if n in pairs.index
    )
    groups = pairs.groupby("word", sort=False).groups
    said = "; ".join(
        OUTCOMES[w].format(names=listed(names), clearly=CLEARLY) for w, names in groups.items()
    )
    return (
        f"On {dataset}, over epochs 1 to {int(base['until']):,}, sigmoid's layer-1 gradient "
        f"norm is {gradient:.3g} and its mean |f'| {derivative:.3g}; as multiples of "
        f"them, {multiples}. To the threshold: {reached}; seed by seed, {seeds}. Gradient "
        f"norm and mean |f'|: {said}."
    )


def listed(names: list) -> str:
    """``tanh``, ``tanh and relu``, ``tanh, relu and leaky_relu``."""
    names = [str(n) for n in names]
    return " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)


def _speed(table: pd.DataFrame, name: str) -> str:
    return epochs_text(table.loc[name]) if name in table.index else "not run"
