"""Deprecated: moved to :mod:`mdl.hub.maintenance` (``mdl hub check`` and ``repair``: a hub's maintenance); this
path goes in the next release of mdl.

Every name of the new module (and of those named below) is served from here unchanged, with a
``DeprecationWarning`` on import.
"""

import warnings
from typing import Any

import mdl.hub.maintenance as _moved

warnings.warn("mdl.hub.check moved to mdl.hub.maintenance; the old path goes in the next release of mdl",
              DeprecationWarning, stacklevel=2)


def __getattr__(name: str) -> Any:
    """A name of :mod:`mdl.hub.maintenance`, served under the old path."""
    return getattr(_moved, name)
