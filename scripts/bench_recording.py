"""What recording the insides of training costs, and what it writes (issue 12's figures).

    python scripts/bench_recording.py

- overhead: the default run (XOR, 2-4-4-1 sigmoid, gd lr 0.01, to its stop at epoch
  546,749) trained with what a job records (accuracy, layer statistics at the recorded
  epochs, 40 snapshots) against training that records only the loss; each engine, the
  least CPU time of ``--repeats`` alternated runs (wall times on this shared machine vary
  by 20% from run to run). The NumPy engine runs a shorter cap (it is ~30x slower);
  a 2,000-epoch run is the worst case, every one of its epochs recorded.
- files: params.npz and boundary.gif of the default run, and the time to draw each figure.
"""

import argparse
import tempfile
import time
from pathlib import Path

from hydra import compose, initialize_config_dir

from nnsweep.engines.history import NOTHING, Recording
from nnsweep.job import csv_tables, figures, params_npz, result_json
from nnsweep.job.build import build
from nnsweep.job.schema import CONFIG_DIR, register


def experiment(*overrides: str):
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("config", overrides=list(overrides))
    return cfg, build(cfg)


def seconds(e, recording: Recording) -> float:
    start = time.process_time()
    e.train(e.net, e.params, e.optimizer, e.loss_fn, e.x, e.y, e.settings, None, None, recording)
    return time.process_time() - start


def overhead(label: str, repeats: int, *overrides: str) -> None:
    _, e = experiment(*overrides)
    seconds(e, e.recording)  # the compiled kernels loaded
    plain, recorded = [], []
    for _ in range(repeats):
        plain.append(seconds(e, NOTHING))
        recorded.append(seconds(e, e.recording))
    best, with_recording = min(plain), min(recorded)
    print(
        f"{label:<44} loss only {best:7.3f} s   recording {with_recording:7.3f} s   "
        f"extra {with_recording / best - 1:+6.1%}"
    )


def files() -> None:
    cfg, e = experiment()
    history = e.run()
    tables = csv_tables.job_tables(history, cfg.epochs)
    with tempfile.TemporaryDirectory() as folder:
        job = Path(folder)
        params_npz.write_params(
            job, e.net, e.params, history, e.seeds, params_npz.TrainedOn("mse", e.x, e.y)
        )
        csv_tables.write_layers_csv(tables.layers, job)
        figures.draw_figures(cfg, e, history, tables, job)  # matplotlib imported and warm
        for name, file in figures.FIGURE_FILES.items():
            cfg.figures = [name]
            start = time.perf_counter()
            figures.draw_figures(cfg, e, history, tables, job)
            took = time.perf_counter() - start
            print(
                f"{file:<24} {(job / file).stat().st_size / 1e6:6.3f} MB   drawn in {took:5.2f} s"
            )
        for name in (result_json.PARAMS_NPZ, csv_tables.LAYERS_CSV):
            print(f"{name:<24} {(job / name).stat().st_size / 1e6:6.3f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=9, help="alternated runs (default 9)")
    repeats = parser.parse_args().repeats
    register()
    overhead("numba, the default run (546,749 epochs)", repeats)
    overhead("numba, 2,000 epochs (every epoch recorded)", repeats, "epochs=2000")
    overhead("numba, linear, 5 replicates, 20,000 epochs", repeats, "dataset=linear",
             "replicates=5", "epochs=20000")  # fmt: skip
    overhead("numpy, the default config, 20,000 epochs", repeats, "engine=numpy", "epochs=20000")
    overhead("numpy, 2,000 epochs (every epoch recorded)", repeats, "engine=numpy", "epochs=2000")
    files()


if __name__ == "__main__":
    main()
