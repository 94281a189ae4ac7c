"""The on-disk formats: thinning of loss.csv, atomic writes, JSON without NaN, the shape
and checksums of result.json, the lock and temporary files."""

import fcntl
import json
import os
import socket

import numpy as np
import pandas as pd
import pytest

from nnsweep import atomic
from nnsweep.engines import schedule
from nnsweep.engines.history import History
from nnsweep.job import csv_tables, lock, result_json


def fake_history(epochs_run: list[int], keep: np.ndarray) -> History:
    last = max(epochs_run)
    loss = np.full((last, len(epochs_run)), np.nan)
    for r, e in enumerate(epochs_run):
        loss[:e, r] = 1.0 / np.arange(1, e + 1) + 1e-3 * r
    accuracy = {int(e): np.where(np.array(epochs_run) >= e, 0.5, np.nan) for e in keep if e <= last}
    n = len(epochs_run)
    return History(
        loss=loss,
        accuracy=accuracy,
        epochs_run=np.array(epochs_run),
        converged=np.zeros(n, bool),
        diverged=np.zeros(n, bool),
        seconds=np.zeros(n),
        params=np.zeros((n, 1)),
        final_loss=loss[np.array(epochs_run) - 1, np.arange(n)],
        final_accuracy=np.ones(n),
    )


def test_short_runs_keep_every_epoch():
    assert np.array_equal(schedule.recorded_epochs(1500), np.arange(1, 1501))


def test_a_million_epoch_replicate_stays_under_100_kb(tmp_path):
    keep = schedule.recorded_epochs(1_000_000)
    assert keep[0] == 1 and keep[-1] == 1_000_000 and np.all(np.diff(keep) > 0)
    table = csv_tables.loss_table(fake_history([1_000_000], keep), keep)
    size = csv_tables.write_loss_csv(table, tmp_path).stat().st_size
    assert size < 100_000, size
    # the early descent is kept densely: every one of the first 10 epochs
    assert set(range(1, 11)) <= set(table["epoch"])


def test_each_replicates_last_epoch_is_a_row_with_its_final_accuracy():
    keep = schedule.recorded_epochs(1_000_000)
    table = csv_tables.loss_table(fake_history([123_457, 5000], keep), keep)
    for r, last in enumerate([123_457, 5000]):
        rows = table[table["replicate"] == r]
        assert rows["epoch"].max() == last
        assert rows["accuracy"].iloc[-1] == 1.0  # final_accuracy, not recorded mid-run
        assert rows["accuracy"].notna().all()


@pytest.mark.parametrize(
    "columns",
    [
        {"replicate": [0, 0, 1], "epoch": [1, 2, 1], "loss": [0.25, np.nan, 1e-300],
         "accuracy": [np.nan, np.nan, 1.0]},  # NaN runs, and at the end of a row
        {"replicate": [0, 1], "loss": [np.inf, -0.0], "grad_norm": [123456789012.5, 3.0]},
        {"loss": [np.nan, 0.5], "replicate": [0, 1]},  # a float first: pandas writes it
        {"replicate": np.zeros(0, int), "loss": np.zeros(0)},  # empty: pandas writes it
        {"replicate": [0], "name": ["a"]},  # text: pandas writes it
    ],
)  # fmt: skip
def test_the_csv_writer_writes_what_pandas_writes(tmp_path, columns):
    table = pd.DataFrame(columns)
    table.to_csv(tmp_path / "pandas.csv", index=False, float_format=csv_tables.FLOAT_FORMAT)
    written = csv_tables.write_loss_csv(table, tmp_path)
    assert written.read_bytes() == (tmp_path / "pandas.csv").read_bytes()


def test_a_table_of_several_chunks_is_written_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_tables, "CHUNK_ROWS", 3)
    table = pd.DataFrame({"replicate": np.arange(10), "loss": np.linspace(0, 1, 10)})
    table.loc[[2, 3, 9], "loss"] = np.nan  # at a chunk's end, start and the last row
    table.to_csv(tmp_path / "pandas.csv", index=False, float_format=csv_tables.FLOAT_FORMAT)
    written = csv_tables.write_loss_csv(table, tmp_path)
    assert written.read_bytes() == (tmp_path / "pandas.csv").read_bytes()


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "result.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic.atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]


def test_result_json_writes_null_for_nan_and_inf(tmp_path):
    result_json.write_result(
        {
            "replicates": [{"final_loss": np.float64("nan"), "epochs": np.int64(3)}],
            "x": float("inf"),
        },
        tmp_path,
    )
    assert json.loads((tmp_path / "result.json").read_text()) == {
        "replicates": [{"final_loss": None, "epochs": 3}],
        "x": None,
    }


def complete_job(job_dir) -> dict:
    """A complete job folder with its loss.csv checksummed, as nnsweep.job.run writes it."""
    (job_dir / "loss.csv").write_text("replicate,epoch,loss,accuracy\n0,1,0.25,0.5\n")
    replicate = result_json.ReplicateResult(
        replicate=0, seed=1, final_loss=0.25, final_accuracy=0.5, epochs=1, converged=False,
        diverged=False, seconds=0.1,
    )  # fmt: skip
    result = {"status": "complete", "config": {"lr": 0.1}, "replicates": [replicate]}
    result["files"] = result_json.file_records(job_dir)
    result_json.write_result(result, job_dir)
    return result


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("[]", "a JSON list, not an object"),
        ('{"status": "complete"}', "no config"),
        ('{"status": "done", "config": {}}', "status 'done' is not running, complete or failed"),
        ('{"status": "complete", "config": {}}', "complete, but no replicates"),
        ('{"status": "complete", "config": {}, "replicates": [{}]}', "a replicate without"),
    ],
)
def test_a_result_json_of_the_wrong_shape_is_damaged(tmp_path, content, problem):
    (tmp_path / "result.json").write_text(content)
    with pytest.raises(result_json.DamagedResult, match=f"^{tmp_path / 'result.json'}: {problem}"):
        result_json.read_result(tmp_path)


def test_data_files_are_checked_against_their_size_and_sha256(tmp_path):
    result = complete_job(tmp_path)
    assert result_json.file_mismatch(tmp_path, result_json.read_result(tmp_path)) is None
    text = (tmp_path / "loss.csv").read_text()
    (tmp_path / "loss.csv").write_text(text.replace("0.25", "0.75"))  # same size
    assert (
        result_json.file_mismatch(tmp_path, result)
        == "loss.csv's sha256 differs from result.json's"
    )
    (tmp_path / "loss.csv").write_text("garbage")
    assert (
        result_json.file_mismatch(tmp_path, result) == "loss.csv has 7 bytes, result.json says 43"
    )
    (tmp_path / "loss.csv").unlink()
    assert result_json.file_mismatch(tmp_path, result) == "loss.csv is missing"


def test_a_running_job_is_interrupted_once_its_lock_is_free(tmp_path):
    running = {"status": "running", "pid": os.getpid(), "host": socket.gethostname()}
    assert not lock.is_interrupted(tmp_path, running)  # no lock file: this pid runs
    assert lock.is_interrupted(tmp_path, {**running, "pid": 2**22 + 1})  # no such pid
    held = os.open(tmp_path / lock.LOCK_FILE, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert lock.is_locked(tmp_path) and not lock.is_interrupted(tmp_path, running)
    finally:
        os.close(held)
    assert lock.is_interrupted(tmp_path, running)  # the lock is free: nobody runs it


def test_stale_temporary_files_are_removed_but_the_lock_file_is_kept(tmp_path):
    stale = [tmp_path / ".loss.partial-123.csv", tmp_path / ".result.partial-9.json"]
    for path in [*stale, tmp_path / lock.LOCK_FILE, tmp_path / "loss.csv"]:
        path.write_text("x")
    assert sorted(atomic.remove_partials(tmp_path)) == sorted(stale)
    assert sorted(p.name for p in tmp_path.iterdir()) == [lock.LOCK_FILE, "loss.csv"]
