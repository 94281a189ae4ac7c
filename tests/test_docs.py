"""The documents name what exists: every module path and dotted module name in README.md
and docs/*.md is a module of the package (or a name in one), docs/development.md names
every package and module there is, every test a document cites is a test, and every
relative link points to a file that exists (and to a heading there, given an anchor)."""

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "nnsweep"
DEVELOPMENT = ROOT / "docs" / "development.md"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINKED = [*DOCS, ROOT / "CHANGELOG.md"]  # the changelog names old modules on purpose

# nnsweep/job/run.py, nnsweep/job/ (a package), nnsweep.job.run.objective
MODULE_PATH = re.compile(r"(?<![\w/.-])nnsweep/(?:\w+/)*(?:\w+\.py\b|(?=[\s`|),]))")
DOTTED = re.compile(r"(?<![\w/.-])nnsweep(?:\.\w+)+")
REPO_PATH = re.compile(r"(?<![\w/.-])(?:scripts|tests)/[\w/]+\.py\b")  # scripts/bench.py
NOT_MODULES = {"nnsweep.log"}  # a job's log file
TEST_NAME = re.compile(r"\b(tests/\w+\.py)::(\w+)")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def module_paths(text: str) -> set[str]:
    return set(MODULE_PATH.findall(text))


def dotted_names(text: str) -> set[str]:
    return {name for name in DOTTED.findall(text) if name not in NOT_MODULES}


def package_files() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def unnamed(text: str) -> list[str]:
    """Modules and packages of nnsweep/ that ``text`` does not name by their path; a
    package's ``__init__.py`` is named by its folder (``nnsweep/job/``)."""
    missing = []
    for path in package_files():
        relative = path.relative_to(ROOT).as_posix()
        folder = path.parent.relative_to(ROOT).as_posix() + "/"
        named = relative in text or (
            path.name == "__init__.py"
            and path.parent != PACKAGE
            and re.search(re.escape(folder) + r"(?!\w)", text)  # the folder itself
        )
        if not named:
            missing.append(relative)
    return missing


def resolves(dotted: str) -> bool:
    """``nnsweep.job.run`` or ``nnsweep.job.run.objective``: a module, or a name in one."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(target, attribute):
                return False
            target = getattr(target, attribute)
        return True
    return False


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as -."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    headings = re.findall(r"^#{1,6} (.+)$", without_code_blocks(markdown), re.M)
    return {github_anchor(h) for h in headings}


def without_code_blocks(markdown: str) -> str:
    return re.sub(r"```.*?```", "", markdown, flags=re.S)


def broken_links(doc: Path) -> list[str]:
    broken = []
    for target in LINK.findall(without_code_blocks(doc.read_text())):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        file = (doc.parent / path).resolve() if path else doc
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file.read_text()):
            broken.append(f"{target}: no such heading in {file.name}")
    return broken


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_module_path_named_exists(doc):
    missing = sorted(p for p in module_paths(doc.read_text()) if not (ROOT / p).exists())
    assert not missing, f"{doc.name} names modules that do not exist: {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_script_and_test_file_named_exists(doc):
    missing = sorted(p for p in set(REPO_PATH.findall(doc.read_text())) if not (ROOT / p).exists())
    assert not missing, f"{doc.name} names files that do not exist: {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_dotted_module_name_exists(doc):
    missing = sorted(n for n in dotted_names(doc.read_text()) if not resolves(n))
    assert not missing, f"{doc.name} names modules that do not exist: {missing}"


def test_development_md_names_every_package_and_module():
    missing = unnamed(DEVELOPMENT.read_text())
    assert not missing, f"docs/development.md does not name: {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_test_named_exists(doc):
    missing = []
    for file, name in TEST_NAME.findall(doc.read_text()):
        path = ROOT / file
        tree = ast.parse(path.read_text()) if path.is_file() else ast.Module(body=[])
        if name not in {f.name for f in tree.body if isinstance(f, ast.FunctionDef)}:
            missing.append(f"{file}::{name}")
    assert not missing, f"{doc.name} names tests that do not exist: {missing}"


@pytest.mark.parametrize("doc", LINKED, ids=lambda p: p.name)
def test_every_relative_link_points_to_a_file_that_exists(doc):
    assert not broken_links(doc), broken_links(doc)


# ------------------------------------------------------- the checks themselves can fail


def test_a_module_that_does_not_exist_is_caught(tmp_path):
    text = "`nnsweep/job/run.py` and `nnsweep/jobs/` and `nnsweep/config.py`, `nnsweep.records`"
    assert sorted(p for p in module_paths(text) if not (ROOT / p).exists()) == [
        "nnsweep/config.py",
        "nnsweep/jobs/",
    ]
    assert not resolves("nnsweep.records") and not resolves("nnsweep.job.run.no_such_name")
    assert resolves("nnsweep.job.run.objective") and resolves("nnsweep.engines")


def test_a_module_left_out_of_development_md_is_caught():
    text = DEVELOPMENT.read_text()
    assert unnamed(text.replace("`nnsweep/job/ranges.py`", "`ranges`")) == ["nnsweep/job/ranges.py"]
    without_the_folder = re.sub(r"nnsweep/lab/(?!\w)", "lab/", text)  # its modules stay
    assert unnamed(without_the_folder) == ["nnsweep/lab/__init__.py"]


def test_a_broken_link_is_caught(tmp_path):
    (tmp_path / "there.md").write_text("# A heading, with `code`\n")
    doc = tmp_path / "doc.md"
    doc.write_text(
        "[ok](there.md) [ok](there.md#a-heading-with-code) [web](https://hydra.cc) "
        "![gone](images/gone.png) [wrong](there.md#nowhere)"
    )
    assert broken_links(doc) == [
        "images/gone.png: no such file",
        "there.md#nowhere: no such heading in there.md",
    ]
