"""Deprecated: moved to :mod:`mdl.models.packed_features` (the forward pass of many networks at once is part of the
packed-network concept (:mod:`mdl.models.packed`)); this path goes in the next release of mdl.

Every name of the new module (and of those named below) is served from here unchanged, with a
``DeprecationWarning`` on import.
"""

import warnings
from typing import Any

import mdl.models.packed_features as _moved

warnings.warn("mdl.models.batched moved to mdl.models.packed_features; the old path goes in the next release of mdl",
              DeprecationWarning, stacklevel=2)


def __getattr__(name: str) -> Any:
    """A name of :mod:`mdl.models.packed_features`, served under the old path."""
    return getattr(_moved, name)
