"""The network's math, each piece by name: activations with their derivatives, losses with
their gradients, optimizers as ``init``/``update``, and the MLP (forward, backward)."""
