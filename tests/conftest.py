"""Shared fixtures: the lab's two datasets and its 2-4-4-1 sigmoid network; the compiled
engine loaded once before any test runs."""

import signal

import numpy as np
import pytest

from nnsweep.data import make_dataset
from nnsweep.nn.activations import make_activation
from nnsweep.nn.mlp import MLP

# A shell starts a background job (`pytest &` in a script) with SIGINT ignored, and a
# process inherits that: the jobs that tests stop with Ctrl-C's signal would never see it.
# Python's own handler here makes every process a test starts get SIGINT's default.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture
def xor() -> tuple[np.ndarray, np.ndarray]:
    """The lab's 21 XOR points, x (21, 2) and y (21, 1)."""
    return make_dataset("xor", np.random.default_rng(0))


@pytest.fixture
def linear() -> tuple[np.ndarray, np.ndarray]:
    """The lab's linear set, 100 points from seed 0."""
    return make_dataset("linear", np.random.default_rng(0), n=100)


@pytest.fixture
def lab_net() -> MLP:
    """The report's network: 2-4-4-1, sigmoid on every layer, the output included."""
    sigmoid = make_activation("sigmoid")
    return MLP((2, 4, 4, 1), sigmoid, sigmoid)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Compile the engine (or load it from numba's disk cache) in the main process, before
    pytest-xdist starts its workers: on a fresh clone the workers and every job that tests
    start in a subprocess then load the cache instead of each compiling it."""
    if hasattr(session.config, "workerinput"):
        return  # an xdist worker: the main process has done it
    from nnsweep.engines.compiled import warm_up

    warm_up()
    warm_up(parallel=True)
