"""The on-disk formats: thinning of loss.csv, atomic writes, JSON without NaN."""

import json

import numpy as np
import pytest

from nnsweep import records
from nnsweep.train import History


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
    assert np.array_equal(records.recorded_epochs(1500), np.arange(1, 1501))


def test_a_million_epoch_replicate_stays_under_100_kb(tmp_path):
    keep = records.recorded_epochs(1_000_000)
    assert keep[0] == 1 and keep[-1] == 1_000_000 and np.all(np.diff(keep) > 0)
    table = records.loss_table(fake_history([1_000_000], keep), keep)
    size = records.write_loss_csv(table, tmp_path).stat().st_size
    assert size < 100_000, size
    # the early descent is kept densely: every one of the first 10 epochs
    assert set(range(1, 11)) <= set(table["epoch"])


def test_each_replicates_last_epoch_is_a_row_with_its_final_accuracy():
    keep = records.recorded_epochs(1_000_000)
    table = records.loss_table(fake_history([123_457, 5000], keep), keep)
    for r, last in enumerate([123_457, 5000]):
        rows = table[table["replicate"] == r]
        assert rows["epoch"].max() == last
        assert rows["accuracy"].iloc[-1] == 1.0  # final_accuracy, not recorded mid-run
        assert rows["accuracy"].notna().all()


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "result.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), records.atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]


def test_result_json_writes_null_for_nan_and_inf(tmp_path):
    records.write_result(
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
