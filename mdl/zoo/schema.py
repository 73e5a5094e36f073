"""Deprecated: moved to :mod:`mdl.zoo.recipe_schema` (the schema of a zoo's recipes, named apart from the stored
estimators' schema (:mod:`mdl.models.stored_schema`)); this path goes in the next release of mdl.

Every name of the new module (and of those named below) is served from here unchanged, with a
``DeprecationWarning`` on import.
"""

from mdl.lazy import moved

__getattr__ = moved(__name__, "mdl.zoo.recipe_schema")
