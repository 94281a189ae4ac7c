"""Datasets in the unit square, chosen by name.

Every generator returns ``x`` of shape (n, 2), float64, and ``y`` of shape
(n, 1), int64 labels 0..K-1. ``linear`` and ``xor`` are the lab's own
two-class generators; the others follow TensorFlow Playground's sets, rescaled from
[-6, 6]^2 to the unit square the lab uses. ``noise`` is the standard
deviation of Gaussian noise added to the coordinates (unit-square units).
``spiral``, ``gaussian`` and ``quadrants`` take ``classes`` (K, default 2); with
K = 2 they give exactly the points and labels they gave before they took it.
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


MAX_CLASSES = 10_000
QUADRANT_CLASSES = (2, 4)  # XOR-like, or one class per quadrant


def _check_classes(classes: int, allowed: tuple[int, ...] | None = None) -> None:
    if allowed is not None and classes not in allowed:
        raise ValueError(f"classes={classes}; allowed: {' or '.join(map(str, allowed))}")
    if not 2 <= classes <= MAX_CLASSES:
        raise ValueError(f"classes={classes}; allowed: 2 to {MAX_CLASSES:,}")


def _arms(n: int, classes: int) -> np.ndarray:
    """(n,) the group 0..K-1 of each point, in runs of n // K (the last n % K runs one
    longer): for K = 2 the lab's first half and second half."""
    sizes = [n // classes + (k >= classes - n % classes) for k in range(classes)]
    return np.repeat(np.arange(classes), sizes)


def generate_spiral(
    n: int = 200, noise: float = 0.0, classes: int = 2, *, rng: np.random.Generator
) -> Dataset:
    """K interleaved spirals, 1.75 turns each, arm k turned by 2 pi k / K and labelled
    K - 1 - k (for K = 2: label 1, then label 0 half a turn on)."""
    _check_classes(classes)
    arm = _arms(n, classes)
    start, count = np.searchsorted(arm, arm), np.bincount(arm)[arm]
    t = (np.arange(n) - start) / count  # 0 to 1 along each arm
    phase = 2 * np.pi * arm / classes
    angle = 1.75 * 2 * np.pi * t + phase
    x = 0.5 + 0.45 * t[:, None] * np.column_stack([np.sin(angle), np.cos(angle)])
    return _labelled(_jitter(x, noise, rng), classes - 1 - arm)


def generate_gaussian(
    n: int = 200, noise: float = 0.0, classes: int = 2, *, rng: np.random.Generator
) -> Dataset:
    """K Gaussian blobs of equal size. K = 2: label 1 around (0.7, 0.7) and label 0 around
    (0.3, 0.3); K > 2: label c's centre 0.3 from (0.5, 0.5), c K-ths of a turn round."""
    _check_classes(classes)
    label = classes - 1 - _arms(n, classes)
    if classes == 2:
        centre = np.where(label == 1, 0.7, 0.3)[:, None]
    else:
        angle = 2 * np.pi * label / classes
        centre = 0.5 + 0.3 * np.column_stack([np.cos(angle), np.sin(angle)])
    x = centre + rng.normal(scale=0.08 + noise, size=(n, 2))
    return _labelled(x, label)


def generate_quadrants(
    n: int = 200, noise: float = 0.0, classes: int = 2, *, rng: np.random.Generator
) -> Dataset:
    """Points in the four quadrants around (0.5, 0.5). K = 2: label 1 where the signs differ
    (the top-left and bottom-right, where the lab's XOR puts its label-1 points); K = 4: one
    class per quadrant, (x > 0.5) + 2 (y > 0.5)."""
    _check_classes(classes, QUADRANT_CLASSES)
    offset = rng.uniform(0.025, 0.5, size=(n, 2)) * rng.choice([-1.0, 1.0], size=(n, 2))
    # decided before the noise, as in the Playground
    if classes == 2:
        label = offset[:, 0] * offset[:, 1] < 0
    else:
        label = (offset[:, 0] > 0) + 2 * (offset[:, 1] > 0)
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
