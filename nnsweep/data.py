"""Two-class datasets in the unit square, chosen by name.

Every generator returns ``x`` of shape (n, 2), float64, and ``y`` of shape
(n, 1), int64 labels 0 or 1. ``linear`` and ``xor`` are the lab's own
generators; the others follow TensorFlow Playground's sets, rescaled from
[-6, 6]^2 to the unit square the lab uses. ``noise`` is the standard
deviation of Gaussian noise added to the coordinates (unit-square units).
"""

from collections.abc import Callable

import numpy as np

from nnsweep.registry import lookup

Dataset = tuple[np.ndarray, np.ndarray]  # x (n, 2) float64, y (n, 1) int64


def _labelled(x: np.ndarray, y: np.ndarray) -> Dataset:
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.int64).reshape(-1, 1)


def _jitter(x: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    return x + rng.normal(scale=noise, size=x.shape) if noise > 0 else x


def generate_linear(n: int = 100, *, rng: np.random.Generator) -> Dataset:
    """The lab's linear set: n points uniform in [0, 1]^2, label 0 where x0 > x1, else 1."""
    x = rng.uniform(0.0, 1.0, size=(n, 2))
    return _labelled(x, x[:, 0] <= x[:, 1])


def generate_xor_easy(*, rng: np.random.Generator | None = None) -> Dataset:
    """The lab's 21 XOR points, in the lab's order and computed the lab's way (fixed points:
    ``rng`` is unused, taken as every generator takes one)."""
    points, labels = [], []
    for i in range(11):
        points.append([0.1 * i, 0.1 * i])
        labels.append(0)
        if 0.1 * i == 0.5:
            continue
        points.append([0.1 * i, 1 - 0.1 * i])
        labels.append(1)
    return _labelled(np.array(points), np.array(labels))


def generate_circle(n: int = 200, noise: float = 0.0, *, rng: np.random.Generator) -> Dataset:
    """A disc (label 1) inside a ring (label 0), both centred in the unit square."""
    inner = n // 2
    radius = np.concatenate([rng.uniform(0.0, 0.25, inner), rng.uniform(0.35, 0.5, n - inner)])
    angle = rng.uniform(0.0, 2 * np.pi, n)
    x = 0.5 + radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    return _labelled(_jitter(x, noise, rng), np.arange(n) < inner)


def generate_spiral(n: int = 200, noise: float = 0.0, *, rng: np.random.Generator) -> Dataset:
    """Two interleaved spirals, 1.75 turns each (label 1 and label 0)."""
    half = n // 2
    t = np.concatenate([np.arange(half) / half, np.arange(n - half) / (n - half)])
    phase = np.where(np.arange(n) < half, 0.0, np.pi)
    angle = 1.75 * 2 * np.pi * t + phase
    x = 0.5 + 0.45 * t[:, None] * np.column_stack([np.sin(angle), np.cos(angle)])
    return _labelled(_jitter(x, noise, rng), np.arange(n) < half)


def generate_gaussian(n: int = 200, noise: float = 0.0, *, rng: np.random.Generator) -> Dataset:
    """Two Gaussian blobs, label 1 around (0.7, 0.7) and label 0 around (0.3, 0.3)."""
    half = n // 2
    label = np.arange(n) < half
    centre = np.where(label, 0.7, 0.3)[:, None]
    x = centre + rng.normal(scale=0.08 + noise, size=(n, 2))
    return _labelled(x, label)


def generate_quadrants(n: int = 200, noise: float = 0.0, *, rng: np.random.Generator) -> Dataset:
    """Points in the four quadrants around (0.5, 0.5); label 1 where the signs differ (the
    top-left and bottom-right, where the lab's XOR puts its label-1 points)."""
    offset = rng.uniform(0.025, 0.5, size=(n, 2)) * rng.choice([-1.0, 1.0], size=(n, 2))
    label = offset[:, 0] * offset[:, 1] < 0  # decided before the noise, as in the Playground
    return _labelled(_jitter(0.5 + offset, noise, rng), label)


DATASETS: dict[str, Callable[..., Dataset]] = {
    "linear": generate_linear,
    "xor": generate_xor_easy,
    "circle": generate_circle,
    "spiral": generate_spiral,
    "gaussian": generate_gaussian,
    "quadrants": generate_quadrants,
}


def make_dataset(name: str, rng: np.random.Generator | None, **params: float) -> Dataset:
    """Generate the dataset ``name`` with its own parameters (``n``, ``noise``) from ``rng``
    (None: a fresh, unseeded generator, where only the points' count matters)."""
    rng = rng if rng is not None else np.random.default_rng()
    return lookup(DATASETS, name, "dataset")(rng=rng, **params)
