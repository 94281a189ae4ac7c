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
    CANNOT_TELL,
    CLEARLY,
    DATASET,
    DISAGREES,
    PARTLY,
    Verdict,
    combine,
    epochs_text,
    rank_key,
)
from nnsweep.report.aggregate import STATISTIC
from nnsweep.report.answer import times

ACTIVATION = "activation.name"
SIGMOID = "sigmoid"
MEASURES = [f"grad_norm_{STATISTIC}", f"mean_abs_derivative_{STATISTIC}"]
NOT_SLOWER = "not slower"  # a pair that says nothing of why sigmoid is slow
OUTCOMES = {
    AGREES: "against {names}, which sigmoid ranks behind, both are {clearly:g}x or more sigmoid's",
    PARTLY: "against {names}, which sigmoid ranks behind, both are larger than sigmoid's, "
    "but one by less than {clearly:g}x",
    DISAGREES: "against {names}, which sigmoid ranks behind, the gradient norm is no larger "
    "than sigmoid's",
    NOT_SLOWER: "{names} not counted: sigmoid does not rank behind them",
}


def slower(sigmoid: pd.Series, other: pd.Series) -> bool:
    """Whether sigmoid ranks behind ``other`` as the section's ranking orders them: a smaller
    share of replicates reaching the threshold, then more epochs to it."""
    return rank_key(sigmoid) > rank_key(other)


def pair_word(gradient: float, derivative: float) -> str:
    """Another activation's gradient norm and mean |f'| as multiples of sigmoid's: agrees
    when both are clearly larger, disagrees when the gradient norm is not larger."""
    if gradient >= CLEARLY and derivative >= CLEARLY:
        return AGREES
    return DISAGREES if gradient <= 1 else PARTLY


def sigmoid_gradient(table: pd.DataFrame, early: pd.DataFrame) -> Verdict:
    """ "Sigmoid learns slowest because its small derivative shrinks the gradient reaching
    layer 1." ``table``: :func:`nnsweep.report.setting_table` per dataset and activation;
    ``early``: :func:`nnsweep.report.early_gradients.early_gradients`, the same keys. Only
    the activations sigmoid was slower than count."""
    if early.empty or not (early[ACTIVATION] == SIGMOID).any():
        return Verdict(
            CANNOT_TELL,
            "no gradient per layer was recorded for sigmoid (its jobs have no layers.csv: "
            "they ran before nnsweep recorded one).",
        )
    words, parts = [], []
    for dataset, part in early.groupby(DATASET, sort=False):
        speeds = table[table[DATASET] == dataset].set_index(ACTIVATION)
        pairs = _pairs(part.set_index(ACTIVATION), speeds)
        words += [w for w in pairs["word"] if w != NOT_SLOWER]
        parts.append(_sentences(dataset, part.set_index(ACTIVATION), pairs, speeds))
    text = " ".join(parts)
    return Verdict(combine(*words) if words else CANNOT_TELL, text[0].lower() + text[1:])


def _pairs(early: pd.DataFrame, speeds: pd.DataFrame) -> pd.DataFrame:
    """Per other activation: its gradient norm and mean |f'| as multiples of sigmoid's, and
    the pair's word (``not slower`` where sigmoid was not shown slower than it)."""
    if SIGMOID not in early.index:
        return pd.DataFrame(columns=[*MEASURES, "word"])
    ratios = early.drop(index=SIGMOID)[MEASURES] / early.loc[SIGMOID, MEASURES]
    ratios = ratios.astype("float64").dropna()  # a measure missing on either side: no pair
    words = [
        pair_word(*r) if _slower_than(speeds, name) else NOT_SLOWER for name, r in ratios.iterrows()
    ]
    return ratios.assign(word=words)


def _slower_than(speeds: pd.DataFrame, name: str) -> bool:
    known = SIGMOID in speeds.index and name in speeds.index
    return bool(known and slower(speeds.loc[SIGMOID], speeds.loc[name]))


def _sentences(dataset: str, early: pd.DataFrame, pairs: pd.DataFrame, speeds: pd.DataFrame) -> str:
    """What was measured on one dataset, and what it says of each pair."""
    if pairs.empty:
        return f"On {dataset}, sigmoid has no other activation's gradients to compare with."
    base = early.loc[SIGMOID]
    gradient, derivative = (base[m] for m in MEASURES)
    multiples = ", ".join(f"{n} {times(g)} and {times(d)}" for n, (g, d, _) in pairs.iterrows())
    reached = ", ".join(f"{n} {_speed(speeds, n)}" for n in [SIGMOID, *pairs.index])
    groups = pairs.groupby("word", sort=False).groups
    said = "; ".join(
        OUTCOMES[w].format(names=listed(names), clearly=CLEARLY) for w, names in groups.items()
    )
    return (
        f"On {dataset}, over epochs 1 to {int(base['until']):,}, sigmoid's layer-1 gradient "
        f"norm is {gradient:.3g} and its mean |f'| {derivative:.3g}; as multiples of "
        f"them, {multiples}. To the threshold: {reached}. Gradient norm and mean |f'|: {said}."
    )


def listed(names: list) -> str:
    """``tanh``, ``tanh and relu``, ``tanh, relu and leaky_relu``."""
    names = [str(n) for n in names]
    return " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)


def _speed(speeds: pd.DataFrame, name: str) -> str:
    return epochs_text(speeds.loc[name]) if name in speeds.index else "not run"
