"""Deprecated: moved to :mod:`mdl.hub.maintenance` (``mdl hub check`` and ``repair``: a hub's maintenance); this
path goes in the next release of mdl.

Every name of the new module (and of those named below) is served from here unchanged, with a
``DeprecationWarning`` on import.
"""

from mdl.lazy import moved

__getattr__ = moved(__name__, "mdl.hub.maintenance")
