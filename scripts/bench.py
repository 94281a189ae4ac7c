"""Microseconds per epoch of full-batch training: both engines against the lab's code shape.

Every row trains the lab's 2-4-4-1 sigmoid network with MSE and plain gradient
descent, one full batch per epoch, on ``linear`` (100 points) and ``xor`` (21 points):

- ``seed-style``: the shape of the lab code and its peers, written out below: one
  Python ``Layer`` object per layer, the bias as the last row of its weight matrix,
  a column of ones appended to the input on every forward, derivatives from the
  output. It is the baseline every ratio is taken against.
- ``numpy R=...``: :func:`nnsweep.engines.numpy_loop.train`, the reference engine, R replicate
  networks in one vectorised pass;
- ``numba R=...``: :func:`nnsweep.engines.compiled.train`, the compiled engine (the default),
  on one thread.

A last table times the K-class path: a 3-arm spiral (300 points) on a 2-16-16-3 network,
relu (scikit-learn's default) and tanh on the hidden layers, with a softmax output and
cross-entropy, full batch, one network, on both engines and on scikit-learn's
``MLPClassifier`` (the same network, loss and data; ``solver="sgd"``,
``batch_size`` = n, no momentum, no L2 term, no early stop: one full-batch step per epoch).
scikit-learn is a benchmark extra (``pip install -e '.[bench]'``), not a dependency.

A last table sets the compiled engine beside the C floor (``scripts/floor/``: floor.c, the
lab's 2-4-4-1 loop in plain C, and floor_mlp.c, the same loop for 2-H-H-K networks),
built here with ``gcc -O3 -march=native -ffast-math`` and fed the same data and initial
weights: the kernel alone (``compiled.train``), and a whole run through the command line
as a user's run pays it (``python -m nnsweep ... figures=[]``, the epoch's cost taken as
the difference of a short and a long run, so start-up and files cancel out).

For R > 1 the time shown is per network (epoch time divided by R). R=1 and R=5 are what
most runs and sweeps use, so their rows matter most. Each figure is the best of
``--repeats`` timed runs after one warm-up run (which also loads the compiled code), all
in this process, so every ratio compares code measured under the same conditions. The
early stop is off everywhere (threshold 0), so every run does all its epochs. BLAS runs
on ``--threads`` threads (1 by default, as every job of a sweep does).

    python scripts/bench.py                  # about 30 s on two cores
    python scripts/bench.py --epochs 4000 --repeats 7 --threads 2
"""

import argparse
import ctypes
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
from threadpoolctl import threadpool_limits

from nnsweep.data import make_dataset
from nnsweep.engines import compiled
from nnsweep.engines.history import TrainSettings
from nnsweep.engines.numpy_loop import train
from nnsweep.nn.activations import make_activation, make_output_activation
from nnsweep.nn.losses import get_loss
from nnsweep.nn.mlp import MLP
from nnsweep.nn.optimizers import make_optimizer

SIZES = (2, 4, 4, 1)  # the lab's network
LR = 0.01  # the lab's learning rate (it does not change the cost of an epoch)
REPLICATES = (1, 5, 64)
ENGINES = {"numpy": train, "numba": compiled.train}
COMPILED_EPOCHS = 10  # the compiled engine runs this many times the epochs: as long to time


# ---------------------------------------------------------------- the seed-style baseline


class Layer:
    """One layer as the lab writes it: the bias is the last row of ``weight``."""

    def __init__(self, n_in: int, n_out: int, rng: np.random.Generator) -> None:
        self.weight = rng.standard_normal((n_in + 1, n_out))

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.input = np.append(x, np.ones((len(x), 1)), axis=1)  # the bias input
        self.output = 1.0 / (1.0 + np.exp(-(self.input @ self.weight)))
        return self.output

    def backward(self, incoming: np.ndarray) -> np.ndarray:
        delta = self.output * (1.0 - self.output) * incoming  # sigmoid' from the output
        self.grad = self.input.T @ delta
        return delta @ self.weight[:-1].T  # the bias row does not propagate

    def learn(self, lr: float) -> None:
        self.weight -= lr * self.grad


class SeedNetwork:
    def __init__(self, sizes: tuple[int, ...], lr: float, rng: np.random.Generator) -> None:
        self.lr = lr
        self.layers = [Layer(i, o, rng) for i, o in zip(sizes[:-1], sizes[1:], strict=True)]

    def forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def train(self, x: np.ndarray, y: np.ndarray, epochs: int, threshold: float) -> float:
        for _ in range(epochs):
            pred = self.forward(x)
            loss = np.mean((pred - y) ** 2)
            if loss < threshold:
                break
            grad = 2.0 * (pred - y) / len(y)  # d MSE / d pred
            for layer in reversed(self.layers):
                grad = layer.backward(grad)
            for layer in self.layers:
                layer.learn(self.lr)
        return float(loss)


# ---------------------------------------------------------------- timing


def best_seconds(run: Callable[[], object], repeats: int) -> float:
    """The fastest of ``repeats`` timed calls, after one untimed warm-up call."""
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def seed_style(x: np.ndarray, y: np.ndarray, epochs: int) -> Callable[[], object]:
    def run() -> float:
        net = SeedNetwork(SIZES, LR, np.random.default_rng(0))
        return net.train(x, y, epochs, threshold=0.0)

    return run


def nnsweep_run(
    engine: str, x: np.ndarray, y: np.ndarray, epochs: int, r: int
) -> Callable[[], object]:
    sigmoid = make_activation("sigmoid")
    net = MLP(SIZES, sigmoid, sigmoid)
    params = net.init([np.random.default_rng(seed) for seed in range(r)])
    optimizer, loss_fn = make_optimizer("gd", LR), get_loss("mse")
    settings = TrainSettings(epochs=epochs, loss_threshold=0.0)  # never stops early

    def run() -> object:
        return ENGINES[engine](net, params, optimizer, loss_fn, x, y, settings, on_log=None)

    return run


def epochs_for(engine: str, r: int, epochs: int) -> int:
    """Fewer epochs for many replicates, more for the compiled engine: every row takes
    about as long to time."""
    epochs = epochs * COMPILED_EPOCHS if engine == "numba" else epochs
    return max(epochs * 8 // r, 200) if r > 8 else epochs


# ---------------------------------------------------------------- report


def blas_info() -> str:
    """numpy's BLAS and, when it is numpy's bundled OpenBLAS, its thread count."""
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    text = f"BLAS {blas['name']} {blas.get('version', '?')}"
    libs = glob.glob(str(Path(np.__file__).parent.parent / "numpy.libs" / "*openblas*"))
    try:
        openblas = ctypes.CDLL(libs[0])  # already loaded by numpy: the same handle
        corename = openblas.scipy_openblas_get_corename64_
        corename.restype = ctypes.c_char_p
        text += f", {openblas.scipy_openblas_get_num_threads64_()} threads"
        text += f", core {corename().decode()}"
    except (IndexError, OSError, AttributeError):
        pass  # another BLAS: its name is enough
    env = {k: os.environ[k] for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS") if k in os.environ}
    return f"{text}; {os.cpu_count()} CPUs; env {env or 'unset'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2000, help="epochs per timed run (R<=8)")
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per row; best kept")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (jobs use 1)")
    parser.add_argument("--floor", action="store_true", help="only the C floor's table")
    args = parser.parse_args()
    with threadpool_limits(limits=args.threads):
        if not args.floor:
            report(args.epochs, args.repeats)
            report_classes(args.epochs, args.repeats)
        report_floor(args.epochs * COMPILED_EPOCHS, args.repeats)


def report(epochs: int, repeats: int) -> None:
    """Print the table: every row timed in this process, under the caller's BLAS limits."""
    print(f"numpy {np.__version__}; {blas_info()}")
    print(f"2-4-4-1 sigmoid, MSE, gd, full batch; best of {repeats} after a warm-up\n")
    header = ("dataset", "engine", "epochs", "us/epoch", "vs seed", "vs numpy")
    print("{:<8} {:<14} {:>7} {:>9} {:>8} {:>9}".format(*header))
    for name in ("linear", "xor"):
        x, y = make_dataset(name, np.random.default_rng(0))
        base = best_seconds(seed_style(x, y, epochs), repeats) / epochs * 1e6
        print(f"{name:<8} {'seed-style':<14} {epochs:>7} {base:>9.2f} {1.0:>7.2f}x")
        for r in REPLICATES:
            per_net = {}
            for engine in ENGINES:
                row_epochs = epochs_for(engine, r, epochs)
                total = best_seconds(nnsweep_run(engine, x, y, row_epochs, r), repeats)
                per_net[engine] = total / row_epochs / r * 1e6
                label = f"{engine} R={r}" + (" /net" if r > 1 else "")
                versus = f"{per_net['numpy'] / per_net[engine]:>8.2f}x" if engine == "numba" else ""
                print(
                    f"{name:<8} {label:<14} {row_epochs:>7} {per_net[engine]:>9.2f} "
                    f"{base / per_net[engine]:>7.2f}x {versus}"
                )


# ---------------------------------------------------------------- K classes

SPIRAL_SIZES, SPIRAL_CLASSES, SPIRAL_N = (2, 16, 16, 3), 3, 300


def softmax_run(
    engine: str, activation: str, x: np.ndarray, y: np.ndarray, epochs: int
) -> Callable[[], object]:
    net = MLP(SPIRAL_SIZES, make_activation(activation), make_output_activation("softmax"))
    params = net.init([np.random.default_rng(0)])
    optimizer, loss_fn = make_optimizer("gd", LR), get_loss("cross_entropy", softmax=True)
    settings = TrainSettings(epochs=epochs, loss_threshold=0.0)

    def run() -> object:
        return ENGINES[engine](net, params, optimizer, loss_fn, x, y, settings, on_log=None)

    return run


def sklearn_run(
    activation: str, x: np.ndarray, y: np.ndarray, epochs: int
) -> Callable[[], object] | None:
    """scikit-learn's MLPClassifier on the same network and data, one full-batch gradient
    step per epoch; None where scikit-learn is not installed."""
    try:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier
    except ImportError:
        return None
    import warnings

    hidden = SPIRAL_SIZES[1:-1]
    model = MLPClassifier(hidden, activation=activation, solver="sgd", alpha=0.0, batch_size=len(x),
                          learning_rate_init=LR, momentum=0.0, max_iter=epochs, shuffle=False,
                          tol=0.0, n_iter_no_change=epochs + 1, random_state=0)  # fmt: skip

    def run() -> object:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter is the point
            return model.fit(x, y[:, 0])

    return run


def report_classes(epochs: int, repeats: int) -> None:
    """The K = 3 spiral table: per activation each engine, then scikit-learn, against the
    NumPy engine."""
    x, y = make_dataset("spiral", np.random.default_rng(0), n=SPIRAL_N, classes=SPIRAL_CLASSES)
    layers = "-".join(map(str, SPIRAL_SIZES))
    print(f"\n{layers}, softmax + cross-entropy, gd, full batch, {SPIRAL_N} points, R=1")
    print("{:<8} {:<14} {:>7} {:>9} {:>9}".format("hidden", "engine", "epochs", "us/epoch",
                                                  "vs numpy"))  # fmt: skip
    for activation in ("relu", "tanh"):
        timed = {}
        for engine in ENGINES:
            row_epochs = epochs_for(engine, 1, epochs)
            run = softmax_run(engine, activation, x, y, row_epochs)
            timed[engine] = best_seconds(run, repeats) / row_epochs
        sklearn = sklearn_run(activation, x, y, epochs)
        if sklearn is not None:
            timed["scikit-learn"] = best_seconds(sklearn, repeats) / epochs
        for engine, seconds in timed.items():
            row_epochs = epochs_for(engine, 1, epochs) if engine in ENGINES else epochs
            ratio = timed["numpy"] / seconds
            print(f"{activation:<8} {engine:<14} {row_epochs:>7} {seconds * 1e6:>9.2f} "
                  f"{ratio:>8.2f}x")  # fmt: skip
        if sklearn is not None:
            faster = timed["scikit-learn"] / timed["numba"]
            print(f"{activation:<8} numba is {faster:.1f}x scikit-learn's speed")
    if sklearn is None:
        print("scikit-learn: not installed (pip install -e '.[bench]' adds it)")


# ---------------------------------------------------------------- the C floor

FLOOR = Path(__file__).resolve().parent / "floor"
GCC = ("gcc", "-O3", "-march=native", "-ffast-math")
ACTIVATION_MACRO = {"sigmoid": 0, "tanh": 1, "relu": 2}
CLI_SECONDS = 3.0  # the long command-line run lasts about this long


class FloorCase(NamedTuple):
    """One network the engine and the C floor both train: full batch, gd, lr 0.01."""

    label: str
    dataset: str
    sizes: tuple[int, ...]
    activation: str
    data: dict  # the dataset's own parameters


FLOOR_CASES = (
    FloorCase("linear 2-4-4-1", "linear", SIZES, "sigmoid", {}),
    FloorCase("xor 2-4-4-1", "xor", SIZES, "sigmoid", {}),
    FloorCase("linear 2-16-16-1", "linear", (2, 16, 16, 1), "sigmoid", {}),
    FloorCase("spiral 2-16-16-3 tanh", "spiral", (2, 16, 16, 3), "tanh",
              {"n": SPIRAL_N, "classes": SPIRAL_CLASSES}),
    FloorCase("spiral 2-16-16-3 relu", "spiral", (2, 16, 16, 3), "relu",
              {"n": SPIRAL_N, "classes": SPIRAL_CLASSES}),
)  # fmt: skip


def build_floor(case: FloorCase, folder: Path) -> Path:
    """The C loop for ``case``, compiled into ``folder``: floor.c for the lab's network,
    floor_mlp.c with the sizes and activation as constants for the others."""
    hidden, outputs = case.sizes[1], case.sizes[-1]
    exe = folder / f"floor_{hidden}_{outputs}_{case.activation}"
    if case.sizes == SIZES:
        source, macros = FLOOR / "floor.c", []
    else:
        source = FLOOR / "floor_mlp.c"
        macros = [f"-DH={hidden}", f"-DK={outputs}", f"-DACT={ACTIVATION_MACRO[case.activation]}"]
    if not exe.exists():
        subprocess.run([*GCC, *macros, str(source), "-o", str(exe), "-lm"], check=True)
    return exe


def floor_us(exe: Path, x: np.ndarray, y: np.ndarray, params: np.ndarray, epochs: int,
             repeats: int) -> tuple[float, float]:  # fmt: skip
    """(microseconds per epoch, final loss): the best of ``repeats`` runs of the C loop."""
    numbers = " ".join  # every value as text, exactly
    text = (f"{len(x)} {LR} -1 {epochs} {repeats}\n" + numbers(f"{v:.17g}" for v in x.ravel())
            + "\n" + numbers(f"{v:.17g}" for v in y.ravel()) + "\n"
            + numbers(f"{v:.17g}" for v in params) + "\n")  # fmt: skip
    out = subprocess.run([str(exe)], input=text, capture_output=True, text=True, check=True)
    _stop, loss, _median, fastest, _slowest = out.stdout.split()
    return float(fastest), float(loss)


def initial_params(case: FloorCase) -> np.ndarray:
    """Replicate 0's initial parameters (N(0, 1): they depend on the sizes only)."""
    sigmoid = make_activation("sigmoid")
    return MLP(case.sizes, sigmoid, sigmoid).init([np.random.default_rng(0)])[0]


def engine_run(case: FloorCase, x: np.ndarray, y: np.ndarray, params: np.ndarray, epochs: int):
    output = (
        make_activation("sigmoid") if case.sizes[-1] == 1 else make_output_activation("softmax")
    )
    net = MLP(case.sizes, make_activation(case.activation), output)
    loss_fn = get_loss("mse") if case.sizes[-1] == 1 else get_loss("cross_entropy", softmax=True)
    settings = TrainSettings(epochs=epochs, loss_threshold=0.0)

    def run():
        return compiled.train(net, params[None], make_optimizer("gd", LR), loss_fn, x, y, settings)

    return run


def cli_us(case: FloorCase, epochs: int) -> float:
    """Microseconds per epoch of ``python -m nnsweep`` on ``case``: the wall time of a run
    of ``epochs`` less that of a 2,000-epoch run, per epoch of difference."""
    hidden, outputs = case.sizes[1], case.sizes[-1]
    fields = [f"dataset={case.dataset}", f"hidden_units={hidden}", f"activation={case.activation}",
              "loss_threshold=0", "figures=[]", "print_predictions=false", "rerun=true",
              "progress=false"]  # fmt: skip
    if outputs > 1:
        fields += [f"dataset.classes={outputs}", f"dataset.n={SPIRAL_N}",
                   "output_activation=softmax", "loss=cross_entropy"]  # fmt: skip
    seconds = {}
    with tempfile.TemporaryDirectory() as work:
        for cap in (2000, epochs):
            cmd = [sys.executable, "-m", "nnsweep", *fields, f"epochs={cap}",
                   f"hydra.run.dir={work}/{cap}"]  # fmt: skip
            start = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            seconds[cap] = time.perf_counter() - start
    return (seconds[epochs] - seconds[2000]) / (epochs - 2000) * 1e6


def report_floor(epochs: int, repeats: int) -> None:
    """The engine against the C floor, kernel alone and through the command line, every
    figure of a row measured in this run on the same data and initial weights."""
    if shutil.which("gcc") is None:
        print("\nthe C floor: gcc not found, its table is left out")
        return
    print(f"\nthe C floor ({' '.join(GCC)}); gd, full batch, R=1; us per epoch, best of {repeats}")
    header = ("network", "floor", "kernel", "x floor", "command line", "x floor")
    print("{:<24} {:>8} {:>8} {:>8} {:>13} {:>8}".format(*header))
    with tempfile.TemporaryDirectory() as folder:
        for case in FLOOR_CASES:
            x, y = make_dataset(case.dataset, np.random.default_rng(0), **case.data)
            params = initial_params(case)
            floor, floor_loss = floor_us(build_floor(case, Path(folder)), x, y, params, epochs,
                                         repeats)  # fmt: skip
            run = engine_run(case, x, y, params, epochs)
            kernel = best_seconds(run, repeats) / epochs * 1e6
            engine_loss = float(run().loss[-1, 0])
            if not np.isclose(engine_loss, floor_loss, rtol=1e-6):
                print(f"{case.label}: the C loop's final loss {floor_loss} is not the engine's "
                      f"{engine_loss}: not the same training")  # fmt: skip
            cli = cli_us(case, max(int(CLI_SECONDS / (kernel * 1e-6)), 20000))
            print(f"{case.label:<24} {floor:>8.2f} {kernel:>8.2f} {kernel / floor:>7.2f}x "
                  f"{cli:>13.2f} {cli / floor:>7.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
