"""What the console shows: the thinned lab lines, the end-of-run line, where the files are."""

import logging
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nnsweep.engines.history import History
from nnsweep.engines.numpy_loop import format_epoch_line
from nnsweep.job import console


def history(epochs: list[int], converged: list[bool], diverged: list[bool]) -> History:
    r = len(epochs)
    return History(
        loss=np.zeros((max(epochs), r)),
        accuracy={},
        epochs_run=np.array(epochs),
        converged=np.array(converged),
        diverged=np.array(diverged),
        seconds=np.full(r, 1.25),
        params=np.zeros((r, 1)),
        final_loss=np.array(
            [
                np.nan if d else 0.2469512 if not c else 0.00099966
                for c, d in zip(converged, diverged, strict=True)
            ]
        ),
        final_accuracy=np.array(
            [
                np.nan if d else 1.0 if c else 0.47619
                for c, d in zip(converged, diverged, strict=True)
            ]
        ),
    )


@pytest.mark.parametrize(
    ("h", "line"),
    [
        (
            history([546_749], [True], [False]),
            "converged at epoch 546,749 (loss 0.00099966 < 0.001), accuracy 100.00%, 1.2 s",
        ),
        (
            history([20_000], [False], [False]),
            "stopped at the epoch cap 20,000 without converging: loss 0.24695, "
            "accuracy 47.62%, 1.2 s",
        ),
        (history([12], [False], [True]), "diverged at epoch 12 (the loss is not finite), 1.2 s"),
        (
            history([362_198, 399_141, 546_749], [True] * 3, [False] * 3),
            "3/3 converged; epochs median 399,141 [362,198, 546,749]; "
            "accuracy median 100.00%; 1.2 s",
        ),
        (
            history([500, 20_000, 7], [True, False, False], [False, False, True]),
            "1/3 converged; epochs median 500 [500, 500]; 1 stopped at the epoch cap 20,000; "
            "1 diverged; accuracy median 73.81%; 1.2 s",
        ),
    ],
)
def test_the_end_line_says_how_the_run_ended(h, line):
    assert console.outcome(h, cap=20_000, threshold=0.001) == line


def test_a_loss_just_under_the_threshold_is_printed_under_it():
    assert console._below(0.000999999964, 0.001) == "0.00099999996"


def console_lines(records: list[logging.LogRecord]) -> list[str]:
    shown = console.ConsoleFilter()
    return [r.getMessage() for r in records if shown.filter(r)]


def record(message: str, level: int = logging.INFO, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("nnsweep.job", level, __file__, 0, message, None, None)
    made.__dict__.update(extra)
    return made


def test_a_million_epochs_print_the_first_ten_lines_then_about_forty(monkeypatch):
    monkeypatch.setattr(console, "in_sweep", lambda: False)
    lines = [record(format_epoch_line(e, np.array([0.25]))) for e in range(100, 10**6 + 1, 100)]
    shown = console_lines(lines)
    epochs = [int(re.match(r"Epoch (\d+)", line)[1]) for line in shown]
    assert epochs[:10] == list(range(100, 1001, 100))
    assert 30 <= len(shown) <= 40
    ratios = np.diff(np.log10(epochs[10:]))
    assert np.allclose(ratios, 1 / 8, atol=0.03)  # log-spaced: an eighth of a decade apart


def test_a_sweep_shows_each_job_only_by_its_end_line(monkeypatch):
    monkeypatch.setattr(console, "in_sweep", lambda: True)
    lines = [
        record("Epoch 100 loss : 0.24900"),
        record("Prediction 0: 0.00069"),
        record("job 3 lr=0.1: converged", console=True),
        record("could not be drawn", logging.WARNING),
    ]
    assert console_lines(lines) == ["job 3 lr=0.1: converged", "could not be drawn"]


def test_a_thousand_replicates_keep_their_table_out_of_the_console(monkeypatch):
    monkeypatch.setattr(console, "in_sweep", lambda: False)
    rows = [record("table row", file_only=True), record("loss=0.00100 accuracy=100.00%")]
    assert console_lines(rows) == ["loss=0.00100 accuracy=100.00%"]


# ------------------------------------------------------------- real runs


def nnsweep(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "nnsweep", *args, "figures=[]"]  # figures: test_figures
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_the_default_run_prints_at_most_60_lines_ending_with_its_outcome_and_files(tmp_path):
    done = nnsweep(cwd=tmp_path)  # the README's first command, exactly
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) <= 60, done.stderr
    assert re.search(r"converged at epoch [\d,]+ \(loss [\d.]+ < 0.001\), accuracy", lines[-2])
    (job,) = (tmp_path / "outputs" / "runs").glob("*/*")
    assert lines[-1].endswith(f"files: {job.relative_to(tmp_path)}/")
    logged = (job / "nnsweep.log").read_text()
    assert logged.count("Epoch ") > 5000 > done.stderr.count("Epoch ")  # every 100 epochs
    assert logged.count("Prediction ") == done.stderr.count("Prediction ") == 21


@pytest.mark.slow
def test_a_sweep_prints_its_folder_one_line_per_job_and_its_report(tmp_path):
    sweep = tmp_path / "sweep"
    done = nnsweep(
        "-m", "lr=0.1,1,2", "epochs=3000", "replicates=2", f"hydra.sweep.dir={sweep}", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert f"sweep: {sweep}/" in done.stderr.splitlines()[0]
    jobs = [line for line in done.stderr.splitlines() if "] - job " in line]
    assert len(jobs) == 3 and "Epoch" not in done.stderr, done.stderr
    for n, lr in enumerate(("0.1", "1", "2")):
        fields = rf"lr={lr}, epochs=3000, replicates=2, figures=\[\]"
        assert re.search(rf"job {n} \({n + 1}/3\) {fields}: \d/2 converged", jobs[n])
    assert done.stderr.splitlines()[-1].endswith(f"report: {sweep}/report/report.md")
    assert "Epoch 100 loss : " in (sweep / "0" / "nnsweep.log").read_text()


@pytest.mark.slow
def test_help_shows_the_groups_a_user_chooses_with_their_fields_and_no_schema(tmp_path):
    done = nnsweep("--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    section = done.stdout.split("== Groups")[1].split("== Fields")[0].split("\n", 1)[1]
    groups = re.findall(r"^(\S+) ", section, flags=re.M)
    expected = ["dataset", "activation", "optimizer", "loss", "experiment", "hparams_search"]
    assert groups == [*expected, "hydra/launcher"]
    assert "schema/" not in done.stdout
    circle = "circle (n=200, noise=0.0, test_n=0)"
    for option in ("leaky_relu (alpha=0.005)", "momentum (beta=0.9)", circle):
        assert option in done.stdout.replace("\N{NO-BREAK SPACE}", " ")
    for field in ("print_predictions=true", "progress=true", "engine=numba", "init=normal"):
        assert re.search(rf"^{field} ", done.stdout, flags=re.M), field
