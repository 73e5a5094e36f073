"""scikit-learn's private names sit behind one module with a declared supported range, which pyproject.toml
states too; an unsupported version fails loudly at import, and no other module imports a private name."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import sklearn
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version
from sklearn.ensemble import RandomForestRegressor

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from mdl.models import sklearn_private
from mdl.models.state import from_state, to_state

ROOT = Path(__file__).resolve().parents[1]


def test_pyproject_declares_the_supported_range_and_the_installed_version_is_in_it():
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (declared,) = [Requirement(d) for d in dependencies if Requirement(d).name == "scikit-learn"]
    assert declared.specifier == SpecifierSet(sklearn_private.SUPPORTED)
    assert Version(sklearn.__version__) in declared.specifier


def test_an_unsupported_scikit_learn_fails_loudly_at_import():
    code = "import sklearn; sklearn.__version__ = '1.3.2'; import mdl.models.state"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1] == (
        f"ImportError: mdl needs scikit-learn {sklearn_private.SUPPORTED} (it stores forests through scikit-learn's "
        "private tree API, which may change in any release), but scikit-learn 1.3.2 is installed: "
        f"pip install 'scikit-learn{sklearn_private.SUPPORTED}'")


def test_no_other_module_imports_a_private_scikit_learn_name():
    """A private module (``sklearn.x._y``) or name (``from sklearn.x import _y``) only in sklearn_private."""
    offenders = []
    for path in sorted((ROOT / "mdl").rglob("*.py")):
        if path.name == "sklearn_private.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            else:
                continue
            private = [n for n in names if n.split(".")[0] == "sklearn" and any(p.startswith("_") for p in n.split("."))]
            offenders += [f"{path.relative_to(ROOT)}:{node.lineno}: {n}" for n in private]
    assert offenders == []


def test_a_forest_round_trips_through_the_private_tree_api(rng):
    X, y = rng.normal(size=(60, 4)), rng.normal(size=60)
    forest = RandomForestRegressor(n_estimators=3, max_depth=4, random_state=0).fit(X, y)
    config, arrays, blobs = to_state(forest)
    assert set(arrays) >= {f"nodes.{field}" for field in sklearn_private.NODE_DTYPE.names}
    again = from_state(config, arrays, blobs)
    np.testing.assert_array_equal(again.predict(X), forest.predict(X))
