"""What the lab's claims are judged on, measured from a sweep's tables."""

import numpy as np
import pandas as pd

from nnsweep.data import make_dataset

WINDOW = 0.01  # the steepest fall is measured over 1% of a run


def steepest_fall(curves: pd.DataFrame) -> pd.DataFrame:
    """Per (job, replicate): ``fall``, the largest fall of log10(loss) within 1% of its run
    (small for a steady descent, large where a plateau ends in a sudden drop); ``at``,
    where that fall ends, as a share of the run; ``rises``, the share of recorded epochs
    at which the loss went up; ``total``, its whole fall, in decades of loss."""

    def measure(curve: pd.DataFrame) -> pd.Series:
        curve = curve.sort_values("epoch")
        first, last = curve["epoch"].iloc[0], curve["epoch"].iloc[-1]
        grid = np.linspace(first, last, int(1 / WINDOW) + 1)
        falls = -np.diff(np.interp(grid, curve["epoch"], np.log10(curve["loss"])))
        at = (grid[np.argmax(falls) + 1] - first) / max(last - first, 1)
        rises = float((curve["loss"].diff() > 0).mean())
        total = float(np.log10(curve["loss"].iloc[0] / curve["loss"].iloc[-1]))
        return pd.Series({"fall": float(falls.max()), "at": at, "rises": rises, "total": total})

    finite = curves[np.isfinite(curves["loss"]) & (curves["loss"] > 0)]
    return finite.groupby(["job", "replicate"]).apply(measure, include_groups=False)


def best_affine_fit_on_xor() -> tuple[float, float]:
    """Loss and accuracy of the least-squares affine fit to the lab's 21 XOR points: the
    best a network with identity everywhere can do under MSE."""
    x, y = make_dataset("xor", np.random.default_rng(0))
    design = np.column_stack([x, np.ones(len(x))])
    weights, *_ = np.linalg.lstsq(design, y.astype(float), rcond=None)
    prediction = design @ weights
    return float(np.mean((prediction - y) ** 2)), float(np.mean((prediction > 0.5) == y))


def near(runs: pd.DataFrame, loss: float, accuracy: float) -> pd.Series:
    """Replicates whose final loss is within 0.002 and accuracy within 0.005 of the given."""
    return (runs["final_loss"] - loss).abs().lt(0.002) & (
        runs["final_accuracy"] - accuracy
    ).abs().lt(0.005)
