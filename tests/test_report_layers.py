"""The report's reading of layers.csv (the gradient reaching layer 1) and of held-out
results, on synthetic job folders (tests/synthetic.py): no training needed."""

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from synthetic import config, write_job

from nnsweep import report
from nnsweep.report.early_gradients import early_gradients
from nnsweep.report.gradients import SIGMOID_MAX, gradients_figure
from nnsweep.report.layers import KEPT, LAYERS_CSV, thinned

PNG = b"\x89PNG\r\n\x1a\n"
CAP = 100_000
EPOCHS = [40_000, 30_000, 50_000]  # three replicates, each run the same for every activation


def activations_sweep(folder: Path, gradients: dict[str, tuple[float, float] | None]) -> Path:
    """One job per activation on linear, 3 replicates; ``gradients``: per activation, the
    layer-1 gradient norm and mean |f'| at epoch 1 (None: a job without layers.csv)."""
    for job, (name, gradient) in enumerate(gradients.items()):
        cfg = config(dataset="linear", activation=name, epochs=CAP, replicates=3)
        write_job(folder / str(job), cfg, EPOCHS, gradient=gradient)
    return folder


@pytest.fixture
def sweep(tmp_path) -> Path:
    gradients = {"sigmoid": (0.002, 0.2), "tanh": (0.008, 0.75), "relu": None}
    return activations_sweep(tmp_path / "sweep", gradients)


def warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


# ------------------------------------------------------------- reading layers.csv


def test_layer_1_is_read_thinned_and_a_job_without_layers_csv_is_skipped_quietly(sweep, caplog):
    with caplog.at_level(logging.WARNING):
        loaded = report.load(sweep)
    assert warnings(caplog) == []
    assert set(loaded.layers["job"]) == {"0", "1"}  # job 2 (relu) has no layers.csv
    assert len(loaded.curves) > 0 and len(loaded.runs) == 9  # the rest as before
    written = pd.read_csv(sweep / "0" / LAYERS_CSV)
    first = written[written["layer"] == 1].drop(columns="layer")
    read = loaded.layers[loaded.layers["job"] == "0"].drop(columns="job")
    # every row read is layer 1's row of that epoch, exactly
    both = read.merge(first, on=["replicate", "epoch"], suffixes=("", "_written"))
    assert len(both) == len(read)
    np.testing.assert_array_equal(both["grad_norm"], both["grad_norm_written"])
    per_replicate = read.groupby("replicate")["epoch"]
    assert (per_replicate.size() <= 2 * KEPT + 1).all()
    last_written = first.groupby("replicate")["epoch"].max()
    pd.testing.assert_series_equal(per_replicate.max(), last_written)


def test_thinning_keeps_the_row_at_or_before_each_grid_epoch_and_every_last_row():
    recorded = np.array([1, 2, 3, 5, 8, 13, 21, 34])
    table = pd.DataFrame({"replicate": 0, "epoch": recorded, "grad_norm": 1.0 / recorded})
    table = pd.concat([table, table.iloc[:5].assign(replicate=1)])  # replicate 1 stops at 8
    kept = thinned(table, grid=np.array([1, 4, 6, 7, 30]))
    assert kept.loc[kept["replicate"] == 0, "epoch"].tolist() == [1, 3, 5, 21, 34]
    assert kept.loc[kept["replicate"] == 1, "epoch"].tolist() == [1, 3, 5, 8]


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda p: p.write_bytes(b"\x00\xff garbage\n1,2\n"), id="garbage"),
        pytest.param(lambda p: p.write_text("replicate,epoch,layer\n0,1,1\n"), id="no-values"),
        pytest.param(
            lambda p: p.write_text(
                "replicate,epoch,layer,grad_norm,mean_abs_derivative\n0,1,1,abc,0.2\n"
            ),
            id="not-numbers",
        ),
        pytest.param(lambda p: p.write_text(""), id="empty"),
    ],
)
def test_a_damaged_layers_csv_is_one_warning_naming_it(sweep, damage, caplog):
    damage(sweep / "1" / LAYERS_CSV)
    with caplog.at_level(logging.WARNING):
        loaded = report.load(sweep)
    (warning,) = warnings(caplog)
    assert str(sweep / "1" / LAYERS_CSV) in warning
    assert set(loaded.layers["job"]) == {"0"}
    assert set(loaded.curves["job"]) == {"0", "1", "2"}


# ------------------------------------------------------------- the early epochs compared


def test_early_gradients_compare_over_the_shortest_run_and_leave_diverged_out(sweep):
    table = early_gradients(report.load(sweep), ["activation.name"]).set_index("activation.name")
    assert list(table.index) == ["sigmoid", "tanh"]
    assert (table["until"] == min(EPOCHS)).all() and (table["replicates"] == 3).all()
    # the same epochs and curve shapes, 4 times the norm: exactly 4 times the medians
    ratio = table.loc["tanh", "grad_norm_median"] / table.loc["sigmoid", "grad_norm_median"]
    assert ratio == pytest.approx(4.0)
    assert table.loc["sigmoid", "grad_norm_min"] < table.loc["sigmoid", "grad_norm_max"]
    # the shortest replicates diverged: left out, the window ends at the next shortest
    for job in "01":
        path = sweep / job / "result.json"
        result = json.loads(path.read_text())
        result["replicates"][1]["diverged"] = True
        path.write_text(json.dumps(result))
    table = early_gradients(report.load(sweep), ["activation.name"]).set_index("activation.name")
    assert (table["until"] == 40_000).all()
    assert table.loc["tanh", ["replicates", "diverged"]].tolist() == [2, 1]


def test_no_layers_csv_anywhere_gives_no_gradients_and_the_report_as_before(tmp_path):
    folder = activations_sweep(tmp_path / "old", {"sigmoid": None, "tanh": None})
    loaded = report.load(folder)
    assert loaded.layers.empty and early_gradients(loaded, ["activation.name"]).empty
    written = report.draw_sweep_figures(loaded, tmp_path)
    assert [p.name for p in written] == [
        "curves_activation.png",
        "summary_activation.png",
        "time_to_threshold_activation.png",
    ]
    text = report.markdown_report(loaded, written)
    assert "gradient" not in text.lower()


# ------------------------------------------------------------- report.md and the figure


def test_report_md_states_the_ratio_computed_from_the_data(sweep):
    text = report.write_report(sweep).read_text()
    section = text.split("## The gradient reaching layer 1")[1].split("\n## ")[0]
    assert (
        "- `activation`: over epochs 1 to 30,000, each decade alike (6 replicates), layer-1 "
        "gradient norm smallest at sigmoid (" in section
    )
    assert ", 4x that at sigmoid); mean |f'| smallest at sigmoid (" in section
    assert "![gradients_activation](gradients_activation.png)" in section
    assert "gradients_activation" not in text.split("## Figures")[1]
    assert (sweep / "report" / "gradients_activation.png").read_bytes()[:8] == PNG


def test_the_sentence_follows_the_data(tmp_path):
    folder = activations_sweep(tmp_path / "s", {"sigmoid": (0.02, 0.2), "tanh": (0.01, 0.1)})
    text = report.write_report(folder, figures=False).read_text()
    assert "gradient norm smallest at tanh (" in text and ", 2x that at tanh)" in text
    assert "mean |f'| smallest at tanh (" in text
    same = activations_sweep(tmp_path / "same", {"sigmoid": (0.02, 0.2), "tanh": (0.01, 0.2)})
    text = report.write_report(same, figures=False).read_text()
    assert "mean |f'| about the same at every value (0.2 to 0.2)." in text


def test_the_gradients_figure_per_panel_and_value(tmp_path):
    folder = tmp_path / "two"
    for job, (dataset, name) in enumerate(
        [("linear", "sigmoid"), ("linear", "tanh"), ("xor", "sigmoid"), ("xor", "tanh")]
    ):
        cfg = config(dataset=dataset, activation=name, epochs=CAP, replicates=3)
        write_job(folder / str(job), cfg, EPOCHS, gradient=(0.002 * (job + 1), 0.2 + job / 10))
    written = report.draw_sweep_figures(report.load(folder), tmp_path)
    assert [p.name for p in written][-1] == "gradients_activation.png"
    text = report.markdown_report(report.load(folder), written)
    assert (
        "- linear, `activation`: over epochs 1 to 30,000, each decade alike (6 replicates)" in text
    )
    assert "- xor, `activation`: over epochs 1 to 30,000, each decade alike (6 replicates)" in text


def test_with_only_the_dataset_swept_one_gradients_figure_of_every_run(tmp_path):
    for job, dataset in enumerate(["linear", "xor"]):
        cfg = config(dataset=dataset, epochs=CAP, replicates=3)
        write_job(tmp_path / "s" / str(job), cfg, EPOCHS, gradient=(0.002, 0.2))
    written = report.draw_sweep_figures(report.load(tmp_path / "s"), tmp_path)
    assert "gradients_all.png" in [p.name for p in written]


def test_the_gradients_figure_reads_as_designed():
    """Gradient norm on a log axis, mean |f'| from 0 with sigmoid's ceiling marked, a
    column per panel, the window's end dotted, a log epoch axis for long runs."""
    epochs = np.array([1, 10, 100, 1_000, 20_000])
    rows = [
        pd.DataFrame({"panel": p, "series": s, "epoch": epochs, "median": v, "low": v, "high": v})
        for p in ("dataset=linear", "dataset=xor")
        for s, v in (("sigmoid", 0.2), ("tanh", 0.7))
    ]
    bands = pd.concat(rows, ignore_index=True)
    fig = gradients_figure(
        {"grad_norm": bands.assign(median=bands["median"] / 100), "mean_abs_derivative": bands},
        window={"dataset=linear": 500},
        title="t",
        legend_title="l",
        sigmoid=True,
    )
    top, bottom = fig.axes[:2], fig.axes[2:4]
    assert [ax.get_title() for ax in top] == ["dataset=linear", "dataset=xor"]
    assert top[0].get_yscale() == "log" and bottom[0].get_yscale() == "linear"
    assert bottom[0].get_ylim()[0] == 0 and top[0].get_xscale() == "log"
    assert any(list(line.get_ydata()) == [SIGMOID_MAX] * 2 for line in bottom[1].lines)
    assert any(list(line.get_xdata()) == [500, 500] for line in top[0].lines)
    assert not any(list(line.get_xdata()) == [500, 500] for line in top[1].lines)


# ------------------------------------------------------------- held-out data


def test_held_out_accuracy_stands_beside_the_training_accuracy(tmp_path):
    folder = tmp_path / "held"
    for job, lr in enumerate([0.1, 1.0]):
        cfg = config(dataset="linear", lr=lr, epochs=300)
        write_job(folder / str(job), cfg, [120, 300], test_accuracy=0.9 - job / 10)
    loaded = report.load(folder)
    columns = list(loaded.runs.columns)
    at = columns.index("final_accuracy")
    assert columns[at + 1 : at + 3] == ["final_test_loss", "final_test_accuracy"]
    assert loaded.runs.groupby("lr")["final_test_accuracy"].first().tolist() == [0.9, 0.8]
    assert {"test_loss", "test_accuracy"} <= set(loaded.curves)
    text = report.write_report(folder, figures=False).read_text()
    assert "| accuracy | accuracy min | held-out accuracy | held-out min |" in text
    assert "| 1 | 1 | 0.9 | 0.9 |\n| 1 | 1/2 (" in text and "| 1 | 1 | 0.8 | 0.8 |\n\n" in text
    assert "final_accuracy | final_test_accuracy | epochs_run" in text
    assert "final_test_accuracy" in pd.read_csv(folder / "report" / "runs.csv").columns


def test_without_held_out_data_nothing_changes(tmp_path):
    write_job(tmp_path / "plain" / "0", config(lr=0.1), [120])
    loaded = report.load(tmp_path / "plain")
    assert not any("test" in c for c in [*loaded.runs.columns, *loaded.curves.columns])
    text = report.markdown_report(loaded, [])
    assert "held-out" not in text and "final_test" not in text
