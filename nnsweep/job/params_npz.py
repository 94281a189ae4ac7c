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

import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnsweep.atomic import atomic_path
from nnsweep.engines.history import History
from nnsweep.job.result_json import (
    HELD_OUT_KEYS,
    PARAMS_NPZ,
    RESULT_JSON,
    JobStatus,
    file_mismatch,
    read_result,
)
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


class UnreadableNetworks(ValueError):
    """A job folder whose trained networks cannot be trusted: the message names the file
    and what is wrong with it."""


def load_networks(job_dir: Path | str) -> list[Network]:
    """Every replicate of the job in ``job_dir``, from its ``params.npz``, checked first
    against result.json (complete, the file's sha256) and its own shapes."""
    path = Path(job_dir) / PARAMS_NPZ
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: give a job's folder, not a sweep's")
    _check_vouched_for(Path(job_dir))
    saved = _read(path)
    try:
        pairs = zip(saved["activations"], saved["alphas"], strict=True)
        layers = [make_activation(str(name), **_alpha(name, alpha)) for name, alpha in pairs]
        net = MLP(tuple(int(s) for s in saved["sizes"]), layers[0], layers[-1])
    except (ValueError, IndexError) as error:  # an unknown activation, too few layers
        raise UnreadableNetworks(f"{path}: {error}") from None
    _check_shapes(path, saved, net)
    return [
        Network(r, int(seed), net, saved["final"][r], saved["initial"][r],
                int(saved["epochs_run"][r]), saved["snapshot_epochs"], saved["snapshots"][:, r])
        for r, seed in enumerate(saved["seeds"])
    ]  # fmt: skip


def _check_vouched_for(job_dir: Path) -> None:
    """result.json says complete and its checksum of params.npz matches the file: the
    networks are the ones that job trained, not another run's left behind."""
    try:
        result = read_result(job_dir)
    except (OSError, ValueError) as error:
        raise UnreadableNetworks(
            f"{job_dir / RESULT_JSON} cannot vouch for the networks: {error}"
        ) from None
    if result["status"] != JobStatus.COMPLETE:
        raise UnreadableNetworks(f"{job_dir}: the job is {result['status']}, not complete")
    if PARAMS_NPZ not in result.get("files", {}):
        raise UnreadableNetworks(f"{job_dir / RESULT_JSON} has no checksum of {PARAMS_NPZ}")
    mismatch = file_mismatch(job_dir, {"files": {PARAMS_NPZ: result["files"][PARAMS_NPZ]}})
    if mismatch:
        raise UnreadableNetworks(f"{job_dir}: {mismatch}; not this job's networks")


KEYS = ("sizes", "activations", "alphas", "seeds", "initial", "final", "epochs_run",
        "snapshot_epochs", "snapshots")  # fmt: skip


def _read(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            saved = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise UnreadableNetworks(f"{path}: not a NumPy archive nnsweep wrote ({error})") from None
    missing = [key for key in KEYS if key not in saved]
    if missing:
        raise UnreadableNetworks(f"{path}: no {', '.join(missing)}")
    return saved


def _check_shapes(path: Path, saved: dict[str, np.ndarray], net: MLP) -> None:
    """Each array's shape from the layer widths and the number of replicates."""
    r, layers, s = len(saved["seeds"]), len(net.sizes) - 1, len(saved["snapshot_epochs"])
    expected = {
        "sizes": (layers + 1,), "activations": (layers,), "alphas": (layers,), "seeds": (r,),
        "initial": (r, net.n_params), "final": (r, net.n_params), "epochs_run": (r,),
        "snapshot_epochs": (s,), "snapshots": (s, r, net.n_params),
    }  # fmt: skip
    for key, shape in expected.items():
        if saved[key].shape != shape:
            raise UnreadableNetworks(
                f"{path}: {key} has shape {saved[key].shape}, not {shape} for layers "
                f"{'-'.join(map(str, net.sizes))} and {r} replicates"
            )


def _alpha(name: str, alpha: float) -> dict[str, float]:
    return {"alpha": float(alpha)} if name == "leaky_relu" else {}


def saved_history(job_dir: Path, result: dict) -> History:
    """What training measured, as a complete job's files keep it: result.json's final
    values and params.npz's parameters (the loss per epoch stays in loss.csv). Enough to
    draw the job's figures again without training."""
    networks = load_networks(job_dir)
    replicates = result["replicates"]

    def values(key: str) -> np.ndarray:
        return np.array([np.nan if r[key] is None else r[key] for r in replicates], dtype=float)

    held_out = all(k in replicates[0] for k in HELD_OUT_KEYS)
    return History(
        loss=np.zeros((0, len(replicates))),
        accuracy={},
        epochs_run=np.array([r["epochs"] for r in replicates], dtype=np.int64),
        converged=np.array([r["converged"] for r in replicates], dtype=bool),
        diverged=np.array([r["diverged"] for r in replicates], dtype=bool),
        seconds=values("seconds"),
        params=np.stack([n.params for n in networks]),
        final_loss=values("final_loss"),
        final_accuracy=values("final_accuracy"),
        final_test=np.column_stack([values(k) for k in HELD_OUT_KEYS]) if held_out else None,
        snapshot_epochs=networks[0].snapshot_epochs,
        snapshots=np.stack([n.snapshots for n in networks], axis=1),
    )
