"""Datasets: the lab's two generators exactly, and every registered one's contract."""

import inspect

import numpy as np
import pytest

from nnsweep.data import DATASETS, make_dataset

# generate_XOR_easy of the lab, written out: (x0, x1, label) in its order; 0.5, 0.5 once
XOR_POINTS = [
    (0.0, 0.0, 0), (0.0, 1.0, 1), (0.1, 0.1, 0), (0.1, 0.9, 1), (0.2, 0.2, 0), (0.2, 0.8, 1),
    (0.3, 0.3, 0), (0.3, 0.7, 1), (0.4, 0.4, 0), (0.4, 0.6, 1), (0.5, 0.5, 0), (0.6, 0.6, 0),
    (0.6, 0.4, 1), (0.7, 0.7, 0), (0.7, 0.3, 1), (0.8, 0.8, 0), (0.8, 0.2, 1), (0.9, 0.9, 0),
    (0.9, 0.1, 1), (1.0, 1.0, 0), (1.0, 0.0, 1),
]  # fmt: skip


def test_xor_is_the_labs_21_points_in_the_labs_order():
    x, y = make_dataset("xor", np.random.default_rng(0))
    assert x.shape == (21, 2) and y.shape == (21, 1)
    expected = np.array(XOR_POINTS)
    # to the last bit but one: the lab computes 0.1 * i, which is not always the literal
    np.testing.assert_allclose(x, expected[:, :2], rtol=0, atol=1e-15)
    assert np.array_equal(y[:, 0], expected[:, 2].astype(int))


def test_xor_does_not_depend_on_the_generator():
    x0, y0 = make_dataset("xor", np.random.default_rng(0))
    x1, y1 = make_dataset("xor", np.random.default_rng(12345))
    assert np.array_equal(x0, x1) and np.array_equal(y0, y1)


class FixedPoints:
    """A generator whose uniform draw is the points given: the label rule on chosen points."""

    def __init__(self, points: list[tuple[float, float]]) -> None:
        self.points = np.array(points)

    def uniform(self, low: float, high: float, size: tuple[int, int]) -> np.ndarray:
        assert (low, high, size) == (0.0, 1.0, self.points.shape)
        return self.points


# (x0, x1, the lab's label): 0 where x0 > x1, else 1, the diagonal itself included
LINEAR_POINTS = [
    (0.9, 0.1, 0), (0.1, 0.9, 1), (0.5, 0.5, 1), (0.5000001, 0.5, 0), (0.5, 0.5000001, 1),
    (0.0, 1.0, 1), (1.0, 0.0, 0), (0.3, 0.2, 0), (0.2, 0.3, 1), (0.0, 0.0, 1),
]  # fmt: skip


def test_linear_labels_the_points_the_labs_way():
    points = [(x0, x1) for x0, x1, _ in LINEAR_POINTS]
    x, y = make_dataset("linear", FixedPoints(points), n=len(points))
    np.testing.assert_array_equal(x, points)
    assert y.tolist() == [[label] for _, _, label in LINEAR_POINTS]


@pytest.mark.parametrize("n", [100, 7])
def test_linear_points_are_in_the_unit_square_with_the_contracted_types(n):
    x, y = make_dataset("linear", np.random.default_rng(3), n=n)
    assert x.shape == (n, 2) and y.shape == (n, 1)
    assert x.dtype == np.float64 and y.dtype == np.int64
    assert np.all((x >= 0.0) & (x <= 1.0))


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


def test_without_a_generator_a_fresh_one_draws():
    assert make_dataset("xor", None)[0].shape == (21, 2)
    x, y = make_dataset("linear", None, n=5)
    assert x.shape == (5, 2) and y.shape == (5, 1)
