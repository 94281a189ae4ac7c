"""docs/discussion/index.html: the discussion as one web page, each claim with its table
and verdict, and under an experiment's last claim its interactive figures (the report
page's: nnsweep.report.web), drawn from that experiment's sweep.

It takes what :mod:`nnsweep.lab.discussion` computed (the findings, the header) and
computes nothing of its own.
"""

import html
from pathlib import Path
from typing import Any

from nnsweep.lab.discussion import EPOCHS_RULE, Finding
from nnsweep.report import Sweep, markdown_table
from nnsweep.report.web import markdown_html, render
from nnsweep.report.web.page import write
from nnsweep.report.web.plots import sweep_figures

PAGE = "index.html"


def write_page(found: list[Finding], sweeps: dict[str, Sweep], out: Path, header: str) -> Path:
    """index.html (and plotly.min.js) into ``out``, beside discussion.md."""
    last = {f.experiment: i for i, f in enumerate(found)}
    body, figures = [], []
    for i, finding in enumerate(found):
        body.append(_section(finding, i))
        if last[finding.experiment] == i:  # an experiment's figures once, under its last claim
            figures += _figures(sweeps[finding.experiment], finding.experiment)
            body.append(f'<div class="figures" id="figures-{finding.experiment}"></div>\n')
    lead = markdown_html(f"{header}\n\n{EPOCHS_RULE}")
    title = "The lab report's claims, measured again"
    text = render(
        title, f"<h1>{html.escape(title)}</h1>\n{lead}", "".join(body), {"figures": figures}
    )
    return write(text, Path(out) / PAGE)


def _section(finding: Finding, i: int) -> str:
    """A claim as discussion.md has it: its table, its note, its verdicts."""
    parts = [markdown_table(finding.table)] if not finding.table.empty else []
    parts += [finding.note] if finding.note else []
    parts += [str(v) for v in finding.verdicts]
    heading = html.escape(f"Section {finding.section}: {finding.claim}")
    inner = markdown_html("\n\n".join(parts))
    opening = f'<section class="discussion-section" id="claim-{i}">'
    return f"{opening}\n<h2>{heading}</h2>\n{inner}</section>\n"


def _figures(sweep: Sweep, experiment: str) -> list[dict[str, Any]]:
    """The experiment's page figures, placed under its last claim, named apart."""
    return [
        figure | {"id": f"{experiment}-{figure['id']}", "target": f"figures-{experiment}"}
        for figure in sweep_figures(sweep)
    ]
