"""prediction.png: the ground truth beside the prediction, as the lab draws it."""

import numpy as np
from matplotlib.figure import Figure

from nnsweep.figures.style import (
    CLASS_COLOURS,
    class_handles,
    held_out_handle,
    held_out_points,
    input_axes,
)


def prediction_figure(
    x: np.ndarray,
    y: np.ndarray,
    prediction: np.ndarray,
    title: str = "",
    x_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
    test_prediction: np.ndarray | None = None,
) -> Figure:
    """The lab's show_result: "Ground truth" beside "Predict result" (output rounded at 0.5);
    a point whose output is not finite (a diverged network) is drawn grey. Held-out points
    (``x_test``, ``y_test``) are hollow: on the right only with ``test_prediction``, the
    network's output on them (a true label there would pass for a prediction)."""
    fig = Figure(figsize=(9, 4.8), layout="constrained")
    panels = fig.subplots(1, 2, sharex=True, sharey=True)
    predicted = _predicted_class(prediction)
    test_predicted = None if test_prediction is None else _predicted_class(test_prediction)
    shown = {"Ground truth": (y, y_test), "Predict result": (predicted, test_predicted)}
    for ax, (name, (label, test_label)) in zip(panels, shown.items(), strict=True):
        ax.scatter(x[:, 0], x[:, 1], c=label.ravel(), cmap=CLASS_COLOURS, vmin=0, vmax=1, s=25)
        if x_test is not None and test_label is not None:
            held_out_points(ax, x_test, test_label)
        ax.set_title(name, fontsize=16)
        input_axes(ax)
        ax.label_outer()  # the panels share their axes
    outputs = [predicted] if test_predicted is None else [predicted, test_predicted]
    handles = class_handles(not_finite=bool(np.isnan(np.concatenate(outputs)).any()))
    if x_test is not None and y_test is not None:
        handles.append(held_out_handle())
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles))
    if title:
        fig.suptitle(title)
    return fig


def _predicted_class(output: np.ndarray) -> np.ndarray:
    """1 where the output is above 0.5, 0 where not, NaN where it is not finite: (n,)."""
    output = np.ravel(output)
    return np.where(np.isfinite(output), output > 0.5, np.nan)
