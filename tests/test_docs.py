"""The documentation site: it builds with warnings as errors, and every ```python block in it runs.

The blocks of one page run in order in one namespace (a page reads like a notebook), in a scratch folder,
with the default hub (``MDL_HUB``) set to the starter zoo, built once per session. A block preceded by
``<!-- not-run: reason -->`` is skipped with that reason (an ``hf://`` hub, a GPU, the reference zoo); one
preceded by ``<!-- needs-shared-data -->`` runs only where ``MDL_SHARED_DATA`` names the data mirror.
The README's blocks run the same way (the README is the lead's; the ones known to fail are listed below).
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
BLOCK = re.compile(r"(?:<!--\s*(?P<mark>not-run|needs-shared-data)(?::\s*(?P<why>.*?))?\s*-->\s*\n)?"
                   r"^```python\n(?P<code>.*?)^```", re.S | re.M)
# README blocks that a benchmark covers, by first line (those that cannot run here are marked not-run in the file).
README_MARKS = {
    "units, y = datasets.load(\"transpolymer_nc\")": pytest.mark.slow(
        reason="the demo's screen of 200 polymers (make demo runs it)"),
}


@dataclass(frozen=True)
class Block:
    """One ```python block: its file, first line (1-based, of the code) and the reason it is skipped, if any."""

    file: Path
    line: int
    code: str
    skip: str | None

    @property
    def name(self) -> str:
        return f"{self.file.relative_to(ROOT)}:{self.line}"


def blocks(file: Path) -> list[Block]:
    """The ```python blocks of a Markdown file, each with its skip reason (a marker before it, or the data)."""
    text = file.read_text()
    found = []
    for match in BLOCK.finditer(text):
        line = text.count("\n", 0, match.start("code")) + 1
        skip = None
        if match["mark"] == "not-run":
            skip = match["why"] or "marked not-run"
        elif match["mark"] == "needs-shared-data" and not os.environ.get("MDL_SHARED_DATA"):
            skip = "needs the data mirror (MDL_SHARED_DATA)"
        found.append(Block(file, line, match["code"], skip))
    return found


PAGES = sorted(p for p in DOCS.rglob("*.md") if blocks(p))


def test_block_parser_reads_markers(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("text\n```python\nx = 1\n```\n<!-- not-run: needs a GPU -->\n```python\ny = 2\n```\n"
                    "```\nshell, not python\n```\n<!-- needs-shared-data -->\n```python\nz = 3\n```\n")
    found = blocks(page)
    assert [(b.line, b.code, b.skip) for b in found[:2]] == [(3, "x = 1\n", None), (7, "y = 2\n", "needs a GPU")]
    assert found[2].code == "z = 3\n" and len(found) == 3


@pytest.fixture(scope="session")
def starter_hub(tmp_path_factory) -> Path:
    """The starter zoo (21 models, about a minute on 2 cores), as `make demo` builds it."""
    from mdl.zoo import build, load_recipes, registry_path

    hub = tmp_path_factory.mktemp("starter-hub")
    report = build(load_recipes([registry_path("starter")]), hub=hub)
    assert len(report.built) == 21 and not report.failed
    return hub


@pytest.fixture
def docs_env(starter_hub, tmp_path, monkeypatch):
    """A scratch working folder, the starter zoo as the default hub, and a plotting backend without a screen."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MDL_HUB", str(starter_hub))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    yield tmp_path
    import matplotlib.pyplot as plt

    plt.close("all")


def run_blocks(found: list[Block], namespace: dict | None = None) -> list[str]:
    """Run blocks in order in one namespace; the reasons of those skipped. A failure names the file and line."""
    namespace = {"__name__": "__docs__"} if namespace is None else namespace
    skipped = []
    for block in found:
        if block.skip:
            skipped.append(f"{block.name}: {block.skip}")
            continue
        code = compile("\n" * (block.line - 1) + block.code, str(block.file), "exec")
        exec(code, namespace)  # noqa: S102  (the documentation's own examples)
    return skipped


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_page_examples_run(page, docs_env):
    found = blocks(page)
    skipped = run_blocks(found)
    if len(skipped) == len(found):
        pytest.skip("; ".join(skipped))


def readme_mark(block: Block):
    """The mark of a README block, from its first line's beginning (None for most)."""
    first = block.code.splitlines()[0]
    return next((mark for start, mark in README_MARKS.items() if first.startswith(start)), None)


def readme_cases() -> list:
    cases = []
    for block in blocks(ROOT / "README.md"):
        mark = readme_mark(block)
        cases.append(pytest.param(block, id=block.name, marks=[mark] if mark else []))
    return cases


@pytest.mark.parametrize("block", readme_cases())
def test_readme_examples_run(block, docs_env):
    """Each README block after those before it, as a reader runs them: a failing one (xfail, tested on its own)
    leaves what it defined before failing; a slow one is left out."""
    if block.skip:
        pytest.skip(block.skip)
    namespace: dict = {"__name__": "__docs__"}
    for before in blocks(ROOT / "README.md"):
        mark = readme_mark(before)
        if before.line >= block.line or before.skip or (mark is not None and mark.name == "slow"):
            continue
        try:
            run_blocks([before], namespace)
        except Exception:  # noqa: BLE001
            if mark is None:
                raise
    run_blocks([block], namespace)


def test_site_builds_strict(tmp_path):
    """`mkdocs build --strict`: no warning (a broken link, a page outside the nav, a docstring mkdocstrings
    cannot read); the API pages hold the docstrings and the measured page the saved benchmark output."""
    pytest.importorskip("mkdocs", reason="the docs extra: pip install -e '.[docs]'")
    site = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)], cwd=ROOT,
                          capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert done.returncode == 0, done.stderr[-4000:]
    verbs = (site / "api" / "verbs" / "index.html").read_text()
    assert "Models in the hub matching every given filter" in verbs  # mdl.search's docstring
    sys.path.insert(0, str(DOCS / "hooks"))
    try:
        import measured
    finally:
        sys.path.remove(str(DOCS / "hooks"))
    page = html.unescape(re.sub(r"<[^>]+>", "", (site / "measured" / "index.html").read_text()))
    for job in measured.RUNS:
        if job.saved.exists():  # the output's last line, as the benchmark printed it, is on the page
            assert job.saved.read_text().rstrip().splitlines()[-1].strip() in page, job.name
        else:
            assert f"docs/hooks/measured.py {job.name}" in page
