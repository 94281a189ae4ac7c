#!/usr/bin/env python
"""Screenshots of a report.html in headless Chromium, at 1280 px and at a phone's 390 px,
every figure drawn: the README's and docs/files.md's pictures of the page.

    python -m nnsweep -m lr=0.1,1 dataset=linear,xor replicates=3 epochs=20000
    python scripts/report_screenshots.py outputs/multirun/<date>/<time>/report/report.html \\
        --out docs/images/report_page

writes docs/images/report_page.png (1280 px wide) and report_page_phone.png (390 px), each
from the top of the page down to --height pixels.
"""

import argparse
from pathlib import Path

from nnsweep.report.web import browser as chromium

SIZES = {"": (1280, 800), "_phone": (390, 844)}  # suffix: viewport


def shoot(browser, page: Path, out: Path, width: int, height: int, clip: int) -> None:
    tab = browser.new_page(viewport={"width": width, "height": height})
    tab.goto(page.absolute().as_uri())
    tab.wait_for_function("document.documentElement.dataset.ready === 'true'", timeout=120_000)
    for plot in tab.query_selector_all("figure .plot"):
        plot.scroll_into_view_if_needed()
        tab.wait_for_function("p => p.dataset.drawn === 'true'", arg=plot, timeout=120_000)
    tab.evaluate("window.scrollTo(0, 0)")
    full = tab.evaluate("document.documentElement.scrollHeight")
    box = {"x": 0, "y": 0, "width": width, "height": min(clip, full)}
    tab.screenshot(path=str(out), full_page=True, clip=box)
    tab.close()
    print(f"{out}: {width} x {box['height']} px")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", type=Path, help="a report.html")
    parser.add_argument("--out", type=Path, required=True, help="file name without .png")
    parser.add_argument("--height", type=int, default=1400, help="px from the top (1400)")
    args = parser.parse_args()
    playwright, browser = chromium.start()
    try:
        for suffix, (width, height) in SIZES.items():
            out = args.out.with_name(args.out.name + suffix + ".png")
            shoot(browser, args.page, out, width, height, args.height * (2 if suffix else 1))
    finally:
        chromium.stop(playwright, browser)


if __name__ == "__main__":
    main()
