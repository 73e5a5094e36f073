"""Moved to :mod:`mdl.screening.candidates`: this path re-exports it for one release, with a DeprecationWarning."""

from mdl.screening.candidates import *  # noqa: F403
from mdl.screening.context import Candidate  # noqa: F401
from mdl.screening.kinds import CANDIDATES, tiers  # noqa: F401

TIERS = tiers()
from mdl.transfer_learning.deprecated import warn_moved

warn_moved(__name__, "mdl.screening.candidates")
