"""Deprecated: moved to :mod:`mdl.zoo.samplers` (the paper's random hyperparameter setups belong to building a zoo);
this path goes in the next release of mdl.

Every name of the new module (and of those named below) is served from here unchanged, with a
``DeprecationWarning`` on import.
"""

from mdl.lazy import moved

__getattr__ = moved(__name__, "mdl.zoo.samplers")
