"""What nnsweep-report says of inputs that are not what it reads: one line, exit 1."""

import subprocess
import sys
from pathlib import Path

import pytest
from synthetic import config, write_job

from nnsweep.cli.report import main


@pytest.fixture
def sweep(tmp_path):
    write_job(tmp_path / "sweep" / "0", config(), [500])
    return tmp_path / "sweep"


def error_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]


def test_a_file_is_not_a_folder(sweep, caplog):
    given = sweep / "0" / "result.json"
    assert main([str(given), "--no-figures"]) == 1
    assert error_lines(caplog) == [f"nnsweep-report: {given} is a file; give a run or sweep folder"]


def test_another_hydra_apps_outputs_hold_no_nnsweep_jobs(tmp_path, caplog):
    for job in "01":
        (tmp_path / job / ".hydra").mkdir(parents=True)
        (tmp_path / job / ".hydra" / "config.yaml").write_text("model: resnet\nbatch: 8\n")
    assert main([str(tmp_path), "--no-figures"]) == 1
    [line] = error_lines(caplog)
    assert line.startswith(f"nnsweep-report: {tmp_path}: no runs found; no nnsweep jobs")


@pytest.mark.parametrize("out", ["0/result.json", "0/result.json/report"])
def test_an_out_that_is_a_file_is_refused_before_any_work(sweep, caplog, out):
    assert main([str(sweep), "--out", str(sweep / out), "--no-figures"]) == 1
    given, file = sweep / out, sweep / "0" / "result.json"
    [line] = error_lines(caplog)
    assert line == f"nnsweep-report: cannot write the report: --out {given}: {file} is a file; " + (
        "give a folder"
    )


def test_an_out_that_cannot_be_written_is_one_line(sweep, caplog, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("nnsweep.report.writer.write_tables", full)
    assert main([str(sweep), "--out", str(sweep / "r"), "--no-figures"]) == 1
    assert error_lines(caplog) == [
        "nnsweep-report: cannot write the report: [Errno 28] No space left on device"
    ]


@pytest.mark.parametrize("given", ["sweep", "missing"])
def test_the_spirals_script_says_in_one_line_what_it_cannot_read(sweep, given):
    """scripts/spirals.py --sweep on a sweep that is not experiment=spirals (no held-out
    accuracy, activation not swept), or on no folder at all."""
    folder = sweep if given == "sweep" else sweep / "missing"
    script = Path(__file__).resolve().parent.parent / "scripts" / "spirals.py"
    done = subprocess.run([sys.executable, str(script), "--sweep", str(folder)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 1 and done.stdout == ""
    said = "is not an experiment=spirals sweep" if given == "sweep" else "no such folder"
    assert done.stderr.splitlines() == [done.stderr.strip()] and said in done.stderr
    assert done.stderr.startswith(f"spirals.py: {folder}")
