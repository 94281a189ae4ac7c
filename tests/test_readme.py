"""README.md says what is true: its configuration tables are conf/'s, and every python
snippet in it runs on the sweep its first line names."""

import contextlib
import io
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from nnsweep.cli.help import readme_tables

README = Path(__file__).resolve().parent.parent / "README.md"
SNIPPETS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
SWEEP_PLACEHOLDER = "outputs/multirun/<date>/<time>"
# a snippet's first line: "# the tables of: python -m nnsweep -m ..."
SWEEP_LINE = re.compile(r"^# the tables of: python -m nnsweep (.*)$", re.M)


def test_the_configuration_tables_are_conf_s():
    """On failure, paste the printed tables into README.md's Configuration section:
    python -c "from nnsweep.help import readme_tables; print(readme_tables())"."""
    assert readme_tables() in README.read_text(), readme_tables()


def test_the_readme_has_snippets_and_each_names_its_sweep():
    assert SNIPPETS
    for snippet in SNIPPETS:
        assert SWEEP_PLACEHOLDER not in snippet or SWEEP_LINE.search(snippet), snippet


@pytest.mark.slow
@pytest.mark.parametrize("snippet", SNIPPETS, ids=lambda s: s.splitlines()[0][:40])
def test_every_python_snippet_runs(snippet, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    if command := SWEEP_LINE.search(snippet):
        sweep = tmp_path / "sweep"
        args = [*shlex.split(command[1]), f"hydra.sweep.dir={sweep}"]
        done = subprocess.run(
            [sys.executable, "-m", "nnsweep", *args], capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr
        snippet = snippet.replace(SWEEP_PLACEHOLDER, str(sweep))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(snippet, str(README), "exec"), {})
    assert printed.getvalue().strip()  # each snippet shows its tables
