"""Names of a package that are loaded on first use (PEP 562), so that importing it stays light."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(package: str, homes: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``; ``homes`` maps each lazy name to its module.

    Parameters
    ----------
    package : str
        The package's module name (its ``sys.modules`` entry gets each name once loaded).
    homes : mapping of str to str
        Each lazy name and the module that defines it.

    Returns
    -------
    getattr_, dir_ : callable
        The module-level ``__getattr__`` (AttributeError for a name not in ``homes``) and ``__dir__``.

    Examples
    --------
    >>> getattr_, dir_ = lazy_names("mdl", {"SourceModel": "mdl.models.source"})   # as mdl itself does
    >>> getattr_("SourceModel").__module__, "SourceModel" in dir_()
    ('mdl.models.source', True)
    """

    def __getattr__(name: str) -> Any:
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(homes[name]), name)
        setattr(sys.modules[package], name, value)  # loaded once: later lookups never come here
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *homes})

    return __getattr__, __dir__


def moved(old: str, *new: str) -> Callable[[str], Any]:
    """The ``__getattr__`` of a module that moved: warn once, now, then serve every name from its new home(s).

    A deprecated path is then two lines: ``from mdl.lazy import moved`` and
    ``__getattr__ = moved(__name__, "mdl.new.place")``.

    Parameters
    ----------
    old : str
        The old module's name (``__name__``).
    *new : str
        The module(s) its names now live in, searched in order.

    Returns
    -------
    callable
        The module-level ``__getattr__`` (AttributeError for a name none of them has).

    Examples
    --------
    >>> import pytest
    >>> with pytest.warns(DeprecationWarning, match="a.old moved to mdl.lazy; the old path goes"):
    ...     getattr_ = moved("a.old", "mdl.lazy")
    >>> getattr_("lazy_names") is lazy_names
    True
    """
    import warnings

    warnings.warn(f"{old} moved to {new[0]}; the old path goes in the next release of mdl", DeprecationWarning,
                  stacklevel=3)
    modules = [importlib.import_module(name) for name in new]

    def getattr_(name: str) -> Any:
        for module in modules:
            if hasattr(module, name):
                return getattr(module, name)
        raise AttributeError(f"module {old!r} has no attribute {name!r}")

    return getattr_
