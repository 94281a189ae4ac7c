"""The engines that train a job, by name; each has :func:`nnsweep.train.train`'s signature.

- ``numpy``: the readable reference, the lab's equations as whole-array NumPy calls
  (nnsweep.network and nnsweep.train).
- ``numba``: the same loop compiled (nnsweep.compiled and nnsweep.kernels), several
  times faster at the lab's sizes. Tests tie the two to each other.
"""

from collections.abc import Callable
from functools import partial

from nnsweep.config import ConfigError
from nnsweep.history import History
from nnsweep.registry import lookup
from nnsweep.train import train as train_numpy

Engine = Callable[..., History]

# The compiled engine draws the minibatch sample orders of a block of epochs at once, for
# at most this many samples (32 MB), or one epoch's where that is more.
ORDER_ENTRIES_PER_BLOCK = 2**22


class EngineUnavailable(ConfigError):
    """An engine that cannot run here: the message says why and what works."""


def _numpy(threads: int) -> Engine:
    return train_numpy  # its BLAS threads are set by the caller (threadpoolctl)


def _numba(threads: int) -> Engine:
    try:
        from nnsweep import compiled
    except ImportError as error:  # never fall back to the other engine silently
        raise EngineUnavailable(
            f"engine=numba cannot run: {error}; install numba (pip install numba), "
            "or run with engine=numpy"
        ) from None
    return partial(compiled.train, threads=threads)


ENGINES: dict[str, Callable[[int], Engine]] = {"numba": _numba, "numpy": _numpy}


def get_engine(name: str, threads: int = 1) -> Engine:
    """The training function of engine ``name``, using up to ``threads`` threads."""
    return lookup(ENGINES, name, "engine")(threads)
