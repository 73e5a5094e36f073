"""Deprecated: moved to :mod:`mdl.zoo.samplers` (the paper's random hyperparameter setups belong to building a zoo);
this path goes in the next release of mdl.

Every name of the new module (and of those named below) is served from here unchanged, with a
``DeprecationWarning`` on import.
"""

import warnings
from typing import Any

import mdl.zoo.samplers as _moved

warnings.warn("mdl.models.samplers moved to mdl.zoo.samplers; the old path goes in the next release of mdl",
              DeprecationWarning, stacklevel=2)


def __getattr__(name: str) -> Any:
    """A name of :mod:`mdl.zoo.samplers`, served under the old path."""
    return getattr(_moved, name)
