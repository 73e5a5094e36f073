"""The layering of the package: every module imports only from its own layer or the layers below it.

Imports are read from the source (``ast``), so the check sees imports inside functions and under
``TYPE_CHECKING`` too: a loop hidden in a function body is still a loop. The same holds inside a package:
the modules of one package must import one another without a circle, counting imports inside functions
(a function-level import that closes a circle only hides it from Python, not from a reader).
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "mdl"

#: The layers, lowest first; a module may import from its own layer and the layers before it. A top-level
#: module or subpackage of mdl belongs to the layer that names it; "mdl" is the package root (``mdl/__init__``).
LAYERS: list[set[str]] = [
    {"config", "errors", "validation", "lazy"},
    {"datasets"},
    {"descriptors"},
    {"store"},
    {"models"},
    {"hub"},
    {"transfer_learning", "screening", "zoo", "catalogue"},
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

    ``from mdl import x`` names the submodule ``mdl.x`` when there is one, else the package root; the modules
    a deprecated path serves (``moved(__name__, "mdl.new.place")``, :func:`mdl.lazy.moved`) count as imported.
    """
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "moved":
            found += [(node.lineno, a.value) for a in node.args[1:] if isinstance(a, ast.Constant)]
        elif isinstance(node, ast.Import):
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


#: Deprecated old paths of modules that moved up a layer (issue 21: zoo-building code moved from models to zoo),
#: kept one release: each may import exactly the modules it re-exports, and nothing else from above. Remove an
#: entry with its shim.
MOVED_UP: dict[str, set[str]] = {
    "mdl.models.samplers": {"mdl.zoo.samplers"},
    "mdl.models.stacked": {"mdl.zoo.network_sources"},
}


@pytest.mark.parametrize("path", _cases(), ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_no_module_imports_from_a_higher_layer(path):
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    name = ".".join(relative.parts[:-1] if relative.name == "__init__" else relative.parts)
    own = RANK[_part(name)]
    upward = [f"line {line}: {module} ({_part(module)} is above {_part(name)})"
              for line, module in _imports(path) if RANK[_part(module)] > own
              and module not in MOVED_UP.get(name, set())]
    assert upward == []


@pytest.mark.parametrize("name", sorted(MOVED_UP))
def test_a_module_that_moved_up_is_only_a_warning_re_export(name):
    path = PACKAGE.parent / (name.replace(".", "/") + ".py")
    source = path.read_text()
    assert "__getattr__ = moved(__name__" in source  # mdl.lazy.moved: a warning, then the names re-served
    upward = {module for _, module in _imports(path) if RANK[_part(module)] > RANK[_part(name)]}
    assert upward == MOVED_UP[name]


def test_the_reader_sees_imports_inside_functions_and_names_from_the_root(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("from mdl import hub, __version__\n\ndef f():\n    import mdl.api\n")
    assert _imports(source) == [(1, "mdl.hub"), (1, "mdl"), (4, "mdl.api")]


#: Circles inside a package that exist today, each named as :func:`_cycles` names it. This list may only
#: shrink: a new circle fails, and so does an entry that no longer exists (remove it once the circle is cut).
#: None left: the two in mdl/models (schema.py <-> booster.py, <-> foundation_schema.py) were cut when the
#: field primitives moved to mdl.store.fields and the checks became entries of mdl.store.registry (issue 21).
KNOWN_CYCLES: set[str] = set()


def _name(path: Path, package: Path = PACKAGE) -> str:
    """The dotted module name of a file of the package: ``mdl/hub/__init__.py`` -> ``mdl.hub``."""
    relative = path.relative_to(package.parent).with_suffix("")
    return ".".join(relative.parts[:-1] if relative.name == "__init__" else relative.parts)


def _module_imports(path: Path, modules: set[str]) -> set[str]:
    """The modules of ``modules`` the file imports, at any depth: ``from mdl.models import stored_schema`` is
    ``mdl.models.stored_schema`` when that is a module, and ``from mdl.models import SourceModel`` is the package
    ``mdl.models`` (its ``__init__``). Importing a submodule also runs its package's ``__init__``, but that
    edge is Python's, not the author's, and is not counted.
    """
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found |= {f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                      for a in node.names}
    return found & modules


def _import_graph(paths: list[Path], package: Path = PACKAGE) -> nx.DiGraph:
    """Module -> imported module, for imports between modules of the same top-level part of mdl."""
    names = {_name(p, package): p for p in paths}
    graph = nx.DiGraph()
    graph.add_nodes_from(names)
    for name, path in names.items():
        graph.add_edges_from((name, other) for other in _module_imports(path, set(names))
                             if other != name and _part(other) == _part(name))
    return graph


def _cycles(graph: nx.DiGraph) -> set[str]:
    """Every simple circle of the graph, named from its smallest module round to it again: ``a -> b -> a``."""
    named = set()
    for cycle in nx.simple_cycles(graph):
        start = cycle.index(min(cycle))
        ring = cycle[start:] + cycle[:start]
        named.add(" -> ".join([*ring, ring[0]]))
    return named


def test_no_circle_inside_a_package_beyond_the_known_ones():
    found = _cycles(_import_graph(_modules()))
    assert sorted(found - KNOWN_CYCLES) == [], "a new import circle inside a package: cut it"
    assert sorted(KNOWN_CYCLES - found) == [], "this circle is gone: remove it from KNOWN_CYCLES"


def test_a_circle_closed_inside_a_function_is_found_and_named(tmp_path):
    package = tmp_path / "mdl" / "models"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("from mdl.models.a import A\n")
    (package / "a.py").write_text("from mdl.models.b import B\nA = 1\n")
    (package / "b.py").write_text("B = 2\n\ndef check():\n    from mdl.models import a\n")
    (package / "c.py").write_text("from mdl.models import A\n")   # the package's __init__, no circle
    graph = _import_graph(sorted(package.glob("*.py")), tmp_path / "mdl")
    assert _cycles(graph) == {"mdl.models.a -> mdl.models.b -> mdl.models.a"}
    assert set(graph.successors("mdl.models.c")) == {"mdl.models"}
