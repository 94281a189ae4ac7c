"""report.html without a browser: what the page holds is runs.csv's and curves.csv's
numbers, it is written whenever report.md is, it loads nothing from the network, and its
script, style and template install with the package. (tests/test_web.py opens it in
Chromium.)"""

import base64
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from synthetic import config, write_job
from web_sweeps import synthetic_sweep

from nnsweep import report
from nnsweep.report.web import PAGE, PLOTLY_JS, markdown_html
from nnsweep.report.web import browser as chromium

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    return synthetic_sweep(tmp_path_factory.mktemp("web_page") / "sweep")


def page_data(path: Path) -> dict:
    found = re.search(
        r'<script type="application/json" id="page-data">(.*?)</script>', path.read_text(), re.S
    )
    return json.loads(found.group(1))  # JSON reads "<\/" as "</"


def table(data: dict, view: str) -> pd.DataFrame:
    spec = data["table"][view]
    return pd.DataFrame(spec["rows"], columns=[c["key"] for c in spec["columns"]])


def decoded(spec: dict) -> np.ndarray:
    return np.frombuffer(
        base64.b64decode(spec["bdata"]), dtype=np.dtype(spec["dtype"]).newbyteorder("<")
    )


def test_the_replicate_rows_are_runs_csv_s(page):
    runs = pd.read_csv(page.parent / "runs.csv")
    shown = table(page_data(page), "replicates")
    assert len(shown) == len(runs)
    for column in ["job", "replicate", "lr", "final_loss", "epochs_run", "converged", "status"]:
        expected, got = runs[column], shown[column]
        if pd.api.types.is_float_dtype(expected):
            np.testing.assert_allclose(got.astype(float), expected, rtol=1e-7)  # csv: %.8g
        else:
            assert got.astype(str).tolist() == expected.astype(str).tolist(), column


def test_each_job_row_holds_the_medians_of_its_replicates(page):
    runs = pd.read_csv(page.parent / "runs.csv")
    jobs = table(page_data(page), "jobs").set_index("job")
    per_job = runs.groupby(runs["job"].astype(str))
    np.testing.assert_allclose(
        jobs["final loss"].astype(float), per_job["final_loss"].median()[jobs.index], rtol=1e-7
    )
    reached = runs["epochs_run"].where(runs["converged"] == True)  # noqa: E712 (NaN: failed)
    epochs = reached.groupby(runs["job"].astype(str)).median()[jobs.index]
    np.testing.assert_array_equal(jobs["epochs to threshold"].astype(float), epochs)
    assert jobs["epochs to threshold"].isna().sum() > 3  # jobs none of whose replicates reached it


def test_each_curve_ends_at_its_job_s_median_final_loss(page):
    runs = pd.read_csv(page.parent / "runs.csv")
    data = page_data(page)
    [curves] = [f for f in data["figures"] if f["id"] == "curves"]
    dots = [t for t in curves["data"] if t["mode"] == "markers"]
    jobs = [data["table"]["views"][i]["job"] for t in dots for i in decoded(t["customdata"])]
    ends = np.concatenate([decoded(t["y"]) for t in dots])
    medians = runs.groupby(runs["job"].astype(str))["final_loss"].median()
    assert len(jobs) == runs["final_loss"].notna().groupby(runs["job"]).any().sum()
    np.testing.assert_allclose(ends, medians[jobs], rtol=1e-6)  # stored as float32
    curves_csv = pd.read_csv(page.parent / "curves.csv")
    last = curves_csv.groupby("job")["epoch"].max()
    epochs = np.concatenate([decoded(t["x"]) for t in dots])
    np.testing.assert_array_equal(epochs, last[[int(j) for j in jobs]])


def test_the_page_and_plotly_are_written_with_report_md(tmp_path):
    for job, lr in enumerate([0.5, 1.0]):
        write_job(tmp_path / "sweep" / str(job), config(lr=lr, epochs=300), [120, 300])
    md = report.write_report(tmp_path / "sweep", figures=False)
    html, plotly = md.parent / PAGE, md.parent / PLOTLY_JS
    assert html.is_file() and plotly.stat().st_size > 1_000_000
    written = plotly.stat().st_mtime_ns
    report.write_report(tmp_path / "sweep", figures=False)
    assert plotly.stat().st_mtime_ns == written  # written once, not at every report
    page = html.read_text()
    assert re.findall(r"<script src=\"([^\"]+)\"", page) == [PLOTLY_JS]
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page), "a URL off the machine"


def test_a_job_s_folder_is_linked_from_a_report_written_elsewhere(tmp_path):
    job = write_job(tmp_path / "sweep" / "0", config(epochs=300), [120])
    out = tmp_path / "elsewhere" / "deep"
    report.write_report(tmp_path / "sweep", out_dir=out, figures=False)
    [view] = page_data(out / PAGE)["table"]["views"]
    assert view["folder"] == "../../sweep/0/"
    assert (out / view["folder"]).resolve() == job.resolve()


def test_markup_in_the_text_is_shown_as_text():
    assert "&lt;script&gt;" in markdown_html("- best `x`: <script>alert(1)</script>")
    assert "<code>x</code>" in markdown_html("- best `x`: 1")


@pytest.mark.slow
def test_the_page_s_assets_are_in_the_built_wheel(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    [wheel] = tmp_path.glob("nnsweep-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for asset in ["page.html", "page.js", "page.css"]:
        assert f"nnsweep/report/web/assets/{asset}" in names


def test_a_missing_browser_is_one_line_saying_how_to_install_it(monkeypatch):
    monkeypatch.setattr(chromium, "CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(chromium.NoBrowser) as error:
        chromium.stop(*chromium.start())
    assert str(error.value).startswith("no browser at /nonexistent/chromium: install Chromium")
    assert "apt-get install -y chromium" in str(error.value)
