"""Deprecated: moved to :mod:`mdl.hub.index_checks` (the checks of what a hub's index and paths say, named apart
from user-input validation (:mod:`mdl.validation`)); this path goes in the next release of mdl.

Every name of the new module (and of those named below) is served from here unchanged, with a
``DeprecationWarning`` on import.
"""

from mdl.lazy import moved

__getattr__ = moved(__name__, "mdl.hub.index_checks")
