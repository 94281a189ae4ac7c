"""report.html: the page itself. Markdown (the answer, report.md's own lines) rendered to
HTML, the table and figure data as JSON in the page, the page's script and style inlined,
and plotly.js written once beside it: the page opens from ``file://`` with nothing
loaded from the network.
"""

import html
import json
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

from markdown_it import MarkdownIt

from nnsweep import __version__, atomic
from nnsweep.report.markdown import _header, answer_text
from nnsweep.report.tables import Sweep
from nnsweep.report.web.plots import sweep_figures
from nnsweep.report.web.rows import table_data

PAGE = "report.html"
PLOTLY_JS = "plotly.min.js"  # beside the page, loaded by a relative <script src>
ASSETS = resources.files("nnsweep.report.web") / "assets"
# CommonMark with tables, raw HTML escaped: the text is nnsweep's, but a config value is not
MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")


def markdown_html(text: str) -> str:
    """Markdown as HTML (report.md's answer, the discussion's verdicts and tables)."""
    return MARKDOWN.render(text)


def write_page(sweep: Sweep, out_dir: Path) -> Path:
    """report.html (and plotly.min.js) into ``out_dir``: the answer, the runs table, the
    interactive figures and each job's view. Returns the page's path."""
    out_dir = Path(out_dir)
    # report.md's header and answer from the very functions report.md takes them from:
    # word for word, whoever rewrites them
    lines = answer_text(sweep)
    figures = sweep_figures(sweep)
    body = section("answer", "The answer", markdown_html("\n".join(lines)))
    body += RUNS_SECTION + figures_section(len(figures))
    data = {"table": table_data(sweep, out_dir), "figures": figures}
    text = render("nnsweep report", markdown_html(_header(sweep)), body, data)
    return write(text, out_dir / PAGE)


def section(key: str, title: str, inner: str) -> str:
    return f'<section id="{key}">\n<h2>{html.escape(title)}</h2>\n{inner}</section>\n'


def figures_section(count: int) -> str:
    """Where the script draws the figures, in the data's order."""
    if not count:
        return ""
    return section("figures", "Figures", '<div class="figures" data-figures="all"></div>\n')


RUNS_SECTION = section(
    "runs",
    "Every job",
    """<div class="controls">
<label>Filter <input id="filter" type="search" placeholder="lr=0.1 xor"
 autocomplete="off"></label>
<label><input id="per-replicate" type="checkbox"> one row per replicate</label>
<span id="shown" aria-live="polite"></span>
</div>
<div class="table-wrap" tabindex="-1"><table id="runs-table"></table></div>
<p class="hint">Click a header to sort (again to reverse); click a job for its figures.</p>
""",
)


def render(title: str, header: str, body: str, data: dict[str, Any]) -> str:
    """The whole page: ``header`` and ``body`` (HTML), ``data`` for the script."""
    template = Template((ASSETS / "page.html").read_text(encoding="utf-8"))
    return template.substitute(
        title=html.escape(title),
        version=html.escape(__version__),
        style=(ASSETS / "page.css").read_text(encoding="utf-8"),
        header=header,
        body=body,
        data=script_json(data),
        plotly=PLOTLY_JS,
        script=(ASSETS / "page.js").read_text(encoding="utf-8"),
    )


def script_json(data: dict[str, Any]) -> str:
    """``data`` as JSON safe inside a <script> element (no ``</`` to close it early)."""
    text = json.dumps(_no_none(data), allow_nan=False, separators=(",", ":"), default=_plain)
    return text.replace("</", "<\\/")


def _plain(value: Any) -> Any:
    """A NumPy scalar or array as JSON's (json.dumps' ``default``)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} in the page's data")


def _no_none(value: Any, in_list: bool = False) -> Any:
    """Dict entries whose value is None dropped (plotly.js: an unset attribute); None kept
    in lists (a table's missing value)."""
    if isinstance(value, dict):
        return {k: _no_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_no_none(v, in_list=True) for v in value]
    return value


def write(text: str, path: Path) -> Path:
    """The page, and plotly.js beside it (written again only when it differs)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    plotly = path.parent / PLOTLY_JS
    source = resources.files("plotly") / "package_data" / PLOTLY_JS
    if not plotly.is_file() or plotly.stat().st_size != len(source.read_bytes()):
        with atomic.atomic_path(plotly) as tmp:
            tmp.write_bytes(source.read_bytes())
    with atomic.atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path
