"""README.md says what is true.

- It starts with the two commands that work on a fresh machine, the second being the
  test command .ci/run runs.
- Every ``python -m nnsweep`` command in it and in docs/*.md composes, job by job, into a
  config that passes the checks a job gets; the tour writes nothing over tracked files.
- Its configuration tables are conf/'s.
- Every python snippet runs after the command its first line names
  (``# after: python -m nnsweep ...``) and prints exactly the ``text`` block under it.
"""

import contextlib
import io
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser

import nnsweep
from nnsweep.cli.help import readme_tables
from nnsweep.job.preflight import preflight
from nnsweep.job.schema import CONFIG_DIR, register
from nnsweep.lab.experiments import jobs as experiment_jobs

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
TEXT = README.read_text()
DOCS = [README, *sorted((ROOT / "docs").glob("*.md"))]

# A snippet and what it prints: a python block, then (blank lines between) a text block.
SNIPPET = re.compile(r"```python\n(.*?)```\n\s*```text\n(.*?)```", re.S)
SNIPPETS = SNIPPET.findall(TEXT)
AFTER = re.compile(r"^# after: python -m nnsweep(.*)$", re.M)
PLACEHOLDERS = {"run": "outputs/runs/<date>/<time>", "sweep": "outputs/multirun/<date>/<time>"}

API_SECTION = TEXT.split("## The public API")[1].split("```python")[0]


def test_the_configuration_tables_are_conf_s():
    """On failure, paste the printed tables into README.md's Configuration section:
    python -c "from nnsweep.cli.help import readme_tables; print(readme_tables())"."""
    assert readme_tables() in TEXT, readme_tables()


# ----------------------------------------------------------------- the first screen


def test_readme_starts_with_the_two_commands_and_the_test_command_is_ci_s():
    first_block = re.search(r"```bash\n(.*?)```", TEXT, re.S)
    assert first_block and "\n## " not in TEXT[: first_block.start()]  # before any section
    commands = [line for line in first_block[1].splitlines() if line and line[0] != "#"]
    venv = "python3 -m venv .venv && . .venv/bin/activate && "
    assert commands == [
        venv + "pip install -e . && python -m nnsweep",
        venv + "pip install -e '.[test]' && python -m pytest",
    ]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pip install --quiet -e '.[test]'\n" in ci
    assert ci.split("# README's test command:\n")[1].strip() == "python -m pytest"


# ----------------------------------------------------------------- the commands


def nnsweep_commands(markdown: str) -> list[list[str]]:
    """The arguments of every ``python -m nnsweep ...`` in the bash blocks and in inline
    code, but --help and those with a placeholder (``experiment=NAME``)."""
    found = []
    blocks = re.findall(r"```bash\n(.*?)```", markdown, re.S)
    inline = re.findall(r"(?<!`)`(python -m nnsweep[^`]*)`(?!`)", markdown)
    for block in [*blocks, *inline]:
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            for i in range(len(words) - 2):
                if words[i : i + 3] == ["python", "-m", "nnsweep"]:
                    args = words[i + 3 :]
                    args = args[: args.index("&&")] if "&&" in args else args
                    if "--help" not in args and not any(re.search(r"=[A-Z]+$", a) for a in args):
                        found.append(args)
    return found


def job_overrides(args: list[str]) -> list[list[str]]:
    """Each job's overrides, as Hydra's sweeper splits a sweep; an experiment's own sweep
    (conf/experiment/NAME.yaml's hydra.sweeper.params) included."""
    args = [a for a in args if a != "-m"]
    experiment = next((a.split("=", 1)[1] for a in args if a.startswith("experiment=")), None)
    if experiment:
        others = [a for a in args if not a.startswith("experiment=")]
        return experiment_jobs(experiment, others)
    return BasicSweeper.split_arguments(OverridesParser.create().parse_overrides(args), None)[0]


COMMANDS = [
    list(args)
    for args in dict.fromkeys(tuple(a) for doc in DOCS for a in nnsweep_commands(doc.read_text()))
]


def test_the_commands_are_found():
    assert ["-m", "optimizer=gd,momentum,adagrad"] in COMMANDS
    assert [] in COMMANDS  # the first screen's python -m nnsweep
    assert len(COMMANDS) >= 10


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_every_command_composes_a_config_each_job_accepts(args):
    register()
    for overrides in job_overrides(args):
        with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
            cfg = compose("config", overrides=list(overrides))
        preflight(cfg)  # ranges and memory: the checks a job gets before it trains


def test_the_tour_writes_nothing_over_tracked_files():
    """scripts/discussion.py writes over its --out, by default the tracked docs/discussion/."""
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    runs = [line for line in TEXT.splitlines() if line.startswith("python scripts/discussion.py")]
    assert runs
    for line in runs:
        words = shlex.split(line, comments=True)
        assert "--out" in words, line
        out = words[words.index("--out") + 1].rstrip("/") + "/"
        assert out.startswith("outputs/") and not [t for t in tracked if t.startswith(out)]
    assert "outputs/*" in (ROOT / ".gitignore").read_text().splitlines()


# ----------------------------------------------------------------- the snippets


def test_every_python_snippet_has_its_output_and_names_what_it_reads():
    assert len(SNIPPETS) == TEXT.count("```python\n") >= 3
    for snippet, _ in SNIPPETS:
        uses_a_folder = any(p in snippet for p in PLACEHOLDERS.values())
        assert not uses_a_folder or AFTER.match(snippet), snippet


def test_the_public_api_section_names_nnsweep_s_names_and_no_other():
    named = re.findall(r"`([A-Za-z_]\w*)[`(]", API_SECTION)  # `MLP`, `train(net, ...)`
    assert sorted(named) == sorted(set(nnsweep.__all__) - {"__version__"})


def run_the_command(snippet: str, tmp_path: Path) -> str:
    """Run the command the snippet's first line names; the snippet with its folder in."""
    if not (after := AFTER.match(snippet)):
        return snippet
    args = shlex.split(after[1])
    kind = "sweep" if "-m" in args else "run"
    folder = tmp_path / kind
    # figures=[]: no snippet reads a job's figures, and drawing them is most of a job's time
    command = [sys.executable, "-m", "nnsweep", *args, f"hydra.{kind}.dir={folder}", "figures=[]"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return snippet.replace(PLACEHOLDERS[kind], str(folder))


@pytest.mark.slow
@pytest.mark.parametrize(("snippet", "output"), SNIPPETS, ids=lambda s: s.splitlines()[0][:60])
def test_every_python_snippet_prints_what_readme_shows(snippet, output, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = run_the_command(snippet, tmp_path)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, str(README), "exec"), {})
    lines = [line.rstrip() for line in printed.getvalue().rstrip().splitlines()]
    assert lines == output.rstrip().splitlines()
