"""Moved to :mod:`mdl.screening.sources`: this path re-exports it for one release, with a DeprecationWarning."""

from mdl.screening.sources import *  # noqa: F403
from mdl.transfer_learning.loading import group_by_spec, load_sources  # noqa: F401
from mdl.transfer_learning.deprecated import warn_moved

warn_moved(__name__, "mdl.screening.sources")
