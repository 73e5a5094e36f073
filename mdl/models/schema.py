"""Deprecated: moved to :mod:`mdl.models.stored_schema` (the schema of stored estimators, named apart from a zoo's
recipe schema (:mod:`mdl.zoo.recipe_schema`)); this path goes in the next release of mdl.

Every name of the new module (and of those named below) is served from here unchanged, with a
``DeprecationWarning`` on import.
"""

from mdl.lazy import moved

__getattr__ = moved(__name__, "mdl.models.stored_schema")
