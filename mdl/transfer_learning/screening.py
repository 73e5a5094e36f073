"""Moved to :mod:`mdl.screening.pipeline`: this path re-exports it for one release, with a DeprecationWarning."""

from mdl.screening.pipeline import *  # noqa: F403
from mdl.screening.candidates import cv_counts  # noqa: F401
from mdl.transfer_learning.deprecated import warn_moved

warn_moved(__name__, "mdl.screening.pipeline")
