"""Section 4C of the lab report: the network without activation functions."""

import pandas as pd

from nnsweep.lab.claims import AGREES, CANNOT_TELL, DATASET, DISAGREES, PARTLY, Verdict, rank_key
from nnsweep.lab.measures import best_affine_fit_on_xor, near
from nnsweep.report.answer import EPOCHS

OUTPUT = "output_activation"
XOR_LAB = (0.238, 0.761)  # the report's "without activation" XOR: loss and accuracy


def linear(table: pd.DataFrame, sigmoid: pd.DataFrame) -> Verdict:
    """ "Without activation, linear still reaches accuracy 1.0 and converges faster than with
    sigmoid." ``table``: per dataset and output activation on identity hidden layers;
    ``sigmoid``: per dataset, sigmoid hidden layers at the same rate."""
    rows = table[table[DATASET] == "linear"].set_index(OUTPUT)
    base = sigmoid[sigmoid[DATASET] == "linear"]
    if rows.empty or base.empty or not (rows["converged"].any() or base["converged"].any()):
        return Verdict(CANNOT_TELL, "no replicate on linear reached the threshold.")
    base = base.iloc[0]
    holds = [
        o
        for o, r in rows.iterrows()
        if r["final_accuracy_median"] == 1.0 and rank_key(r) < rank_key(base)
    ]
    word = AGREES if len(holds) == len(rows) else PARTLY if holds else DISAGREES
    parts = [
        f"with a {o} output, median accuracy {r['final_accuracy_median']:.3f} and "
        + (f"{r[EPOCHS]:,.0f} epochs" if r["converged"] else "no epochs")
        + f" ({r['converged']}/{r['replicates']} reached the threshold)"
        for o, r in rows.iterrows()
    ]
    against = f"{base[EPOCHS]:,.0f} epochs" if base["converged"] else "none"
    sentence = (
        "on linear with identity hidden layers, " + "; ".join(parts) + f"; with sigmoid "
        f"hidden layers {against} ({base['converged']}/{base['replicates']})"
    )
    if holds:
        sentence += f". It holds with a {' and a '.join(holds)} output"
    return Verdict(word, sentence + ".")


def xor(runs: pd.DataFrame) -> Verdict:
    """ "XOR stalls at loss 0.238, accuracy 0.761." ``runs``: the replicates of XOR on
    identity hidden layers, with their output activation."""
    lab_loss, lab_acc = XOR_LAB
    if runs.empty:
        return Verdict(CANNOT_TELL, "no replicate on XOR.")
    counts = near(runs, lab_loss, lab_acc).groupby(runs[OUTPUT]).agg(["sum", "size"])
    fit_loss, fit_acc = best_affine_fit_on_xor()
    reached = ", ".join(f"{r.sum} of {r.size} with a {r.Index} output" for r in counts.itertuples())
    sentence = (
        f"the report's loss {lab_loss} and accuracy {lab_acc} are reached by {reached}. The "
        f"least-squares affine fit to the 21 points, the best an identity-everywhere network "
        f"can do, has loss {fit_loss:.4f} and accuracy {fit_acc:.3f}"
    )
    matched = [o for o, (n, _) in counts.iterrows() if n > 0]
    if len(matched) == 1:
        sentence += f": of the two, only a {matched[0]} output gives the report's numbers"
    diverged = runs.groupby(OUTPUT)["diverged"].agg(["sum", "size"])
    for output, (n, m) in diverged[diverged["sum"] > 0].iterrows():
        sentence += f". With a {output} output {n} of {m} replicates diverged"
    return Verdict(AGREES if matched else DISAGREES, sentence + ".")
