"""report.html in a real browser: Debian's Chromium, headless, driven by Playwright, on a
real sweep's page (three jobs) and a synthetic 200-job one, as a person uses it: open it
from file://, click headers, type in the filter, hover a curve, open a job.

A browser that cannot start fails these tests with how to install it (never a skip): see
nnsweep.report.web.browser. They share one pytest-xdist worker and one browser.
"""

import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib.image
import numpy as np
import pandas as pd
import pytest
from synthetic import config, write_job
from web_sweeps import DATASETS, FAILED, LRS, real_sweep, synthetic_sweep

from nnsweep import report
from nnsweep.lab import discussion, discussion_page
from nnsweep.report.answer import answer_lines
from nnsweep.report.web import browser as chromium

pytestmark = pytest.mark.xdist_group("browser")  # one worker, one browser, one sweep each

READY = "document.documentElement.dataset.ready === 'true'"
ROWS = "#runs-table tbody tr:not([hidden])"


def install_chromium() -> None:
    """Debian's Chromium, with apt-get, where it is missing and this is root (as
    tests/cluster/slurm.py installs SLURM): README's test command then works on a fresh
    machine too. Elsewhere the browser fixture fails saying how to install it."""
    if Path(chromium.CHROMIUM).is_file() or os.geteuid() != 0 or not shutil.which("apt-get"):
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", "chromium"]
    if subprocess.run(install, env=env, capture_output=True).returncode:
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
        subprocess.run(install, env=env, capture_output=True)


@pytest.fixture(scope="module")
def browser():
    install_chromium()
    try:
        playwright, started = chromium.start()
    except chromium.NoBrowser as error:
        pytest.fail(str(error), pytrace=False)
    yield started
    chromium.stop(playwright, started)


@pytest.fixture(scope="module")
def real(tmp_path_factory) -> Path:
    return real_sweep(tmp_path_factory.mktemp("web_real") / "sweep")


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    return synthetic_sweep(tmp_path_factory.mktemp("web_200") / "sweep")


@pytest.fixture(scope="module")
def discussed(tmp_path_factory) -> tuple[Path, list]:
    """The discussion's page of a synthetic activations sweep (sigmoid slowest), with the
    findings it was written from."""
    folder = tmp_path_factory.mktemp("web_discussion")
    runs = {
        "sigmoid": (18_000, 0.002, 0.2),
        "tanh": (2_300, 0.008, 0.75),
        "relu": (2_100, 0.008, 0.5),
    }
    for job, (name, (epochs, norm, derivative)) in enumerate(runs.items()):
        cfg = config(dataset="linear", activation=name, lr=0.05, epochs=10**5, replicates=2)
        write_job(
            folder / "activations" / str(job),
            cfg,
            [epochs, epochs + 100],
            gradient=(norm, derivative),
        )
    sweeps = {"activations": report.load(folder / "activations")}
    found = discussion.findings(sweeps)
    return discussion_page.write_page(found, sweeps, folder / "out", "Written by a test."), found


class Opened:
    """A page opened from file://, with every console error, page error, failed request
    and request for anything but a local file that happened while it was open."""

    def __init__(self, browser, path: Path, width: int = 1280, height: int = 800):
        self.problems: list[str] = []
        self.page = browser.new_page(viewport={"width": width, "height": height})
        page = self.page
        page.on("console", lambda m: m.type == "error" and self.problems.append(m.text))
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url}"))
        page.on("request", self._local)
        page.goto(path.as_uri())
        page.wait_for_function(READY, timeout=60_000)

    def _local(self, request) -> None:
        if not request.url.startswith(("file://", "data:", "blob:")):
            self.problems.append(f"left the machine: {request.url}")

    def draw_every_figure(self) -> list:
        """Scroll to each figure (drawn when it comes near the screen) until it is drawn."""
        plots = self.page.query_selector_all("figure .plot")
        for plot in plots:
            plot.scroll_into_view_if_needed()
            self.page.wait_for_function("p => p.dataset.drawn === 'true'", arg=plot)
        return plots

    def column(self, label: str) -> list[str]:
        """The shown cells of the column headed ``label``, top to bottom."""
        return self.page.evaluate(
            """label => {
                const heads = [...document.querySelectorAll('#runs-table th')];
                const i = heads.findIndex(th => th.textContent === label);
                const rows = document.querySelectorAll('#runs-table tbody tr:not([hidden])');
                return [...rows].map(tr => tr.cells[i].textContent);
            }""",
            label,
        )

    def close(self) -> None:
        self.page.close()


@pytest.fixture
def opened(browser):
    pages = []

    def open_page(path: Path, **viewport) -> Opened:
        pages.append(Opened(browser, path, **viewport))
        return pages[-1]

    yield open_page
    for page in pages:
        page.close()


def numbers(cells: list[str]) -> list[float]:
    return [float(c.replace(",", "")) if c else np.nan for c in cells]


def assert_sorted(values: list[float], descending: bool = False) -> None:
    """Numbers in order, every missing value after them."""
    present = [v for v in values if not np.isnan(v)]
    assert all(np.isnan(v) for v in values[len(present) :]), "a missing value before a number"
    assert present == sorted(present, reverse=descending)


# ------------------------------------------------------------- what the page holds


@pytest.mark.slow
def test_the_real_sweeps_page_opens_offline_without_errors(opened, real):
    page = opened(real)
    page.draw_every_figure()
    page.page.click("button.job >> nth=0")
    page.page.wait_for_selector("#job-view[open] img")
    assert page.problems == []


def test_the_200_job_page_opens_offline_without_errors(opened, synthetic):
    page = opened(synthetic)
    assert len(page.draw_every_figure()) == 4  # curves, outcomes, gradients by lr and units
    html = synthetic.read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "a URL off the machine"
    assert page.problems == []


@pytest.mark.slow
def test_the_answer_is_report_md_s_word_for_word(opened, real):
    sweep = report.load(real.parent.parent)
    lines = answer_lines(sweep)
    assert lines
    shown = opened(real).page.locator("#answer li").all_inner_texts()
    assert shown == [line.removeprefix("- ").replace("`", "") for line in lines]
    markdown = (real.parent / "report.md").read_text()
    assert all(line in markdown.splitlines() for line in lines)


def test_one_table_row_per_job_or_per_replicate(opened, synthetic):
    runs = pd.read_csv(synthetic.parent / "runs.csv")
    page = opened(synthetic)
    assert page.page.locator(ROWS).count() == runs["job"].nunique() == 200
    page.page.check("#per-replicate")
    assert page.page.locator(ROWS).count() == len(runs) == 197 * 2 + len(FAILED)
    assert page.page.inner_text("#shown") == f"{len(runs)} of {len(runs)} replicates"


def test_a_click_on_a_number_header_sorts_numerically_missing_last(opened, synthetic):
    page = opened(synthetic)  # one page for every column: each load costs plotly.js's start
    for label in ["lr", "hidden_units", "final loss", "epochs to threshold", "converged"]:
        page.page.click(f"#runs-table th button:text-is('{label}')")
        assert_sorted(numbers(page.column(label)))
        header = page.page.locator(f"#runs-table th:has(button:text-is('{label}'))")
        assert header.get_attribute("aria-sort") == "ascending", label
        page.page.click(f"#runs-table th button:text-is('{label}')")
        assert_sorted(numbers(page.column(label)), descending=True)
        assert header.get_attribute("aria-sort") == "descending", label
    assert np.isnan(numbers(page.column("epochs to threshold"))[-1])  # missing ones: last


def test_text_headers_sort_by_name_and_job_numbers_as_numbers(opened, synthetic):
    page = opened(synthetic)
    page.page.click("#runs-table th button:text-is('job')")
    page.page.click("#runs-table th button:text-is('job')")  # descending
    assert numbers(page.column("job")) == list(range(199, -1, -1))
    page.page.click("#runs-table th button:text-is('status')")
    statuses = page.column("status")
    assert statuses == sorted(statuses) and statuses[-len(FAILED) :] == ["failed"] * len(FAILED)
    page.page.click("#runs-table th button:text-is('dataset')")
    datasets = page.column("dataset")
    assert datasets == sorted(datasets) and set(datasets) == set(DATASETS)


def test_enter_on_a_focused_header_sorts(opened, synthetic):
    page = opened(synthetic)
    page.page.focus("#runs-table th button:text-is('lr')")
    page.page.keyboard.press("Enter")
    assert_sorted(numbers(page.column("lr")))
    page.page.keyboard.press("Enter")  # the focus stays on the header: again reverses
    assert_sorted(numbers(page.column("lr")), descending=True)
    assert numbers(page.column("lr"))[0] == max(LRS)


def test_sorting_by_replicate_columns_in_the_replicate_view(opened, synthetic):
    page = opened(synthetic)
    page.page.check("#per-replicate")
    page.page.click("#runs-table th button:text-is('epochs_run')")
    assert_sorted(numbers(page.column("epochs_run")))
    page.page.click("#runs-table th button:text-is('converged')")
    converged = page.column("converged")
    present = [c for c in converged if c]
    assert present == sorted(present, key=["no", "yes"].index) and converged[-3:] == [""] * 3


def test_the_filter_narrows_the_rows(opened, synthetic):
    runs = pd.read_csv(synthetic.parent / "runs.csv").drop_duplicates("job")
    page = opened(synthetic)
    page.page.fill("#filter", "xor")
    xor = (runs["dataset.name"] == "xor").sum()
    assert page.page.locator(ROWS).count() == xor < 200
    page.page.fill("#filter", "xor lr=2 ")
    both = ((runs["dataset.name"] == "xor") & (runs["lr"] == 2.0)).sum()
    assert page.page.locator(ROWS).count() == both < xor
    assert set(page.column("lr")) == {"2"} and set(page.column("dataset")) == {"xor"}
    assert page.page.inner_text("#shown") == f"{both} of 200 jobs"
    page.page.fill("#filter", "failed")
    assert page.page.locator(ROWS).count() == len(FAILED)
    page.page.fill("#filter", "")
    assert page.page.locator(ROWS).count() == 200


def test_the_header_stays_in_view_while_the_table_scrolls(opened, synthetic):
    page = opened(synthetic)
    wrap = page.page.locator(".table-wrap")
    top = wrap.bounding_box()["y"]
    wrap.evaluate("w => { w.scrollTop = 2000; }")
    assert wrap.evaluate("w => w.scrollTop") > 1000
    header = page.page.locator("#runs-table th").first.bounding_box()
    assert abs(header["y"] - top) <= 2
    first_row = page.page.locator(ROWS).first.bounding_box()
    assert first_row["y"] < top - 1000  # the rows moved; the header did not


# ------------------------------------------------------------- figures


def test_every_figure_draws_its_svg(opened, synthetic):
    page = opened(synthetic)
    for plot in page.draw_every_figure():
        paths = plot.evaluate("p => p.querySelectorAll('.scatterlayer .trace path').length")
        assert paths > 0, plot.evaluate("p => p.parentElement.id")
        assert plot.evaluate("p => p.querySelector('svg.main-svg').getBoundingClientRect().width")


@pytest.mark.slow
def test_hovering_a_curve_names_its_job_and_a_click_opens_it(opened, real):
    page = opened(real)
    plot = page.page.locator("#figure-curves .plot")
    plot.scroll_into_view_if_needed()
    page.page.wait_for_function(
        "() => document.querySelector('#figure-curves .plot').dataset.drawn"
    )
    # the last series' end dot, in pixels from the plot's corner
    where = plot.evaluate(
        """p => {
            const t = p._fullData.filter(d => d.mode === 'markers').pop();
            const xa = p._fullLayout.xaxis, ya = p._fullLayout.yaxis;
            return {x: xa._offset + xa.l2p(xa.d2l(t.x[0])),
                    y: ya._offset + ya.l2p(ya.d2l(t.y[0])), job: t.customdata[0]};
        }"""
    )
    box = plot.bounding_box()
    page.page.mouse.move(box["x"] + where["x"], box["y"] + where["y"])
    label = page.page.locator("#hover-label")
    label.wait_for(state="visible")
    jobs = report.load(real.parent.parent).jobs
    job = jobs.iloc[where["job"]]
    assert (
        label.inner_text().splitlines()[0] == f"job {job['job']}: optimizer={job['optimizer.name']}"
    )
    page.page.mouse.click(box["x"] + where["x"], box["y"] + where["y"])
    assert page.page.inner_text("#job-view-title") == f"job {job['job']}"


def test_hovering_a_dot_of_the_200_job_page_names_a_job(opened, synthetic):
    page = opened(synthetic)
    plot = page.page.locator("#figure-outcomes .plot")
    plot.scroll_into_view_if_needed()
    page.page.wait_for_function(
        "() => document.querySelector('#figure-outcomes .plot').dataset.drawn"
    )
    dot = plot.locator(".scatterlayer .trace .point").first
    dot.hover(force=True)  # plotly's drag layer above the dots takes the mouse: as it should
    text = page.page.locator("#hover-label").inner_text()
    assert re.fullmatch(r"job \d+: dataset=\w+, lr=[\d.]+, hidden_units=\d+, seed=\d\n.*", text)


def test_a_click_on_a_legend_entry_hides_its_curves(opened, synthetic):
    page = opened(synthetic)
    plot = page.page.locator("#figure-curves .plot")
    plot.scroll_into_view_if_needed()
    page.page.wait_for_function(
        "() => document.querySelector('#figure-curves .plot').dataset.drawn"
    )
    plot.locator(".legend .traces .legendtoggle").first.click(force=True)
    hidden = "p => p._fullData.filter(d => d.visible === 'legendonly').map(d => d.legendgroup)"
    plot.page.wait_for_function(f"p => ({hidden})(p).length", arg=plot.element_handle())
    hidden = plot.evaluate(hidden)
    assert set(hidden) == {f"lr={LRS[0]:g}"} and len(hidden) == 3 * len(DATASETS)


# ------------------------------------------------------------- a job's view


@pytest.mark.slow
def test_a_job_opens_with_its_figures_and_gif_decoded(opened, real):
    page = opened(real)
    for job in ["0", "1", "2"]:
        page.page.click(f"button.job:text-is('{job}')")
        page.page.wait_for_selector("#job-view[open]")
        assert page.page.inner_text("#job-view-title") == f"job {job}"
        page.page.wait_for_function(
            "() => [...document.querySelectorAll('#job-view img')].every(i => i.complete)"
        )
        images = page.page.locator("#job-view img")
        sources = images.evaluate_all("all => all.map(i => i.getAttribute('src'))")
        assert sources == [f"../{job}/prediction.png", f"../{job}/learning_curve.png"] + [
            f"../{job}/boundary.gif"
        ]
        assert images.evaluate_all("all => all.map(i => i.naturalWidth > 0)") == [True] * 3
        page.page.keyboard.press("Escape")
    assert page.problems == []


def test_a_job_without_figures_says_so(opened, synthetic):
    page = opened(synthetic)
    page.page.click("button.job:text-is('7')")  # failed
    assert "failed" in page.page.inner_text("#job-view .job-facts")
    assert page.page.inner_text("#job-view .job-figures") == "This job's folder holds no figures."
    assert page.page.get_attribute("#job-view .job-facts a", "href") == "../7/"


# ------------------------------------------------------------- how it looks


def test_a_screenshot_at_1280_by_800_is_not_blank(opened, synthetic):
    page = opened(synthetic, width=1280, height=800)
    image = matplotlib.image.imread(io.BytesIO(page.page.screenshot()))
    assert image.shape[:2] == (800, 1280)
    colours = np.unique(image.reshape(-1, image.shape[-1]).round(2), axis=0)
    assert len(colours) > 20 and image[..., :3].std() > 0.05


def test_a_phone_gets_the_panels_one_above_the_other(opened, synthetic):
    page = opened(synthetic, width=390, height=844)
    plots = page.draw_every_figure()
    widths = [p.evaluate("p => p.getBoundingClientRect().width") for p in plots]
    assert max(widths) <= 390
    # the two datasets' panels: the second below the first, each the full width
    boxes = plots[0].evaluate(
        "p => [...p.querySelectorAll('.draglayer .nsewdrag')]"
        ".map(r => r.getBoundingClientRect().toJSON())"
    )
    assert len(boxes) == 2 and boxes[1]["y"] > boxes[0]["y"] + boxes[0]["height"]
    assert page.page.evaluate("document.documentElement.scrollWidth") <= 390


# ------------------------------------------------------------- the discussion's page


def test_the_discussion_page_sets_each_verdict_above_its_figures(opened, discussed):
    path, found = discussed
    page = opened(path)
    page.draw_every_figure()
    assert page.problems == []
    sections = page.page.locator("section.discussion-section")
    assert sections.count() == len(found) == 2
    for i, finding in enumerate(found):
        text = sections.nth(i).inner_text()
        assert text.startswith(f"Section {finding.section}: {finding.claim}")
        for verdict in finding.verdicts:  # markdown's emphasis aside, word for word
            assert str(verdict).replace("*", "").replace("`", "") in text
    # the experiment's figures under its last claim, below every verdict
    last = sections.nth(1).bounding_box()
    figures = page.page.locator("#figures-activations figure")
    assert figures.count() == 3  # curves, outcomes, gradients
    assert figures.first.bounding_box()["y"] > last["y"] + last["height"] - 1
