"""confusion.png: the final confusion matrix of a K-class network, counts and row shares."""

import numpy as np
from matplotlib.figure import Figure

ANNOTATED_UP_TO = 12  # classes; beyond, the cells are too small to write in


def confusion_figure(counts: np.ndarray | None, title: str = "") -> Figure:
    """``counts`` (K, K), row the true class and column the predicted one, shaded by each
    row's share (of the true class, the share given each class) and written in each cell;
    None draws a note that the network's outputs are not finite (diverged)."""
    fig = Figure(figsize=(5.6, 5.0), layout="constrained")
    ax = fig.subplots()
    if counts is None:
        ax.text(0.5, 0.5, "the network's outputs are not finite (diverged)", ha="center",
                transform=ax.transAxes, bbox={"facecolor": "white"})  # fmt: skip
        ax.set_axis_off()
        fig.suptitle(title or "Confusion matrix")
        return fig
    counts = np.asarray(counts)
    rows = counts.sum(axis=1, keepdims=True)
    shares = counts / np.maximum(rows, 1)
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(image, ax=ax, label="share of the true class's points", shrink=0.85)
    classes = len(counts)
    if classes <= ANNOTATED_UP_TO:
        for (i, j), count in np.ndenumerate(counts):
            colour = "white" if shares[i, j] > 0.6 else "black"
            ax.text(j, i, f"{count}\n{shares[i, j]:.0%}", ha="center", va="center",
                    color=colour, fontsize=9 if classes <= 6 else 7)  # fmt: skip
    ticks = np.arange(classes) if classes <= 20 else np.linspace(0, classes - 1, 11, dtype=int)
    ax.set(xticks=ticks, yticks=ticks, xlabel="predicted class", ylabel="true class")
    right = int(np.trace(counts))
    total = counts.sum()
    ax.set_title(f"training accuracy {right / total:.1%} ({right:,} of {total:,} points)")
    fig.suptitle(title or "Confusion matrix")
    return fig
