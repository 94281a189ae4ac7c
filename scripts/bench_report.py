#!/usr/bin/env python
"""Time the report on many synthetic job folders.

    python scripts/bench_report.py                 # 1,000 jobs, tables and report.md
    python scripts/bench_report.py --figures       # the comparison figures too
    python scripts/bench_report.py --jobs 200 --rows 1500
    python scripts/bench_report.py --page          # report.html too, timed in Chromium
    python scripts/bench_report.py --open DIR/report/report.html   # time any page

Each job folder gets a result.json and a loss.csv written by nnsweep's own
writers, as a sweep of lr x hidden_units x dataset x seed would leave them
(3 replicates of at most 150 recorded epochs each: about 400 rows per loss.csv).
Prints the seconds for writing the folders, loading them, and writing the
tables (runs.csv, curves.csv, report.md) and, with --figures, the figures. With --page
(or --open), report.html's size with plotly.min.js, and over --loads loads in headless
Chromium (nnsweep.report.web.browser) the milliseconds from navigation until the page is
interactive (its table built and every figure on the first 1280x800 screen drawn: the
page marks it) and until each figure is drawn once scrolled to (a figure is drawn as it
comes near the screen): the median, and the best of them.
"""

import argparse
import itertools
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from nnsweep import report
from nnsweep.engines import schedule
from nnsweep.job import csv_tables, result_json
from nnsweep.report.web import PLOTLY_JS, write_page
from nnsweep.report.web import browser as chromium

LRS = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0]
HIDDEN_UNITS = [2, 4, 8, 16, 32]
DATASETS = ["linear", "xor"]


def config(lr: float, hidden_units: int, dataset: str, seed: int, cap: int, reps: int) -> dict:
    return {
        "dataset": {"name": dataset, **({"n": 100} if dataset == "linear" else {})},
        "activation": {"name": "sigmoid"},
        "optimizer": {"name": "gd"},
        "loss": {"name": "mse"},
        "lr": lr,
        "hidden_units": hidden_units,
        "hidden_layers": 2,
        "output_activation": "sigmoid",
        "epochs": cap,
        "loss_threshold": 0.001,
        "batch_size": None,
        "init": "normal",
        "seed": seed,
        "replicates": reps,
        "log_every": 100,
        "print_predictions": True,
        "progress": False,
    }


def write_job(job_dir: Path, cfg: dict, rows: int, rng: np.random.Generator) -> None:
    """A loss.csv of ``rows`` recorded epochs per replicate, and its result.json."""
    job_dir.mkdir(parents=True)
    cap, tables, replicates = cfg["epochs"], [], []
    for r in range(cfg["replicates"]):
        last = int(rng.integers(rows, cap + 1))
        # thinned as loss.csv's are, to about ``rows`` epochs
        epochs = schedule.recorded_epochs(last, 0, rows // 2, rows // 2)
        loss = 0.25 * np.exp(-epochs / (0.3 * last)) + rng.uniform(1e-4, 1e-2)
        accuracy = np.clip(0.5 + 2 * (0.25 - loss), 0, 1).round(2)
        tables.append(
            pd.DataFrame({"replicate": r, "epoch": epochs, "loss": loss, "accuracy": accuracy})
        )
        row = {"replicate": r, "seed": int(rng.integers(2**63)), "final_loss": loss[-1]}
        row |= {"final_accuracy": accuracy[-1], "epochs": last, "converged": last < cap}
        replicates.append(row | {"diverged": False, "seconds": 0.5})
    csv_tables.write_loss_csv(pd.concat(tables, ignore_index=True), job_dir)
    result = {"status": "complete", "version": "bench", "config": cfg, "overrides": []}
    result_json.write_result(result | {"replicates": replicates}, job_dir)


def make_sweep(folder: Path, jobs: int, rows: int, reps: int) -> None:
    rng = np.random.default_rng(0)
    seeds = range(-(-jobs // (len(LRS) * len(HIDDEN_UNITS) * len(DATASETS))))  # enough
    settings = itertools.product(seeds, LRS, HIDDEN_UNITS, DATASETS)
    for number, (seed, lr, units, dataset) in zip(range(jobs), settings, strict=False):
        cfg = config(lr, units, dataset, seed, cap=10 * rows, reps=reps)
        write_job(folder / str(number), cfg, rows, rng)


def timed(label: str, fn, *args):
    start = time.perf_counter()
    value = fn(*args)
    print(f"{label:<40s} {time.perf_counter() - start:7.2f} s")
    return value


def page_size(page: Path) -> str:
    own, plotly = page.stat().st_size, (page.parent / PLOTLY_JS).stat().st_size
    return (
        f"{(own + plotly) / 1e6:.1f} MB ({own / 1e6:.1f} MB page + {plotly / 1e6:.1f} MB plotly.js)"
    )


def load_times(browser, page: Path) -> dict[str, float]:
    """One load at 1280x800: ms to interactive, then to each figure drawn once scrolled to."""
    tab = browser.new_page(viewport={"width": 1280, "height": 800})
    tab.goto(page.absolute().as_uri())
    tab.wait_for_function("document.documentElement.dataset.ready === 'true'", timeout=120_000)
    times = {"interactive": tab.evaluate("window.nnsweepReadyMs")}
    for plot in tab.query_selector_all("figure .plot"):
        plot.scroll_into_view_if_needed()
        tab.wait_for_function("p => p.dataset.drawn === 'true'", arg=plot, timeout=120_000)
    marks = tab.evaluate("performance.getEntriesByType('mark').map(m => [m.name, m.startTime])")
    times |= {name.removeprefix("nnsweep:"): ms for name, ms in marks if "figure" in name}
    tab.close()
    return times


def time_page(page: Path, loads: int) -> None:
    print(f"{page.name}: {page_size(page)}")
    playwright, browser = chromium.start()
    try:
        runs = [load_times(browser, page) for _ in range(loads)]
    finally:
        chromium.stop(playwright, browser)
    for what in runs[0]:
        ms = [run[what] for run in runs if what in run]
        print(f"  {what:<40s} median {statistics.median(ms):6.0f} ms, best {min(ms):6.0f} ms")
    print(f"  ({loads} loads in headless Chromium, 1280x800)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000, help="job folders (default 1000)")
    parser.add_argument("--rows", type=int, default=150, help="loss.csv rows per replicate")
    parser.add_argument("--replicates", type=int, default=3, help="replicates per job")
    parser.add_argument("--figures", action="store_true", help="time the figures too")
    parser.add_argument("--page", action="store_true", help="report.html too, in Chromium")
    parser.add_argument("--open", type=Path, metavar="HTML", help="only time this page")
    parser.add_argument("--loads", type=int, default=5, help="page loads timed (default 5)")
    args = parser.parse_args()
    if args.open:
        time_page(args.open, args.loads)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "sweep"
        timed(
            f"write {args.jobs} synthetic job folders",
            make_sweep,
            folder,
            args.jobs,
            args.rows,
            args.replicates,
        )
        start = time.perf_counter()
        sweep = timed("load (runs + curves)", report.load, folder)
        out = folder / "report"
        out.mkdir()
        timed("write runs.csv + curves.csv", report.write_tables, sweep, out)
        timed(
            "write report.md",
            lambda: (out / "report.md").write_text(report.markdown_report(sweep, [])),
        )
        if args.figures:
            figures = timed("write the figures", report.draw_sweep_figures, sweep, out)
            print(f"  ({len(figures)} figures)")
        if args.page:
            page = timed("write report.html", write_page, sweep, out)
        total = time.perf_counter() - start
        print(f"{len(sweep.runs)} runs rows, {len(sweep.curves)} curves rows, swept: {sweep.swept}")
        what = (
            "tables, report.md and figures" if args.figures else "tables and report.md, no figures"
        )
        print(f"load + report ({what}): {total:.2f} s")
        if args.page:
            time_page(page, args.loads)


if __name__ == "__main__":
    main()
