"""One docstring style: every public definition of the package has a numpydoc docstring.

A public function or method with arguments has a ``Parameters`` section, and one that returns
something a ``Returns`` section; a public class documents its constructor's arguments (``Parameters``)
or its fields (``Attributes``). Read from the source (``ast``), so nothing is imported.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "mdl"
#: every module of the package: the style holds everywhere
CHECKED = sorted(PACKAGE.rglob("*.py"))
_OTHER_STYLE = re.compile(r"^\s*(Args|Arguments|Returns|Raises|Parameters)\s*:\s*$|:param\s", re.M)


def _section(doc: str, name: str) -> bool:
    return re.search(rf"^\s*{name}\n\s*-{{3,}}", doc, re.M) is not None


def _problems(node: ast.AST) -> list[str]:
    """What the docstring of one public definition lacks."""
    doc = ast.get_docstring(node) or ""
    if not doc:
        return ["no docstring"]
    found = ["another docstring style"] if _OTHER_STYLE.search(doc) else []
    if isinstance(node, ast.ClassDef):
        init = next((m for m in node.body if isinstance(m, ast.FunctionDef) and m.name == "__init__"), None)
        takes = init is not None and len(init.args.args) + len(init.args.kwonlyargs) > 1
        if takes and not (_section(doc, "Parameters") or _section(doc, "Attributes")):
            found.append("no Parameters section")
        return found
    args = [a.arg for a in (*node.args.args, *node.args.kwonlyargs) if a.arg not in ("self", "cls")]
    is_property = any(isinstance(d, ast.Name) and d.id == "property" for d in node.decorator_list)
    returns = node.returns is not None and not (isinstance(node.returns, ast.Constant) and node.returns.value is None)
    if args and not _section(doc, "Parameters"):
        found.append("no Parameters section")
    if args and returns and not is_property and not _section(doc, "Returns"):
        found.append("no Returns section")
    return found


def _public(tree: ast.Module) -> list[tuple[str, ast.AST]]:
    """The public definitions, less the methods that override a method of a base class of the same module
    without a docstring of their own: they inherit the base's (as ``inspect.getdoc`` and the docs site read
    them), which is checked where it is written."""
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}

    def inherited(cls: ast.ClassDef, name: str) -> bool:
        for base in cls.bases:
            parent = classes.get(getattr(base, "id", ""))
            if parent is not None and (any(isinstance(m, ast.FunctionDef) and m.name == name for m in parent.body)
                                       or inherited(parent, name)):
                return True
        return False

    out = []

    def visit(body: list[ast.stmt], prefix: str, cls: ast.ClassDef | None) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
                if cls is not None and not ast.get_docstring(node) and inherited(cls, node.name):
                    continue
                out.append((prefix + node.name, node))
                if isinstance(node, ast.ClassDef):
                    visit(node.body, f"{prefix}{node.name}.", node)

    visit(tree.body, "", None)
    return out


@pytest.mark.parametrize("path", CHECKED, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_public_definitions_have_numpydoc_docstrings(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    missing = [f"{name} (line {node.lineno}): {', '.join(found)}"
               for name, node in _public(tree) if (found := _problems(node))]
    assert missing == []


def test_an_override_without_a_docstring_inherits_its_base_s_but_a_new_method_does_not():
    tree = ast.parse("class A:\n    def f(self, x):\n        pass\n\nclass B(A):\n    def f(self, x):\n        pass\n\n"
                     "    def g(self, x):\n        pass\n")
    assert [name for name, _ in _public(tree)] == ["A", "A.f", "B", "B.g"]


def test_the_check_finds_a_missing_section_and_another_style():
    source = ast.parse('def f(x) -> int:\n    """Doc.\n\n    Args:\n        x: a number\n    """\n')
    assert _problems(source.body[0]) == ["another docstring style", "no Parameters section", "no Returns section"]
