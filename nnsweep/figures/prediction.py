"""prediction.png: the ground truth beside the prediction, as the lab draws it."""

import numpy as np
from matplotlib.figure import Figure

from nnsweep.figures.style import data_legend, data_points, input_axes, predicted_classes


def prediction_figure(
    x: np.ndarray,
    y: np.ndarray,
    prediction: np.ndarray,
    title: str = "",
    x_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
    test_prediction: np.ndarray | None = None,
) -> Figure:
    """The lab's show_result: "Ground truth" beside "Predict result" (one output rounded at
    0.5; K outputs, the most probable class, in K colours); a point whose output is not
    finite (a diverged network) is drawn grey. Held-out points (``x_test``, ``y_test``) are
    hollow: on the right only with ``test_prediction``, the network's output on them (a
    true label there would pass for a prediction)."""
    k = np.shape(prediction)[-1] if np.ndim(prediction) == 2 else 1  # (n, K) or (n, 1)
    classes = max(2, k)
    fig = Figure(figsize=(9, 4.8), layout="constrained")
    panels = fig.subplots(1, 2, sharex=True, sharey=True)
    predicted = predicted_classes(prediction)
    test_predicted = None if test_prediction is None else predicted_classes(test_prediction)
    shown = {"Ground truth": (y, y_test), "Predict result": (predicted, test_predicted)}
    for ax, (name, (label, test_label)) in zip(panels, shown.items(), strict=True):
        data_points(ax, x, label, x_test, test_label, classes=classes)
        ax.set_title(name, fontsize=16)
        input_axes(ax)
        ax.label_outer()  # the panels share their axes
    outputs = [predicted] if test_predicted is None else [predicted, test_predicted]
    not_finite = bool(np.isnan(np.concatenate(outputs)).any())
    held_out = x_test is not None and y_test is not None
    data_legend(fig, held_out, not_finite=not_finite, classes=classes)
    if title:
        fig.suptitle(title)
    return fig
