"""The trained networks of a job: written to its ``params.npz``, read back to predict.

``params.npz`` is a plain NumPy archive, readable without nnsweep:

- ``sizes`` (L + 1,) int: the layer widths, input first (the lab's ``[2, 4, 4, 1]``);
- ``activations`` (L,) str: each layer's activation (hidden layers, then the output);
- ``alphas`` (L,) float: each layer's leaky_relu slope (0 where unused);
- ``seeds`` (R,) int: the seed each replicate was drawn from;
- ``initial`` and ``final`` (R, P) float: each replicate's parameters before training and
  at its end; a row holds, layer after layer, the weight (fan_in, fan_out) row by row,
  then the bias (fan_out,).

A layer computes ``a_out = f(a_in @ W + b)``.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnsweep.activations import make_activation
from nnsweep.network import MLP
from nnsweep.records import PARAMS_NPZ, atomic_path


def write_params(job_dir: Path, net: MLP, initial: np.ndarray, final: np.ndarray, seeds) -> Path:
    """``params.npz`` of a job, written under a temporary name and renamed."""
    path = Path(job_dir) / PARAMS_NPZ
    layers = net.activations
    with atomic_path(path) as tmp:
        np.savez(
            tmp,
            sizes=np.array(net.sizes, dtype=np.int64),
            activations=np.array([a.name for a in layers]),
            alphas=np.array([a.settings.get("alpha", 0.0) for a in layers], dtype=float),
            seeds=np.array(seeds, dtype=np.int64),
            initial=initial,
            final=final,
        )
    return path


@dataclass(frozen=True)
class Network:
    """One trained replicate: ``predict(x)`` gives its output, (n, 1), for inputs (n, 2)."""

    replicate: int
    seed: int
    net: MLP
    params: np.ndarray  # (P,) at the end of training
    initial: np.ndarray  # (P,) before it

    def predict(self, x: np.ndarray, params: np.ndarray | None = None) -> np.ndarray:
        """The network's output on ``x``; ``params`` (P,) instead of the final ones."""
        row = self.params if params is None else params
        with np.errstate(all="ignore"):  # a diverged replicate's parameters are inf or NaN
            return self.net.predict(row[None, :], np.asarray(x, dtype=float))[0]


def load_networks(job_dir: Path | str) -> list[Network]:
    """Every replicate of the job in ``job_dir``, from its ``params.npz``."""
    with np.load(Path(job_dir) / PARAMS_NPZ) as archive:
        saved = {key: archive[key] for key in archive.files}
    pairs = zip(saved["activations"], saved["alphas"], strict=True)
    layers = [make_activation(str(name), **_alpha(name, alpha)) for name, alpha in pairs]
    net = MLP(saved["sizes"], layers[0], layers[-1])  # hidden layers share one activation
    return [
        Network(r, int(seed), net, saved["final"][r], saved["initial"][r])
        for r, seed in enumerate(saved["seeds"])
    ]


def _alpha(name: str, alpha: float) -> dict[str, float]:
    return {"alpha": float(alpha)} if name == "leaky_relu" else {}
