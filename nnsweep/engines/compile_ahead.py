"""A first compile on two cores.

numba compiles the kernels a training loop calls one after another, in the order
:func:`nnsweep.engines.kernels.train_replicate` calls them, and looks in its disk cache
before compiling each. So while the first run compiles, a second process compiles the
last of them, last first, and writes them to the cache, where the first finds them when
it gets there: about 1.5 of a first compile's 7.5 s on this project's machine.

``python -m nnsweep.engines.compile_ahead`` is that second process;
:func:`start` starts it when the cache holds no training loop.
"""

import subprocess
import sys
from collections.abc import Callable

import numpy as np
from numba import typeof

from nnsweep.engines import kernels


def calls() -> list[tuple[Callable, tuple]]:
    """The kernels the second process compiles, the last train_replicate calls first, each
    with arguments of the types train_replicate passes it (tests check them against a
    real compile's)."""
    layers, width, n, p = 3, 2, 2, 9
    row = np.zeros((1, p))[0]  # a replicate's parameters, a row of (R, P)
    ints = np.zeros(layers, dtype=np.int64)  # sizes, offsets, codes
    alphas, grads, h = np.zeros(layers), np.zeros(p), np.zeros(3)
    acts, buffer = np.zeros((layers, width, n)), np.zeros((width, n))
    m, top, units, labels = n, layers - 1, 1, np.zeros(n)
    return [
        (kernels.update, (0, row, grads, row, row, 1.0, 0.1, h)),
        (kernels.layer_statistics, (ints, ints, ints, alphas, acts, grads, m, np.zeros((2, 2)))),
        (kernels.backward, (row, ints, ints, ints, alphas, acts, buffer, buffer, m, grads)),
        (kernels.accuracy, (acts, top, labels, units, m)),
    ]


def compile_into_cache() -> None:
    """Compile each of :func:`calls` for its arguments' types; numba caches each."""
    for kernel, args in calls():
        kernel.compile(tuple(typeof(arg) for arg in args))


def start() -> subprocess.Popen | None:
    """The second process, if numba's cache holds no training loop for this source (its
    first compile, or the kernels changed); else None."""
    try:
        cached = kernels.train_replicate._cache._cache_file._load_index()  # numba's own
    except Exception:  # numba's internals moved: compile on one core, as without this
        return None
    if cached:
        return None
    command = [sys.executable, "-m", "nnsweep.engines.compile_ahead"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(process: subprocess.Popen | None) -> None:
    """End the second process once the first compile is done (numba writes each cache
    file whole, so a kill leaves none half written)."""
    if process is not None:
        process.terminate()
        process.wait()


if __name__ == "__main__":
    compile_into_cache()
