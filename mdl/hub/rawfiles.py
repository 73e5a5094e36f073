"""Deprecated: a model's verified bytes are read by :mod:`mdl.store.files` (``read_verified``, ``file_hashes``),
staged by :mod:`mdl.hub.staging`; this name goes in the next release."""

import warnings

from mdl.hub.staging import stage
from mdl.store.files import file_hashes, read_verified

__all__ = ["file_hashes", "read_verified", "stage"]

warnings.warn("mdl.hub.rawfiles moved: read_verified and file_hashes to mdl.store.files, stage to "
              "mdl.hub.staging; the old name goes in the next release", DeprecationWarning, stacklevel=2)
