"""Deprecated: moved to :mod:`mdl.zoo.foundation_import` (importing CHGNet into a zoo, named apart from the CHGNet
source model itself (:mod:`mdl.models.foundation`)); this path goes in the next release of mdl.

Every name of the new module (and of those named below) is served from here unchanged, with a
``DeprecationWarning`` on import.
"""

import warnings
from typing import Any

import mdl.zoo.foundation_import as _moved

warnings.warn("mdl.zoo.foundation moved to mdl.zoo.foundation_import; the old path goes in the next release of mdl",
              DeprecationWarning, stacklevel=2)


def __getattr__(name: str) -> Any:
    """A name of :mod:`mdl.zoo.foundation_import`, served under the old path."""
    return getattr(_moved, name)
