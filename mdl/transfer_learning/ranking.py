"""Moved to :mod:`mdl.screening.ranking`: this path re-exports it for one release, with a DeprecationWarning."""

from mdl.screening.ranking import *  # noqa: F403

from mdl.transfer_learning.deprecated import warn_moved

warn_moved(__name__, "mdl.screening.ranking")
