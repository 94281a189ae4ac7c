"""The page's interactive figures, as Plotly figure specs (plain dicts, drawn in the page
by plotly.js): each job's learning curve, its final loss against each swept field, and
the gradient reaching layer 1.

Every number comes from the sweep's tables (``curves``, ``runs``, ``layers``) through
the report's own functions (:func:`~nnsweep.report.aggregate.aligned_curves`,
:func:`~nnsweep.report.aggregate.curve_bands`, :func:`~nnsweep.report.aggregate.setting_table`).
Arrays go into the page as little-endian typed arrays in base64, which plotly.js reads
as they are: a 1,000-job sweep's curves then take a few MB rather than tens.
"""

import base64
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.colors import to_rgba

from nnsweep.engines import schedule
from nnsweep.figures.style import LOG_EPOCHS_FROM, drawable
from nnsweep.report.aggregate import (
    STATISTIC,
    aligned_curves,
    curve_bands,
    labels_of,
    setting_table,
)
from nnsweep.report.curves import _loss_limits, band_legend
from nnsweep.report.layers import GRADIENTS
from nnsweep.report.style import is_numeric, ordered, pooled, pooled_over, series_colours
from nnsweep.report.tables import Sweep
from nnsweep.report.text import fixed_text, format_value, ordered_values, short_name
from nnsweep.report.web.axes import PANEL_HEIGHT, cells, log_axis, panel_layouts, ref

# Each job's curve at this many log-spaced and this many evenly spaced epochs of the longest
# run (schedule.recorded_epochs, the rule that thins loss.csv, more coarsely) and at its end.
CURVE_POINTS = 40
PALE = 0.2  # a band's opacity where it stands alone; bands of many jobs are paler
COLOURBAR = {"title": {"text": "converged"}, "thickness": 10, "tickformat": ".0%", "len": 0.9}


def typed(values: Any, dtype: str = "f4") -> dict[str, str]:
    """``values`` as plotly.js's typed-array spec: little-endian bytes in base64."""
    wanted = np.dtype(dtype).newbyteorder("<")
    source = np.asarray(values, dtype=np.float64 if wanted.kind == "f" else None)
    with np.errstate(over="ignore", invalid="ignore"):
        array = np.ascontiguousarray(source.astype(wanted))
    if wanted.kind == "f":
        array[~np.isfinite(array)] = np.nan  # a loss beyond float32's range (diverging): a gap
    return {"dtype": dtype, "bdata": base64.b64encode(array.tobytes()).decode("ascii")}


def rgba(colour: tuple, alpha: float | None = None) -> str:
    r, g, b, a = to_rgba(colour, alpha)
    return f"rgba({r * 255:.0f},{g * 255:.0f},{b * 255:.0f},{a:.3g})"


def job_bands(sweep: Sweep) -> pd.DataFrame:
    """Per job and epoch of one grid, and at the job's last epoch: the median, low and high
    loss over its replicates, each replicate holding its last loss once it stopped
    (aligned_curves' rule); columns job, epoch, median, low, high."""
    curves = sweep.curves
    ends = curves.groupby("job")["epoch"].max()
    grid = schedule.recorded_epochs(int(ends.max()), 0, CURVE_POINTS, CURVE_POINTS)
    aligned = aligned_curves(curves, grid)
    end = ends.to_numpy()[ends.index.get_indexer(aligned["job"])]
    aligned = aligned[aligned["epoch"].to_numpy() < end]
    # at the job's end each replicate holds its last loss: aligned_curves' rule, where a
    # replicate's last row is at or before the job's last epoch
    last = curves.loc[curves.groupby(["job", "replicate"])["epoch"].idxmax()]
    last = last.assign(epoch=ends.to_numpy()[ends.index.get_indexer(last["job"])])
    last = last.assign(loss=last["loss"].where(np.isfinite(last["loss"])))
    both = pd.concat([aligned, last[aligned.columns]]).dropna(subset="loss")
    stats = {STATISTIC: STATISTIC, "low": "min", "high": "max"}
    bands = both.groupby(["job", "epoch"])["loss"].agg(**stats).reset_index()
    return bands.assign(**drawable(bands[[STATISTIC, "low", "high"]]))  # a log axis


def learning_curves(sweep: Sweep) -> dict[str, Any] | None:
    """Each job's median loss and min-max band against epoch, a panel per dataset, coloured
    by the first swept field; hovering names the job, a legend entry hides its value."""
    if sweep.curves.empty:
        return None
    field = next(iter(sweep.figure_fields), None)
    labels = labels_of(sweep, field).set_index("job")
    bands = job_bands(sweep).join(labels, on="job")
    bands["index"] = pd.Index(sweep.jobs["job"]).get_indexer(bands["job"])  # customdata
    colours = series_colours(labels["series"], is_numeric(sweep, field))
    panels = ordered(labels["panel"])
    traces = []
    for (panel, series), rows in bands.groupby(["panel", "series"], observed=True, sort=True):
        axis = panels.index(panel) + 1
        traces += _job_traces(rows, str(series), colours[series], axis, first=axis == 1)
    loss = {"title": "loss"} | log_axis(*_loss_limits(bands))
    x_log = bands["epoch"].max() >= LOG_EPOCHS_FROM
    layout, narrow = panel_layouts(panels, [loss], x_log, height=460)
    title = f"Learning curves of every job{_by(field)}"
    return {
        "id": "curves",
        "kind": "jobs",
        "title": title,
        "caption": (
            f"{_held(sweep, field)}. Per job: line, the {STATISTIC}, band, min–max over its "
            f"{pooled_over(sweep, *sweep.swept)}; ● where its last replicate "
            "stopped. Hover a curve for its job, click it for the job's figures; click a "
            "legend entry to hide it."
        ),
        "data": traces,
        "layout": layout,
        "narrow": narrow,
        "labels": _labels(sweep),
    }


def _labels(sweep: Sweep) -> list[str]:
    """Each job's hover text, ``job 3: lr=0.1, hidden_units=8``, in the order of
    ``sweep.jobs`` (a point's customdata)."""
    jobs = sweep.jobs
    parts = [
        f"{short_name(f)}=" + jobs[f].map(format_value, na_action="ignore").fillna("")
        for f in sweep.swept
    ]
    text = "job " + jobs["job"].astype(str)
    if parts:
        text += ": " + pd.concat(parts, axis=1).agg(", ".join, axis=1)
    return text.tolist()


def _held(sweep: Sweep, field: str | None) -> str:
    """The figures' titles' context (what was held fixed, pooled) as a caption's sentence."""
    text = fixed_text(sweep, width=10**6)  # the caption wraps itself
    over = pooled(sweep, (field,))
    return _capital(text + (f"; pooled over: {', '.join(over)}" if over else ""))


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _by(field: str | None) -> str:
    return f", coloured by {short_name(field)}" if field else ""


def _job_traces(rows: pd.DataFrame, name: str, colour: tuple, axis: int, first: bool) -> list:
    """One series' jobs in three traces, each job's points apart by a gap (NaN): the median
    lines, the bands (closed shapes), the dots where each job ends. ``rows``: job_bands'
    rows, a job's together in epoch order, with ``index``, the job's place in the page."""
    jobs = rows["index"].to_numpy()
    starts = np.flatnonzero(np.r_[True, jobs[1:] != jobs[:-1]])
    stops = np.r_[starts[1:], len(jobs)]
    x, y = rows["epoch"].to_numpy(float), rows[STATISTIC].to_numpy(float)
    low, high = rows["low"].to_numpy(float), rows["high"].to_numpy(float)
    gap = [np.nan]
    line_x = np.concatenate([np.r_[x[a:b], gap] for a, b in zip(starts, stops, strict=True)])
    line_y = np.concatenate([np.r_[y[a:b], gap] for a, b in zip(starts, stops, strict=True)])
    band_x = [np.r_[x[a:b], x[a:b][::-1], gap] for a, b in zip(starts, stops, strict=True)]
    band_y = [np.r_[high[a:b], low[a:b][::-1], gap] for a, b in zip(starts, stops, strict=True)]
    alpha = max(PALE / np.sqrt(len(starts)), 0.02)  # many jobs' bands overlap: paler
    common = {"legendgroup": name, "name": name, "xaxis": ref("x", axis)}
    common |= {"yaxis": ref("y", axis), "type": "scatter"}
    dot = {"color": rgba(colour), "size": 6, "line": {"color": "white", "width": 1}}
    return [
        common
        | {"mode": "lines", "showlegend": False, "hoverinfo": "skip", "fill": "toself"}
        | {"x": typed(np.concatenate(band_x)), "y": typed(np.concatenate(band_y))}
        | {"fillcolor": rgba(colour, alpha), "line": {"width": 0}},
        common
        | {"mode": "lines", "showlegend": first, "hoverinfo": "none"}
        | {
            "x": typed(line_x),
            "y": typed(line_y),
            "customdata": typed(np.repeat(jobs[starts], stops - starts + 1), "i4"),
        }
        | {"line": {"color": rgba(colour), "width": 1.5}},
        common
        | {"mode": "markers", "showlegend": False, "hoverinfo": "none", "marker": dot}
        | {"x": typed(x[stops - 1]), "y": typed(y[stops - 1])}
        | {"customdata": typed(jobs[stops - 1], "i4")},
    ]


def outcomes(sweep: Sweep) -> dict[str, Any] | None:
    """A scatter matrix's row: per swept field, one point per complete job at its value and
    its median final loss, coloured by the share of its replicates that converged."""
    per_job = _job_outcomes(sweep)
    if per_job.empty or not sweep.swept:
        return None
    jobs = pd.Index(sweep.jobs["job"]).get_indexer(per_job["job"])  # customdata
    share = per_job["converged"] / per_job["replicates"]
    loss = drawable(per_job[f"final_loss_{STATISTIC}"])
    if loss.isna().all():
        return None
    traces = []
    for i, field in enumerate(sweep.swept, start=1):
        marker = {"color": typed(share), "colorscale": "Viridis", "cmin": 0, "cmax": 1}
        marker |= {"size": 7, "opacity": 0.8, "line": {"color": "white", "width": 0.5}}
        if i == 1:
            marker |= {"showscale": True, "colorbar": COLOURBAR}
        traces.append(
            {"type": "scatter", "mode": "markers", "name": short_name(field)}
            | {"x": _x(per_job[field]), "y": typed(loss), "customdata": typed(jobs, "i4")}
            | {"marker": marker, "hoverinfo": "none", "showlegend": False}
            | {"xaxis": ref("x", i), "yaxis": ref("y", i)}
        )
    y = {"title": "final loss"} | log_axis(loss.min() / 1.5, loss.max() * 1.5)
    layouts = [_field_layout(per_job, sweep.swept, y, stacked) for stacked in (False, True)]
    return {
        "id": "outcomes",
        "kind": "outcomes",
        "title": "Every job: its final loss against each swept field",
        "labels": _labels(sweep),
        "caption": (
            f"One dot per complete job: the {STATISTIC} final loss over its replicates, "
            "coloured by the share of them that reached the loss threshold. Hover a dot for "
            "its job, click it for the job's figures."
        ),
        "data": traces,
        "layout": layouts[0],
        "narrow": layouts[1],
        "narrow_colourbar": COLOURBAR | {"orientation": "h", "y": 1.0, "yanchor": "bottom"},
    }


def _field_layout(
    per_job: pd.DataFrame, fields: list[str], y: dict, stacked: bool
) -> dict[str, Any]:
    """A panel per swept field, side by side or (``stacked``) one above the other, the
    final loss axis shared."""
    layout: dict[str, Any] = {}
    for i, (x, y_domain) in cells(1, len(fields), stacked).items():
        layout[ref("xaxis", i)] = _field_axis(per_job[fields[i - 1]]) | {
            "domain": x,
            "anchor": ref("y", i),
        }
        shown = i == 1 or stacked
        layout[ref("yaxis", i)] = {k: v for k, v in y.items() if k != "title"} | {
            "domain": y_domain,
            "anchor": ref("x", i),
            "matches": None if i == 1 else "y",
            "showticklabels": shown,
            "title": {"text": y["title"]} if shown else None,
        }
    height = PANEL_HEIGHT * len(fields) + 80 if stacked else 360
    top = 40 if stacked else 10  # a phone's colour bar goes above the panels
    return layout | {"height": height, "margin": {"l": 60, "r": 10, "t": top, "b": 50}}


def _x(values: pd.Series) -> Any:
    """A swept field's values on an x axis: numbers as numbers, names as names."""
    if pd.api.types.is_numeric_dtype(values):
        return typed(values, "f8")
    return [format_value(v) for v in values]


def _field_axis(values: pd.Series) -> dict[str, Any]:
    """A swept field's x axis: numbers spanning two decades or more (lr) on a log axis,
    names in the order the sweep ran them."""
    distinct = ordered_values(values)
    x = {"title": {"text": short_name(str(values.name)), "standoff": 4}}
    if not pd.api.types.is_numeric_dtype(values):
        return x | {"type": "category", "categoryorder": "array", "categoryarray": distinct}
    wide = min(distinct) > 0 and max(distinct) / min(distinct) >= 100
    return (
        x
        | {"type": "log" if wide else "linear", "tickvals": distinct}
        | {"ticktext": [format_value(v) for v in distinct]}
    )


def _job_outcomes(sweep: Sweep) -> pd.DataFrame:
    """setting_table with the job as the setting, beside each job's swept fields."""
    if sweep.done.empty:
        return pd.DataFrame()
    table = setting_table(sweep.done, ["job"])
    return table.merge(sweep.jobs[["job", *sweep.swept]], on="job")


def gradient_figures(sweep: Sweep) -> list[dict[str, Any]]:
    """Where jobs wrote layers.csv, per swept field: the gradient reaching layer 1 and its
    units' mean |f'(z)|, as gradients_<field>.png draws them (curve_bands of the layers
    table: median line and min-max band per value)."""
    if sweep.layers.empty:
        return []
    return [_gradient_figure(sweep, field) for field in sweep.figure_fields or [None]]


def _gradient_figure(sweep: Sweep, field: str | None) -> dict[str, Any]:
    bands = {c: curve_bands(sweep, field, sweep.layers, c) for c in GRADIENTS}
    first = bands[GRADIENTS[0]]
    panels = ordered(first["panel"])
    colours = series_colours(first["series"], is_numeric(sweep, field))
    traces = []
    for row, table in enumerate(bands.values()):
        for (panel, series), rows in table.groupby(["panel", "series"], observed=True):
            axis = row * len(panels) + panels.index(panel) + 1
            show = row == 0 and axis == 1
            traces += _series_traces(rows, str(series), colours[series], axis, show)
    norm, derivative = bands.values()
    low, high = drawable(norm["low"]).min() / 1.5, drawable(norm["high"]).max() * 1.5
    top = max(1.05, 1.05 * drawable(derivative["high"]).max())
    quantities = [
        {"title": "layer-1 gradient norm"} | log_axis(low, high),
        {"title": "mean |f'(z)|", "range": [0, top]},
    ]
    x_log = first["epoch"].max() >= LOG_EPOCHS_FROM
    layout, narrow = panel_layouts(panels, quantities, x_log, height=560)
    name = short_name(field) if field else "all"
    return {
        "id": f"gradients-{name}",
        "kind": "series",
        "title": f"Gradient reaching layer 1 (the first hidden layer){_by(field)}",
        "caption": f"{_held(sweep, field)}. {_capital(band_legend(sweep, field))}.",
        "data": traces,
        "layout": layout,
        "narrow": narrow,
    }


def _series_traces(rows: pd.DataFrame, name: str, colour: tuple, axis: int, show: bool) -> list:
    """A series' band and median line, as gradients_<field>.png draws it."""
    x = rows["epoch"].to_numpy(float)
    common = {"legendgroup": name, "name": name, "xaxis": ref("x", axis)}
    common |= {"yaxis": ref("y", axis), "type": "scatter", "mode": "lines"}
    hover = f"{name}<br>epoch %{{x:,.0f}}: %{{y:.3g}}<extra></extra>"
    return [
        common
        | {"x": typed(np.concatenate([x, x[::-1]])), "fill": "toself", "showlegend": False}
        | {"y": typed(np.concatenate([rows["high"], rows["low"][::-1]]))}
        | {"fillcolor": rgba(colour, PALE), "line": {"width": 0}, "hoverinfo": "skip"},
        common
        | {"x": typed(x), "y": typed(rows[STATISTIC]), "showlegend": show}
        | {"line": {"color": rgba(colour), "width": 2}, "hovertemplate": hover},
    ]


def sweep_figures(sweep: Sweep) -> list[dict[str, Any]]:
    """The page's figures, in its order: learning curves, outcomes, gradients."""
    found = [learning_curves(sweep), outcomes(sweep), *gradient_figures(sweep)]
    return [f for f in found if f is not None]
