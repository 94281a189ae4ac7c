"""A job's default figures drawn as simply as matplotlib draws them: the floor that
``scripts/bench_startup.py`` sets beside a job's fixed cost.

For each figure of a job folder, the least that a figure of its kind and pixel size
costs: one line per panel for learning_curve.png, prediction.png and gradients.png (one,
two and two panels), one filled contour and the points for decision_boundary.png, and
for boundary.gif one image blitted into each of its frames, which Pillow quantizes and
writes as nnsweep's GIF writer does. No titles, legends, log axes or layout engine.

    python scripts/floor/figures.py JOB_DIR [--rounds 3] [--keep DIR] [--engine]

prints, as JSON, the CPU seconds of the imports a job needs to draw anyway (numpy,
matplotlib, hydra, omegaconf), with ``--engine`` of importing numba and loading the
compiled engine from its cache as a job does, and of each round of drawing all of them
(the first pays the fonts' load, as a job's own process does; later ones are what each
job of a sweep pays in a warm process).
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

START = time.process_time()
import hydra  # noqa: E402, F401  (a job imports it anyway: counted with the imports)
import matplotlib  # noqa: E402
import numpy as np  # noqa: E402
import omegaconf  # noqa: E402, F401

matplotlib.use("Agg")
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from PIL import Image  # noqa: E402

IMPORTS = time.process_time() - START
PANELS = {"learning_curve.png": 1, "prediction.png": 2, "gradients.png": 2}
DPI = 100


def _figure(size: tuple[int, int]) -> Figure:
    fig = Figure(figsize=(size[0] / DPI, size[1] / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def lines(size: tuple[int, int], panels: int, out: Path) -> None:
    fig = _figure(size)
    for ax in fig.subplots(1, panels, squeeze=False)[0]:
        ax.plot(np.arange(10), np.linspace(1.0, 0.1, 10))
    fig.savefig(out)


def contour(size: tuple[int, int], out: Path) -> None:
    fig = _figure(size)
    ax = fig.subplots()
    grid = np.linspace(-1.0, 2.0, 120)
    ax.contourf(grid, grid, np.outer(grid, grid))
    ax.scatter(np.zeros(21), np.zeros(21))
    fig.savefig(out)


def gif(size: tuple[int, int], frames: int, out: Path) -> None:
    fig = _figure(size)
    ax = fig.subplots()
    image = ax.imshow(np.zeros((80, 80)), vmin=0.0, vmax=1.0, animated=True)
    fig.canvas.draw()
    background = fig.canvas.copy_from_bbox(fig.bbox)
    pictures = []
    for frame in range(frames):
        fig.canvas.restore_region(background)
        image.set_data(np.full((80, 80), frame / max(frames - 1, 1)))
        ax.draw_artist(image)
        rgba = Image.frombuffer("RGBA", size, fig.canvas.buffer_rgba())
        pictures.append(rgba.convert("RGB").quantize(method=Image.Quantize.FASTOCTREE))
    pictures[0].save(out, save_all=True, append_images=pictures[1:], duration=150, loop=0)


def draw_all(job_dir: Path, out: Path) -> None:
    for path in sorted(job_dir.glob("*.png")) + sorted(job_dir.glob("*.gif")):
        with Image.open(path) as picture:
            size, frames = picture.size, getattr(picture, "n_frames", 1)
        if path.name in PANELS:
            lines(size, PANELS[path.name], out / path.name)
        elif path.name == "decision_boundary.png":
            contour(size, out / path.name)
        elif path.name == "boundary.gif":
            gif(size, frames, out / path.name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("job_dir", type=Path, help="a job folder with its figures")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of drawing them all")
    parser.add_argument("--keep", type=Path, help="keep the last round's figures here")
    parser.add_argument(
        "--engine", action="store_true", help="also load the compiled engine from numba's cache"
    )
    args = parser.parse_args()
    times: dict[str, object] = {"imports": IMPORTS}
    if args.engine:
        start = time.process_time()
        from nnsweep.engines.compiled import warm_up

        warm_up()
        times["engine"] = time.process_time() - start
    rounds = []
    with tempfile.TemporaryDirectory() as scratch:
        out = args.keep or Path(scratch)
        out.mkdir(parents=True, exist_ok=True)
        for _ in range(args.rounds):
            start = time.process_time()
            draw_all(args.job_dir, out)
            rounds.append(time.process_time() - start)
    print(json.dumps({**times, "rounds": rounds}))


if __name__ == "__main__":
    main()
