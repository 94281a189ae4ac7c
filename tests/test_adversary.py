"""Inputs an adversary would try: each ends in one clear line, never a traceback, and
never costs or mixes data (issue "nothing lost, round two")."""

import json
import os
import subprocess
import sys

import pytest
from synthetic import config, write_job

from nnsweep.cli.report import main as report_main
from nnsweep.report.tables import load


def nnsweep(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "nnsweep", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(
    ("key", "value", "said"),
    [
        ("final_loss", "abc", 'final_loss is "abc", not a number or null'),
        ("epochs", None, "epochs is null, not an integer"),
        ("converged", "yes", 'converged is "yes", not true or false'),
    ],
)
def test_a_result_json_with_wrong_types_is_listed_damaged_and_the_report_goes_on(
    tmp_path, caplog, key, value, said
):
    sweep = tmp_path / "sweep"
    write_job(sweep / "0", config(lr=0.1), [500])
    write_job(sweep / "1", config(lr=1.0), [300])
    path = sweep / "1" / "result.json"
    result = json.loads(path.read_text())
    result["replicates"][0][key] = value
    path.write_text(json.dumps(result))
    assert report_main([str(sweep), "--no-figures"]) == 0
    runs = load(sweep).runs
    assert runs.set_index("job").loc["1", "status"] == "damaged"
    assert said in runs.set_index("job").loc["1", "error"]
    assert runs.set_index("job").loc["0", "status"] == "complete"
    assert (sweep / "report" / "report.md").is_file()


def test_a_symlink_loop_counts_each_job_once(tmp_path, caplog):
    sweep = tmp_path / "sweep"
    write_job(sweep / "0", config(lr=0.1), [500])
    write_job(sweep / "1", config(lr=1.0), [300])
    os.symlink(".", sweep / "self")
    os.symlink("..", sweep / "0" / "up")
    assert len(load(sweep).jobs) == 2


@pytest.mark.slow
def test_resuming_with_the_other_engine_refuses_and_keeps_the_first_engines_files(tmp_path):
    """The engines part on chaotic runs: a folder's results say which engine made them."""
    args = ["epochs=300", "figures=[]", f"hydra.run.dir={tmp_path}"]
    assert nnsweep(*args).returncode == 0
    before = (tmp_path / "loss.csv").read_bytes()
    again = nnsweep(*args, "engine=numpy")
    assert again.returncode == 1
    assert "holds a complete result of another config" in again.stderr
    assert (tmp_path / "loss.csv").read_bytes() == before
    assert json.loads((tmp_path / "result.json").read_text())["config"]["engine"] == "numba"
