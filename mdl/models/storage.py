"""Deprecated: moved to :mod:`mdl.store.files` (the format layer, which needs no torch); this name goes in the
next release."""

import warnings

from mdl.store.files import (
    check_manifest,
    plain_name,
    read_bytes,
    read_files,
    sha256_file,
    verify,
    write_files,
)
from mdl.store.names import CONFIG, WEIGHTS

__all__ = ["CONFIG", "WEIGHTS", "check_manifest", "plain_name", "read_bytes", "read_files", "sha256_file", "verify",
           "write_files"]

warnings.warn("mdl.models.storage moved to mdl.store.files; the old name goes in the next release",
              DeprecationWarning, stacklevel=2)
