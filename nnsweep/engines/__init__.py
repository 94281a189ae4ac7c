"""The engines that train a job, by name; each has :func:`nnsweep.engines.numpy_loop.train`'s
signature.

- ``numpy``: the readable reference, the lab's equations as whole-array NumPy calls
  (:mod:`.numpy_loop`).
- ``numba``: the same loop compiled (:mod:`.compiled` and :mod:`.kernels`). Tests tie
  the two to each other."""

from collections.abc import Callable
from functools import partial

import numpy as np

from nnsweep.engines.history import NOTHING, History, LogHook, Recording, TrainSettings
from nnsweep.engines.numpy_loop import train as train_numpy
from nnsweep.errors import ConfigError
from nnsweep.nn.losses import LossFn, get_loss
from nnsweep.nn.mlp import MLP
from nnsweep.nn.optimizers import Optimizer
from nnsweep.registry import lookup

Engine = Callable[..., History]


class EngineUnavailable(ConfigError):
    """An engine that cannot run here: the message says why and what works."""


def _numpy(threads: int) -> Engine:
    return train_numpy  # its BLAS threads are set by the caller (threadpoolctl)


def _numba(threads: int) -> Engine:
    try:
        from nnsweep.engines import compiled
    except ImportError as error:  # never fall back to the other engine silently
        raise EngineUnavailable(
            f"engine=numba cannot run: {error}; install numba (pip install numba), "
            "or run with engine=numpy"
        ) from None
    return partial(compiled.train, threads=threads)


# The engines by name, the one list of them: the config schema's engine choices (and any other
# list of engine names) should be derived from this dict, not written out again.
ENGINES: dict[str, Callable[[int], Engine]] = {"numba": _numba, "numpy": _numpy}


def get_engine(name: str, threads: int = 1) -> Engine:
    """The training function of engine ``name``, using up to ``threads`` threads."""
    return lookup(ENGINES, name, "engine")(threads)


def train(
    net: MLP,
    params: np.ndarray,
    optimizer: Optimizer,
    loss: str | LossFn,
    x: np.ndarray,
    y: np.ndarray,
    settings: TrainSettings,
    rngs: list[np.random.Generator],
    engine: str = "numba",
    on_log: LogHook | None = None,
    recording: Recording = NOTHING,
    threads: int = 1,
) -> History:
    """Train the replicates ``params`` (R, P) of ``net`` on ``x`` (n, in), ``y`` (n, 1) with
    ``engine`` (``numba`` or ``numpy``, tied to each other by the tests); ``loss`` is a
    loss function or its name. ``rngs`` (one per replicate) shuffle the minibatches."""
    loss_fn = get_loss(loss, net.softmax) if isinstance(loss, str) else loss
    run = get_engine(engine, threads)
    return run(net, params, optimizer, loss_fn, x, y, settings, rngs, on_log, recording)
