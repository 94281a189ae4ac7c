"""report.html: a sweep's report as one web page, opened from its folder with nothing
running and nothing loaded from the network.

- :mod:`.rows`: the runs table (a row per job or per replicate) and each job's view;
- :mod:`.plots`: the interactive figures, as Plotly specs;
- :mod:`.page`: the page, with its script, style and data; plotly.js beside it.

The script, style and template are package data (``assets/``).
"""

from nnsweep.report.web.page import PAGE, PLOTLY_JS, markdown_html, render, write_page

__all__ = ["PAGE", "PLOTLY_JS", "markdown_html", "render", "write_page"]
