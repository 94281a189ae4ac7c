"""The trained networks of a job: written to its ``params.npz``, read back to predict.

``params.npz`` is a plain NumPy archive, readable without nnsweep:

- ``sizes`` (L + 1,) int: the layer widths, input first (the lab's ``[2, 4, 4, 1]``);
- ``activations`` (L,) str: each layer's activation (hidden layers, then the output);
- ``alphas`` (L,) float: each layer's leaky_relu slope (0 where unused);
- ``seeds`` (R,) int: the seed each replicate was drawn from;
- ``initial`` and ``final`` (R, P) float: each replicate's parameters before training and
  at its end; a row holds, layer after layer, the weight (fan_in, fan_out) row by row,
  then the bias (fan_out,);
- ``epochs_run`` (R,) int: the epochs each replicate ran;
- ``snapshot_epochs`` (S,) int: log-spaced epochs from 1 to the cap (config ``snapshots``);
- ``snapshots`` (S, R, P) float: the parameters at the end of each of those epochs (after
  its update); a replicate that had stopped by then has its final parameters there.

A layer computes ``a_out = f(a_in @ W + b)``.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnsweep.atomic import atomic_path
from nnsweep.engines.history import History
from nnsweep.job.result_json import PARAMS_NPZ
from nnsweep.nn.activations import make_activation
from nnsweep.nn.mlp import MLP


def write_params(
    job_dir: Path, net: MLP, initial: np.ndarray, history: History, seeds: Sequence[int]
) -> Path:
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
            final=history.params,
            epochs_run=history.epochs_run.astype(np.int64),
            snapshot_epochs=history.snapshot_epochs,
            snapshots=history.snapshots,
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
    epochs_run: int
    snapshot_epochs: np.ndarray  # (S,)
    snapshots: np.ndarray  # (S, P) at the end of each snapshot epoch

    def predict(self, x: np.ndarray, params: np.ndarray | None = None) -> np.ndarray:
        """The network's output on ``x``; ``params`` (P,) instead of the final ones (a
        snapshot: ``params=net.at(epoch)``)."""
        row = self.params if params is None else params
        points = np.atleast_2d(np.asarray(x, dtype=float))  # one point (2,) as (1, 2)
        with np.errstate(all="ignore"):  # a diverged replicate's parameters are inf or NaN
            return self.net.predict(row[None, :], points)[0]

    def at(self, epoch: int) -> np.ndarray:
        """The parameters (P,) at the end of snapshot epoch ``epoch``; 0 gives the initial."""
        if epoch == 0:
            return self.initial
        found = np.flatnonzero(self.snapshot_epochs == epoch)
        if not len(found):
            kept = ", ".join(str(e) for e in self.snapshot_epochs) or "none (snapshots=0)"
            raise ValueError(f"epoch {epoch} is not a snapshot; the snapshot epochs: 0, {kept}")
        return self.snapshots[found[0]]


def load_networks(job_dir: Path | str) -> list[Network]:
    """Every replicate of the job in ``job_dir``, from its ``params.npz``."""
    path = Path(job_dir) / PARAMS_NPZ
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: give a job's folder, not a sweep's")
    with np.load(path) as archive:
        saved = {key: archive[key] for key in archive.files}
    pairs = zip(saved["activations"], saved["alphas"], strict=True)
    layers = [make_activation(str(name), **_alpha(name, alpha)) for name, alpha in pairs]
    net = MLP(saved["sizes"], layers[0], layers[-1])  # hidden layers share one activation
    replicates = len(saved["seeds"])
    epochs = saved.get("snapshot_epochs", np.zeros(0, dtype=np.int64))
    snapshots = saved.get("snapshots", np.zeros((0, replicates, net.n_params)))
    epochs_run = saved.get("epochs_run", np.zeros(replicates, dtype=np.int64))  # older files
    return [
        Network(r, int(seed), net, saved["final"][r], saved["initial"][r], int(epochs_run[r]),
                epochs, snapshots[:, r])
        for r, seed in enumerate(saved["seeds"])
    ]  # fmt: skip


def _alpha(name: str, alpha: float) -> dict[str, float]:
    return {"alpha": float(alpha)} if name == "leaky_relu" else {}
