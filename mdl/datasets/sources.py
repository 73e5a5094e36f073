"""Deprecated: moved to :mod:`mdl.datasets.files` (where the raw data files are; *sources* are source models
(:mod:`mdl.screening.sources`)); this path goes in the next release of mdl.

Every name of the new module (and of those named below) is served from here unchanged, with a
``DeprecationWarning`` on import.
"""

import warnings
from typing import Any

import mdl.datasets.files as _moved

warnings.warn("mdl.datasets.sources moved to mdl.datasets.files; the old path goes in the next release of mdl",
              DeprecationWarning, stacklevel=2)


def __getattr__(name: str) -> Any:
    """A name of :mod:`mdl.datasets.files`, served under the old path."""
    return getattr(_moved, name)
