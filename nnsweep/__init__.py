"""nnsweep: learn back-propagation by experiment.

A multilayer perceptron written from scratch in NumPy (forward pass,
back-propagation, optimizers), driven by Hydra configs and sweeps.
"""

__version__ = "0.1.0"


def __getattr__(name: str):
    """``from nnsweep import load_networks``, imported only when asked for."""
    if name == "load_networks":
        from nnsweep.job.params_npz import load_networks

        return load_networks
    raise AttributeError(f"module 'nnsweep' has no attribute {name!r}")
