"""The layering of the package: every module imports only from its own layer or the layers below it.

Imports are read from the source (``ast``), so the check sees imports inside functions and under
``TYPE_CHECKING`` too: a loop hidden in a function body is still a loop.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "mdl"

#: The layers, lowest first; a module may import from its own layer and the layers before it. A top-level
#: module or subpackage of mdl belongs to the layer that names it; "mdl" is the package root (``mdl/__init__``).
LAYERS: list[set[str]] = [
    {"config", "errors", "validation", "lazy"},
    {"datasets"},
    {"descriptors"},
    {"models"},
    {"hub"},
    {"transfer_learning", "zoo"},
    {"api"},
    {"mdl"},
    {"cli"},
]
RANK = {part: rank for rank, layer in enumerate(LAYERS) for part in layer}
#: modules outside the library proper (pytest's doctest setup)
NOT_LAYERED = {"conftest"}


def _part(module: str) -> str:
    """The top-level part of mdl a dotted module name lies in: ``mdl.hub.hf`` -> ``hub``, ``mdl`` -> ``mdl``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "mdl"


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, imported module) of every import of an ``mdl`` module in the file, at any depth.

    ``from mdl import x`` names the submodule ``mdl.x`` when there is one, else the package root.
    """
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "mdl"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                and node.module.split(".")[0] == "mdl":
            if node.module == "mdl":
                for a in node.names:
                    is_module = (PACKAGE / a.name).is_dir() or (PACKAGE / f"{a.name}.py").is_file()
                    found.append((node.lineno, f"mdl.{a.name}" if is_module else "mdl"))
            else:
                found.append((node.lineno, node.module))
    return found


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).parts[0].removesuffix(".py")
                  not in NOT_LAYERED)


def test_every_part_of_the_package_has_a_layer():
    parts = {p.relative_to(PACKAGE).parts[0].removesuffix(".py") for p in _modules()}
    parts = {"mdl" if part == "__init__" else part for part in parts}
    assert parts - set(RANK) == set(), "add the new part of mdl to LAYERS"


def _cases() -> list:
    return list(_modules())


@pytest.mark.parametrize("path", _cases(), ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_no_module_imports_from_a_higher_layer(path):
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    name = ".".join(relative.parts[:-1] if relative.name == "__init__" else relative.parts)
    own = RANK[_part(name)]
    upward = [f"line {line}: {module} ({_part(module)} is above {_part(name)})"
              for line, module in _imports(path) if RANK[_part(module)] > own]
    assert upward == []


def test_the_reader_sees_imports_inside_functions_and_names_from_the_root(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("from mdl import hub, __version__\n\ndef f():\n    import mdl.api\n")
    assert _imports(source) == [(1, "mdl.hub"), (1, "mdl"), (4, "mdl.api")]
