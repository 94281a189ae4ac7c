"""Reading sweeps: one real sweep end to end; synthetic job folders (tests/synthetic.py)
for the rest, damaged copies of them, and the pure parts."""

import json
import logging
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from synthetic import config, write_job

from nnsweep import report
from nnsweep.cli.report import main
from nnsweep.report.aggregate import replicate_points
from nnsweep.report.heatmaps import compact
from nnsweep.report.style import pooled_over
from nnsweep.report.summary import summary_figure
from nnsweep.report.time_to_threshold import survival_figure, write_time_to_threshold

ROOT = Path(__file__).resolve().parent.parent
PNG = b"\x89PNG\r\n\x1a\n"
WEB_PAGE = {"report.html", "plotly.min.js"}  # written whenever report.md is (test_web*.py)
# the figures of a sweep of lr and hidden_units on two datasets
# (500 epochs: no replicate reaches the threshold, so no time_to_threshold_<field>.png)
FIGURES = {
    "gradients_lr.png",
    "gradients_hidden_units.png",
    "curves_lr.png",
    "curves_hidden_units.png",
    "summary_lr.png",
    "summary_hidden_units.png",
    "heatmap_final_loss_lr_hidden_units.png",
    "heatmap_epochs_run_lr_hidden_units.png",
}


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300)


def sweep(folder: Path, *overrides: str) -> subprocess.CompletedProcess:
    done = run(
        sys.executable,
        "-m",
        "nnsweep",
        "-m",
        *overrides,
        "figures=[]",  # the sweep's figures are the report's; the jobs' are test_figures.py's
        f"hydra.sweep.dir={folder}",
        cwd=folder.parent,
    )
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module")
def two_fields(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """lr x hidden_units x dataset, 2 replicates: 8 jobs, 16 replicates; reported by Hydra."""
    folder = tmp_path_factory.mktemp("two_fields") / "sweep"
    args = ("lr=0.5,1", "hidden_units=2,4", "dataset=linear,xor", "epochs=500", "replicates=2")
    return folder, sweep(folder, *args)


@pytest.fixture(scope="module")
def plain(tmp_path_factory) -> Path:
    """3 synthetic jobs of lr on linear, 2 replicates each: the original of the damaged copies."""
    folder = tmp_path_factory.mktemp("plain") / "sweep"
    for job, lr in enumerate([0.5, 1.0, 2.0]):
        write_job(folder / str(job), config(dataset="linear", lr=lr, epochs=300), [120, 300])
    return folder


@pytest.fixture
def damaged(plain, tmp_path) -> Path:
    """A copy of ``plain`` that a test may damage."""
    return Path(shutil.copytree(plain, tmp_path / "sweep"))


def loss_csv_rows(job: Path) -> int:
    return len(pd.read_csv(job / "loss.csv"))


def damage_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


# ------------------------------------------------------------- real sweeps


@pytest.mark.slow
def test_the_callback_wrote_the_report_when_the_multirun_ended(two_fields):
    folder, done = two_fields
    assert "report: " in done.stderr
    written = {p.name for p in (folder / "report").iterdir()}
    assert written == FIGURES | {"runs.csv", "settings.csv", "curves.csv", "report.md"} | WEB_PAGE
    for name in FIGURES:
        assert (folder / "report" / name).read_bytes()[:8] == PNG, name
    markdown = (folder / "report" / "report.md").read_text()
    for name in FIGURES:
        assert f"]({name})" in markdown, name
    assert "Swept: `dataset` (linear, xor); `lr` (0.5, 1); `hidden_units` (2, 4)." in markdown
    assert "did not complete" not in markdown


@pytest.mark.slow
def test_swept_fields_and_the_numbers_of_rows(two_fields):
    folder, _ = two_fields
    loaded = report.load(folder)
    assert loaded.swept == ["dataset.name", "lr", "hidden_units"]
    assert loaded.runs.attrs["swept"] == loaded.swept
    assert loaded.figure_fields == ["lr", "hidden_units"]
    assert len(loaded.runs) == 16
    assert (loaded.runs.groupby("job").size() == 2).all()
    assert set(loaded.runs["status"]) == {"complete"}
    jobs = sorted(p for p in folder.iterdir() if p.name.isdigit())
    assert sorted(loaded.runs["job"].unique(), key=int) == [p.name for p in jobs]
    assert len(loaded.curves) == sum(loss_csv_rows(job) for job in jobs)
    assert {"job", "replicate", "epoch", "loss", "accuracy", *loaded.swept} <= set(loaded.curves)
    # 2 settings per swept field and dataset: 8 settings, 2 replicates each
    summary = report.summary_table(loaded)
    assert len(summary) == 8 and (summary["replicates"] == 2).all()


@pytest.mark.slow
def test_runs_hold_each_jobs_config_and_results(two_fields):
    folder, _ = two_fields
    loaded = report.load(folder)
    for job, rows in loaded.runs.groupby("job"):
        result = json.loads((folder / job / "result.json").read_text())
        assert rows["lr"].iloc[0] == result["config"]["lr"]
        assert rows["dataset.name"].iloc[0] == result["config"]["dataset"]["name"]
        assert rows["epochs"].iloc[0] == 500  # the cap, from the config
        expected = pd.DataFrame(result["replicates"])
        assert rows["final_loss"].tolist() == expected["final_loss"].tolist()
        assert rows["epochs_run"].tolist() == expected["epochs"].tolist()
        assert rows["replicate_seed"].tolist() == expected["seed"].tolist()  # exact int64
    written = pd.read_csv(folder / "report" / "runs.csv")
    assert written.shape == loaded.runs.shape
    assert len(pd.read_csv(folder / "report" / "curves.csv")) == len(loaded.curves)


@pytest.mark.slow
def test_a_parent_folder_and_several_folders(two_fields, plain, tmp_path):
    parent = tmp_path / "outputs"
    shutil.copytree(two_fields[0], parent / "multirun" / "a")
    shutil.copytree(plain, parent / "multirun" / "b")
    both = report.load([parent / "multirun" / "a", parent / "multirun" / "b"])
    assert len(both.jobs) == 8 + 3
    assert {job.split("/")[0] for job in both.jobs["job"]} == {"a", "b"}
    assert report.load(parent).jobs["job"].tolist() == both.jobs["job"].tolist()
    with pytest.raises(ValueError, match="several folders"):
        report.write_report([two_fields[0], plain])
    out = report.write_report([two_fields[0], plain], tmp_path / "out", figures=False)
    written = sorted(p.name for p in out.parent.iterdir())
    assert written == sorted(["curves.csv", "report.md", "runs.csv", "settings.csv", *WEB_PAGE])
    assert out == tmp_path / "out" / "report.md"
    assert len(pd.read_csv(tmp_path / "out" / "runs.csv")) == 16 + 3 * 2


# ------------------------------------------------------------- damaged sweeps


def make_failed_copy(folder: Path, source: str, name: str) -> None:
    shutil.copytree(folder / source, folder / name)
    result = json.loads((folder / name / "result.json").read_text())
    result.update(status="failed", error="RuntimeError: injected for the test")
    del result["replicates"]
    (folder / name / "result.json").write_text(json.dumps(result))


def cut_mid_line(path: Path) -> None:
    text = path.read_text()
    path.write_text(text[: len(text) // 2 + 5])


def test_failed_unfinished_and_truncated_jobs_are_listed_not_fatal(damaged, caplog):
    make_failed_copy(damaged, "0", "3")
    (damaged / "1" / "result.json").unlink()  # .hydra/config.yaml stays: never finished
    cut_mid_line(damaged / "2" / "loss.csv")
    with caplog.at_level(logging.WARNING):
        loaded = report.load(damaged)
    status = loaded.jobs.set_index("job")["status"].to_dict()
    assert status == {"0": "complete", "1": "unfinished", "2": "complete", "3": "failed"}
    assert loaded.jobs.set_index("job").loc["1", "lr"] == 1.0  # config read from .hydra/
    assert len(loaded.runs) == 2 + 1 + 2 + 1
    assert set(loaded.curves["job"]) == {"0"}
    (warning,) = damage_warnings(caplog)
    assert str(damaged / "2" / "loss.csv") in warning
    not_complete = report.not_complete(loaded)
    assert not_complete["job"].tolist() == ["1", "3"]
    assert not_complete["error"].tolist() == ["", "RuntimeError: injected for the test"]


def test_a_sweep_with_no_complete_job_is_reported_not_a_traceback(damaged, caplog):
    """Every job failed, unreadable or damaged: the report lists them all and says there is
    nothing to compare; settings.csv keeps its header."""
    make_failed_copy(damaged, "0", "3")
    (damaged / "0" / "result.json").write_text("{garbage")
    (damaged / "1" / "result.json").unlink()
    (damaged / "2" / "result.json").write_text("[]")  # JSON, not a record
    with caplog.at_level(logging.WARNING):
        path = report.write_report(damaged)
    markdown = path.read_text()
    answer = markdown.split("## The answer")[1].split("##")[0]
    assert (
        answer.strip() == "No job of this sweep completed, so there is nothing to compare; "
        "each job's status says why."
    )
    section = markdown.split("## Jobs that did not complete")[1].split("##")[0]
    for job in ("0", "1", "2", "3"):
        assert f"| {job} |" in section
    settings = pd.read_csv(damaged / "report" / "settings.csv")
    assert settings.empty and {"replicates", "epochs_km_median"} <= set(settings.columns)
    page = (damaged / "report" / "report.html").read_text()
    assert "No job of this sweep completed" in page


@pytest.mark.slow
def test_the_script_reports_a_damaged_sweep(damaged):
    make_failed_copy(damaged, "0", "3")
    cut_mid_line(damaged / "2" / "loss.csv")
    done = run(sys.executable, str(ROOT / "scripts" / "report.py"), str(damaged), cwd=damaged)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("WARNING") == 1
    assert f"{damaged / '2' / 'loss.csv'}: corrupt or truncated" in done.stderr
    markdown = (damaged / "report" / "report.md").read_text()
    section = markdown.split("## Jobs that did not complete")[1].split("##")[0]
    assert "| 3 | failed | RuntimeError: injected for the test |" in section
    runs = pd.read_csv(damaged / "report" / "runs.csv")
    assert runs.groupby("job")["status"].first().to_dict() == {
        0: "complete",
        1: "complete",
        2: "complete",
        3: "failed",
    }


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(cut_mid_line, id="cut-mid-line"),
        pytest.param(
            lambda p: p.write_text("".join(p.read_text().splitlines(True)[:-40])),
            id="last-rows-lost",
        ),
        pytest.param(lambda p: p.write_text(""), id="empty"),
        pytest.param(lambda p: p.write_bytes(b"\x00\xff garbage\n1,2\n"), id="garbage"),
        pytest.param(
            lambda p: p.write_text("replicate,epoch,loss,accuracy\n0,1,abc,0.5\n"), id="not-numbers"
        ),
        pytest.param(lambda p: p.unlink(), id="missing"),
    ],
)
def test_a_damaged_loss_csv_gives_one_warning_naming_it(damaged, damage, caplog):
    damage(damaged / "1" / "loss.csv")
    with caplog.at_level(logging.WARNING):
        loaded = report.load(damaged)
    (warning,) = damage_warnings(caplog)
    assert str(damaged / "1" / "loss.csv") in warning
    assert set(loaded.curves["job"]) == {"0", "2"}
    assert (loaded.runs["status"] == "complete").all() and len(loaded.runs) == 6


@pytest.mark.slow
def test_the_script_and_console_script_fail_on_an_empty_folder(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    script = shutil.which("nnsweep-report", path=str(Path(sys.executable).parent))
    assert script, "the console script nnsweep-report is installed beside the interpreter"
    for command in ([sys.executable, str(ROOT / "scripts" / "report.py")], [script]):
        done = run(*command, str(empty), cwd=tmp_path)
        assert done.returncode == 1
        assert f"{empty}: no runs found" in done.stderr
        assert "Traceback" not in done.stderr
    assert not (empty / "report").exists()


# ------------------------------------------------------------- fast: no sweep needed


def test_an_empty_folder_or_one_without_runs_is_a_clear_error(tmp_path):
    with pytest.raises(report.NoRunsError, match="no runs found"):
        report.load(tmp_path)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "loss.csv").write_text("replicate,epoch,loss,accuracy\n")
    with pytest.raises(report.NoRunsError, match="no runs found"):
        report.write_report(tmp_path)
    with pytest.raises(report.NoRunsError, match="no such folder"):
        report.load(tmp_path / "absent")
    assert main([str(tmp_path)]) == 1
    assert main([str(tmp_path / "absent")]) == 1


def test_several_folders_need_out(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([str(tmp_path), str(tmp_path)])
    assert exit_.value.code == 2
    assert "--out" in capsys.readouterr().err


def test_aligned_curves_hold_the_final_loss_after_a_stop():
    curves = pd.DataFrame(
        {
            "job": ["a"] * 8,
            "replicate": [0, 0, 0, 0, 1, 1, 1, 1],
            "epoch": [1, 2, 5, 10, 1, 2, 5, 20],
            "loss": [0.4, 0.3, 0.2, 0.0009, 0.5, 0.6, 9.0, np.inf],
        }
    )
    grid = np.array([1, 3, 10, 15, 20, 30, 40])
    aligned = report.aligned_curves(curves, grid, ends=pd.Series({"a": 30}))
    table = aligned.pivot_table(index="epoch", columns="replicate", values="loss", dropna=False)
    # replicate 0 converged at 10: its final loss from then on, up to the end shown (30)
    np.testing.assert_array_equal(table[0], [0.4, 0.3, 0.0009, 0.0009, 0.0009, 0.0009, np.nan])
    # replicate 1 diverged at 20: recorded values, then nothing
    np.testing.assert_array_equal(table[1], [0.5, 0.6, 9.0, 9.0, np.nan, np.nan, np.nan])


def test_swept_fields_ignore_group_fields_that_follow_the_option_and_presentation():
    jobs = pd.DataFrame(
        {
            "dataset.name": ["linear", "circle", "linear", "circle"],
            "dataset.n": [100, 200, 100, 200],  # follows the dataset: not a sweep of n
            "optimizer.name": ["momentum"] * 4,
            "optimizer.beta": [0.9, 0.9, 0.5, 0.5],  # varies within momentum: swept
            "lr": [0.1] * 4,
            "log_every": [100, 10, 100, 10],  # what a job prints
            "replicates": [3, 5, 3, 5],  # replicates pool across jobs
        }
    )
    assert report.swept_fields(jobs, list(jobs.columns)) == ["dataset.name", "optimizer.beta"]


def test_markdown_table():
    frame = pd.DataFrame({"job": ["0", "1|2"], "loss": [0.123456, np.nan], "ok": [True, False]})
    frame = frame.rename(columns={"ok": "|ok|"})  # a pipe in a header would end its cell
    assert report.markdown_table(frame).splitlines() == [
        "| job | loss | \\|ok\\| |",
        "|---|---:|---|",
        "| 0 | 0.1235 | True |",
        "| 1\\|2 |  | False |",
    ]


# ------------------------------------------------------------- synthetic sweeps


@pytest.fixture
def optimizers(tmp_path) -> Path:
    """gd and adam on xor and linear, 3 replicates (gd never converges on linear), and one
    job refused for batch_size=0."""
    folder = tmp_path / "sweep"
    epochs = {
        ("xor", "gd"): [79_829, 72_441, 90_000],
        ("xor", "adam"): [267, 219, 296],
        ("linear", "gd"): [100_000] * 3,
        ("linear", "adam"): [353, 266, 513],
    }
    for job, ((dataset, name), runs) in enumerate(epochs.items()):
        cfg = config(dataset=dataset, optimizer=name, epochs=100_000, replicates=3)
        write_job(folder / str(job), cfg, runs)
    write_job(folder / "4", config(batch_size=0, optimizer="adam"), [], status="failed")
    return folder


def test_report_md_leads_with_the_best_value_and_how_sure(optimizers):
    text = report.write_report(optimizers, figures=False).read_text()
    answer = text.split("## The answer")[1].split("##")[0]
    assert "Kaplan-Meier" in answer and "Holm" in answer
    assert (
        "- xor, best `optimizer`: adam reaches the threshold first for 3 of 3 seeds (sign test "
        "p = 0.25): the likely winner, but 3 replicates cannot make it certain at 95%; "
        "`replicates=6` would, if every seed again went its way." in answer
    )
    assert "adam: median 267 epochs [219, open), 3/3 converged (Wilson 95% 44%-100%)" in answer
    assert "per seed gd took 300x [" in answer
    assert "none reached the threshold at gd" in answer
    assert text.index("## The answer") < text.index("## Every setting")


def test_a_refused_job_is_listed_but_decides_nothing_swept_or_fixed(optimizers):
    loaded = report.load(optimizers)
    assert loaded.swept == ["dataset.name", "optimizer.name"]
    assert "batch_size" not in report.fixed_settings(loaded)
    text = report.markdown_report(loaded, [])
    assert "Swept: `dataset` (xor, linear); `optimizer` (gd, adam)." in text
    assert "batch_size=0" not in text.split("## Jobs that did not complete")[0]
    assert "| 4 | failed | ConfigError: refused |" in text


def test_titles_name_the_network_and_count_replicates_in_the_singular(optimizers, tmp_path):
    assert report.fixed_settings(report.load(optimizers))["network"] == "2-4-4-1"
    write_job(tmp_path / "one" / "0", config(lr=0.1), [500])
    write_job(tmp_path / "one" / "1", config(lr=1.0), [50])
    assert pooled_over(report.load(tmp_path / "one"), "lr") == "1 replicate"
    assert pooled_over(report.load(optimizers), "optimizer.name") == "3 replicates"


def test_a_curve_ends_where_its_last_replicate_stopped(optimizers):
    bands = report.curve_bands(report.load(optimizers), "optimizer.name")
    ends = bands.groupby(["panel", "series"], observed=True)["epoch"].max()
    assert ends[("dataset=xor", "optimizer=adam")] == 296
    assert ends[("dataset=xor", "optimizer=gd")] == 90_000
    assert ends[("dataset=linear", "optimizer=gd")] == 100_000


def test_the_figures_and_their_names(optimizers, tmp_path):
    written = report.draw_sweep_figures(report.load(optimizers), tmp_path)
    assert [p.name for p in written] == [
        "curves_optimizer.png",
        "summary_optimizer.png",
        "time_to_threshold_optimizer.png",
    ]
    assert all(p.read_bytes()[:8] == PNG for p in written)


def test_the_summary_table_uses_the_median_over_replicates_that_converged(optimizers):
    table = report.summary_table(report.load(optimizers)).set_index(
        ["dataset.name", "optimizer.name"]
    )
    assert table.loc[("xor", "gd"), "epochs_median"] == 79_829
    assert np.isnan(table.loc[("linear", "gd"), "epochs_median"])
    assert table.loc[("linear", "gd"), ["replicates", "converged"]].tolist() == [3, 0]


def test_heat_map_cells_are_short():
    assert [compact(v) for v in [690_123, 1_234_567, 6880, 0.00123]] == [
        "690k",
        "1.2M",
        "6.9k",
        "0.0012",
    ]


def test_a_column_of_large_numbers_has_one_format():
    frame = pd.DataFrame({"epochs": [410_000.0, 6880.0], "loss": [0.25, 0.001234]})
    assert report.markdown_table(frame).splitlines()[2:] == [
        "| 410,000 | 0.25 |",
        "| 6,880 | 0.001234 |",
    ]


def test_settings_of_two_swept_fields_are_never_pooled_as_replicates(tmp_path):
    folder = tmp_path / "grid"
    for job, (lr, units) in enumerate([(0.1, 2), (0.1, 4), (1.0, 2), (1.0, 4)]):
        cfg = config(lr=lr, hidden_units=units, epochs=100_000, replicates=3)
        write_job(folder / str(job), cfg, [1_000 * job + 500] * 3)
    answer = report.write_report(folder, figures=False).read_text().split("## The answer")[1]
    line = answer.split("\n- ")[1].split("\n")[0]
    assert line.startswith("best `lr`, `hidden_units`: lr=0.1, hidden_units=2 ")
    assert "3/3 converged" in line and "6/6" not in line  # each setting its own 3
    assert "Holm-corrected" in line  # against 3 others


def test_a_swept_epoch_cap_is_a_setting_not_a_replicate_count(tmp_path):
    """The bug of issue 19: ``epochs=2000,20000`` split each replicate into its own row."""
    folder = tmp_path / "caps"
    write_job(folder / "0", config(epochs=2000, replicates=3), [2000] * 3)
    write_job(folder / "1", config(epochs=20_000, replicates=3), [3786, 3993, 5470])
    table = report.summary_table(report.load(folder))
    assert table["epochs"].tolist() == [2000, 20_000]
    assert table["replicates"].tolist() == [3, 3]
    answer = report.write_report(folder, figures=False).read_text().split("## The answer")[1]
    # the 2,000-epoch replicates stopped before the others' epochs: no seed tells them apart
    assert "cannot tell: 20000 and 2000 tie for all 3 seeds" in answer
    assert "20000: median 3,993 epochs [3,786, open), 3/3 converged" in answer


def test_values_that_print_alike_get_the_digits_that_tell_them_apart(tmp_path):
    folder = tmp_path / "alike"
    write_job(folder / "0", config(lr=1.0, replicates=2), [500, 600])
    write_job(folder / "1", config(lr=0.9999999999, replicates=2), [500, 600])
    text = report.write_report(folder, figures=False).read_text()
    assert "Swept: `lr` (0.9999999999, 1)." in text
    assert "| 0.9999999999 | 2/2" in text and "| 1 | 2/2" in text
    assert "cannot tell: 1 and 0.9999999999 tie for all 2 seeds" in text


def test_the_censored_median_not_the_cap_counted_as_epochs(tmp_path):
    """3 of 5 reach the threshold at 100, 200, 300; 2 stop at the cap of 1,000. The median of
    epochs_run with the cap counted would be 300 only by luck of the order; with 3 at the
    cap it is the cap. Kaplan-Meier: the share above the threshold falls to 0.8, 0.6, 0.4 at
    100, 200, 300, so the median is 300; with 3 at the cap (2 reached) it is not reached."""
    folder = tmp_path / "capped"
    write_job(folder / "0", config(lr=0.1, replicates=5), [100, 200, 300, 1000, 1000])
    write_job(folder / "1", config(lr=0.2, replicates=5), [100, 200, 1000, 1000, 1000])
    table = report.summary_table(report.load(folder)).set_index("lr")
    assert table.loc[0.1, "epochs_km_median"] == 300
    assert np.isinf(table.loc[0.2, "epochs_km_median"])  # 2 of 5: fewer than half
    text = report.write_report(folder, figures=False).read_text()
    assert "| 0.2 | 2/5 (12%-77%) | not reached |" in text
    settings = pd.read_csv(folder / "report" / "settings.csv")
    assert settings["epochs_km_median"].tolist()[0] == 300


def test_the_time_to_threshold_figure_has_a_panel_per_other_field_and_ticks_the_censored(tmp_path):
    folder = tmp_path / "grid"
    for job, (lr, units) in enumerate([(0.1, 2), (0.1, 4), (1.0, 2), (1.0, 4)]):
        cfg = config(lr=lr, hidden_units=units, epochs=1000, replicates=3)
        write_job(folder / str(job), cfg, [300 + 100 * job, 500, 1000])  # the third missed
    loaded = report.load(folder)
    path = write_time_to_threshold(loaded, "lr", tmp_path)
    assert path.name == "time_to_threshold_lr.png" and path.read_bytes()[:8] == PNG
    runs = loaded.done.assign(panel=loaded.done["hidden_units"], series=loaded.done["lr"])
    fig = survival_figure(runs, [0.1, 1.0], "t", "lr")
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in shown] == ["2", "4"]  # hidden_units never pooled
    for ax in shown:
        assert ax.get_xscale() == "log"
        ticks = [line for line in ax.lines if line.get_marker() == "|"]
        assert [(t.get_xdata()[0], t.get_ydata()[0]) for t in ticks] == [
            (1000, pytest.approx(1 / 3))
        ] * 2


def test_nothing_reached_the_summary_leaves_the_epochs_panel_out_and_says_why(tmp_path):
    for job, lr in enumerate([0.1, 1.0]):
        write_job(tmp_path / "s" / str(job), config(lr=lr, epochs=1000, replicates=3), [1000] * 3)
    loaded = report.load(tmp_path / "s")
    assert write_time_to_threshold(loaded, "lr", tmp_path) is None
    points = replicate_points(loaded, "lr")
    fig = summary_figure(points, "lr", 0.001, "t", joined=True)
    assert len(fig.axes) == 1
    assert "no replicate reached loss < 0.001 within its epoch cap" in fig.get_suptitle()


def test_censored_replicates_are_open_markers_at_the_cap_and_the_median_is_kaplan_meiers(tmp_path):
    write_job(tmp_path / "s" / "0", config(lr=0.1, epochs=1000, replicates=3), [100, 200, 1000])
    write_job(tmp_path / "s" / "1", config(lr=1.0, epochs=1000, replicates=3), [100, 1000, 1000])
    fig = summary_figure(
        replicate_points(report.load(tmp_path / "s"), "lr"), "lr", 0.001, "t", True
    )
    epochs_ax = fig.axes[1]
    dots, capped, _ = epochs_ax.collections  # reached, censored at the cap, diverged
    assert [tuple(p) for p in dots.get_offsets()] == [(0, 100), (0, 200), (1, 100)]
    assert [tuple(p) for p in capped.get_offsets()] == [(0, 1000), (1, 1000), (1, 1000)]
    assert (capped.get_facecolors()[:, 3] == 0).all()  # open: at least the cap
    median = epochs_ax.lines[0]
    assert list(median.get_ydata()[:1]) == [200]  # 1 of 3 at lr=1: not reached, no marker
    assert np.isnan(median.get_ydata()[1])


def test_a_line_that_coincides_with_a_later_one_is_drawn_wider():
    from nnsweep.report.curves import _width

    colours = {"relu": 0, "leaky_relu": 1}
    assert _width("relu", colours) > _width("leaky_relu", colours)
