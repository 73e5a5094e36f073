"""Deprecated: moved to :mod:`mdl.zoo.recipe_schema` (the schema of a zoo's recipes, named apart from the stored
estimators' schema (:mod:`mdl.models.stored_schema`)); this path goes in the next release of mdl.

Every name of the new module (and of those named below) is served from here unchanged, with a
``DeprecationWarning`` on import.
"""

import warnings
from typing import Any

import mdl.zoo.recipe_schema as _moved

warnings.warn("mdl.zoo.schema moved to mdl.zoo.recipe_schema; the old path goes in the next release of mdl",
              DeprecationWarning, stacklevel=2)


def __getattr__(name: str) -> Any:
    """A name of :mod:`mdl.zoo.recipe_schema`, served under the old path."""
    return getattr(_moved, name)
