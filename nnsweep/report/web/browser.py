"""The browser that checks and times the page: Debian's Chromium, headless, driven by
Playwright (``pip install -e '.[test]'``; ``.ci/run`` installs Chromium with apt-get).

Playwright's own browser download (``playwright install``) is not used: it fetches a
browser build from outside the package registries. Used by tests/test_web*.py and
scripts/bench_report.py; nothing in a report needs it.
"""

import os
import shutil
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("NNSWEEP_CHROMIUM", "/usr/bin/chromium")
# headless as root, and no connection attempts of its own: this machine's network is closed
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL = (
    "install Chromium with `apt-get install -y chromium` (Debian's package; .ci/run does) "
    "and Playwright with `pip install -e '.[test]'`; not `playwright install`"
)


class NoBrowser(RuntimeError):
    """Chromium or Playwright is missing, or Chromium would not start."""


def launch(playwright: Any) -> Any:
    """Chromium started by ``playwright`` (a ``sync_playwright()`` context), or NoBrowser
    saying how to install what is missing."""
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        raise NoBrowser(f"no browser at {CHROMIUM}: {INSTALL}")
    try:
        return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    except Exception as error:  # Playwright's own error type varies by version
        raise NoBrowser(f"{CHROMIUM} would not start ({error}): {INSTALL}") from error


def start() -> tuple[Any, Any]:
    """Playwright and a launched Chromium; stop both with :func:`stop`."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        raise NoBrowser(f"Playwright is not installed: {INSTALL}") from error
    playwright = sync_playwright().start()
    try:
        return playwright, launch(playwright)
    except NoBrowser:
        playwright.stop()
        raise


def stop(playwright: Any, browser: Any) -> None:
    browser.close()
    playwright.stop()
