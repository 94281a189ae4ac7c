"""Where a page figure's panels go: one column per dataset side by side on a wide screen,
one above the other on a narrow one (a phone's 390 px), each quantity (the loss; the
gradient norm and mean |f'|) in its own row. Every figure carries both layouts; the
page's script takes the stacked one below ``NARROW`` pixels."""

from collections.abc import Sequence
from typing import Any

import numpy as np

NARROW = 600  # px: a figure this narrow stacks its panels (page.js reads figure.narrow)
PANEL_HEIGHT = 240  # px per stacked panel
GAP = 0.05  # between panels side by side, a share of the width


def ref(letter: str, axis: int) -> str:
    """Plotly's name for axis number ``axis``: ``x``, ``x2``, ``xaxis3``..."""
    return letter if axis == 1 else f"{letter}{axis}"


def cells(rows: int, columns: int, stacked: bool) -> dict[int, tuple[list, list]]:
    """Axis number -> (x domain, y domain) of ``rows`` quantities by ``columns`` panels,
    numbered row by row; ``stacked``: the panels one above the other, each its rows."""
    found = {}
    for r in range(rows):
        for c in range(columns):
            row, col = (c * rows + r, 0) if stacked else (r, c)
            height, width = (rows * columns, 1) if stacked else (rows, columns)
            gap_x = GAP / 2 if width > 1 else 0.0
            x = [col / width + gap_x, (col + 1) / width - gap_x]
            # room below for the x labels and above for a panel's name, but at the figure's
            # edges, where the margins give it
            below = 0.18 / height if row < height - 1 else 0.0
            above = 0.09 / height if row > 0 else 0.0
            found[r * columns + c + 1] = (
                x,
                [1 - (row + 1) / height + below, 1 - row / height - above],
            )
    return found


def log_axis(low: float, high: float) -> dict[str, Any]:
    """A log axis from ``low`` to ``high``: a tick per decade where it spans two or more
    (plotly's own labels, 2 and 5 between the powers, crowd a long axis), else plotly's."""
    spec = {"type": "log", "range": list(np.log10([low, high]))}
    return spec | ({"dtick": 1} if high / low >= 100 else {})


def panel_layouts(
    panels: Sequence[str], quantities: Sequence[dict[str, Any]], x_log: bool, height: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The wide and the stacked layout of ``panels`` (their names above each) by
    ``quantities`` (y axis specs: ``title`` and the rest), over epochs (log where runs
    reach LOG_EPOCHS_FROM: epoch_axis' rule)."""
    tall = PANEL_HEIGHT * len(panels) * len(quantities) + 110
    wide = _layout(panels, quantities, x_log, stacked=False, height=height)
    return wide, _layout(panels, quantities, x_log, stacked=True, height=tall)


def _layout(
    panels: Sequence[str], quantities: Sequence[dict], x_log: bool, stacked: bool, height: int
) -> dict[str, Any]:
    rows, columns = len(quantities), len(panels)
    layout: dict[str, Any] = {}
    for axis, (x, y) in cells(rows, columns, stacked).items():
        r, c = divmod(axis - 1, columns)
        bottom, left = r == rows - 1, c == 0 or stacked
        epochs = {"type": "log", "dtick": 1} if x_log else {"type": "linear"}  # 1, 10, 100...
        layout[ref("xaxis", axis)] = epochs | {
            "domain": x,
            "anchor": ref("y", axis),
            "matches": None if axis == 1 else "x",
            "showticklabels": bottom,
            "title": {"text": "epoch", "standoff": 4} if bottom else None,
        }
        quantity = quantities[r]
        layout[ref("yaxis", axis)] = {k: v for k, v in quantity.items() if k != "title"} | {
            "domain": y,
            "anchor": ref("x", axis),
            "matches": None if c == 0 else ref("y", r * columns + 1),
            "showticklabels": left,
            "title": {"text": quantity["title"]} if left else None,
        }
    top = cells(rows, columns, stacked)
    annotations = [
        {"text": name, "showarrow": False, "xref": "paper", "yref": "paper"}
        | {"x": float(np.mean(top[c + 1][0])), "y": top[c + 1][1][1], "yanchor": "bottom"}
        for c, name in enumerate(map(str, panels))
        if name
    ]
    legend = {"orientation": "h", "y": -60 / height, "yanchor": "top"}
    margin = {"l": 60, "r": 10, "t": 24 if annotations else 10, "b": 40}
    return (
        layout
        | {"annotations": annotations, "legend": legend, "margin": margin}
        | {"height": height}
    )
