"""Deprecated: moved to :mod:`mdl.models.packed_features` (the forward pass of many networks at once is part of the
packed-network concept (:mod:`mdl.models.packed`)); this path goes in the next release of mdl.

Every name of the new module (and of those named below) is served from here unchanged, with a
``DeprecationWarning`` on import.
"""

from mdl.lazy import moved

__getattr__ = moved(__name__, "mdl.models.packed_features")
