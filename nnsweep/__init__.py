"""nnsweep: learn back-propagation by experiment.

A multilayer perceptron written from scratch in NumPy (forward pass,
back-propagation, optimizers), driven by Hydra configs and sweeps.
"""

__version__ = "0.1.0"
