"""Deprecated: moved to :mod:`mdl.zoo.foundation_import` (importing CHGNet into a zoo, named apart from the CHGNet
source model itself (:mod:`mdl.models.foundation`)); this path goes in the next release of mdl.

Every name of the new module (and of those named below) is served from here unchanged, with a
``DeprecationWarning`` on import.
"""

from mdl.lazy import moved

__getattr__ = moved(__name__, "mdl.zoo.foundation_import")
