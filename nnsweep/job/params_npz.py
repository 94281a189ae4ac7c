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
  its update); a replicate that had stopped by then has its final parameters there;
- ``classes`` () int: the classes K its outputs tell apart (2 for one output unit);
  ``loss`` () str: the loss it trained on;
- ``x_train`` (n, 2) float and ``y_train`` (n, 1) int: the data it trained on;
  ``x_test`` and ``y_test`` the held-out data, (0, 2) and (0, 1) where there is none.

A layer computes ``a_out = f(a_in @ W + b)``; a softmax output layer keeps ``z = a_in @ W +
b`` (the logits), and its probabilities are ``exp(z) / sum exp(z)``. Files written before
nnsweep kept ``classes`` and the data load without them.
"""

import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnsweep.atomic import atomic_path
from nnsweep.engines.history import History, evaluate
from nnsweep.job.result_json import (
    HELD_OUT_KEYS,
    PARAMS_NPZ,
    RESULT_JSON,
    JobStatus,
    file_mismatch,
    read_result,
)
from nnsweep.nn.activations import make_activation, make_output_activation
from nnsweep.nn.losses import get_loss
from nnsweep.nn.mlp import MLP, predicted_class


@dataclass(frozen=True)
class TrainedOn:
    """The data and loss a job trained on, kept beside its networks."""

    loss: str
    x_train: np.ndarray  # (n, 2)
    y_train: np.ndarray  # (n, 1)
    x_test: np.ndarray | None = None  # (n_test, 2)
    y_test: np.ndarray | None = None

    def arrays(self) -> dict[str, np.ndarray]:
        none = self.x_test is None
        return {
            "loss": np.array(self.loss),
            "x_train": self.x_train,
            "y_train": self.y_train,
            "x_test": np.zeros((0, 2)) if none else self.x_test,
            "y_test": np.zeros((0, 1), np.int64) if none else self.y_test,
        }


def write_params(
    job_dir: Path,
    net: MLP,
    initial: np.ndarray,
    history: History,
    seeds: Sequence[int],
    trained_on: TrainedOn,
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
            classes=np.array(net.classes, dtype=np.int64),
            **trained_on.arrays(),
        )
    return path


@dataclass(frozen=True)
class Network:
    """One trained replicate: ``predict(x)`` gives its output for inputs (n, 2): (n, 1) for
    one output unit, (n, K) class probabilities for a softmax."""

    replicate: int
    seed: int
    net: MLP
    params: np.ndarray  # (P,) at the end of training
    initial: np.ndarray  # (P,) before it
    epochs_run: int
    snapshot_epochs: np.ndarray  # (S,)
    snapshots: np.ndarray  # (S, P) at the end of each snapshot epoch
    trained_on: TrainedOn | None = None  # None in files written before nnsweep kept it

    @property
    def classes(self) -> int:
        """The classes its outputs tell apart: a softmax's K, or 2 for one output unit."""
        return self.net.classes

    def predicted_class(self, x: np.ndarray, params: np.ndarray | None = None) -> np.ndarray:
        """(n,) the class it gives each point: the argmax of the probabilities, or class 1
        where one unit's output is above 0.5."""
        return predicted_class(self.predict(x, params))

    def evaluate(self, held_out: bool = False) -> tuple[float, float]:
        """Its final loss and accuracy on the data it trained on (or the held-out data), from
        params.npz alone: the job's result.json values, without rebuilding the dataset."""
        if self.trained_on is None:
            raise ValueError("this params.npz predates the kept data; rerun the job")
        t = self.trained_on
        x, y = (t.x_test, t.y_test) if held_out else (t.x_train, t.y_train)
        loss, accuracy = evaluate(
            self.net, self.params[None, :], get_loss(t.loss, self.net.softmax), x, y
        )
        return float(loss[0]), float(accuracy[0])

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
        names = [(str(name), _alpha(name, alpha)) for name, alpha in pairs]
        hidden = [make_activation(name, **alpha) for name, alpha in names[:-1]]
        if any((h.name, h.settings) != (hidden[0].name, hidden[0].settings) for h in hidden):
            raise ValueError(f"its hidden layers differ ({', '.join(h.name for h in hidden)})")
        output = make_output_activation(names[-1][0], **names[-1][1])
        no_hidden = make_activation("none")  # unused by a network without hidden layers
        net = MLP(tuple(int(s) for s in saved["sizes"]), (hidden or [no_hidden])[0], output)
    except (ValueError, IndexError) as error:  # an unknown activation, too few layers
        raise UnreadableNetworks(f"{path}: {error}") from None
    _check_shapes(path, saved, net)
    trained_on = _trained_on(path, saved)
    return [
        Network(r, int(seed), net, saved["final"][r], saved["initial"][r],
                int(saved["epochs_run"][r]), saved["snapshot_epochs"], saved["snapshots"][:, r],
                trained_on)
        for r, seed in enumerate(saved["seeds"])
    ]  # fmt: skip


def _trained_on(path: Path, saved: dict[str, np.ndarray]) -> TrainedOn | None:
    """The kept data, checked for shape, or None in a file written before nnsweep kept it."""
    if any(key not in saved for key in DATA_KEYS):
        return None
    n, n_test = (np.shape(saved[k])[0] if np.ndim(saved[k]) else -1 for k in ("y_train", "y_test"))
    shapes = {"x_train": (n, 2), "y_train": (n, 1), "x_test": (n_test, 2), "y_test": (n_test, 1),
              "classes": (), "loss": ()}  # fmt: skip
    for key, shape in shapes.items():
        if saved[key].shape != shape:
            raise UnreadableNetworks(f"{path}: {key} has shape {saved[key].shape}, not {shape}")
    test = (saved["x_test"], saved["y_test"]) if n_test > 0 else (None, None)
    return TrainedOn(str(saved["loss"]), saved["x_train"], saved["y_train"], *test)


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
DATA_KEYS = ("classes", "loss", "x_train", "y_train", "x_test", "y_test")  # since multi-class


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
        final_confusion=_confusions(replicates, networks[0].classes),
        snapshot_epochs=networks[0].snapshot_epochs,
        snapshots=np.stack([n.snapshots for n in networks], axis=1),
    )


def _confusions(replicates: list[dict], classes: int) -> np.ndarray:
    """(R, K, K) result.json's confusion matrices; zeros where it kept none (a diverged
    replicate, or a result written before nnsweep kept them)."""
    empty = [[0] * classes] * classes
    return np.array([r.get("confusion") or empty for r in replicates], dtype=np.int64)
