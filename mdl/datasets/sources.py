"""Deprecated: moved to :mod:`mdl.datasets.files` (where the raw data files are; *sources* are source models
(:mod:`mdl.screening.sources`)); this path goes in the next release of mdl.

Every name of the new module (and of those named below) is served from here unchanged, with a
``DeprecationWarning`` on import.
"""

from mdl.lazy import moved

__getattr__ = moved(__name__, "mdl.datasets.files")
