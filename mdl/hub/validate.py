"""Deprecated: moved to :mod:`mdl.hub.index_checks` (the checks of what a hub's index and paths say, named apart
from user-input validation (:mod:`mdl.validation`)); this path goes in the next release of mdl.

Every name of the new module (and of those named below) is served from here unchanged, with a
``DeprecationWarning`` on import.
"""

import warnings
from typing import Any

import mdl.hub.index_checks as _moved

warnings.warn("mdl.hub.validate moved to mdl.hub.index_checks; the old path goes in the next release of mdl",
              DeprecationWarning, stacklevel=2)


def __getattr__(name: str) -> Any:
    """A name of :mod:`mdl.hub.index_checks`, served under the old path."""
    return getattr(_moved, name)
