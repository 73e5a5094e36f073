"""Deprecated: moved to :mod:`mdl.models.stored_schema` (the schema of stored estimators, named apart from a zoo's
recipe schema (:mod:`mdl.zoo.recipe_schema`)); this path goes in the next release of mdl.

Every name of the new module (and of those named below) is served from here unchanged, with a
``DeprecationWarning`` on import.
"""

import warnings
from typing import Any

import mdl.models.stored_schema as _moved

warnings.warn("mdl.models.schema moved to mdl.models.stored_schema; the old path goes in the next release of mdl",
              DeprecationWarning, stacklevel=2)


def __getattr__(name: str) -> Any:
    """A name of :mod:`mdl.models.stored_schema`, served under the old path."""
    return getattr(_moved, name)
