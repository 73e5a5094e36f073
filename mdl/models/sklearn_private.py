"""scikit-learn's private names that mdl relies on, in one place, checked against the versions it supports.

Storing a random forest without pickle means writing out and rebuilding scikit-learn's Cython trees:
their node table (``NODE_DTYPE``), the ``Tree`` class and its state, the ``TREE_LEAF`` and
``TREE_UNDEFINED`` markers. Checking a stored estimator's parameters before building it uses
scikit-learn's own parameter validation (``_validate_params``, ``InvalidParameterError``). None of these
is public API, so they may change in any release: every other module takes them from here, and importing
this module refuses a scikit-learn outside :data:`SUPPORTED` (the range ``pyproject.toml`` declares, and
the versions tests/test_sklearn_private.py ran on) with an ImportError naming both versions.

>>> tree = build_tree(3, 1, tree_state(DecisionTreeRegressor(max_depth=1).fit([[0, 1, 2], [1, 0, 2]], [0, 1]).tree_))
>>> tree.node_count, tree.n_features
(3, 3)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sklearn
from packaging.specifiers import SpecifierSet
from packaging.version import Version

__all__ = ["NODE_DTYPE", "SUPPORTED", "TREE_LEAF", "TREE_UNDEFINED", "InvalidParameterError", "Tree", "build_tree",
           "check_version", "tree_state", "validate_params"]

#: The scikit-learn versions whose private tree layout and parameter validation mdl is tested with (1.6 made
#: ``validate_data`` public, which mdl uses; 1.6.1 and 1.9.1 were run). pyproject.toml declares the same range.
SUPPORTED = ">=1.6,<1.10"


def check_version(version: str) -> None:
    """Refuse a scikit-learn version outside :data:`SUPPORTED`.

    Parameters
    ----------
    version : str
        A scikit-learn version (``sklearn.__version__``).

    Raises
    ------
    ImportError
        Naming the version and the supported range, and what to install.

    Examples
    --------
    >>> check_version("1.9.1")
    >>> check_version("1.3.2")
    Traceback (most recent call last):
    ImportError: mdl needs scikit-learn >=1.6,<1.10 (it stores forests through scikit-learn's private tree API, which may change in any release), but scikit-learn 1.3.2 is installed: pip install 'scikit-learn>=1.6,<1.10'
    """
    if Version(version) not in SpecifierSet(SUPPORTED):
        raise ImportError(f"mdl needs scikit-learn {SUPPORTED} (it stores forests through scikit-learn's private "
                          f"tree API, which may change in any release), but scikit-learn {version} is installed: "
                          f"pip install 'scikit-learn{SUPPORTED}'")


check_version(sklearn.__version__)

# the private names themselves, imported only once the version is known to be supported
from sklearn.tree import DecisionTreeRegressor  # noqa: E402  (public; the doctest above uses it)
from sklearn.tree._tree import NODE_DTYPE, TREE_LEAF, TREE_UNDEFINED, Tree  # noqa: E402
from sklearn.utils._param_validation import InvalidParameterError  # noqa: E402


def tree_state(tree: Tree) -> dict[str, Any]:
    """A fitted tree's state: ``max_depth``, ``node_count``, ``nodes`` (a :data:`NODE_DTYPE` table), ``values``.

    Parameters
    ----------
    tree : sklearn.tree._tree.Tree
        A fitted estimator's ``tree_``.

    Returns
    -------
    dict
        The state scikit-learn pickles a tree as.
    """
    return tree.__getstate__()


def build_tree(n_features: int, n_outputs: int, state: dict[str, Any]) -> Tree:
    """A regression tree rebuilt from its state (the arrays are copied).

    Parameters
    ----------
    n_features, n_outputs : int
        The tree's input and output widths.
    state : dict
        ``max_depth``, ``node_count``, ``nodes`` and ``values``, as :func:`tree_state` gives them.

    Returns
    -------
    sklearn.tree._tree.Tree
        The tree, ready to be a ``DecisionTreeRegressor``'s ``tree_``.
    """
    tree = Tree(n_features, np.ones(n_outputs, dtype=np.intp), n_outputs)
    tree.__setstate__(state)
    return tree


def validate_params(cls: type, params: dict[str, Any]) -> None:
    """Check an estimator's parameters with scikit-learn's own constraints, where the class declares them.

    Parameters
    ----------
    cls : type
        A scikit-learn estimator class.
    params : dict
        Its parameters.

    Raises
    ------
    InvalidParameterError
        Naming the parameter and what it accepts.

    Examples
    --------
    >>> validate_params(DecisionTreeRegressor, {"max_depth": -1})   # doctest: +ELLIPSIS
    Traceback (most recent call last):
    sklearn.utils._param_validation.InvalidParameterError: The 'max_depth' parameter of DecisionTreeRegressor must be ...
    """
    if hasattr(cls, "_parameter_constraints"):
        cls(**params)._validate_params()
