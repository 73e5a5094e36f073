"""Moved to :mod:`mdl.screening.leaderboard`: this path re-exports it for one release, with a DeprecationWarning."""

from mdl.screening.leaderboard import *  # noqa: F403
from mdl.screening.kinds import head_name, main_scores, source_row  # noqa: F401
from mdl.transfer_learning.ensemble import TransferEnsemble  # noqa: F401
from mdl.transfer_learning.deprecated import warn_moved

warn_moved(__name__, "mdl.screening.leaderboard")
