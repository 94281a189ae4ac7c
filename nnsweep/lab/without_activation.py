"""Section 4C of the lab report: the network without activation functions."""

import numpy as np
import pandas as pd

from nnsweep.lab.claims import (
    AGREES,
    BETTER,
    CANNOT_TELL,
    DATASET,
    DISAGREES,
    PARTLY,
    WORSE,
    Verdict,
    combine,
    outcome,
    replicates_of,
    share_text,
    share_word,
)
from nnsweep.lab.measures import best_affine_fit_on_xor, near
from nnsweep.report.answer import p_text
from nnsweep.report.paired import compare, corrected, median_interval

OUTPUT = "output_activation"
XOR_LAB = (0.238, 0.761)  # the report's "without activation" XOR: loss and accuracy


def linear(runs: pd.DataFrame, sigmoid: pd.DataFrame) -> Verdict:
    """ "Without activation, linear still reaches accuracy 1.0 and converges faster than with
    sigmoid." ``runs``: the replicates on identity hidden layers, per output activation;
    ``sigmoid``: those with sigmoid hidden layers at the same rate. Per output: the share
    at accuracy 1.0 (Wilson) and the paired comparison with sigmoid hidden layers."""
    rows, base = runs[runs[DATASET] == "linear"], sigmoid[sigmoid[DATASET] == "linear"]
    if rows.empty or base.empty or not (rows["converged"].any() or base["converged"].any()):
        return Verdict(CANNOT_TELL, "no replicate on linear reached the threshold.")
    outputs = list(dict.fromkeys(rows[OUTPUT]))
    found = corrected([compare(rows[rows[OUTPUT] == o], base, o, "sigmoid hidden layers")
                       for o in outputs])  # fmt: skip
    words, parts = [], []
    for o, c in zip(outputs, found, strict=True):
        part = rows[rows[OUTPUT] == o]
        k = int((part["final_accuracy"] == 1.0).sum())
        acc, faster = share_word(k, len(part)), outcome(c)
        holds = acc == AGREES and faster == BETTER
        fails = acc == DISAGREES or faster == WORSE
        words.append(AGREES if holds else DISAGREES if fails else CANNOT_TELL)
        parts.append(f"with a {o} output, {_outcome_text(part, k)}; against sigmoid hidden "
                     f"layers it is first for {c.a_first} of {c.seeds} seeds, they for "
                     f"{c.b_first} ({p_text(c)})")  # fmt: skip
    held = [o for o, w in zip(outputs, words, strict=True) if w == AGREES]
    sentence = "on linear with identity hidden layers, " + "; ".join(parts)
    if held:
        sentence += f". It holds with a {' and a '.join(held)} output"
    word = combine(*words)
    word = PARTLY if held and word != AGREES else word
    return Verdict(word, sentence + ".", replicates_of(runs))


def _outcome_text(part: pd.DataFrame, k: int) -> str:
    """Accuracy 1.0's share, how many reached the threshold and how many diverged, and the
    median accuracy of those that did not diverge (a diverged one has none)."""
    n, diverged = len(part), int(part["diverged"].sum())
    text = f"{share_text(k, n, 'at accuracy 1.0')}, {int(part['converged'].sum())}/{n} "
    text += "reached the threshold"
    accuracy = part["final_accuracy"].dropna()
    if diverged:
        text += f", {diverged} of {n} diverged"
    if len(accuracy):
        over = f"the {len(accuracy)} that did not diverge" if diverged else f"all {n}"
        text += f"; median accuracy {accuracy.median():.3f} over {over}"
    return text


def xor(runs: pd.DataFrame) -> Verdict:
    """ "XOR stalls at loss 0.238, accuracy 0.761." ``runs``: the replicates of XOR on
    identity hidden layers, with their output activation. Per output: the share at the
    report's numbers (Wilson) and the median final loss with its bootstrap interval.
    Agrees where, for some output, most replicates stall there (the share's interval above
    a half); disagrees where, for every output, few do (below a half)."""
    lab_loss, lab_acc = XOR_LAB
    if runs.empty:
        return Verdict(CANNOT_TELL, "no replicate on XOR.")
    fit_loss, fit_acc = best_affine_fit_on_xor()
    words, parts = [], []
    for output, part in runs.groupby(OUTPUT, sort=False):
        k = int(near(part, lab_loss, lab_acc).sum())
        words.append(share_word(k, len(part)))
        parts.append(f"with a {output} output, {share_text(k, len(part), 'at them')}, "
                     f"{_loss_text(part)}")  # fmt: skip
    word = AGREES if AGREES in words else DISAGREES if set(words) == {DISAGREES} else CANNOT_TELL
    sentence = (
        f"the report's loss {lab_loss} and accuracy {lab_acc}: " + "; ".join(parts) + ". The "
        f"least-squares affine fit to the 21 points, the best an identity-everywhere network "
        f"can do, has loss {fit_loss:.4f} and accuracy {fit_acc:.3f}"
    )
    return Verdict(word, sentence + ".", replicates_of(runs))


def _loss_text(part: pd.DataFrame) -> str:
    """``final loss median 0.2494 [0.2381, 0.2494] (bootstrap 95%)``, or how many diverged."""
    diverged = int(part["diverged"].sum())
    median, low, high = median_interval(part["final_loss"].to_numpy(dtype=float))
    text = (
        ""
        if np.isnan(median)
        else (f"final loss median {median:.4f} [{low:.4f}, {high:.4f}] (bootstrap 95%)")
    )
    if diverged:
        text += ("; " if text else "") + f"{diverged} of {len(part)} diverged"
    return text
