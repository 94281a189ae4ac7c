"""nnsweep: learn back-propagation by experiment.

A multilayer perceptron written from scratch in NumPy (forward pass, back-propagation,
optimizers), driven by Hydra configs and sweeps. The names below are the public API, for
notebooks, tests and other tools; each is imported only when first used, so
``import nnsweep`` stays cheap. The modules behind them may move.
"""

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

# name -> the module that defines it ("module:name" where it is named otherwise there)
_API = {
    "MLP": "nnsweep.nn.mlp",
    "ACTIVATIONS": "nnsweep.nn.activations",
    "make_activation": "nnsweep.nn.activations",
    "LOSSES": "nnsweep.nn.losses",
    "get_loss": "nnsweep.nn.losses",
    "OPTIMIZERS": "nnsweep.nn.optimizers",
    "make_optimizer": "nnsweep.nn.optimizers",
    "make_dataset": "nnsweep.data",
    "generate_linear": "nnsweep.data",
    "generate_xor_easy": "nnsweep.data",
    "TrainSettings": "nnsweep.engines.history",
    "History": "nnsweep.engines.history",
    "train": "nnsweep.engines",
    "compose": "nnsweep.job.compose",
    "build": "nnsweep.job.build",
    "load_networks": "nnsweep.job.params_npz",
    "read_sweep": "nnsweep.report.tables:load",
}
__all__ = [*_API, "__version__"]


def __getattr__(name: str) -> Any:
    """``nnsweep.train`` and the rest of the API, imported when first asked for (PEP 562)."""
    if name not in _API:
        raise AttributeError(f"module 'nnsweep' has no attribute {name!r}")
    module, _, attribute = _API[name].partition(":")
    value = getattr(import_module(module), attribute or name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
