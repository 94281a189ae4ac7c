"""Datasets: the lab's two generators exactly, and every registered one's contract."""

import inspect

import numpy as np
import pytest

from nnsweep.data import DATASETS, make_dataset


def lab_xor_points() -> tuple[list[list[float]], list[int]]:
    """generate_XOR_easy as the lab writes it, in its order and with its float arithmetic."""
    inputs, labels = [], []
    for i in range(11):
        inputs.append([0.1 * i, 0.1 * i])
        labels.append(0)
        if 0.1 * i == 0.5:
            continue
        inputs.append([0.1 * i, 1 - 0.1 * i])
        labels.append(1)
    return inputs, labels


def test_xor_is_the_labs_21_points_in_the_labs_order():
    inputs, labels = lab_xor_points()
    x, y = make_dataset("xor", np.random.default_rng(0))
    assert len(inputs) == 21
    assert x.shape == (21, 2) and y.shape == (21, 1)
    assert np.array_equal(x, np.array(inputs))  # exact, bit for bit
    assert np.array_equal(y[:, 0], np.array(labels))
    # the centre appears once, as a label-0 point
    centre = np.flatnonzero((x[:, 0] == 0.5) & (x[:, 1] == 0.5))
    assert centre.tolist() == [10] and y[10, 0] == 0


def test_xor_does_not_depend_on_the_generator():
    x0, y0 = make_dataset("xor", np.random.default_rng(0))
    x1, y1 = make_dataset("xor", np.random.default_rng(12345))
    assert np.array_equal(x0, x1) and np.array_equal(y0, y1)


@pytest.mark.parametrize("n", [100, 7])
def test_linear_labels_are_0_where_x0_exceeds_x1(n):
    x, y = make_dataset("linear", np.random.default_rng(3), n=n)
    assert x.shape == (n, 2) and y.shape == (n, 1)
    assert x.dtype == np.float64 and y.dtype == np.int64
    assert np.all((x >= 0.0) & (x <= 1.0))
    expected = np.where(x[:, 0] > x[:, 1], 0, 1)
    assert np.array_equal(y[:, 0], expected)


def test_linear_default_is_the_labs_100_points_with_both_labels():
    x, y = make_dataset("linear", np.random.default_rng(0))
    assert x.shape == (100, 2) and y.shape == (100, 1)
    assert set(np.unique(y).tolist()) == {0, 1}


def test_linear_same_seed_same_data_other_seed_other_data():
    a = make_dataset("linear", np.random.default_rng(7))
    b = make_dataset("linear", np.random.default_rng(7))
    c = make_dataset("linear", np.random.default_rng(8))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_every_dataset_has_the_contracted_shapes_dtypes_and_both_classes(name):
    x, y = make_dataset(name, np.random.default_rng(0))
    n = len(x)
    assert n > 1
    assert x.shape == (n, 2) and y.shape == (n, 1)
    assert x.dtype == np.float64 and y.dtype == np.int64
    assert np.all(np.isfinite(x))
    assert set(np.unique(y).tolist()) == {0, 1}


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_every_dataset_is_reproducible_from_its_seed(name):
    x0, y0 = make_dataset(name, np.random.default_rng(11))
    x1, y1 = make_dataset(name, np.random.default_rng(11))
    assert np.array_equal(x0, x1) and np.array_equal(y0, y1)


@pytest.mark.parametrize(
    "name", sorted(n for n, f in DATASETS.items() if "n" in inspect.signature(f).parameters)
)
def test_every_sized_dataset_gives_n_points(name):
    x, y = make_dataset(name, np.random.default_rng(0), n=37)
    assert x.shape == (37, 2) and y.shape == (37, 1)


def test_unknown_dataset_error_lists_the_valid_names():
    with pytest.raises(ValueError, match="no_such_set") as error:
        make_dataset("no_such_set", np.random.default_rng(0))
    for name in DATASETS:
        assert name in str(error.value)
