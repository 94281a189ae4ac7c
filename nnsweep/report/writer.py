"""Writing a report: runs.csv, curves.csv, the figures, report.md and report.html into one
folder."""

import logging
from collections.abc import Iterable
from pathlib import Path

from nnsweep import atomic
from nnsweep.report.aggregate import summary_table
from nnsweep.report.jobs import REPORT_DIR
from nnsweep.report.markdown import markdown_report
from nnsweep.report.sweep_figures import draw_sweep_figures
from nnsweep.report.tables import Sweep, load
from nnsweep.report.web import write_page

log = logging.getLogger(__name__)


def write_report(
    dirs: Path | str | Iterable[Path | str], out_dir: Path | str | None = None, figures: bool = True
) -> Path:
    """Load ``dirs`` and write runs.csv, curves.csv, the figures, report.md and report.html
    (with plotly.min.js) into ``out_dir`` (default: ``<dir>/report``; required when several
    folders are given). Returns the path of report.md."""
    sweep = load(dirs)
    if out_dir is None:
        if len(sweep.sources) > 1:
            raise ValueError("several folders given: say where the report goes (out_dir)")
        out_dir = sweep.sources[0] / REPORT_DIR
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_tables(sweep, out_dir)
    written = draw_sweep_figures(sweep, out_dir) if figures else []
    path = out_dir / "report.md"
    with atomic.atomic_path(path) as tmp:
        tmp.write_text(markdown_report(sweep, written))
    write_page(sweep, out_dir)  # the same tables as one web page, whenever report.md is written
    log.info(f"report: {path}")
    return path


def write_tables(sweep: Sweep, out_dir: Path) -> list[Path]:
    """runs.csv, its per-setting summary settings.csv, and curves.csv, as pandas writes them."""
    paths = []
    tables = {
        "runs.csv": sweep.runs,
        "settings.csv": summary_table(sweep),
        "curves.csv": sweep.curves,
    }
    for name, table in tables.items():
        with atomic.atomic_path(Path(out_dir) / name) as tmp:
            table.to_csv(tmp, index=False, float_format="%.8g")
        paths.append(Path(out_dir) / name)
    return paths
